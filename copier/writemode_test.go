package copier

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// TestWriteMode: the write mode resolved from the options answers its
// name, its fingerprint and selection-id parts (in the forms checkpoints
// and state files have always carried), what verification expects and the
// sources of the past it goes with.
func TestWriteMode(t *testing.T) {
	for _, tt := range []struct {
		opts                    Options
		name                    string
		keepsDiffs, removesExtr bool
		windowErr, tableErr     string
	}{
		{Options{}, "overwrite items of main table main with their versions in rec, deleting nothing", false, false, "", ""},
		{Options{DeleteExtra: true}, "overwrite items of main table main with their versions in rec, and delete the items of main that it lacks (--delete-extra)", false, true, "", ""},
		{Options{OnlyMissing: true}, "write into main table main the items of rec it lacks (never overwriting), deleting nothing", true, false, "--only-missing and --if-main do not apply", ""},
		{Options{OnlyMissing: true, DeleteExtra: true}, "write into main table main the items of rec it lacks (never overwriting), and delete the items of main that it lacks (--delete-extra)", true, true, "--only-missing and --if-main do not apply", ""},
		{Options{IfMain: "#v < :v"}, "overwrite items of main table main with their versions in rec where --if-main holds, deleting nothing", true, false, "--only-missing and --if-main do not apply", ""},
		{Options{IfMain: "#v < :v", DeleteExtra: true}, "overwrite items of main table main with their versions in rec where --if-main holds, and delete the items of main that it lacks (--delete-extra)", true, false, "--only-missing and --if-main do not apply", ""},
		{Options{OverwriteConflicts: true}, "overwrite items of main table main with their versions in rec, deleting nothing", false, false, "", "--overwrite-conflicts applies to a rewind from incremental exports"},
		{Options{OverwriteConflictsKeys: "k.jsonl"}, "overwrite items of main table main with their versions in rec, deleting nothing", false, false, "", "--overwrite-conflicts-keys applies"},
		{Options{AcceptConflicts: true}, "overwrite items of main table main with their versions in rec, deleting nothing", false, false, "", "--accept-conflicts applies"},
		{Options{OverwriteConflicts: true, OverwriteConflictsKeys: "k.jsonl"}, "overwrite items of main table main with their versions in rec, deleting nothing", false, false, "give one of them", "--overwrite-conflicts applies"},
		{Options{OverwriteConflicts: true, AcceptConflicts: true}, "overwrite items of main table main with their versions in rec, deleting nothing", false, false, "--accept-conflicts leaves them alone", "--overwrite-conflicts applies"},
	} {
		t.Run(fmt.Sprintf("%+v", tt.opts.Mode()), func(t *testing.T) {
			o := tt.opts
			m := o.Mode()
			if got := m.Writes("main", "rec"); got != tt.name {
				t.Errorf("Writes() = %q, want %q", got, tt.name)
			}
			if got, want := m.fingerprint(), fmt.Sprintf("only-missing=%v delete-extra=%v if-main=%s", o.OnlyMissing, o.DeleteExtra, o.IfMain); got != want {
				t.Errorf("fingerprint() = %q, want %q", got, want)
			}
			if got, want := m.ID(), fmt.Sprintf("only-missing=%v|delete-extra=%v|if-main=%s", o.OnlyMissing, o.DeleteExtra, o.IfMain); got != want {
				t.Errorf("ID() = %q, want %q", got, want)
			}
			if m.KeepsDifferences() != tt.keepsDiffs || m.RemovesExtras() != tt.removesExtr || m.DeletesExtra() != o.DeleteExtra {
				t.Errorf("KeepsDifferences, RemovesExtras, DeletesExtra = %v, %v, %v", m.KeepsDifferences(), m.RemovesExtras(), m.DeletesExtra())
			}
			checkRefusal(t, "checkWindow", m.checkWindow(), tt.windowErr)
			checkRefusal(t, "checkNotWindow", m.checkNotWindow("--from reads a table"), tt.tableErr)
			if (m.WindowRefusal("run --since") != "") != tt.keepsDiffs {
				t.Errorf("WindowRefusal = %q", m.WindowRefusal("run --since"))
			}
		})
	}
}

func checkRefusal(t *testing.T, what string, err error, want string) {
	t.Helper()
	var ue *usage.Error
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: %v, want none", what, err)
	case want != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), want)):
		t.Errorf("%s: %v, want a usage error containing %q", what, err, want)
	}
}

// TestNoWrites: a diff or a show reads the source as an overwrite would;
// a window's diff keeps its conflict flags.
func TestNoWrites(t *testing.T) {
	o := Options{OnlyMissing: true, IfMain: "x", DeleteExtra: true, OverwriteConflicts: true}
	if m := o.Mode().reading(); m.KeepsDifferences() || m.DeletesExtra() || !m.overwritesAllConflicts() || m.Name() != "overwrite" {
		t.Errorf("reading: %+v", m)
	}
	o.noConflictWrites()
	if m := o.Mode(); m.overwritesAllConflicts() || m.acceptsConflicts() || m.conflictKeysFile() != "" {
		t.Errorf("after noConflictWrites: %+v", m)
	}
}
