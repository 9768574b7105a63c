package main

import (
	"bytes"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestKilledCommandsLeaveNoTempFiles kills (kill -9) the binary while it
// holds item data in a temp file — show -o csv spooling items to learn the
// columns, undo of an s3:// journal downloaded to a local copy — and
// checks its private $TMPDIR is empty afterwards: the temp files are
// removed from the directory as they are created.
func TestKilledCommandsLeaveNoTempFiles(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 200)
	c := srv.Client(t)
	other := ddbtest.UniqueName(t, "copy")
	ddbtest.CreateTable(t, c, other, ddbtest.TableSpec{HashKey: "pk", HashType: "S", RangeKey: "sk", RangeType: "N"})
	_, bucket := s3Bucket(t, srv)
	journal := "s3://" + bucket + "/journals/undo.jsonl"
	s3env := map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}
	if r := runCLI(t, cliOpts{env: s3env}, "copy", "--endpoint-url", srv.Endpoint, "--from", table, "--to", other, "--yes", "--journal", journal); r.code != 0 {
		t.Fatalf("copy with an S3 journal: exit %d", r.code)
	}
	for _, tc := range []struct {
		name string
		args []string
		// After calls calls of started, the temp file exists (show's
		// first Scan is a probe, before the spool).
		started string
		calls   int64
	}{
		{"show -o csv", []string{"show", "--from", table, "-o", "csv", "--page-size", "5", "--segments", "1"}, "Scan", 3},
		{"undo of an S3 journal", []string{"undo", "--journal", journal, "--table", other, "--yes", "--writers", "1"}, "DeleteItem", 1}, // conditional deletes: the items the copy created
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Latency: 400 * time.Millisecond})
			tmp := t.TempDir()
			cmd := binaryCommand(t, append(append(tc.args[:1:1], "--endpoint-url", proxy.URL()), tc.args[1:]...)...)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "AWS_ENDPOINT_URL_S3="+srv.Endpoint)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			deadline := time.Now().Add(60 * time.Second)
			for proxy.Stats().Ops[tc.started].Calls < tc.calls {
				if time.Now().After(deadline) {
					t.Fatalf("the command made no %s call: %s", tc.started, stderr.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			if cmd.ProcessState.Success() {
				t.Fatalf("the command ended before the kill: %s", stderr.String())
			}
			entries, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				t.Errorf("left in $TMPDIR after kill -9: %s", e.Name())
			}
		})
	}
}
