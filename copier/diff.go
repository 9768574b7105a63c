package copier

import (
	"context"
	"math/rand/v2"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// DiffOptions configures Diff: the tables, the selection and the reading
// options of Options (write options are ignored); Show bounds the keys
// listed per kind.
type DiffOptions struct {
	Options
	Show int
}

// DiffResult counts the items of the selection by kind and lists up to
// Show keys of each kind.
type DiffResult struct {
	From          string   `json:"from_table"`
	To            string   `json:"to_table"`
	Identical     int64    `json:"identical"`
	Different     int64    `json:"different"`
	MissingInMain int64    `json:"missing_in_main"`
	ExtraInMain   int64    `json:"extra_in_main"`
	DifferentKeys []string `json:"different_keys,omitempty"`
	MissingKeys   []string `json:"missing_in_main_keys,omitempty"`
	ExtraKeys     []string `json:"extra_in_main_keys,omitempty"`
	// Window, for a diff of incremental exports, is what the window
	// changed and what a rewind would do; the counts above then compare
	// the window's start state with main, for the changed keys only.
	Window *WindowDiff `json:"window,omitempty"`
}

// Equal reports whether the selection is the same in both tables.
func (r *DiffResult) Equal() bool {
	return r.Different == 0 && r.MissingInMain == 0 && r.ExtraInMain == 0
}

// PrepareDiff checks a diff like Prepare checks a copy (the target may be
// any table; nothing is written).
func PrepareDiff(ctx context.Context, api API, opts DiffOptions) (*Plan, error) {
	o := opts.Options
	o.DryRun, o.Checkpoint, o.Journal = true, "", ""
	// Every placeholder must be used by the selection, as in a copy (a
	// copy's check command carries only its selection's placeholders).
	return prepare(ctx, api, o, forDiff)
}

// Diff compares the selection of the recovery table (From) with the main
// table (To): each recovery item is looked up in the main table, then each
// main item of the selection is looked up in the recovery table. Reading
// is parallel like a copy; memory does not grow with the tables.
func (p *Plan) Diff(ctx context.Context, api API, show int) (*DiffResult, error) {
	defer p.Close()
	return p.past.diff(ctx, api, p, show)
}

// diffPhases is Diff of a table or a full export: the past's items looked
// up in the main table, then the main table's keys in the past.
func (p *Plan) diffPhases(ctx context.Context, api API, show int) (*DiffResult, error) {
	o := p.opts
	x := newExecutor(api, o, p.job.keys.names, o.To)
	snk := &diffSink{x: x, lookup: p.past.lookup(p, x), to: o.To, keyNames: p.job.keys.names, show: show,
		res: &DiffResult{From: o.From, To: o.To}}
	pl := p.pipeline(newTracker(nil))
	src := p.source(x)
	var items sink = snk
	if o.SkipExpired && p.job.ttl != "" {
		// The verification of a copy that left the expired items out.
		items = &mainTableSink{next: snk, ttl: p.job.ttl, skip: true, noStrip: true, now: o.Now, x: x}
	}
	if err := pl.run(ctx, phaseCopy, src, kindItems, items); err != nil {
		return snk.result(), err
	}
	if ex := p.extras(x); ex != nil && ctx.Err() == nil {
		if err := beforeExtras(ctx, src); err != nil {
			return snk.result(), err
		}
		if err := pl.run(ctx, phaseDelete, ex, kindCandidates, snk); err != nil {
			return snk.result(), err
		}
	}
	if ctx.Err() != nil {
		return snk.result(), ErrInterrupted
	}
	return snk.result(), nil
}

// diffSink compares instead of writing: the source's items are looked up
// in the target (identical, different or missing there), the target's
// selection in the source (extra in the target), and a keys file's keys
// the source lacks in the target (extra if there). Each key is counted
// once, in the ledger; the result's counts come from it.
type diffSink struct {
	x        *executor
	lookup   sourceLookup // the source, for the target's keys
	to       string
	keyNames []string
	show     int

	mu  sync.Mutex
	res *DiffResult // the tables, and a window's own counts
}

// note counts key k as c, listing up to show keys of each kind.
func (d *diffSink) note(c comparison, k map[string]types.AttributeValue) {
	d.x.compare(c, k, d.show)
}

func (d *diffSink) handle(ctx context.Context, rng *rand.Rand, b *batch) error {
	switch b.kind {
	case kindItems: // source items: look them up in the target
		found, missing, err := d.x.batchGet(ctx, rng, d.to, keysOf(b.items, d.keyNames), false, true)
		if err != nil {
			return err
		}
		byKey := make(map[string]map[string]types.AttributeValue, len(found))
		for _, it := range found {
			byKey[ddbjson.KeyString(keyOf(it, d.keyNames))] = it
		}
		for _, k := range missing {
			d.note(missingInMain, k)
		}
		for _, it := range b.items {
			k := keyOf(it, d.keyNames)
			m, ok := byKey[ddbjson.KeyString(k)]
			if !ok {
				continue
			}
			if sameCopied(it, m) {
				d.note(identical, k)
			} else {
				d.note(different, k)
			}
		}
	case kindCandidates: // target keys: look them up in the source
		missing, err := d.lookup.missing(ctx, rng, b.items)
		if err != nil {
			return err
		}
		for _, k := range missing {
			d.note(extraInMain, k)
		}
	case kindAbsent: // keys-file keys the source lacks: extra if in the target
		found, _, err := d.x.batchGet(ctx, rng, d.to, b.items, true, true)
		if err != nil {
			return err
		}
		for _, it := range found {
			d.note(extraInMain, keyOf(it, d.keyNames))
		}
	}
	return nil
}

// result returns the result with the ledger's counts and the listed keys
// sorted.
func (d *diffSink) result() *DiffResult {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.x.diffCounts(d.res)
	return d.res
}
