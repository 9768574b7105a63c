package copier

import (
	"context"
	"fmt"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
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
// what verification expects, its --if-main probe and its writer. This file
// is the only one that reads the mode's fields of Options.
type WriteMode struct {
	onlyMissing bool
	ifMain      string
	deleteExtra bool
	// The conflicts of a window rewind (see rewindSink).
	overwriteConflicts bool
	overwriteKeys      string
	acceptConflicts    bool
}

// Mode resolves the write mode of the options.
func (o Options) Mode() WriteMode {
	return WriteMode{onlyMissing: o.OnlyMissing, ifMain: o.IfMain, deleteExtra: o.DeleteExtra,
		overwriteConflicts: o.OverwriteConflicts, overwriteKeys: o.OverwriteConflictsKeys, acceptConflicts: o.AcceptConflicts}
}

// noWrites clears the write mode of options of a plan that writes nothing
// (a diff, a show): it reads the source as an overwrite would. The
// conflict flags stay: a window's diff tells conflicts apart with them.
func (o *Options) noWrites() { o.OnlyMissing, o.DeleteExtra, o.IfMain = false, false, "" }

// noConflictWrites clears the conflict flags of a window's dry run.
func (o *Options) noConflictWrites() {
	o.OverwriteConflicts, o.OverwriteConflictsKeys, o.AcceptConflicts = false, "", false
}

// Writes names the mode in messages: what a copy of src into the main
// table to writes and deletes (a confirmation's words).
func (m WriteMode) Writes(to, src string) string {
	var s string
	switch {
	case m.onlyMissing:
		s = fmt.Sprintf("write into main table %s the items of %s it lacks (never overwriting)", to, src)
	case m.ifMain != "":
		s = fmt.Sprintf("overwrite items of main table %s with their versions in %s where --if-main holds", to, src)
	default:
		s = fmt.Sprintf("overwrite items of main table %s with their versions in %s", to, src)
	}
	if m.deleteExtra {
		return s + fmt.Sprintf(", and delete the items of %s that it lacks (--delete-extra)", to)
	}
	return s + ", deleting nothing"
}

// fingerprint is the mode's part of a checkpoint's fingerprint (the form
// checkpoints have always carried; a window's conflict flags are not in
// it).
func (m WriteMode) fingerprint() string {
	return fmt.Sprintf("only-missing=%v delete-extra=%v if-main=%s", m.onlyMissing, m.deleteExtra, m.ifMain)
}

// ID is the mode's part of a rewind's selection id (the form state files
// have always carried).
func (m WriteMode) ID() string {
	return fmt.Sprintf("only-missing=%v|delete-extra=%v|if-main=%s", m.onlyMissing, m.deleteExtra, m.ifMain)
}

// DeletesExtra reports whether the copy deletes the main items of the
// selection that the source lacks (--delete-extra).
func (m WriteMode) DeletesExtra() bool { return m.deleteExtra }

// KeepsDifferences reports whether the copy keeps some main versions on
// purpose (--only-missing, --if-main): verification then accepts items
// that differ from the source.
func (m WriteMode) KeepsDifferences() bool { return m.onlyMissing || m.ifMain != "" }

// RemovesExtras reports whether, after the copy, verification expects no
// main item of the selection that the source lacks: --delete-extra deleted
// them, unless --if-main kept some.
func (m WriteMode) RemovesExtras() bool { return m.deleteExtra && m.ifMain == "" }

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
		return usagef("%s", m.WindowRefusal("an incremental rewind"))
	case m.overwriteConflicts && m.overwriteKeys != "":
		return usagef("--overwrite-conflicts rewinds every conflict and --overwrite-conflicts-keys only the keys it names: give one of them")
	case m.overwriteConflicts && m.acceptConflicts:
		return usagef("--overwrite-conflicts rewinds every conflict and --accept-conflicts leaves them alone: give one of them (--overwrite-conflicts-keys FILE with --accept-conflicts rewinds the keys it names and leaves the others)")
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
			return usagef("%s applies to a rewind from incremental exports (--from-export of incremental exports, or run --since), and %s: remove it", f.flag, why)
		}
	}
	return nil
}

// writer returns the writer of a copy from a table or a full export.
func (m WriteMode) writer() writeMode {
	switch {
	case m.onlyMissing:
		return onlyMissing{}
	case m.ifMain != "":
		return ifMain{expr: m.ifMain}
	}
	return overwrite{}
}

// probe checks, before any write, that DynamoDB accepts the --if-main
// condition on the main table t (nothing to check in another mode).
func (m WriteMode) probe(ctx context.Context, api API, verb string, t *target, keyTypes map[string]string) error {
	if m.ifMain == "" {
		return nil
	}
	err := ifMain{expr: m.ifMain}.probe(ctx, api, t, keyTypes)
	switch {
	case err == nil:
		return fmt.Errorf("%s: the --if-main probe unexpectedly wrote a probe item into %s", verb, t.table)
	case awserr.Code(err) == "ConditionalCheckFailedException":
		return nil
	case awserr.Code(err) == "ValidationException":
		return usagef("%s: DynamoDB rejects --if-main %q on %s: %s", verb, m.ifMain, t.table, awserr.Message(err))
	}
	return fmt.Errorf("%s: check --if-main on %s: %w", verb, t.table, err)
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
