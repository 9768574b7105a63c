package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/ddbtest"
)

// TestCopyTellsWhatHappened: a dry run's plan says how many items would
// change and what it would cost; a copy ends with one plain sentence and
// the command that checks it (even with --log-level warn); --report -
// prints the report on stdout; a rerun over a complete checkpoint says so;
// the confirmation of a copy from a fresh table (ItemCount 0) gives a
// sampled estimate and says it is one.
func TestCopyTellsWhatHappened(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(300, 5, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	// The main table holds 280 of the items as they are, 20 changed ones
	// are missing.
	ddbtest.PutItems(t, c, to, items[:280])

	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--dry-run", "--max-wcu", "100")
	if r.code != 0 {
		t.Fatalf("dry run: exit %d", r.code)
	}
	dry := lastLine(r.stderr)
	for _, want := range []string{"dry run: 300 items would be written (20 of them change) and 0 deleted", "RCU", "WCU", "at --max-wcu 100", "nothing was written"} {
		if !strings.Contains(dry, want) {
			t.Errorf("dry run's last line %q lacks %q", dry, want)
		}
	}

	cp := filepath.Join(t.TempDir(), "cp.json")
	r = ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--checkpoint", cp, "--log-level", "warn", "--report", "-")
	if r.code != 0 {
		t.Fatalf("copy: exit %d", r.code)
	}
	want := "copy: 300 items written in "
	if got := lastLine(r.stderr); !strings.HasPrefix(got, want) || !strings.Contains(got, "; check with: ddbrewind diff --endpoint-url "+srv.Endpoint+" --from "+from+" --to "+to) {
		t.Errorf("closing sentence %q, want %q… and the diff command", got, want)
	}
	if strings.Contains(r.stderr, "msg=") {
		t.Errorf("--log-level warn printed info logs: %s", r.stderr)
	}
	var rep struct {
		Outcome string `json:"outcome"`
		Counts  struct {
			Written int64 `json:"written"`
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Outcome != "ok" || rep.Counts.Written != 300 {
		t.Errorf("--report - on stdout: %v %+v\n%s", err, rep, r.stdout)
	}

	r = ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--checkpoint", cp)
	if r.code != 0 || !strings.Contains(lastLine(r.stderr), "checkpoint "+cp+" is complete: nothing left to copy; delete it to copy again") {
		t.Errorf("rerun over a complete checkpoint: exit %d, %q", r.code, lastLine(r.stderr))
	}

	// dynalite's ItemCount stays 0: the confirmation samples.
	r = runCLI(t, cliOpts{stdinTTY: true, stdin: "no\n"}, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to)
	m := regexp.MustCompile(`about ([0-9,]+) items, from a count of \d+ of 1000 scan segments of ` + regexp.QuoteMeta(from) + `, extrapolated`).FindStringSubmatch(r.stderr)
	if r.code != 2 || m == nil {
		t.Fatalf("confirmation: exit %d, no sampled estimate in %q", r.code, r.stderr)
	}
}
