package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// conflictWindow fills the table as a window of n changed keys and later
// writes left it: k0000…k(n-1) changed from "start" to "bad" in the window,
// the first c of them written again after it. It returns the export's
// records, the table at the window's start and the conflict keys'
// current items.
func conflictWindow(t *testing.T, s *sinceSetup, n, c int) ([]string, map[string]map[string]types.AttributeValue, map[string]map[string]types.AttributeValue) {
	t.Helper()
	var records []string
	var now []map[string]types.AttributeValue
	start := map[string]map[string]types.AttributeValue{}
	later := map[string]map[string]types.AttributeValue{}
	for i := range n {
		pk := fmt.Sprintf("k%04d", i)
		start[ddbtest.KeyOf(sinceItem(pk, ""), "pk")] = sinceItem(pk, "start")
		records = append(records, sinceRecord(t, pk, sinceItem(pk, "start"), sinceItem(pk, "bad")))
		it := sinceItem(pk, "bad")
		if i < c {
			it = sinceItem(pk, "written after the window")
			later[ddbtest.KeyOf(it, "pk")] = it
		}
		now = append(now, it)
	}
	ddbtest.PutItems(t, s.c, s.table, now)
	return records, start, later
}

// reportConflicts reads the conflict keys of a --report file.
func reportConflicts(t *testing.T, path string) (listed []string, counted int64, outcome string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Conflicts []string `json:"conflicts"`
		Counts    struct {
			Conflicts int64 `json:"conflicts"`
		} `json:"counts"`
		Outcome string `json:"outcome"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Conflicts, rep.Counts.Conflicts, rep.Outcome
}

// TestRunSinceConflictsSurviveKill kills (kill -9) a run --since in the
// middle of its copy, after the checkpoint moved past the pages holding
// the 40 conflicts of 2,000 changed keys, and runs the same command again:
// the resumed copy reports the 40 conflicts its checkpoint recorded
// (exit 3, exports kept) instead of finishing with exit 0 and deleting the
// exports. With the checkpoint as an older ddbrewind wrote it (no
// conflicts field), the copy cannot know them, but the verification finds
// them (exit 3, exports kept) and sends the run back to a copy pass that
// lists them. --overwrite-conflicts-keys then rewinds the 10 keys it
// names, and --accept-conflicts leaves the other 30 and finishes (exit 0,
// exports deleted, the 30 keys in the report).
func TestRunSinceConflictsSurviveKill(t *testing.T) {
	t.Parallel()
	s := newSinceSetup(t)
	// The copy's writes go through a slow proxy, so that the kill finds it
	// in the middle.
	proxy := ddbtest.NewFaultProxy(t, s.ddb.Endpoint, ddbtest.FaultConfig{Ops: []string{"PutItem"}, Latency: 40 * time.Millisecond})
	s.fake = newExportFake(t, proxy.URL())
	latest := time.Now().UTC().Add(-5 * time.Minute).Truncate(time.Second)
	s.fake.set(func(f *exportFake) { f.earliest, f.latest = latest.Add(-35*24*time.Hour), latest })
	const n, c = 2000, 40
	records, start, later := conflictWindow(t, s, n, c)
	s.exportsHold(t, records)
	checkpoint := filepath.Join(t.TempDir(), "copy.checkpoint")
	report := filepath.Join(t.TempDir(), "report.json")
	args := []string{"run", "--endpoint-url", s.fake.URL(), "--table", s.table, "--since", tables.FormatTime(s.since),
		"--until", tables.FormatTime(s.until), "--s3-bucket", s.bucket, "--s3-prefix", "rewinds/x", "--state", s.state, "--yes",
		"--checkpoint", checkpoint, "--writers", "2"}

	cmd := binaryCommand(t, args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+s.s3.Endpoint)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// Past the conflicts' pages (100 keys a page), well before the end.
	waitForCheckpoint(t, checkpoint, func(line int) bool { return line >= 300 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	saved, err := os.ReadFile(checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(saved), `"done":true`) && len(ddbtest.ScanAll(t, s.c, s.table)) == n {
		t.Logf("checkpoint at the kill: %s", saved)
	}

	rerun := func(extra ...string) result {
		return runCLI(t, cliOpts{env: s.env}, append(append(append([]string(nil), args...), "--report", report), extra...)...)
	}
	r := rerun()
	if r.code != 3 || !strings.Contains(lastLine(r.stderr), "40 items were written again after the export's window") {
		t.Fatalf("rerun after kill -9: exit %d, %q; want 3 with the 40 conflicts", r.code, lastLine(r.stderr))
	}
	if !strings.Contains(r.stderr, "resumed=true") {
		t.Errorf("the rerun did not resume the checkpoint")
	}
	listed, counted, _ := reportConflicts(t, report)
	if len(listed) != c || counted != c {
		t.Errorf("report lists %d conflicts, counts %d; want %d", len(listed), counted, c)
	}
	if len(s.objects(t)) == 0 {
		t.Fatalf("the export files are gone after a resumed run with conflicts")
	}
	want := map[string]map[string]types.AttributeValue{}
	for k, it := range start {
		want[k] = it
	}
	for k, it := range later {
		want[k] = it
	}
	assertSame(t, "after the resumed run", want, ddbtest.ScanAll(t, s.c, s.table))

	// The same from a checkpoint without the conflicts field (as an older
	// ddbrewind wrote it): the state back at the copy's first pass, the
	// checkpoint as it was at the kill.
	var cp map[string]any
	if err := json.Unmarshal(saved, &cp); err != nil {
		t.Fatal(err)
	}
	delete(cp, "conflicts")
	old, _ := json.Marshal(cp)
	if err := os.WriteFile(checkpoint, old, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := os.ReadFile(s.state)
	if err != nil {
		t.Fatal(err)
	}
	var sm map[string]any
	if err := json.Unmarshal(st, &sm); err != nil {
		t.Fatal(err)
	}
	delete(sm, "copy_pass")
	delete(sm, "conflicts")
	delete(sm, "conflict_keys")
	st, _ = json.Marshal(sm)
	if err := os.WriteFile(s.state, st, 0o600); err != nil {
		t.Fatal(err)
	}
	r = rerun()
	if r.code != 3 || !strings.Contains(lastLine(r.stderr), "verification failed") || !strings.Contains(lastLine(r.stderr), "40 items are neither in their state") {
		t.Fatalf("rerun from an old checkpoint: exit %d, %q; want 3, verification failed for 40 unreported conflicts", r.code, lastLine(r.stderr))
	}
	if len(s.objects(t)) == 0 {
		t.Fatalf("the export files are gone after a failed verification")
	}
	r = rerun()
	if listed, _, _ := reportConflicts(t, report); r.code != 3 || len(listed) != c {
		t.Fatalf("the copy pass after the failed verification: exit %d, %d conflicts in the report; want 3 and %d", r.code, len(listed), c)
	}

	// 10 of them rewound anyway, the other 30 accepted.
	keysFile := filepath.Join(t.TempDir(), "overwrite.jsonl")
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":"k%04d"}}`, i))
	}
	if err := os.WriteFile(keysFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = rerun("--overwrite-conflicts-keys", keysFile, "--accept-conflicts")
	if r.code != 0 {
		t.Fatalf("--overwrite-conflicts-keys with --accept-conflicts: exit %d, %q", r.code, lastLine(r.stderr))
	}
	listed, counted, outcome := reportConflicts(t, report)
	if len(listed) != c-10 || counted != c-10 || !strings.Contains(outcome, "accepted") {
		t.Errorf("report: %d conflicts listed, %d counted, outcome %q; want %d, accepted", len(listed), counted, outcome, c-10)
	}
	for i := range 10 {
		delete(want, ddbtest.KeyOf(sinceItem(fmt.Sprintf("k%04d", i), ""), "pk"))
		want[ddbtest.KeyOf(sinceItem(fmt.Sprintf("k%04d", i), ""), "pk")] = sinceItem(fmt.Sprintf("k%04d", i), "start")
	}
	assertSame(t, "after the keys overwritten and the rest accepted", want, ddbtest.ScanAll(t, s.c, s.table))
	if keys := s.objects(t); len(keys) != 0 {
		t.Errorf("export files left after the accepted run: %v", keys)
	}
}

// waitForCheckpoint waits until the checkpoint at path records a copy
// unit whose line passes ok; an emulator of the pool that has gone down
// ends the wait at once, naming it.
func waitForCheckpoint(t *testing.T, path string, ok func(line int) bool) {
	t.Helper()
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil {
			var cp struct {
				Units map[string]struct {
					Line int `json:"line"`
				} `json:"units"`
			}
			if json.Unmarshal(data, &cp) == nil {
				for _, u := range cp.Units {
					if ok(u.Line) {
						return
					}
				}
			}
		}
		if err := pool.Err(); err != nil {
			t.Fatalf("waiting for the checkpoint %s: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the checkpoint %s never got there", path)
}
