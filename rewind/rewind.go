// Package rewind runs a whole rewind as one resumable job: restore the main
// table to a point in time as a recovery table, copy the selection back,
// verify it, and delete the recovery table. A state file records the
// resolved restore point, the recovery table and the step reached, so the
// same command run again after any failure, interrupt or kill resumes where
// it stopped: it never restores twice and never deletes the recovery table
// before the copy and its verification succeeded.
//
// The steps themselves are packages restore and copier; this package only
// sequences them.
package rewind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// API is what a rewind calls: the union of restore's, copier's and
// export's (a rewind from incremental exports, Options.Export).
type API interface {
	restore.API
	copier.API
	export.API
}

var _ API = (*dynamodb.Client)(nil)

// Steps of a rewind, in order.
const (
	// StepExport is the first step of a rewind from incremental exports
	// (instead of StepRestore).
	StepExport  = "export"
	StepRestore = "restore"
	StepCopy    = "copy"
	StepVerify  = "verify"
	StepCleanup = "cleanup"
	StepDone    = "done"
)

// State is the content of the state file.
type State struct {
	Version       int       `json:"version"`
	Table         string    `json:"table"`
	RestorePoint  time.Time `json:"restore_point"`
	RecoveryTable string    `json:"recovery_table"`
	// BackupARN is the backup the recovery table is restored from (given
	// with --backup, or the one --backup-before picked); empty for a
	// point-in-time restore. RestorePoint is then the backup's creation
	// time.
	BackupARN string `json:"backup_arn,omitempty"`
	// BackupBefore is --backup-before as given, so that a rerun is compared
	// with the flags the run started with, not with what they resolved to.
	BackupBefore *time.Time `json:"backup_before,omitempty"`
	// PointFlag is the point-in-time flag as given (--at T, --ago D,
	// --latest), so that a rerun with another flag is refused even when the
	// run is finished (--ago 1m after --at T is another rewind).
	PointFlag string `json:"point_flag,omitempty"`
	Step      string `json:"step"`
	// Selection identifies the copy's selection and write mode.
	Selection  string    `json:"selection"`
	Checkpoint string    `json:"checkpoint"`
	Started    time.Time `json:"started"`
	Updated    time.Time `json:"updated"`

	// The source of a rewind from incremental exports (--since); all
	// empty for a restore. Since and Until are the flags as given (Until
	// nil when not given); ExportUntil is the window's end as resolved
	// (so that a resume exports, or adopts, exactly the same window);
	// RestorePoint is then Since. Bucket and Prefix are where the exports
	// go; ExportDirs are their directories in time order, once the export
	// step is done.
	Since       *time.Time `json:"since,omitempty"`
	Until       *time.Time `json:"until,omitempty"`
	ExportUntil *time.Time `json:"export_until,omitempty"`
	Bucket      string     `json:"s3_bucket,omitempty"`
	Prefix      string     `json:"s3_prefix,omitempty"`
	// ExportPrefix is where this rewind's exports go: a directory of its
	// own under Prefix (see rewindPrefix); empty in state files written
	// before it existed, whose exports went to Prefix.
	ExportPrefix string   `json:"export_prefix,omitempty"`
	ExportDirs   []string `json:"export_dirs,omitempty"`
	// CopyPass counts the copy passes that ended with conflicts: each
	// rerun after one rewinds the window again (already rewound keys are
	// skipped) with a checkpoint of its own (see copyCheckpoint).
	CopyPass int `json:"copy_pass,omitempty"`
	// Conflicts is the number of conflicts the last copy pass left.
	Conflicts int64 `json:"conflicts,omitempty"`
	// ConflictKeys lists them (ddbjson.KeyString), every one: the
	// verification fails for a key that is neither in its start state nor
	// listed here. Absent in state files written before it existed.
	ConflictKeys []string `json:"conflict_keys,omitempty"`
}

