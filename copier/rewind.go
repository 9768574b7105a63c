package copier

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
)

// RewindOptions configures an incremental rewind: Options.To is the main
// table (From names the source in messages and fingerprints, e.g. the
// export directories; Options.OverwriteConflicts rewinds items written
// again after the window too); Window is the changes to undo.
type RewindOptions struct {
	Options
	Window *Window
}

// An incremental rewind of exports goes through Prepare with
// Options.FromExport (see prepareIncremental); RewindOptions serves a
// window built otherwise.

// PrepareRewind checks an incremental rewind of the main table before
// anything is written: the options, the main table (not a recovery table),
// the window's keys against its key schema, and the checkpoint. The
// options a window does not take are refused (checkWindowOptions:
// --only-missing and --if-main among them): the rewind's own conditions
// decide what is written (see rewindSink).
func PrepareRewind(ctx context.Context, api API, opts RewindOptions) (*Plan, error) {
	return prepareRewind(ctx, api, opts, modeCopy)
}

// prepareRewind is PrepareRewind for a copy, or for a diff or a show (m),
// which write nothing: the main table's tags are then not read (a diff may
// compare with any table, and their policies read no tags). A show's plan
// yields the window's start state of every selected key (pastOnly).
func prepareRewind(ctx context.Context, api API, opts RewindOptions, m mode) (*Plan, error) {
	o := opts.Options
	if opts.Window == nil {
		return nil, fmt.Errorf("rewind: no window")
	}
	if err := checkWindowOptions(o); err != nil {
		return nil, err
	}
	if o.From == "" {
		o.From = "incremental export"
	}
	verb, toFlag := windowVerb(m)
	j, err := prepareJobOf(ctx, api, o, verb, toFlag, m == modeCopy, true)
	if err != nil {
		return nil, err
	}
	p, err := j.windowPlan(ctx, j.opts, opts.Window, m)
	if err != nil {
		j.Close()
		return nil, err
	}
	p.ownsJob = true
	return p, nil
}

// windowVerb names a window's plan of mode m in messages, and the flag
// that names its main table.
func windowVerb(m mode) (verb, toFlag string) {
	if m == modeShow {
		return "show", "--table"
	}
	return "rewind", "--to"
}

// checkWindowOptions refuses what a rewind of a window (and its diff and
// show) does not take.
func checkWindowOptions(o Options) error {
	if err := o.Mode().checkWindow(); err != nil {
		return err
	}
	switch {
	case o.WorkerCount > 1:
		// The window is one unit: every worker would rewind all of it, and
		// one worker's rewind would look like a conflict to another.
		return usagef("an incremental rewind is not split between workers: --worker-count %d does not apply (run it as one job; its keys are only the ones the window changed)", o.WorkerCount)
	case o.Selection.Filter != "":
		return usagef("--filter-expression cannot select from an export: ddbrewind does not evaluate filter expressions itself (DynamoDB does, on a table); select the window's keys with --key-condition-expression or --keys-file")
	}
	return nil
}

// PrepareWindowJob is PrepareJob for rewinds from incremental exports
// (run --since), before the exports exist: the options, the main table,
// the keys file (kept as a key set: a selection picks among the window's
// keys, evaluated by ddbrewind, so nothing is probed on the table). Its
// Rewind plans read the exports once they exist. Close releases it.
func PrepareWindowJob(ctx context.Context, api API, opts Options) (*Job, error) {
	if err := checkWindowOptions(opts); err != nil {
		return nil, err
	}
	return prepareJobOf(ctx, api, opts, "run", "--table", true, true)
}

