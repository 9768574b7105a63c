package copier

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/keycond"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// windowVerb names a window's plan for purpose u in messages, and the flag
// that names its main table.
func windowVerb(u purpose) (verb, toFlag string) {
	if u == forShow {
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
		return usage.Errorf("an incremental rewind is not split between workers: --worker-count %d does not apply (run it as one job; its keys are only the ones the window changed)", o.WorkerCount)
	case o.Selection.Filter != "":
		return usage.Errorf("--filter-expression cannot select from an export: ddbrewind does not evaluate filter expressions itself (DynamoDB does, on a table); select the window's keys with --key-condition-expression or --keys-file")
	}
	return nil
}

// PrepareWindowJob is PrepareJob for rewinds from incremental exports
// (run --since), before the exports exist: the options, the main table,
// the keys file (kept as a key set: a selection picks among the window's
// keys, evaluated by ddbrewind, so nothing is probed on the table). Its
// Rewind plans read the exports once they exist. Close releases it.
func PrepareWindowJob(ctx context.Context, api API, opts Options) (_ *Job, err error) {
	if err := checkWindowOptions(opts); err != nil {
		return nil, err
	}
	if err := opts.check("run", false, "--table"); err != nil {
		return nil, err
	}
	j, err := startJob(ctx, api, opts, "run", "--table")
	if err != nil {
		return nil, err
	}
	j.window, j.selects = true, true
	if err := j.windowChecks(ctx, api, true); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// Rewind prepares the rewind of the window that the incremental exports
// dirs (in time order) cover into the job's main table, as copy
// --from-export would. Their manifests and data files are read and
// verified once for the job: a second plan of the same exports (run's
// verification after its copy) reuses the window. checkpoint is the
// copy's (empty: none). With dryRun the plan writes nothing and never
// overwrites conflicts (run's verification: every changed key must be in
// its start state), and counts into stats (nil: the job's counters).
func (j *Job) Rewind(ctx context.Context, api API, dirs []string, checkpoint string, dryRun bool, stats *Stats) (*Plan, error) {
	if !j.window {
		return nil, fmt.Errorf("rewind: the job was not prepared for a window (PrepareWindowJob)")
	}
	if j.opts.Files.S3 == nil {
		return nil, fmt.Errorf("rewind: S3 is not configured for reading the exports")
	}
	id := strings.Join(dirs, "\n")
	pa := j.windows[id]
	if pa == nil {
		var err error
		if pa, err = j.windowPast(ctx, api, dirs, nil, forCopy); err != nil {
			return nil, err
		}
		if j.windows == nil {
			j.windows = map[string]*windowPast{}
		}
		j.windows[id] = pa
	}
	if stats == nil {
		stats = j.opts.Stats
	}
	return j.plan(ctx, api, pa, forCopy, stats, func(o *Options) {
		o.Checkpoint = checkpoint
		if dryRun {
			o.DryRun, o.Journal = true, ""
			o.noConflictWrites()
		}
	})
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
		kc, err := keycond.Compile(o.Selection.KeyCondition, o.Selection.Names, o.Selection.Values, j.keys.names, j.keys.types)
		if err != nil {
			return nil, err
		}
		return kc.Match, nil
	}
	return nil, nil
}