// Options configures a rewind.
type Options struct {
	// Restore holds the restore options (Table, Point, billing, indexes…).
	Restore restore.Options
	// Copy holds the copy options (selection, write mode, speed); From and
	// To are filled in.
	Copy copier.Options
	// State is the state file: a local path or an s3:// URL.
	State string
	// Files stores the state file, and is passed to the copy for its
	// checkpoint and journal; nil handles local paths only.
	Files *statefile.Store
	// KeepRecoveryTable skips the cleanup step.
	KeepRecoveryTable bool
	// Export, when Export.Since is set, rewinds from incremental exports
	// of the window [Since, Until) instead of a restore: export, copy
	// (the keys the window changed, with the conflict rule), verify,
	// delete the export files. Table defaults to Restore.Table; Wait,
	// Now and Logger are set by Run. Restore.Point must then be empty.
	Export export.Options
	// KeepExport keeps the export files at the end of a rewind from
	// incremental exports.
	KeepExport bool
	// S3 deletes the export files (the cleanup of a rewind from
	// incremental exports, unless KeepExport).
	S3 ObjectDeleter
	// NoVerify skips the verification step.
	NoVerify bool
	// ResumeCommand is the command line that resumes this rewind, for
	// messages.
	ResumeCommand string
	// Confirm is asked before the first write of a new or resumed rewind.
	Confirm func(what string) error
	// VerifyStats counts the verification (nil: counted apart, unseen);
	// OnStep, if set, is called as each step starts (a progress display
	// switches to it).
	VerifyStats *copier.Stats
	OnStep      func(step string)
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Result says how a rewind ended.
type Result struct {
	State       State
	AlreadyDone bool
	Copy        *copier.Summary
	Diff        *copier.DiffResult
}

// UsageError is a refusal: the state file belongs to another rewind. It
// is the one usage error type of every package.
type UsageError = usage.Error

// ErrVerifyFailed means the copy finished but the main table's slice does
// not match the recovery table's; the recovery table is kept.
var ErrVerifyFailed = errors.New("verification failed")

// DefaultCheckpoint is the copy's checkpoint of a rewind whose state file
// is state, when no checkpoint is given.
func DefaultCheckpoint(state string) string { return state + ".checkpoint" }

// Run runs or resumes the rewind. It holds the state file's lock
// (statefile's Store.Lock) for its whole life: while another run holds it,
// Run returns at once a *statefile.HeldError (a usage error) naming the
// holder, having done nothing else.
func Run(ctx context.Context, api API, o Options) (*Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Restore.Now, o.Restore.Logger, o.Restore.Wait = o.Now, o.Logger, true
	if o.Files == nil {
		o.Files = &statefile.Store{}
	}
	o.Copy.Now, o.Copy.Logger, o.Copy.Files = o.Now, o.Logger, o.Files
	table := tables.Name(o.Restore.Table)
	sel := selectionID(o.Copy)
	res := &Result{}

	// The state file is locked for the run's life, before it is read: a
	// second run given it (a Batch retry overlapping its first attempt) is
	// refused here, before it exports, restores or writes anything.
	ctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	lock, err := o.Files.Lock(ctx, o.State, statefile.LockOptions{Now: o.Now, OnLost: lost})
	if err != nil {
		return res, err
	}
	defer func() {
		if rerr := lock.Release(ctx); rerr != nil {
			o.Logger.Warn("could not release the lock of the state file", "error", rerr)
		}
	}()
	res, err = runLocked(ctx, api, o, table, sel, res)
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, statefile.ErrLockLost) {
		// Not an interrupt: another run holds the state file now.
		return res, fmt.Errorf("run %s: %w (%v)", table, cause, err)
	}
	return res, err
}

