package copier

import (
	"context"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// WindowDiff is what a diff of incremental exports adds to its result:
// what the window changed and what a rewind (copy --from-export with the
// same exports, --delete-extra, without --overwrite-conflicts) would do.
type WindowDiff struct {
	// ChangedKeys is the number of keys the window changed; NoNetChange
	// those changed and changed back (start and end state equal), which
	// are not compared.
	ChangedKeys int64 `json:"changed_keys"`
	NoNetChange int64 `json:"no_net_change"`
	// WouldRewind counts keys a rewind would put back (their start image,
	// different or missing in main); WouldDelete keys created in the
	// window that a rewind with --delete-extra would delete.
	WouldRewind int64 `json:"would_rewind"`
	WouldDelete int64 `json:"would_delete"`
	// Conflicts counts keys written again after the window (the main item
	// is not what the window left, or the check cannot be expressed): a
	// rewind leaves them alone unless --overwrite-conflicts.
	Conflicts    int64    `json:"conflicts"`
	ConflictKeys []string `json:"conflict_keys,omitempty"`
}

// diffWindow compares the window's start state with the main table, key by
// key (only the keys the window changed are read): identical, different,
// missing in main (the start image is absent there) and extra in main (a
// key created in the window is present); and says which of those a
// rewind would write, delete, or leave alone as a conflict. Nothing is
// written.
func (p *Plan) diffWindow(ctx context.Context, api API, wp *windowPast, show int) (*DiffResult, error) {
	o := p.opts
	x := newExecutor(api, o, p.job.keys.names, o.To)
	w := wp.w
	snk := &windowDiffSink{
		diffSink: diffSink{x: x, to: o.To, keyNames: p.job.keys.names, show: show,
			res: &DiffResult{From: o.From, To: o.To, Window: &WindowDiff{ChangedKeys: w.Changed()}}},
		t: &target{x: x, table: o.To, keyNames: p.job.keys.names, dryRun: true},
		w: w,
	}
	for i := range w.Len() {
		_, start, end, err := w.Images(i)
		if err != nil {
			return snk.result(), err
		}
		if sameState(start, end) {
			snk.res.Window.NoNetChange++
		}
	}
	pl := p.pipeline(newTracker(nil))
	var items sink = snk
	if o.SkipExpired && p.job.ttl != "" {
		// The verification of a rewind that left the expired items out.
		items = &mainTableSink{next: snk, ttl: p.job.ttl, skip: true, noStrip: true, now: o.Now, x: x}
	}
	if err := pl.run(ctx, phaseCopy, p.source(x), kindItems, items); err != nil {
		return snk.result(), err
	}
	if ctx.Err() != nil {
		return snk.result(), ErrInterrupted
	}
	return snk.result(), nil
}

// windowDiffSink compares a window's start states (items: start images;
// absent: keys created in the window) with the main table's current items.
type windowDiffSink struct {
	diffSink
	t *target
	w *window.Window
}

func (d *windowDiffSink) handle(ctx context.Context, rng *rand.Rand, b *batch) error {
	if b.kind != kindItems && b.kind != kindAbsent {
		return nil
	}
	created := b.kind == kindAbsent
	keys := b.items
	if !created {
		keys = keysOf(b.items, d.keyNames)
	}
	current, err := d.t.current(ctx, rng, keys)
	if err != nil {
		return err
	}
	res := d.res
	for i, k := range keys {
		cur := current[ddbjson.KeyString(k)]
		var start map[string]types.AttributeValue
		if !created {
			start = b.items[i]
		}
		left, err := d.w.Expected(k)
		if err != nil {
			return err
		}
		// The aws:rep:* attributes of a 2017 global table are set by
		// DynamoDB on every write, a rewind's included, and never written
		// by a copy: the states are compared without them.
		action := rewindActionOf(stripReplication(cur), stripReplication(start), stripReplication(left), false)
		switch {
		case action == rewindDone:
			d.note(identical, k)
			continue
		case created:
			d.note(extraInMain, k)
		case cur == nil:
			d.note(missingInMain, k)
		default:
			d.note(different, k)
		}
		_, _, _, expressible := stillAsLeft(left, d.keyNames)
		d.mu.Lock()
		switch {
		case action == rewindConflict || !expressible:
			d.note(windowConflict, k)
		case created:
			res.Window.WouldDelete++
		default:
			res.Window.WouldRewind++
		}
		d.mu.Unlock()
	}
	return nil
}
