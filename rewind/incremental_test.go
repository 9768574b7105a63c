package rewind

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// TestCheckSameWindow (through checkSame, the one rerun identity): a run
// from incremental exports resumes only with the same --since, --until
// (as given), --s3-bucket and --s3-prefix; a restore and a --since run
// never resume each other; every refusal names the state file, finished
// or not.
func TestCheckSameWindow(t *testing.T) {
	since := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	until := since.Add(2 * time.Hour)
	rec := func(step string, withUntil bool) *State {
		st := &State{Table: "orders", RestorePoint: since, Step: step, WindowState: WindowState{Since: &since, Bucket: "b", Prefix: "p"}}
		if withUntil {
			st.Until = &until
		}
		return st
	}
	win := func(s, u time.Time, bucket, prefix string) Options {
		return Options{State: "state.json", Export: export.Options{Since: s, Until: u, Bucket: bucket, Prefix: prefix}}
	}
	tests := []struct {
		name string
		o    Options
		st   *State
		want string // "" = accepted
	}{
		{"same window", win(since, until, "b", "p"), rec(StepCopy, true), ""},
		{"same window, --until not given", win(since, time.Time{}, "b", "p"), rec(StepDone, false), ""},
		{"another --since, unfinished", win(since.Add(time.Hour), until, "b", "p"), rec(StepCopy, true), "state.json records an unfinished rewind of orders started with --since 2026-11-30T08:00:00Z"},
		{"another --since, finished", win(since.Add(time.Hour), until, "b", "p"), rec(StepDone, true), "a finished rewind"},
		{"--until given now, not then", win(since, until, "b", "p"), rec(StepExport, false), "not --since 2026-11-30T08:00:00Z --until"},
		{"--until not given now", win(since, time.Time{}, "b", "p"), rec(StepCopy, true), "unfinished"},
		{"another bucket", win(since, until, "c", "p"), rec(StepCopy, true), "--s3-bucket c"},
		{"another prefix", win(since, until, "b", "q"), rec(StepCopy, true), "--s3-prefix q"},
		{"a restore after --since", Options{State: "state.json", Restore: restore.Options{Point: restore.Point{At: since}}}, rec(StepCopy, true), "not a restore"},
		{"--since after a restore", win(since, until, "b", "p"), &State{Table: "orders", RestorePoint: since, Step: StepDone}, "started with a restore"},
		{"a restore after a restore", Options{State: "state.json"}, &State{Table: "orders", Step: StepCopy}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSame(tt.o, tt.st, "orders", tt.st.Selection)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "state.json")):
				t.Errorf("got %v, want a usage error naming state.json and containing %q", err, tt.want)
			}
		})
	}
}

// TestExportDir: the cleanup deletes only under an export directory of
// the run's bucket.
func TestExportDir(t *testing.T) {
	tests := []struct {
		dir, bucket, key string // key "" = refused
	}{
		{"s3://b/p/q/AWSDynamoDB/01700000000000-abcd/", "b", "p/q/AWSDynamoDB/01700000000000-abcd/"},
		{"s3://b/AWSDynamoDB/01700000000000-abcd/", "b", "AWSDynamoDB/01700000000000-abcd/"},
		{"s3://other/AWSDynamoDB/01700000000000-abcd/", "b", ""},
		{"s3://b/p/", "b", ""},
		{"s3://b/AWSDynamoDB/", "b", ""},
		{"s3://b/AWSDynamoDB/x", "b", ""},
		{"b/AWSDynamoDB/x/", "b", ""},
		{"s3://b/p/AWSDynamoDB/data/", "b", ""},
		{"s3://b/p/AWSDynamoDB/../", "b", ""},
	}
	for _, tt := range tests {
		_, key, err := exportDir(tt.dir, tt.bucket)
		if key != tt.key || (tt.key == "") != (err != nil) {
			t.Errorf("exportDir(%q, %q) = %q, %v; want %q", tt.dir, tt.bucket, key, err, tt.key)
		}
	}
}

// TestOldStateFileLoads: a state file written before the --since fields
// loads, as a restore's.
func TestOldStateFileLoads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	old := `{"version":1,"table":"orders","restore_point":"2026-11-30T08:00:00Z","recovery_table":"orders-rec","step":"copy","selection":"x","checkpoint":"c","started":"2026-11-30T09:00:00Z","updated":"2026-11-30T09:00:00Z"}`
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := loadState(context.Background(), &statefile.Store{}, path)
	if err != nil || st == nil || st.Since != nil || st.RecoveryTable != "orders-rec" || st.Step != StepCopy {
		t.Fatalf("loadState = %+v, %v", st, err)
	}
}

// TestCopyCheckpoint: each copy pass after conflicts has a checkpoint of
// its own.
func TestCopyCheckpoint(t *testing.T) {
	for pass, want := range []string{"s.checkpoint", "s.checkpoint.pass2", "s.checkpoint.pass3"} {
		if got := copyCheckpoint(&State{Checkpoint: "s.checkpoint", WindowState: WindowState{CopyPass: pass}}); got != want {
			t.Errorf("pass %d: %q, want %q", pass, got, want)
		}
	}
}

// TestRewindPrefix: each rewind's exports go to a directory of their own
// under --s3-prefix (or at the bucket's root without one), named by the
// start time and a random part, so two rewinds started in the same second
// differ too; a state file written before export_prefix existed keeps its
// exports under --s3-prefix.
func TestRewindPrefix(t *testing.T) {
	started := time.Date(2026, 12, 1, 8, 30, 5, 0, time.UTC)
	for _, tc := range []struct{ prefix, want string }{
		{"rewinds/orders", "rewinds/orders/ddbrewind-rewind-20261201T083005Z-"},
		{"", "ddbrewind-rewind-20261201T083005Z-"},
	} {
		a, b := rewindPrefix(tc.prefix, started), rewindPrefix(tc.prefix, started)
		if !strings.HasPrefix(a, tc.want) || len(a) != len(tc.want)+6 || strings.Contains(a[len(tc.want):], "/") {
			t.Errorf("rewindPrefix(%q) = %q, want %q followed by 6 hex digits", tc.prefix, a, tc.want)
		}
		if a == b {
			t.Errorf("rewindPrefix(%q) twice in the same second: %q both times", tc.prefix, a)
		}
	}
	for _, tc := range []struct {
		st   State
		want string
	}{
		{State{WindowState: WindowState{Prefix: "p", ExportPrefix: "p/ddbrewind-rewind-x"}}, "p/ddbrewind-rewind-x"},
		{State{WindowState: WindowState{Prefix: "p"}}, "p"},
	} {
		if got := tc.st.exportPrefix(); got != tc.want {
			t.Errorf("exportPrefix of %+v = %q, want %q", tc.st, got, tc.want)
		}
	}
}
