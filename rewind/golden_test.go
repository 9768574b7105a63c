package rewind

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// The golden state files under testdata/state were written by the code
// before the rewind loop (Run's and runIncremental's step machines), one
// per step each wrote, through saveState. goldenStates builds the same
// State values the way that code did (the fields it set when it created
// the state, then the ones each step set); TestGoldenStateFiles checks
// that today's code still writes them byte for byte and that each loads.
// Regenerate only on purpose: UPDATE_GOLDEN=1 go test ./rewind -run TestGoldenStateFiles.

var (
	goldenStarted = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	goldenPoint   = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	goldenBefore  = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	goldenSince   = time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	goldenUntil   = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
)

const (
	goldenARN   = "arn:aws:dynamodb:us-east-1:111122223333:table/orders/backup/01764460800000-abcdef12"
	goldenState = "run-state.json"
)

// goldenSelection is the selection of the golden rewinds.
func goldenSelection() string {
	return selectionID(copier.Options{Selection: copier.Selection{KeyCondition: "pk = :p"}, DeleteExtra: true})
}

// goldenCase is a state file as the code before the loop wrote it, and
// the flags that wrote it.
type goldenCase struct {
	name string
	st   *State
	// o holds the source flags (Restore.Point, Export) of the run that
	// wrote it.
	o Options
}

// newRestoreState is the state a new restore run created (before the
// restore step).
func newRestoreState(kind string) (*State, Options) {
	st := &State{Version: 1, Table: "orders", Step: StepRestore, Selection: goldenSelection(), Checkpoint: DefaultCheckpoint(goldenState), Started: goldenStarted}
	st.RestorePoint, st.RecoveryTable = goldenPoint, "orders-recovery-20261201T080000Z"
	var o Options
	switch kind {
	case "at":
		st.PointFlag = "--at 2026-12-01T08:00:00Z"
		o.Restore.Point.At = goldenPoint
	case "ago":
		st.PointFlag = "--ago 1h0m0s"
		o.Restore.Point.Ago = time.Hour
	case "backup":
		st.BackupARN = goldenARN
		o.Restore.Point.Backup = goldenARN
	case "backup-before":
		st.BackupARN = goldenARN
		bb := goldenBefore
		st.BackupBefore = &bb
		o.Restore.Point.BackupBefore = goldenBefore
	}
	o.Restore.Table = "orders"
	return st, o
}

// newWindowState is the state a new run --since created (before the
// export step).
func newWindowState() (*State, Options) {
	st := &State{Version: 1, Table: "orders", Step: StepExport, Selection: goldenSelection(), Checkpoint: DefaultCheckpoint(goldenState), Started: goldenStarted}
	since, end, until := goldenSince, goldenUntil, goldenUntil
	st.RestorePoint = since
	st.Since, st.ExportUntil, st.Until = &since, &end, &until
	st.Bucket, st.Prefix, st.ExportPrefix = "rewinds", "orders", "orders/ddbrewind-rewind-20261201T090000Z-a1b2c3"
	var o Options
	o.Restore.Table = "orders"
	o.Export.Since, o.Export.Until, o.Export.Bucket, o.Export.Prefix = goldenSince, goldenUntil, "rewinds", "orders"
	return st, o
}

