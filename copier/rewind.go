package copier

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
// the window's keys against its key schema, and the checkpoint. Only
// --only-missing is refused: the rewind's own conditions decide what is
// written (see rewindSink).
func PrepareRewind(ctx context.Context, api API, opts RewindOptions) (*Plan, error) {
	return prepareRewind(ctx, api, opts, modeCopy)
}

// prepareRewind is PrepareRewind for a copy, or for a diff or a show (m),
// which write nothing: the main table's tags are then not read (a diff may
// compare with any table, and their policies read no tags). A show's plan
// yields the window's start state of every selected key (pastOnly).
func prepareRewind(ctx context.Context, api API, opts RewindOptions, m mode) (*Plan, error) {
	o := opts.Options
	switch {
	case opts.Window == nil:
		return nil, fmt.Errorf("rewind: no window")
	case o.OnlyMissing || o.IfMain != "":
		return nil, usagef("an incremental rewind writes each item only while it is what the window left (see --overwrite-conflicts): --only-missing and --if-main do not apply")
	case o.WorkerCount > 1:
		// The window is one unit: every worker would rewind all of it, and
		// one worker's rewind would look like a conflict to another.
		return nil, usagef("an incremental rewind is not split between workers: --worker-count %d does not apply (run it as one job; its keys are only the ones the window changed)", o.WorkerCount)
	case o.Selection.Filter != "":
		return nil, usagef("--filter-expression cannot select from an export: ddbrewind does not evaluate filter expressions itself (DynamoDB does, on a table); select the window's keys with --key-condition-expression or --keys-file")
	}
	if o.From == "" {
		o.From = "incremental export"
	}
	verb, toFlag := "rewind", "--to"
	if m == modeShow {
		verb, toFlag = "show", "--table"
	}
	j, err := prepareJobOf(ctx, api, o, verb, toFlag, m == modeCopy, true)
	if err != nil {
		return nil, err
	}
	for i, ks := range opts.Window.order {
		if err := j.keys.check(opts.Window.keys[ks]); err != nil {
			j.Close()
			return nil, usagef("incremental export: key %d (%s): %v", i+1, ks, err)
		}
	}
	p := &Plan{job: j, opts: j.opts, verb: verb, window: opts.Window, overwriteConflicts: o.OverwriteConflicts, ownsJob: true,
		pastOnly: m == modeShow}
	// A selection picks among the keys the window changed, evaluated on
	// the keys themselves: a key condition as DynamoDB would, a keys file
	// by key (numbers as numbers).
	if o.Selection.KeyCondition != "" {
		kc, err := compileKeyCondition(o.Selection, j.keys)
		if err != nil {
			j.Close()
			return nil, err
		}
		p.windowSelect = kc.match
	}
	if kf := j.keysFile; kf != nil {
		p.windowSelect = func(key map[string]types.AttributeValue) bool {
			_, ok := kf.set[keyHash(key)]
			return ok
		}
	}
	p.opts.From = o.From
	p.opts.Segments = 1
	p.Estimate, p.EstimateFrom = int64(opts.Window.Len()), "keys the window changed"
	if err := p.loadCheckpoint(ctx); err != nil {
		j.Close()
		return nil, err
	}
	if p.resumed {
		p.Estimate = 0
	}
	p.opts.Stats.Estimated.Store(p.Estimate)
	return p, nil
}
