// Package rewind runs a whole rewind as one resumable job: restore the main
// table to a point in time as a recovery table, copy the selection back,
// verify it, and delete the recovery table. A state file records the
// resolved restore point, the recovery table and the step reached, so the
// same command run again after any failure, interrupt or kill resumes where
// it stopped: it never restores twice and never deletes the recovery table
// before the copy and its verification succeeded.
//
// A rewind from incremental exports (Options.Export) runs the same way:
// export the window, rewind the keys it changed, verify, delete the
// exports. Both are sources (restoreSource, windowSource) of one loop
// (runLocked, runSteps); the state file is the fields every rewind has
// plus the part its source owns.
//
// The steps themselves are packages restore, export and copier; this
// package only sequences them.
package rewind

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/progress"
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

// State is the content of the state file: the fields every rewind has,
// and the part its source owns (RestoreState for a restore, WindowState
// for a rewind from incremental exports; the other one empty). The parts
// are embedded, so the JSON file is flat and the same as before they
// existed (testdata/state holds files written then).
type State struct {
	Version      int       `json:"version"`
	Table        string    `json:"table"`
	RestorePoint time.Time `json:"restore_point"`
	RestoreState
	Step string `json:"step"`
	// Selection identifies the copy's selection and write mode.
	Selection  string    `json:"selection"`
	Checkpoint string    `json:"checkpoint"`
	Started    time.Time `json:"started"`
	Updated    time.Time `json:"updated"`
	WindowState
}

// RestoreState is the part of the state a restore owns.
type RestoreState struct {
	RecoveryTable string `json:"recovery_table"`
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
}

// WindowState is the part of the state a rewind from incremental exports
// (--since) owns; all empty for a restore. Since and Until are the flags
// as given (Until nil when not given); ExportUntil is the window's end as
// resolved (so that a resume exports, or adopts, exactly the same window);
// RestorePoint is then Since. Bucket and Prefix are where the exports go;
// ExportDirs are their directories in time order, once the export step is
// done.
type WindowState struct {
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
	// WaitForLease, when positive, is how long to wait for the lease of an
	// s3:// state file held by another run to expire before refusing (a
	// retried AWS Batch attempt whose host was lost: its previous attempt's
	// lease lives until it expires); see statefile.LockOptions.WaitHeld.
	WaitForLease time.Duration
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
	// switches to it): when the run reaches it, before its "rewind step"
	// log line, and again when it runs; so also for the step a run starts
	// or resumes at. It may be called twice in a row with one step.
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

// source is where a rewind finds the past: a restore (restoreSource) or
// incremental exports (windowSource). The loop (runLocked, runSteps) runs
// its steps in order and records the step reached in the state file; the
// rerun identity, the source flags as given against those the state file
// records, is checkSame's.
type source interface {
	// first is the step that makes the past: StepRestore or StepExport.
	first() string
	// prepare prepares the copy, once; for a new rewind (st nil) it also
	// prepares the first step, checking everything it can before it
	// starts, and returns the new state.
	prepare(ctx context.Context, st *State, sel string) (*State, error)
	// confirm is what the confirmation asks about.
	confirm(st *State) string
	// logAttrs names the rewind in log lines.
	logAttrs(st *State) []any
	// start makes the past (restores, or exports, and waits), adopting
	// what a previous attempt started.
	start(ctx context.Context, st *State) error
	// copy writes the past back into the main table, resuming from the
	// checkpoint; verify checks it (unless --no-verify); cleanup deletes
	// what start made (unless asked to keep it).
	copy(ctx context.Context, st *State, res *Result) error
	verify(ctx context.Context, st *State, res *Result) error
	cleanup(ctx context.Context, st *State) error
	// kept says what a failed step keeps and how to resume.
	kept(st *State) string
	// close releases what prepare holds.
	close()
}

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
	o.Copy.To = table // whatever the source, the copy writes into the main table
	return runWith(ctx, o, table, func() (source, error) {
		if o.incremental() {
			return newWindowSource(api, o, table)
		}
		return &restoreSource{api: api, o: o, table: table}, nil
	})
}

// runWith runs or resumes the rewind from the source newSource makes,
// holding the state file's lock.
func runWith(ctx context.Context, o Options, table string, newSource func() (source, error)) (*Result, error) {
	// The state file is locked for the run's life, before it is read: a
	// second run given it (a Batch retry overlapping its first attempt) is
	// refused here, before it exports, restores or writes anything.
	ctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	lock, err := o.Files.Lock(ctx, o.State, statefile.LockOptions{Now: o.Now, OnLost: lost, WaitHeld: o.WaitForLease,
		OnWait: func(h statefile.Holder) {
			o.Logger.Info("the state file's lease is held by another run: waiting for it to expire (a previous attempt whose host was lost), or for it to be renewed", "state", o.State, "holder", h.String(), "expires", tables.FormatTime(h.Expires))
		}})
	if err != nil {
		return &Result{}, err
	}
	defer func() {
		if rerr := lock.Release(ctx); rerr != nil {
			o.Logger.Warn("could not release the lock of the state file", "error", rerr)
		}
	}()
	res, err := runLocked(ctx, o, table, newSource)
	if cause := context.Cause(ctx); err != nil && errors.Is(cause, statefile.ErrLockLost) {
		// Not an interrupt: another run holds the state file now.
		return res, fmt.Errorf("run %s: %w (%v)", table, cause, err)
	}
	return res, err
}

