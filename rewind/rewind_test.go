package rewind

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

func TestVerdict(t *testing.T) {
	tests := []struct {
		name string
		opts copier.Options
		diff copier.DiffResult
		want string // the failure's text after "verification failed: "; "" passes
	}{
		{"equal", copier.Options{}, copier.DiffResult{Identical: 10}, ""},
		{"missing always fails", copier.Options{OnlyMissing: true}, copier.DiffResult{MissingInMain: 1},
			"1 item of the recovery slice is missing in the main table"},
		{"missing, many", copier.Options{}, copier.DiffResult{MissingInMain: 1650},
			"1,650 items of the recovery slice are missing in the main table"},
		{"different fails an overwrite", copier.Options{}, copier.DiffResult{Different: 1}, "1 item differs from the recovery table"},
		{"different, many", copier.Options{}, copier.DiffResult{Different: 2}, "2 items differ from the recovery table"},
		{"different is kept by --only-missing", copier.Options{OnlyMissing: true}, copier.DiffResult{Different: 3}, ""},
		{"different is kept by --if-main", copier.Options{IfMain: "x = :y"}, copier.DiffResult{Different: 3}, ""},
		{"extras fail --delete-extra", copier.Options{DeleteExtra: true}, copier.DiffResult{ExtraInMain: 2},
			"2 items of the main slice are not in the recovery table"},
		{"one extra", copier.Options{DeleteExtra: true}, copier.DiffResult{ExtraInMain: 1},
			"1 item of the main slice is not in the recovery table"},
		{"extras are reported without --delete-extra", copier.Options{}, copier.DiffResult{ExtraInMain: 2}, ""},
		{"extras kept by --if-main", copier.Options{DeleteExtra: true, IfMain: "x = :y"}, copier.DiffResult{ExtraInMain: 2}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verdict(tt.opts, &tt.diff)
			if (err != nil) != (tt.want != "") || (err != nil && !errors.Is(err, ErrVerifyFailed)) {
				t.Fatalf("Verdict = %v, want failure %v (ErrVerifyFailed)", err, tt.want != "")
			}
			if err != nil && !strings.HasPrefix(err.Error(), "verification failed: "+tt.want+" (e.g.") {
				t.Errorf("Verdict = %q, want %q", err, tt.want)
			}
		})
	}
}