// runLocked runs or resumes the rewind, holding the state file's lock.
func runLocked(ctx context.Context, api API, o Options, table, sel string, res *Result) (*Result, error) {
	st, err := loadState(ctx, o.Files, o.State)
	if err != nil {
		return res, err
	}
	if o.incremental() {
		return runIncremental(ctx, api, o, st, table, sel, res)
	}
	// The copy is prepared once, before anything else: the main table
	// described, the keys file downloaded and checked, the expressions
	// probed. Every step reuses it.
	var job *copier.Job
	var restorePlan *restore.Plan
	prepareJob := func() error {
		co := o.Copy
		co.To = table
		j, err := copier.PrepareJob(ctx, api, co)
		if err != nil {
			return err
		}
		job = j
		o.Restore.Described = j.Target()
		return nil
	}
	defer func() {
		if job != nil {
			job.Close()
		}
	}()
	if st != nil {
		if err := checkSame(o, st, table, sel); err != nil {
			return res, err
		}
		if st.Step == StepDone {
			res.State, res.AlreadyDone = *st, true
			o.Logger.Info("the rewind is already done; remove the state file or pass another --state to rewind again",
				"table", table, "state", o.State, "recovery_table", st.RecoveryTable, "restore_point", tables.FormatTime(st.RestorePoint))
			return res, nil
		}
		o.Logger.Info("resuming rewind", "table", table, "step", st.Step, "recovery_table", st.RecoveryTable, "state", o.State)
		if err := prepareJob(); err != nil {
			return res, err
		}
	} else {
		// Everything the copy will check, checked before restoring.
		if err := prepareJob(); err != nil {
			return res, err
		}
		plan, err := restore.Prepare(ctx, api, o.Restore)
		if err != nil {
			return res, err
		}
		restorePlan = plan
		st = &State{Version: 1, Table: table, RestorePoint: plan.RestorePoint(), RecoveryTable: plan.RecoveryTable(),
			BackupARN: plan.BackupARN(), Step: StepRestore, Selection: sel, Checkpoint: DefaultCheckpoint(o.State), Started: o.Now().UTC()}
		if bb := o.Restore.Point.BackupBefore; !bb.IsZero() {
			bb = bb.UTC()
			st.BackupBefore = &bb
		}
		if !o.Restore.Point.FromBackup() {
			st.PointFlag = pointFlag(o.Restore.Point)
		}
		if o.Copy.Checkpoint != "" {
			st.Checkpoint = o.Copy.Checkpoint
		}
	}
	if o.Confirm != nil {
		from := ""
		if st.BackupARN != "" {
			from = " from backup " + st.BackupARN
		}
		write := "overwrite the selected items of " + table + " with their versions in it"
		if o.Copy.DeleteExtra {
			write += " and delete the selected items of " + table + " that it lacks (--delete-extra)"
		}
		what := fmt.Sprintf("rewind %s to %s: restore it%s as %s, %s, then delete %s",
			table, tables.FormatTime(st.RestorePoint), from, st.RecoveryTable, write, st.RecoveryTable)
		if notes := job.Notes(); notes != "" {
			what += "; " + notes
		}
		if err := o.Confirm(what); err != nil {
			return res, err
		}
	}
	// The state is saved before the restore starts, so a kill right after
	// the restore call never leads to a second restore.
	if err := saveState(o, st); err != nil {
		return res, err
	}
	res.State = *st
	keep := fmt.Sprintf("the recovery table %s is kept; resume with: %s", st.RecoveryTable, o.ResumeCommand)

	if st.Step == StepRestore {
		if err := ensureRestored(ctx, api, o, st, restorePlan); err != nil {
			var ue *restore.UsageError
			if errors.As(err, &ue) {
				// A refusal (the existing table is not this run's
				// restore): resuming would be refused again.
				return res, fmt.Errorf("run %s: restore step: %w", table, err)
			}
			return res, fmt.Errorf("run %s: restore step: %w; %s", table, err, keep)
		}
		if err := advance(o, st, StepCopy, res); err != nil {
			return res, err
		}
	}
	if st.Step == StepCopy {
		plan, err := job.Copy(ctx, api, st.RecoveryTable, st.Checkpoint)
		if err != nil {
			return res, fmt.Errorf("run %s: copy step: %w; %s", table, err, keep)
		}
		sum, err := plan.Run(ctx, api)
		res.Copy = sum
		if err != nil {
			return res, fmt.Errorf("run %s: copy step: %w; %s", table, err, keep)
		}
		if err := advance(o, st, StepVerify, res); err != nil {
			return res, err
		}
	}
	if st.Step == StepVerify {
		if !o.NoVerify {
			d, err := verify(ctx, api, o, st, job)
			res.Diff = d
			if err != nil {
				return res, fmt.Errorf("run %s: verify step: %w; %s", table, err, keep)
			}
		}
		if err := advance(o, st, StepCleanup, res); err != nil {
			return res, err
		}
	}
	if st.Step == StepCleanup {
		if o.KeepRecoveryTable {
			o.Logger.Info("keeping the recovery table (--keep-recovery-table)", "recovery_table", st.RecoveryTable)
		} else if err := cleanup(ctx, api, o, st); err != nil {
			return res, fmt.Errorf("run %s: cleanup step: %w; resume with: %s", table, err, o.ResumeCommand)
		}
		if err := advance(o, st, StepDone, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

func advance(o Options, st *State, step string, res *Result) error {
	st.Step = step
	res.State = *st
	// The caller ends the previous step's progress line first, so the
	// step's log line comes after that line's final state.
	if o.OnStep != nil {
		o.OnStep(step)
	}
	o.Logger.Info("rewind step", "table", st.Table, "step", step)
	return saveState(o, st)
}

// ensureRestored starts the restore unless the recovery table already
// exists (a previous attempt started it), re-applies the tags, and waits.
// plan is the restore this process prepared (nil when it resumes): it
// checked already that the recovery table did not exist.
func ensureRestored(ctx context.Context, api API, o Options, st *State, plan *restore.Plan) error {
	if plan != nil {
		_, err := plan.Start(ctx, api)
		return err
	}
	// The point as recorded: a time, or the backup the run resolved (so a
	// resumed --backup-before run restores the backup it picked first).
	ro := o.Restore
	ro.Point = restore.Point{At: st.RestorePoint}
	if st.BackupARN != "" {
		ro.Point = restore.Point{Backup: st.BackupARN}
	}
	_, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.RecoveryTable)})
	switch {
	case err == nil:
		o.Logger.Info("the recovery table exists already: not restoring again", "recovery_table", st.RecoveryTable)
		return restore.Adopt(ctx, api, ro, st.RecoveryTable, st.RestorePoint)
	case awserr.Code(err) != "ResourceNotFoundException":
		return err
	}
	ro.RecoveryTable = st.RecoveryTable
	_, err = restore.Restore(ctx, api, ro)
	return err
}

