package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
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
	m := regexp.MustCompile(`about ([0-9,]+) items \(a count of \d+ of 1000 scan segments of ` + regexp.QuoteMeta(from) + `, extrapolated\)`).FindStringSubmatch(r.stderr)
	if r.code != 2 || m == nil {
		t.Fatalf("confirmation: exit %d, no sampled estimate in %q", r.code, r.stderr)
	}
}

// TestClosingSentenceCounts: counts of one take the singular, larger ones
// thousands separators, and kept items say why with the flag that kept
// them (issue 22 rows 17 and 18: "1 items", "kept (present, or their
// --if-main condition was false)" without --if-main).
func TestClosingSentenceCounts(t *testing.T) {
	tests := []struct {
		name      string
		step      string
		counts    copier.Snapshot
		dry       bool
		kept      string
		want, not []string
	}{
		{"one item", "copy", copier.Snapshot{Written: 1}, false, "", []string{"copy: 1 item written in "}, []string{"1 items"}},
		{"thousands", "copy", copier.Snapshot{Written: 1650, Deleted: 1200}, false, "", []string{"1,650 items written, 1,200 deleted"}, nil},
		{"only missing", "copy", copier.Snapshot{Written: 3, Skipped: 2}, false, "already present", []string{"2 kept (already present)"}, []string{"--if-main"}},
		{"if-main", "copy", copier.Snapshot{Written: 3, Skipped: 1}, false, "their --if-main condition was false", []string{"1 kept (their --if-main condition was false)"}, nil},
		{"dry run of one", "copy", copier.Snapshot{Written: 1, Read: 1}, true, "", []string{"dry run: 1 item would be written", "; 1 item read in "}, []string{"1 items"}},
		{"undo of one", "undo", copier.Snapshot{Written: 1}, false, "", []string{"undo: 1 item put back"}, nil},
		// Row 16: capacity with separators and no ".0", saying what was read
		// and where the write rate comes from.
		{"dry-run capacity", "copy", copier.Snapshot{Written: 3000, Read: 3000, ReadUnits: 3961.0, WriteUnits: 3000}, true, "",
			[]string{"(3,961 RCU: the recovery table's reads and the main table's lookups)", "about 3,000 WCU", "at an assumed 1,000 WCU/s (pass --max-wcu"},
			[]string{"3961.0", ".0 RCU"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := closingSentence(tt.step, &copier.Summary{Counts: tt.counts, DryRun: tt.dry, Elapsed: 1}, "", 0, tt.kept, false)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("%q has %q", got, n)
				}
			}
		})
	}
	if got := (&copier.IncompleteError{Table: "t", Failed: 1}).Error(); !strings.Contains(got, "1 item could not be written") {
		t.Errorf("IncompleteError of one: %q", got)
	}
	if got := (&copier.ConflictError{Table: "t", Conflicts: 1}).Error(); !strings.Contains(got, "1 item was written again") {
		t.Errorf("ConflictError of one: %q", got)
	}
}

// TestSummaryChangedOnlyWhereCounted: a copy without --journal does not
// read the main table, so it cannot say how many items changed: its
// summary leaves "changed" out instead of saying 0 (issue 22 row 7); with
// --journal it counts them.
func TestSummaryChangedOnlyWhereCounted(t *testing.T) {
	t.Parallel()
	items := tenantItems(30, 3, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	ddbtest.PutItems(t, c, to, items[:20])
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes")
	if r.code != 0 || strings.Contains(r.stderr, "changed=") {
		t.Errorf("copy without --journal: exit %d; its summary says changed= though it was not counted:\n%s", r.code, r.stderr)
	}
	ddbtest.PutItems(t, c, to, tenantItems(5, 3, "bad", "job"))
	r = ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--journal", filepath.Join(t.TempDir(), "j.jsonl"))
	if r.code != 0 || summaryCount(t, r.stderr, "changed") != 5 {
		t.Errorf("copy with --journal: exit %d, want changed=5", r.code)
	}
}