// Rewind prepares the rewind of the window that the incremental exports
// dirs (in time order) cover into the job's main table, as copy
// --from-export would: their manifests and data files are read and
// verified now. checkpoint is the copy's (empty: none). With dryRun the
// plan writes nothing and never overwrites conflicts (run's verification:
// every changed key must be in its start state), and counts into stats
// (nil: the job's counters).
func (j *Job) Rewind(ctx context.Context, api API, dirs []string, checkpoint string, dryRun bool, stats *Stats) (*Plan, error) {
	if !j.window {
		return nil, fmt.Errorf("rewind: the job was not prepared for a window (PrepareWindowJob)")
	}
	o := j.opts
	if o.Files.S3 == nil {
		return nil, fmt.Errorf("rewind: S3 is not configured for reading the exports")
	}
	o.FromExport = dirs
	sel, err := j.windowSelection(o)
	if err != nil {
		return nil, err
	}
	w, from, err := readWindow(ctx, api, o, j.target, modeCopy, sel)
	if err != nil {
		return nil, err
	}
	o.From, o.FromExport, o.Checkpoint = from, nil, checkpoint
	if dryRun {
		o.DryRun, o.Journal = true, ""
		o.noConflictWrites()
	}
	if stats != nil {
		o.Stats = stats
	}
	return j.windowPlan(ctx, o, w, modeCopy)
}

// windowSelection returns what picks among the keys a window changed (nil:
// no selection), evaluated on the keys themselves: a key condition as
// DynamoDB would, a keys file by key (numbers as numbers).
func (j *Job) windowSelection(o Options) (func(key map[string]types.AttributeValue) bool, error) {
	if kf := j.keysFile; kf != nil {
		return func(key map[string]types.AttributeValue) bool {
			_, ok := kf.set[keyHash(key)]
			return ok
		}, nil
	}
	if o.Selection.KeyCondition != "" {
		kc, err := compileKeyCondition(o.Selection, j.keys)
		if err != nil {
			return nil, err
		}
		return kc.match, nil
	}
	return nil, nil
}

// windowPlan builds the plan of the rewind of w into the job's main table
// with options o (the job's, with From and the run's own settings), or of
// its diff, or of a show (m): the window's keys are checked against the
// key schema, the selection picks among them, and a copy's checkpoint is
// loaded.
func (j *Job) windowPlan(ctx context.Context, o Options, w *Window, m mode) (*Plan, error) {
	for i, ks := range w.order {
		key, err := w.key(ks)
		if err != nil {
			return nil, err
		}
		if err := j.keys.check(key); err != nil {
			return nil, usagef("incremental export: key %d (%s): %v", i+1, ks, err)
		}
	}
	verb, _ := windowVerb(m)
	p := &Plan{job: j, opts: o, mode: o.Mode(), verb: verb, window: w, pastOnly: m == modeShow}
	sel, err := j.windowSelection(o)
	if err != nil {
		return nil, err
	}
	p.windowSelect = sel
	if set := j.overwriteKeys; set != nil && p.mode.conflictKeysFile() != "" {
		p.overwriteKey = func(key map[string]types.AttributeValue) bool {
			_, ok := set[keyHash(key)]
			return ok
		}
	}
	p.opts.Segments = 1
	p.Estimate, p.EstimateFrom = w.changed(), "keys the window changed"
	if err := p.loadCheckpoint(ctx); err != nil {
		return nil, err
	}
	if p.resumed && p.overwritesAny(p.priorConflicts) {
		// Conflicts the checkpoint recorded are to be overwritten now, but
		// their pages are behind its position: rewind the window again
		// (keys already rewound are skipped as done).
		o.Logger.Info("the checkpoint records conflicts that this rewind overwrites: rewinding the window again from its start",
			"checkpoint", o.Checkpoint, "conflicts", len(p.priorConflicts))
		p.state.Units, p.state.Conflicts = map[string]checkpoint.Unit{}, nil
		p.priorConflicts, p.resumed = nil, false
	}
	if p.resumed {
		p.Estimate = 0
	}
	p.opts.Stats.Estimated.Store(p.Estimate)
	return p, nil
}

// overwritesAny reports whether the plan overwrites any of the conflict
// keys (ddbjson.KeyString): all with --overwrite-conflicts, those of
// --overwrite-conflicts-keys.
func (p *Plan) overwritesAny(keys []string) bool {
	if len(keys) == 0 {
		return false
	}
	if p.mode.overwritesAllConflicts() {
		return true
	}
	if p.overwriteKey == nil {
		return false
	}
	set := p.job.overwriteKeys
	for _, ks := range keys {
		sum := sha256.Sum256([]byte(ks))
		if _, ok := set[[16]byte(sum[:16])]; ok {
			return true
		}
	}
	return false
}