// verify compares the selection in both tables.
func verify(ctx context.Context, api API, o Options, st *State, job *copier.Job) (*copier.DiffResult, error) {
	plan, err := job.Diff(ctx, api, st.RecoveryTable, o.VerifyStats)
	if err != nil {
		return nil, err
	}
	d, err := plan.Diff(ctx, api, 10)
	if err != nil {
		return d, err
	}
	o.Logger.Info("verification", "table", st.Table, "identical", d.Identical, "different", d.Different,
		"missing_in_main", d.MissingInMain, "extra_in_main", d.ExtraInMain)
	return d, Verdict(o.Copy, d)
}

// Verdict applies the verification rules: every recovery item of the slice
// is in the main table, equal unless --only-missing or --if-main (which
// keep some main versions on purpose); with --delete-extra the main slice
// has no extras. Extras without --delete-extra are reported, not failed.
func Verdict(c copier.Options, d *copier.DiffResult) error {
	switch {
	case d.MissingInMain > 0:
		return fmt.Errorf("%w: %d items of the recovery slice are missing in the main table (e.g. %v)", ErrVerifyFailed, d.MissingInMain, d.MissingKeys)
	case d.Different > 0 && !c.OnlyMissing && c.IfMain == "":
		return fmt.Errorf("%w: %d items differ from the recovery table (e.g. %v)", ErrVerifyFailed, d.Different, d.DifferentKeys)
	case d.ExtraInMain > 0 && c.DeleteExtra && c.IfMain == "":
		return fmt.Errorf("%w: %d items of the main slice are not in the recovery table (e.g. %v)", ErrVerifyFailed, d.ExtraInMain, d.ExtraKeys)
	}
	return nil
}

// cleanup deletes the recovery table; a table already gone is fine.
func cleanup(ctx context.Context, api API, o Options, st *State) error {
	plan, err := restore.PlanCleanup(ctx, api, restore.CleanupOptions{Tables: []string{st.RecoveryTable}, Wait: true, Now: o.Now, Logger: o.Logger})
	if err != nil {
		var ue *restore.UsageError
		if errors.As(err, &ue) {
			if _, derr := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.RecoveryTable)}); awserr.Code(derr) == "ResourceNotFoundException" {
				return nil // deleted by the previous attempt
			}
		}
		return err
	}
	_, err = plan.Execute(ctx, api)
	return err
}