// runLocked runs or resumes the rewind, holding the state file's lock:
// the state file read and checked against the flags, the source prepared
// (for a new rewind: the state made), the confirmation asked, the state
// saved before the first step starts (so that a kill right after the
// restore or export call never leads to a second one), then the steps.
func runLocked(ctx context.Context, o Options, table string, newSource func() (source, error)) (*Result, error) {
	res := &Result{}
	sel := selectionID(o.Copy)
	st, err := loadState(ctx, o.Files, o.State)
	if err != nil {
		return res, err
	}
	src, err := newSource()
	if err != nil {
		return res, err
	}
	if st != nil {
		if err := checkSame(o, st, table, sel); err != nil {
			return res, err
		}
		if st.Step == StepDone {
			res.State, res.AlreadyDone = *st, true
			o.Logger.Info("the rewind is already done; remove the state file or pass another --state to rewind again",
				append([]any{"table", table, "state", o.State}, src.logAttrs(st)...)...)
			return res, nil
		}
		o.Logger.Info("resuming rewind", append([]any{"table", table, "step", st.Step, "state", o.State}, src.logAttrs(st)...)...)
	}
	defer src.close()
	if st, err = src.prepare(ctx, st, sel); err != nil {
		return res, err
	}
	if o.Confirm != nil {
		if err := o.Confirm(src.confirm(st)); err != nil {
			return res, err
		}
	}
	if err := saveState(o, st); err != nil {
		return res, err
	}
	res.State = *st
	return res, runSteps(ctx, o, src, st, res)
}

// runSteps runs the steps from the one the state records, saving the
// state as each one ends. A step that fails leaves the state at that step
// (unless it says otherwise, see stepFailure): the same command resumes
// there.
func runSteps(ctx context.Context, o Options, src source, st *State, res *Result) error {
	steps := []struct {
		name string
		run  func(context.Context, *State) error
	}{
		{src.first(), src.start},
		{StepCopy, func(ctx context.Context, st *State) error { return src.copy(ctx, st, res) }},
		{StepVerify, func(ctx context.Context, st *State) error { return src.verify(ctx, st, res) }},
		{StepCleanup, src.cleanup},
		{StepDone, nil},
	}
	for i, step := range steps[:len(steps)-1] {
		if st.Step != step.name {
			continue
		}
		if o.OnStep != nil {
			// Also for the step a run starts (or resumes) at, which no
			// advance announced.
			o.OnStep(step.name)
		}
		if err := step.run(ctx, st); err != nil {
			return stepError(o, src, st, res, step.name, err)
		}
		if err := advance(o, st, steps[i+1].name, res); err != nil {
			return err
		}
	}
	return nil
}

// stepFailure is a step's error that says what follows it in the
// message, and whether the state, which the step changed, is saved.
type stepFailure struct {
	err error
	// tail follows the error in the message, e.g. "; resume with: …".
	tail string
	save bool
}

func (f *stepFailure) Error() string { return f.err.Error() + f.tail }
func (f *stepFailure) Unwrap() error { return f.err }

// stepError is the error of a failed step: "run TABLE: STEP step: ERROR",
// followed by what is kept and how to resume.
func stepError(o Options, src source, st *State, res *Result, step string, err error) error {
	var f *stepFailure
	if !errors.As(err, &f) {
		tail := "; " + src.kept(st)
		if step == StepCleanup {
			tail = "; resume with: " + o.ResumeCommand
		}
		f = &stepFailure{err: err, tail: tail}
	}
	if f.save {
		res.State = *st
		if serr := saveState(o, st); serr != nil {
			return serr
		}
	}
	return fmt.Errorf("run %s: %s step: %w%s", st.Table, step, f.err, f.tail)
}

// newState is a new rewind's state at its first step, without the
// source's part.
func newState(o Options, table, sel, step string, started time.Time) *State {
	st := &State{Version: 1, Table: table, Step: step, Selection: sel, Checkpoint: DefaultCheckpoint(o.State), Started: started}
	if o.Copy.Checkpoint != "" {
		st.Checkpoint = o.Copy.Checkpoint
	}
	return st
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

// Verdict applies the verification rules: every recovery item of the slice
// is in the main table, equal unless --only-missing or --if-main (which
// keep some main versions on purpose); with --delete-extra the main slice
// has no extras. Extras without --delete-extra are reported, not failed.
func Verdict(c copier.Options, d *copier.DiffResult) error {
	m := c.Mode()
	switch {
	case d.MissingInMain > 0:
		return fmt.Errorf("%w: %s of the recovery slice %s missing in the main table (e.g. %v)", ErrVerifyFailed,
			progress.CountNoun(d.MissingInMain, "item"), progress.Plural(d.MissingInMain, "is", "are"), d.MissingKeys)
	case d.Different > 0 && !m.KeepsDifferences():
		return fmt.Errorf("%w: %s %s from the recovery table (e.g. %v)", ErrVerifyFailed,
			progress.CountNoun(d.Different, "item"), progress.Plural(d.Different, "differs", "differ"), d.DifferentKeys)
	case d.ExtraInMain > 0 && m.RemovesExtras():
		return fmt.Errorf("%w: %s of the main slice %s not in the recovery table (e.g. %v)", ErrVerifyFailed,
			progress.CountNoun(d.ExtraInMain, "item"), progress.Plural(d.ExtraInMain, "is", "are"), d.ExtraKeys)
	}
	return nil
}

// selectionID identifies the selection and write mode.
func selectionID(c copier.Options) string {
	return copier.SelectionID(c.Selection) + "|" + c.Mode().ID()
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
		return nil, &usage.Error{Msg: fmt.Sprintf("state file %s is not a ddbrewind run state: remove it or pass another --state", path)}
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