// goldenStates lists the state files the code before the loop wrote.
func goldenStates() []goldenCase {
	var cases []goldenCase
	add := func(name string, st *State, o Options) {
		c := *st
		c.ExportDirs = append([]string(nil), st.ExportDirs...)
		c.ConflictKeys = append([]string(nil), st.ConflictKeys...)
		cases = append(cases, goldenCase{name, &c, o})
	}
	for _, kind := range []string{"at", "ago", "backup", "backup-before"} {
		st, o := newRestoreState(kind)
		for _, step := range []string{StepRestore, StepCopy, StepVerify, StepCleanup, StepDone} {
			if kind != "at" && step != StepCopy {
				continue
			}
			st.Step = step
			add("restore-"+kind+"-"+step, st, o)
		}
	}
	// A state file written before point_flag existed: a --at run.
	old, oo := newRestoreState("")
	oo.Restore.Point.At = goldenPoint
	old.Step = StepCopy
	add("restore-old-copy", old, oo)

	st, o := newWindowState()
	add("window-export", st, o)
	st.ExportDirs = []string{"s3://rewinds/orders/ddbrewind-rewind-20261201T090000Z-a1b2c3/AWSDynamoDB/01764568800000-aaaa0001/",
		"s3://rewinds/orders/ddbrewind-rewind-20261201T090000Z-a1b2c3/AWSDynamoDB/01764572400000-aaaa0002/"}
	st.Step = StepCopy
	add("window-copy", st, o)
	// A copy pass that ended with conflicts.
	st.CopyPass, st.Conflicts, st.ConflictKeys = 1, 2, []string{`{"pk":{"S":"a"}}`, `{"pk":{"S":"b"}}`}
	add("window-copy-conflicts", st, o)
	// The next pass accepted them (--accept-conflicts).
	st.Step = StepVerify
	add("window-verify-accepted", st, o)
	st.CopyPass, st.Conflicts, st.ConflictKeys = 0, 0, nil
	add("window-verify", st, o)
	st.Step = StepCleanup
	add("window-cleanup", st, o)
	st.Step = StepDone
	add("window-done", st, o)
	// A state file written before export_prefix existed.
	oldw, ow := newWindowState()
	oldw.ExportPrefix, oldw.Step = "", StepCopy
	oldw.ExportDirs = []string{"s3://rewinds/orders/AWSDynamoDB/01764568800000-aaaa0001/"}
	add("window-old-copy", oldw, ow)
	return cases
}

// TestGoldenStateFiles: the state files written before the rewind loop
// existed are still written byte for byte the same, and load into the
// same State.
func TestGoldenStateFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files := &statefile.Store{}
	for _, c := range goldenStates() {
		t.Run(c.name, func(t *testing.T) {
			golden := filepath.Join("testdata", "state", c.name+".json")
			path := filepath.Join(dir, c.name+".json")
			o := Options{State: path, Files: files, Now: func() time.Time { return goldenStarted.Add(time.Minute) }}
			if err := saveState(o, c.st); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the state is written differently:\n%s\nwant (%s):\n%s", got, golden, want)
			}
			st, err := loadState(ctx, files, golden)
			if err != nil || st == nil {
				t.Fatalf("loadState(%s) = %v, %v", golden, st, err)
			}
			a, _ := json.Marshal(st)
			b, _ := json.Marshal(c.st)
			if !bytes.Equal(a, b) {
				t.Errorf("loaded %s, want %s", a, b)
			}
		})
	}
}

// TestGoldenStateFilesIdentity: each golden state file is resumed by the
// flags that wrote it, and refused with a usage error naming it by
// another source (another point, the other kind of source).
func TestGoldenStateFilesIdentity(t *testing.T) {
	for _, c := range goldenStates() {
		t.Run(c.name, func(t *testing.T) {
			st, err := loadState(context.Background(), &statefile.Store{}, filepath.Join("testdata", "state", c.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			o := c.o
			o.State = goldenState
			if err := checkSame(o, st, "orders", goldenSelection()); err != nil {
				t.Errorf("the flags that wrote it are refused: %v", err)
			}
			others := []Options{{}, {}}
			others[0].Restore.Point.At = goldenPoint.Add(time.Hour)
			// The same --since, without --until and --s3-prefix.
			others[1].Export.Since, others[1].Export.Bucket = goldenSince, "rewinds"
			others = append(others, o)
			others[2].Restore.Table = "users"
			for i, other := range others {
				other.State = goldenState
				table := "orders"
				if i == 2 {
					table = "users"
				}
				err := checkSame(other, st, table, goldenSelection())
				var ue *usage.Error
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), goldenState) {
					t.Errorf("rerun %d: %v, want a usage error naming %s", i, err, goldenState)
				}
			}
			if err := checkSame(o, st, "orders", selectionID(copier.Options{})); err == nil {
				t.Errorf("another selection is accepted")
			}
		})
	}
}