// checkSame refuses a state file of another rewind.
func checkSame(o Options, st *State, table, sel string) error {
	if st.Table != table {
		return &UsageError{Msg: fmt.Sprintf("state file %s is for table %s, not %s: pass another --state", o.State, st.Table, table)}
	}
	if err := checkSameWindow(o, st, table); err != nil {
		return err
	}
	if err := checkSameSource(o, st, table); err != nil {
		return err
	}
	if given := pointFlag(o.Restore.Point); st.PointFlag != "" && !o.Restore.Point.FromBackup() && given != st.PointFlag {
		state := "an unfinished"
		if st.Step == StepDone {
			state = "a finished"
		}
		return &UsageError{Msg: fmt.Sprintf("state file %s records %s rewind of %s started with %s (restore point %s), not %s: rerun with the same flags, or remove the state file (or pass another --state) to start another rewind",
			o.State, state, table, st.PointFlag, tables.FormatTime(st.RestorePoint), given)}
	}
	switch {
	case !o.Restore.Point.At.IsZero() && !o.Restore.Point.At.Equal(st.RestorePoint) && st.Step == StepDone:
		return &UsageError{Msg: fmt.Sprintf("state file %s records a finished rewind of %s to %s: to rewind to %s, remove the state file or pass another --state",
			o.State, table, tables.FormatTime(st.RestorePoint), tables.FormatTime(o.Restore.Point.At))}
	case !o.Restore.Point.At.IsZero() && !o.Restore.Point.At.Equal(st.RestorePoint):
		return &UsageError{Msg: fmt.Sprintf("state file %s records an unfinished rewind of %s to %s, not %s: rerun with the same --at to resume, or remove the state file (or pass another --state) to start another rewind",
			o.State, table, tables.FormatTime(st.RestorePoint), tables.FormatTime(o.Restore.Point.At))}
	case st.Selection != sel:
		return &UsageError{Msg: fmt.Sprintf("state file %s records a rewind of %s with another selection or write mode: rerun with the same flags to resume, or remove the state file (or pass another --state) to start another rewind",
			o.State, table)}
	}
	return nil
}

// checkSameSource refuses a rerun whose source flags differ, as given,
// from those the state file records: a point-in-time restore against a
// restore from a backup, another --backup, another --backup-before.
func checkSameSource(o Options, st *State, table string) error {
	p := o.Restore.Point
	recorded := "to " + tables.FormatTime(st.RestorePoint)
	switch {
	case st.BackupBefore != nil:
		recorded = fmt.Sprintf("from the newest backup at or before %s (--backup-before), %s", tables.FormatTime(*st.BackupBefore), st.BackupARN)
	case st.BackupARN != "":
		recorded = "from backup " + st.BackupARN + " (--backup)"
	}
	var given string
	switch {
	case p.Backup != "":
		if st.BackupBefore == nil && p.Backup == st.BackupARN {
			return nil
		}
		given = "--backup " + p.Backup
	case !p.BackupBefore.IsZero():
		if st.BackupBefore != nil && st.BackupBefore.Equal(p.BackupBefore) {
			return nil
		}
		given = "--backup-before " + tables.FormatTime(p.BackupBefore)
	case st.BackupARN == "":
		return nil // both point-in-time: checkSame compares --at
	default:
		given = "a point in time (--at, --ago or --latest)"
	}
	if st.Step == StepDone {
		return &UsageError{Msg: fmt.Sprintf("state file %s records a finished rewind of %s %s, not %s: to rewind again, remove the state file or pass another --state",
			o.State, table, recorded, given)}
	}
	return &UsageError{Msg: fmt.Sprintf("state file %s records an unfinished rewind of %s %s, not %s: rerun with the same flags to resume, or remove the state file (or pass another --state) to start another rewind",
		o.State, table, recorded, given)}
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

// selectionID identifies the selection and write mode.
func selectionID(c copier.Options) string {
	return fmt.Sprintf("%s|only-missing=%v|delete-extra=%v|if-main=%s", copier.SelectionID(c.Selection), c.OnlyMissing, c.DeleteExtra, c.IfMain)
}

func loadState(ctx context.Context, files *statefile.Store, path string) (*State, error) {
	data, err := files.Read(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file %s: %w", path, err)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil || st.Version != 1 {
		return nil, &UsageError{Msg: fmt.Sprintf("state file %s is not a ddbrewind run state: remove it or pass another --state", path)}
	}
	return &st, nil
}

func saveState(o Options, st *State) error {
	st.Updated = o.Now().UTC()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return o.Files.Write(context.Background(), o.State, append(data, '\n'))
}
