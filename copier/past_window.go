package copier

import (
	"context"
	"crypto/sha256"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// windowPast is an incremental export window (window.go), read into memory
// once (source_incremental.go): the plan rewinds, compares or shows the
// keys it changed.
type windowPast struct {
	w    *window.Window
	from string // the exports' URLs, joined by commas
	// digests identifies the exports' files (their manifests' digests), for
	// checkpoints; "" for a window not read from exports.
	digests string
	// selected, if set, picks the window's keys (a key condition or a keys
	// file, evaluated by ddbrewind on the keys).
	selected func(key map[string]types.AttributeValue) bool
	// overwriteKey, if set, picks the conflicts to rewind anyway
	// (--overwrite-conflicts-keys).
	overwriteKey func(key map[string]types.AttributeValue) bool
}

// windowKind is the registry's entry of incremental exports named by
// --from-export (one, or several in time order).
func windowKind() pastKind {
	return pastKind{
		name:    "incremental window",
		window:  true,
		selects: true,
		claims: func(ctx context.Context, r *resolving) (bool, error) {
			exp, err := r.firstExport(ctx)
			if exp == nil || err != nil {
				return false, err
			}
			return exp.Summary.Incremental() || len(r.opts.FromExport) > 1, nil
		},
		resolve: func(ctx context.Context, r *resolving) (past, error) {
			j := r.job
			if err := j.windowChecks(ctx, r.api, r.purpose.writes()); err != nil {
				return nil, err
			}
			return j.windowPast(ctx, r.api, r.opts.FromExport, r.first, r.purpose)
		},
	}
}

// windowPast reads the incremental exports dirs (in time order; first, if
// not nil, is the first one already opened) into the window of the job's
// selection, and checks its keys against the key schema.
func (j *Job) windowPast(ctx context.Context, api API, dirs []string, first *exportfile.Export, u purpose) (*windowPast, error) {
	sel, err := j.windowSelection(j.opts)
	if err != nil {
		return nil, err
	}
	o := j.opts
	o.FromExport = dirs
	w, from, manifests, err := readWindow(ctx, api, o, j.target, u, sel, first)
	if err != nil {
		return nil, err
	}
	pa, err := j.newWindowPast(w, from, sel)
	if err != nil {
		return nil, err
	}
	pa.digests = manifests
	return pa, nil
}

// newWindowPast checks the window's keys against the key schema and
// returns it as the past of the job's plans, named from, its keys picked
// by sel (nil: all).
func (j *Job) newWindowPast(w *window.Window, from string, sel func(key map[string]types.AttributeValue) bool) (*windowPast, error) {
	for i := range w.Len() {
		key, err := w.Key(i)
		if err != nil {
			return nil, err
		}
		if err := j.keys.check(key); err != nil {
			return nil, usage.Errorf("incremental export: key %d (%s): %v", i+1, w.KeyString(i), err)
		}
	}
	pa := &windowPast{w: w, from: from, selected: sel}
	if set := j.overwriteKeys; set != nil && j.opts.Mode().conflictKeysFile() != "" {
		pa.overwriteKey = func(key map[string]types.AttributeValue) bool {
			_, ok := set[keyHash(key)]
			return ok
		}
	}
	return pa, nil
}

func (wp *windowPast) name() string      { return wp.from }
func (wp *windowPast) manifests() string { return wp.digests }

// fingerprint: a window's position counts its selected keys (v2): a
// checkpoint that counted every changed key is another copy's.
func (wp *windowPast) fingerprint(p *Plan) string {
	return "window v2 " + (&tablePast{}).fingerprint(p)
}

// begin: the window is one unit; the estimate is the keys it changed.
func (wp *windowPast) begin(p *Plan) {
	p.opts.Segments = 1
	p.Estimate, p.EstimateFrom = wp.w.Changed(), "keys the window changed"
}

// settle: conflicts the checkpoint recorded that are to be overwritten now
// have their pages behind its position: the window is rewound again from
// its start (keys already rewound are skipped as done).
func (wp *windowPast) settle(_ context.Context, _ API, p *Plan) error {
	if p.resumed && wp.overwritesAny(p, p.priorConflicts) {
		p.opts.Logger.Info("the checkpoint records conflicts that this rewind overwrites: rewinding the window again from its start",
			"checkpoint", p.opts.Checkpoint, "conflicts", len(p.priorConflicts))
		p.state.Units, p.state.Conflicts = map[string]checkpoint.Unit{}, nil
		p.priorConflicts, p.resumed = nil, false
	}
	return nil
}

// overwritesAny reports whether the plan overwrites any of the conflict
// keys (ddbjson.KeyString): all with --overwrite-conflicts, those of
// --overwrite-conflicts-keys.
func (wp *windowPast) overwritesAny(p *Plan, keys []string) bool {
	switch {
	case len(keys) == 0:
		return false
	case p.mode.overwritesAllConflicts():
		return true
	case wp.overwriteKeyOf(p) == nil:
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

func (wp *windowPast) source(p *Plan, x *executor) source {
	return &windowSource{x: x, w: wp.w, selected: wp.selected, past: p.purpose == forShow}
}

func (wp *windowPast) extras(*Plan, *executor) source { return nil }

func (wp *windowPast) lookup(*Plan, *executor) sourceLookup { return nil }

func (wp *windowPast) sink(p *Plan, t *target, _ *executor) sink {
	return &rewindSink{t: t, w: wp.w, deleteExtra: p.mode.DeletesExtra(), overwrite: p.mode.overwritesAllConflicts(), overwriteKey: wp.overwriteKeyOf(p)}
}

// overwriteKeyOf is what picks the conflicts plan p overwrites anyway: the
// window's --overwrite-conflicts-keys, unless the plan's mode has none (a
// verification's dry run, which overwrites no conflict, reuses the
// window the copy read).
func (wp *windowPast) overwriteKeyOf(p *Plan) func(key map[string]types.AttributeValue) bool {
	if p.mode.conflictKeysFile() == "" {
		return nil
	}
	return wp.overwriteKey
}

func (wp *windowPast) diff(ctx context.Context, api API, p *Plan, show int) (*DiffResult, error) {
	return p.diffWindow(ctx, api, wp, show)
}
