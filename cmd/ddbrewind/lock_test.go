package main

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestRunSinceTwoRunnersOneState: a second run --since given the state file
// of a run still going (a Batch retry overlapping its first attempt) is
// refused at once, exit 2, with one line naming the holder — before it
// exports or writes anything. Once the first is killed (kill -9: its lock
// ends with it), the same command resumes and adopts the first run's
// export.
func TestRunSinceTwoRunnersOneState(t *testing.T) {
	t.Parallel()
	s := newSinceSetup(t)
	records, start := sinceTable(t, s)
	s.exportsHold(t, records)
	s.fake.set(func(f *exportFake) { f.doneAfter = 0 }) // the first run waits for its export
	args := []string{"run", "--endpoint-url", s.fake.URL(), "--table", s.table, "--since", tables.FormatTime(s.since),
		"--until", tables.FormatTime(s.until), "--s3-bucket", s.bucket, "--s3-prefix", "rewinds/x", "--state", s.state, "--yes",
		"--delete-extra", "--overwrite-conflicts"}

	first := binaryCommand(t, args...)
	first.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+s.s3.Endpoint)
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = first.Process.Kill(); _ = first.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for s.fake.count("DescribeExport") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the first run never waited for its export: %s", firstErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stateBefore, err := os.ReadFile(s.state)
	if err != nil {
		t.Fatal(err)
	}

	r := runCLI(t, cliOpts{env: s.env}, args...)
	line := lastLine(r.stderr)
	if r.code != 2 || !strings.Contains(line, "state file "+s.state+" is in use by another ddbrewind run (host ") ||
		!strings.Contains(line, "pid "+strconv.Itoa(first.Process.Pid)) || !strings.Contains(line, "wait for it to end") {
		t.Fatalf("second run: exit %d, %q; want 2 naming the first run's pid", r.code, line)
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("the refusal is more than one line: %q", r.stderr)
	}
	if n := s.fake.created(); n != 1 {
		t.Errorf("%d exports started, want only the first run's", n)
	}
	if after, _ := os.ReadFile(s.state); !bytes.Equal(after, stateBefore) {
		t.Errorf("the refused run changed the state file")
	}

	_ = first.Process.Signal(syscall.SIGKILL)
	_ = first.Wait()
	s.fake.set(func(f *exportFake) { f.doneAfter = 1 })
	r = runCLI(t, cliOpts{env: s.env}, args...)
	if r.code != 0 {
		t.Fatalf("rerun after the first run was killed: exit %d", r.code)
	}
	if n := s.fake.created(); n != 1 {
		t.Errorf("%d exports started, want 1 (the rerun adopts the first run's)", n)
	}
	assertSame(t, "after the rerun", start, ddbtest.ScanAll(t, s.c, s.table))
	if _, err := os.Stat(s.state + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock file left after the run: %v", err)
	}
}
