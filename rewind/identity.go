package rewind

import (
	"fmt"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// checkSame is the rerun identity: it refuses a state file of another
// rewind — another table, another source (the source flags as given
// against those the state file records: a restore or a window of
// incremental exports, and which), another selection or write mode. Each
// refusal is a usage error naming the state file.
func checkSame(o Options, st *State, table, sel string) error {
	if st.Table != table {
		return &usage.Error{Msg: fmt.Sprintf("state file %s is for table %s, not %s: pass another --state", o.State, st.Table, table)}
	}
	if err := sameSource(o, st, table); err != nil {
		return err
	}
	if st.Selection != sel {
		return &usage.Error{Msg: fmt.Sprintf("state file %s records a rewind of %s with another selection or write mode: rerun with the same flags to resume, or remove the state file (or pass another --state) to start another rewind",
			o.State, table)}
	}
	return nil
}

// restoreFlags names the flags of a restore, for messages.
const restoreFlags = "a restore (--at, --ago, --latest, --backup or --backup-before)"

// sameSource refuses a rerun whose source flags differ, as given, from
// those the state file records: --since, --until (as given), --s3-bucket
// and --s3-prefix of a rewind from incremental exports, or a restore
// instead; a point-in-time restore against a restore from a backup,
// another --backup, another --backup-before; another point-in-time flag
// (--ago 1m after --at T is another rewind), or another --at.
func sameSource(o Options, st *State, table string) error {
	e, p := o.Export, o.Restore.Point
	var was, now string
	switch {
	case o.incremental() || st.Since != nil:
		if o.incremental() && st.Since != nil && st.Since.Equal(e.Since) && sameOptional(st.Until, e.Until) && st.Bucket == e.Bucket && st.Prefix == e.Prefix {
			return nil
		}
		was, now = "started with "+restoreFlags, restoreFlags
		if st.Since != nil {
			var until time.Time
			if st.Until != nil {
				until = *st.Until
			}
			was = "started with " + windowFlags(*st.Since, until, st.Bucket, st.Prefix)
		}
		if o.incremental() {
			now = windowFlags(e.Since, e.Until, e.Bucket, e.Prefix)
		}
	case p.FromBackup() || st.BackupARN != "":
		var same bool
		if was, now, same = sameBackup(p, st); same {
			return nil
		}
	default:
		return samePoint(o, st, table)
	}
	if st.Step == StepDone {
		return &usage.Error{Msg: fmt.Sprintf("state file %s records a finished rewind of %s %s, not %s: to rewind again, remove the state file or pass another --state",
			o.State, table, was, now)}
	}
	return &usage.Error{Msg: fmt.Sprintf("state file %s records an unfinished rewind of %s %s, not %s: rerun with the same flags to resume, or remove the state file (or pass another --state) to start another rewind",
		o.State, table, was, now)}
}

// sameBackup compares the source of a restore, one of them from a
// backup: what the state file records and what is given, for messages.
func sameBackup(p restore.Point, st *State) (was, now string, same bool) {
	was = "to " + tables.FormatTime(st.RestorePoint)
	switch {
	case st.BackupBefore != nil:
		was = fmt.Sprintf("from the newest backup at or before %s (--backup-before), %s", tables.FormatTime(*st.BackupBefore), st.BackupARN)
	case st.BackupARN != "":
		was = "from backup " + st.BackupARN + " (--backup)"
	}
	switch {
	case p.Backup != "":
		return was, "--backup " + p.Backup, st.BackupBefore == nil && p.Backup == st.BackupARN
	case !p.BackupBefore.IsZero():
		return was, "--backup-before " + tables.FormatTime(p.BackupBefore), st.BackupBefore != nil && st.BackupBefore.Equal(p.BackupBefore)
	}
	return was, "a point in time (--at, --ago or --latest)", false
}

// samePoint compares two point-in-time restores: the flag as given with
// the one recorded (absent in state files written before it was), and a
// --at with the restore point.
func samePoint(o Options, st *State, table string) error {
	p := o.Restore.Point
	if given := pointFlag(p); st.PointFlag != "" && given != st.PointFlag {
		state := "an unfinished"
		if st.Step == StepDone {
			state = "a finished"
		}
		return &usage.Error{Msg: fmt.Sprintf("state file %s records %s rewind of %s started with %s (restore point %s), not %s: rerun with the same flags, or remove the state file (or pass another --state) to start another rewind",
			o.State, state, table, st.PointFlag, tables.FormatTime(st.RestorePoint), given)}
	}
	switch {
	case p.At.IsZero() || p.At.Equal(st.RestorePoint):
		return nil
	case st.Step == StepDone:
		return &usage.Error{Msg: fmt.Sprintf("state file %s records a finished rewind of %s to %s: to rewind to %s, remove the state file or pass another --state",
			o.State, table, tables.FormatTime(st.RestorePoint), tables.FormatTime(p.At))}
	}
	return &usage.Error{Msg: fmt.Sprintf("state file %s records an unfinished rewind of %s to %s, not %s: rerun with the same --at to resume, or remove the state file (or pass another --state) to start another rewind",
		o.State, table, tables.FormatTime(st.RestorePoint), tables.FormatTime(p.At))}
}

// pointFlag is the point-in-time flag of p as given.
func pointFlag(p restore.Point) string {
	switch {
	case !p.At.IsZero():
		return "--at " + tables.FormatTime(p.At)
	case p.Ago != 0:
		return "--ago " + p.Ago.String()
	case p.Latest:
		return "--latest"
	}
	return ""
}

// windowFlags is the source flags of a rewind from incremental exports as
// given, for messages.
func windowFlags(since, until time.Time, bucket, prefix string) string {
	s := "--since " + tables.FormatTime(since)
	if !until.IsZero() {
		s += " --until " + tables.FormatTime(until)
	}
	s += " --s3-bucket " + bucket
	if prefix != "" {
		s += " --s3-prefix " + prefix
	}
	return s
}

func sameOptional(recorded *time.Time, given time.Time) bool {
	if recorded == nil {
		return given.IsZero()
	}
	return recorded.Equal(given)
}