func TestCheckSame(t *testing.T) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	sel := selectionID(copier.Options{DeleteExtra: true})
	st := &State{Table: "orders", RestorePoint: at, Selection: sel, Step: StepCopy}
	opts := func(point restore.Point) Options {
		return Options{State: "state.json", Restore: restore.Options{Point: point}}
	}
	tests := []struct {
		name  string
		o     Options
		table string
		sel   string
		step  string
		want  string // "" = accepted
	}{
		{"same --at", opts(restore.Point{At: at}), "orders", sel, StepCopy, ""},
		{"--latest resumes the recorded point", opts(restore.Point{Latest: true}), "orders", sel, StepCopy, ""},
		{"another table", opts(restore.Point{At: at}), "users", sel, StepCopy, "is for table orders"},
		{"another --at, unfinished", opts(restore.Point{At: at.Add(time.Hour)}), "orders", sel, StepCopy, "unfinished rewind"},
		{"another --at, finished", opts(restore.Point{At: at.Add(time.Hour)}), "orders", sel, StepDone, "finished rewind"},
		{"another selection", opts(restore.Point{At: at}), "orders", selectionID(copier.Options{}), StepCopy, "another selection or write mode"},
		{"--ago after --at, finished", opts(restore.Point{Ago: time.Minute}), "orders", sel, StepDone, "a finished rewind of orders started with --at 2026-11-30T08:00:00Z"},
		{"--latest after --at, unfinished", opts(restore.Point{Latest: true}), "orders", sel, StepCopy, "started with --at"},
		{"the same --ago again", opts(restore.Point{Ago: 90 * time.Minute}), "orders", sel, StepDone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := *st
			s.Step = tt.step
			s.PointFlag = "--at " + tables.FormatTime(at)
			switch tt.name {
			case "the same --ago again":
				s.PointFlag = "--ago 1h30m0s"
			case "--latest resumes the recorded point":
				s.PointFlag = "--latest"
			}
			err := checkSame(tt.o, &s, tt.table, tt.sel)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

// TestCheckSameBackup: a run from a backup resumes only with the same
// --backup or --backup-before, compared as given; a point-in-time run and a
// backup run never resume each other. Every refusal names the state file.
func TestCheckSameBackup(t *testing.T) {
	created := time.Date(2026, 10, 1, 3, 0, 0, 0, time.UTC)
	before := time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)
	const arn = "arn:aws:dynamodb:us-east-1:111122223333:table/orders/backup/01759287600000-abcdef12"
	const other = "arn:aws:dynamodb:us-east-1:111122223333:table/orders/backup/01759287600000-99999999"
	sel := selectionID(copier.Options{})
	byARN := State{Table: "orders", RestorePoint: created, RestoreState: RestoreState{BackupARN: arn}, Selection: sel}
	byTime := byARN
	byTime.BackupBefore = &before
	pitr := State{Table: "orders", RestorePoint: created, Selection: sel}
	opts := func(point restore.Point) Options {
		return Options{State: "state.json", Restore: restore.Options{Point: point}}
	}
	tests := []struct {
		name string
		st   State
		o    Options
		step string
		want string // "" = accepted
	}{
		{"same --backup", byARN, opts(restore.Point{Backup: arn}), StepCopy, ""},
		{"same --backup-before", byTime, opts(restore.Point{BackupBefore: before}), StepCopy, ""},
		{"another --backup", byARN, opts(restore.Point{Backup: other}), StepCopy, "unfinished rewind of orders from backup " + arn + " (--backup), not --backup " + other},
		{"another --backup, finished", byARN, opts(restore.Point{Backup: other}), StepDone, "finished rewind of orders from backup " + arn},
		{"another --backup-before", byTime, opts(restore.Point{BackupBefore: before.Add(time.Hour)}), StepCopy, "not --backup-before 2026-10-02T01:00:00Z"},
		{"--backup naming what --backup-before picked", byTime, opts(restore.Point{Backup: arn}), StepCopy, "from the newest backup at or before 2026-10-02T00:00:00Z (--backup-before)"},
		{"--backup-before after --backup", byARN, opts(restore.Point{BackupBefore: before}), StepCopy, "(--backup), not --backup-before"},
		{"--latest after a backup run", byARN, opts(restore.Point{Latest: true}), StepCopy, "not a point in time"},
		{"--at the backup's time after a backup run", byARN, opts(restore.Point{At: created}), StepCopy, "not a point in time"},
		{"--backup after a point-in-time run", pitr, opts(restore.Point{Backup: arn}), StepCopy, "rewind of orders to 2026-10-01T03:00:00Z, not --backup " + arn},
		{"--backup-before after a point-in-time run", pitr, opts(restore.Point{BackupBefore: before}), StepDone, "finished rewind of orders to 2026-10-01T03:00:00Z, not --backup-before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.st
			s.Step = tt.step
			err := checkSame(tt.o, &s, "orders", sel)
			if err != nil && !strings.Contains(err.Error(), "state.json") {
				t.Errorf("the refusal does not name the state file: %v", err)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

func TestSelectionIDFollowsSelectionAndMode(t *testing.T) {
	base := copier.Options{Selection: copier.Selection{KeyCondition: "pk = :p"}}
	ids := map[string]string{}
	for name, o := range map[string]copier.Options{
		"base":         base,
		"only-missing": {Selection: base.Selection, OnlyMissing: true},
		"delete-extra": {Selection: base.Selection, DeleteExtra: true},
		"if-main":      {Selection: base.Selection, IfMain: "a = :b"},
		"other range":  {Selection: copier.Selection{KeyCondition: "pk = :q"}},
	} {
		id := selectionID(o)
		if other, dup := ids[id]; dup {
			t.Errorf("%s and %s have the same selection id", name, other)
		}
		ids[id] = name
	}
	if selectionID(base) != selectionID(copier.Options{Selection: copier.Selection{KeyCondition: "pk = :p"}, Writers: 9}) {
		t.Errorf("speed options changed the selection id")
	}
}
