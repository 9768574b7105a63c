package copier

import (
	"context"
	"fmt"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// WriteMode is how a copy writes into the main table, resolved once from
// the options (Options.Mode): overwrite, --only-missing or --if-main EXPR,
// each with or without --delete-extra; from an incremental window, a
// rewind that leaves conflicts alone, overwrites them all
// (--overwrite-conflicts) or those of a keys file
// (--overwrite-conflicts-keys), and fails on them or accepts them
// (--accept-conflicts). Everything that depends on the mode asks this
// value, not the flags: its words in messages, its part of the checkpoint fingerprint
// and of a rewind's selection id, the sources of the past it goes with,
// what verification expects, its --if-main probe and its writer. The base
// mode (overwrite, only-missing, if-main) is one of the registry's
// (baseModes); each answers for itself in its own file.
type WriteMode struct {
	base        baseMode
	deleteExtra bool
	// The conflicts of a window rewind (see rewindSink).
	overwriteConflicts bool
	overwriteKeys      string
	acceptConflicts    bool
}

// baseMode is a way of writing the past's items into the main table: one
// file each (mode_overwrite.go, mode_onlymissing.go, mode_ifmain.go), one
// line in baseModes. --delete-extra combines with any.
type baseMode interface {
	writeMode
	// name names the mode in the registry and the conformance suite.
	name() string
	// writes says what a copy of src into the main table to writes.
	writes(to, src string) string
	// fingerprint and id are the mode's part, with --delete-extra or not,
	// of a checkpoint's fingerprint and of a rewind's selection id: a new
	// mode adds its own form, so that existing ones do not change.
	fingerprint(deleteExtra bool) string
	id(deleteExtra bool) string
	// keepsDifferences: the mode keeps some main versions on purpose, so
	// verification accepts items that differ from the source (and a
	// window rewind, which writes only what the window left, refuses it);
	// keepsExtras: some extras may stay with --delete-extra.
	keepsDifferences() bool
	keepsExtras() bool
	// check sends the mode's expressions to DynamoDB once, before any
	// write, on the main table t (nil: nothing to check).
	check(ctx context.Context, api API, verb string, t *target, keyTypes map[string]string) error
}

// baseModes is the registry of the base write modes, in the order the
// options are asked: the first whose selects holds is the mode. Adding a
// mode is its file, its option (and flag) and one line here.
func baseModes() []struct {
	name    string
	selects func(o Options) (baseMode, bool)
} {
	return []struct {
		name    string
		selects func(o Options) (baseMode, bool)
	}{
		{"only-missing", func(o Options) (baseMode, bool) { return onlyMissing{}, o.OnlyMissing }},
		{"if-main", func(o Options) (baseMode, bool) { return ifMain{expr: o.IfMain}, o.IfMain != "" }},
		{"overwrite", func(Options) (baseMode, bool) { return overwrite{}, true }},
	}
}

// Mode resolves the write mode of the options.
func (o Options) Mode() WriteMode {
	m := WriteMode{deleteExtra: o.DeleteExtra,
		overwriteConflicts: o.OverwriteConflicts, overwriteKeys: o.OverwriteConflictsKeys, acceptConflicts: o.AcceptConflicts}
	for _, b := range baseModes() {
		if base, ok := b.selects(o); ok {
			m.base = base
			break
		}
	}
	return m
}

// Name names the base mode (overwrite, only-missing, if-main).
func (m WriteMode) Name() string { return m.base.name() }

// reading is the mode of a plan that writes nothing (a diff, a show): it
// reads the source as an overwrite would. The conflict flags stay: a
// window's diff tells conflicts apart with them.
func (m WriteMode) reading() WriteMode {
	m.base, m.deleteExtra = overwrite{}, false
	return m
}

// noConflictWrites clears the conflict flags of a window's dry run.
func (o *Options) noConflictWrites() {
	o.OverwriteConflicts, o.OverwriteConflictsKeys, o.AcceptConflicts = false, "", false
}

// Writes names the mode in messages: what a copy of src into the main
// table to writes and deletes (a confirmation's words).
func (m WriteMode) Writes(to, src string) string {
	s := m.base.writes(to, src)
	if m.deleteExtra {
		return s + fmt.Sprintf(", and delete the items of %s that it lacks (--delete-extra)", to)
	}
	return s + ", deleting nothing"
}

// fingerprint is the mode's part of a checkpoint's fingerprint (the form
// checkpoints have always carried; a window's conflict flags are not in
// it).
func (m WriteMode) fingerprint() string { return m.base.fingerprint(m.deleteExtra) }

// ID is the mode's part of a rewind's selection id (the form state files
// have always carried).
func (m WriteMode) ID() string { return m.base.id(m.deleteExtra) }

// firstFingerprint and firstID are the fingerprint and id parts of the
// first three modes, in the form checkpoints and state files have always
// carried.
func firstFingerprint(onlyMissing, deleteExtra bool, ifMain string) string {
	return fmt.Sprintf("only-missing=%v delete-extra=%v if-main=%s", onlyMissing, deleteExtra, ifMain)
}

func firstID(onlyMissing, deleteExtra bool, ifMain string) string {
	return fmt.Sprintf("only-missing=%v|delete-extra=%v|if-main=%s", onlyMissing, deleteExtra, ifMain)
}

// DeletesExtra reports whether the copy deletes the main items of the
// selection that the source lacks (--delete-extra).
func (m WriteMode) DeletesExtra() bool { return m.deleteExtra }

// KeepsDifferences reports whether the copy keeps some main versions on
// purpose (--only-missing, --if-main): verification then accepts items
// that differ from the source.
func (m WriteMode) KeepsDifferences() bool { return m.base.keepsDifferences() }

// RemovesExtras reports whether, after the copy, verification expects no
// main item of the selection that the source lacks: --delete-extra deleted
// them, unless --if-main kept some.
func (m WriteMode) RemovesExtras() bool { return m.deleteExtra && !m.base.keepsExtras() }

// WindowRefusal is why a rewind of an incremental window, which writes each
// item only while it is what the window left, does not take this mode
// ("" if it does); who names the rewind ("run --since").
func (m WriteMode) WindowRefusal(who string) string {
	if m.KeepsDifferences() {
		return who + " writes each item only while it is what the window left (see --overwrite-conflicts): --only-missing and --if-main do not apply"
	}
	return ""
}

// checkWindow refuses what a rewind of a window does not take.
func (m WriteMode) checkWindow() error {
	switch {
	case m.KeepsDifferences():
		return usage.Errorf("%s", m.WindowRefusal("an incremental rewind"))
	case m.overwriteConflicts && m.overwriteKeys != "":
		return usage.Errorf("--overwrite-conflicts rewinds every conflict and --overwrite-conflicts-keys only the keys it names: give one of them")
	case m.overwriteConflicts && m.acceptConflicts:
		return usage.Errorf("--overwrite-conflicts rewinds every conflict and --accept-conflicts leaves them alone: give one of them (--overwrite-conflicts-keys FILE with --accept-conflicts rewinds the keys it names and leaves the others)")
	}
	return nil
}

// checkNotWindow refuses the flags about conflicts in a copy that is not a
// rewind of incremental exports (why says what it is instead).
func (m WriteMode) checkNotWindow(why string) error {
	for _, f := range []struct {
		set  bool
		flag string
	}{{m.overwriteConflicts, "--overwrite-conflicts"}, {m.overwriteKeys != "", "--overwrite-conflicts-keys"}, {m.acceptConflicts, "--accept-conflicts"}} {
		if f.set {
			return usage.Errorf("%s applies to a rewind from incremental exports (--from-export of incremental exports, or run --since), and %s: remove it", f.flag, why)
		}
	}
	return nil
}

// writer returns the writer of a copy from a table or a full export.
func (m WriteMode) writer() writeMode { return m.base }

// probe checks, before any write, that DynamoDB accepts the mode's
// expressions on the main table t (the --if-main condition).
func (m WriteMode) probe(ctx context.Context, api API, verb string, t *target, keyTypes map[string]string) error {
	return m.base.check(ctx, api, verb, t, keyTypes)
}

// overwritesAllConflicts reports whether a window rewind overwrites every
// conflict (--overwrite-conflicts).
func (m WriteMode) overwritesAllConflicts() bool { return m.overwriteConflicts }

// conflictKeysFile is the keys file of the conflicts to overwrite anyway
// (--overwrite-conflicts-keys), "" without one.
func (m WriteMode) conflictKeysFile() string { return m.overwriteKeys }

// acceptsConflicts reports whether a window rewind leaves its conflicts
// alone and succeeds (--accept-conflicts).
func (m WriteMode) acceptsConflicts() bool { return m.acceptConflicts }
