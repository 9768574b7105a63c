package copier

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
)

// A pipeline reads pages from a source with bounded parallelism, splits
// them into batches of at most 25 items, and hands the batches to a sink
// through a bounded channel drained by the writers:
//
//	source units ──pages──▶ batches (≤25) ──chan──▶ writers ──▶ sink
//	      ▲                                              │
//	      └───────── tracker (checkpoint positions) ◀────┘
//
// Every copy, diff and undo is one or two phases of this: see run.

// Phases of a job. The copy phase reads the source; the delete phase
// (--delete-extra, diff) reads the target's selection to find extras.
const (
	phaseCopy   = "copy"
	phaseDelete = "delete"
)

// unit is one stream of pages: a Scan segment, the Query, the keys file or
// the journal, in one phase.
type unit struct {
	phase string
	idx   int
}

func (u unit) key() string { return fmt.Sprintf("%s/%d", u.phase, u.idx) }

// page is one page read from a unit. It is complete when all its batches
// are; only complete pages move the checkpoint.
type page struct {
	u       unit
	seq     int
	pos     checkpoint.Unit // position after this page
	pending atomic.Int32
	failed  atomic.Bool

	// mu guards the keys the page's batches listed: conflicts and
	// clobbered keys, which the checkpoint keeps once it moves past the
	// page (a resumed copy does not read the page again).
	mu        sync.Mutex
	conflicts []string
	clobbered []string
}

// noteConflict records a conflict key of the page (nil page: none).
func (pg *page) noteConflict(ks string) {
	pg.locked(func() { pg.conflicts = append(pg.conflicts, ks) })
}

// noteClobbered records a clobbered key of the page (nil page: none).
func (pg *page) noteClobbered(ks string) {
	pg.locked(func() { pg.clobbered = append(pg.clobbered, ks) })
}

// locked runs f holding the page's lock; on a nil page it does nothing.
func (pg *page) locked(f func()) {
	if pg == nil {
		return
	}
	pg.mu.Lock()
	defer pg.mu.Unlock()
	f()
}

// batchKind says what the sink does with a batch.
type batchKind int

const (
	// kindItems holds items the source has (to put, compare, restore).
	kindItems batchKind = iota
	// kindAbsent holds keys the source lacks (a keys file's keys not in
	// the recovery table, an undo's items that did not exist before).
	kindAbsent
	// kindCandidates holds keys of the target's selection, to be looked
	// up in the source (the delete phase).
	kindCandidates
)

// batch is at most 25 items or keys of one page.
type batch struct {
	kind  batchKind
	items []map[string]types.AttributeValue
	pg    *page
}

// A source yields the pages of a job's phase. Each unit is read on its
// own, in order, from a checkpoint position; the pipeline runs units in
// parallel.
type source interface {
	// units returns the units of the phase that this worker reads.
	units(phase string) []unit
	// read reads u from its position and calls emit for each page, in
	// order: items the source has, keys it lacks, and the position after
	// the page (Done on the last). It returns nil when interrupted.
	read(ctx context.Context, u unit, from checkpoint.Unit, emit emitFunc) error
}

// emitFunc hands one page to the pipeline; it fails only when the job is
// interrupted or failed.
type emitFunc func(items, absent []map[string]types.AttributeValue, pos checkpoint.Unit) error

// A sink acts on batches: writes them (a write mode), compares them
// (diff) or restores them (undo). handle must be safe for concurrent use.
type sink interface {
	handle(ctx context.Context, rng *rand.Rand, b *batch) error
}

// pipeline holds what every phase of a job shares.
type pipeline struct {
	writers      int
	drainTimeout time.Duration
	now          func() time.Time
	tracker      *tracker
}

// run runs one phase: units of src read with bounded parallelism into a
// bounded channel that the writers drain into snk. itemKind is the kind of
// the source's items in this phase. Writers finish their batch after an
// interrupt (on a context that is not cancelled with ctx, bounded by the
// drain timeout from then on); the rest is drained without being handled.
func (pl *pipeline) run(ctx context.Context, phase string, src source, itemKind batchKind, snk sink) error {
	units := src.units(phase)
	if len(units) == 0 {
		return nil
	}
	tr := pl.tracker
	writeCtx, cancelWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrites()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(pl.drainTimeout, cancelWrites) })
	defer stopDrain()

	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *batch, pl.writers)
	g.Go(func() error {
		defer close(work)
		rg, rctx := errgroup.WithContext(gctx)
		limit := max(pl.writers, 4)
		if ls, ok := src.(interface{ parallelism() int }); ok {
			limit = ls.parallelism() // a source whose units are costly to read at once
		}
		rg.SetLimit(min(len(units), limit))
		for _, u := range units {
			start := tr.start(u)
			if start.Done {
				continue
			}
			rg.Go(func() error {
				seq := 0
				emit := func(items, absent []map[string]types.AttributeValue, pos checkpoint.Unit) error {
					pg := &page{u: u, seq: seq, pos: pos}
					seq++
					pg.pending.Add(1) // guard until every batch is sent
					if err := send(rctx, pg, kindAbsent, absent, work); err != nil {
						return err
					}
					if err := send(rctx, pg, itemKind, items, work); err != nil {
						return err
					}
					tr.finished(pg, true)
					return nil
				}
				err := src.read(rctx, u, start, emit)
				if rctx.Err() != nil {
					return nil // interrupted, or another unit failed
				}
				return err
			})
		}
		return rg.Wait()
	})
	for i := 0; i < pl.writers; i++ {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(pl.now().UnixNano())))
		g.Go(func() error {
			for b := range work {
				if gctx.Err() != nil {
					tr.finished(b.pg, false) // interrupted or failed: drain without writing
					continue
				}
				err := snk.handle(writeCtx, rng, b)
				tr.finished(b.pg, err == nil)
				var inc *IncompleteError
				if err != nil && !errors.As(err, &inc) {
					return err // recorded give-ups let the job go on
				}
			}
			return nil
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return nil // reported by the caller
	}
	return err
}

// send splits items into batches of 25 and sends them. The page completes
// when all of them are handled.
func send(ctx context.Context, pg *page, kind batchKind, items []map[string]types.AttributeValue, out chan<- *batch) error {
	if len(items) == 0 {
		return nil
	}
	pg.pending.Add(int32((len(items) + 24) / 25))
	for i := 0; i < len(items); i += 25 {
		// Each batch gets its own slice, and the page lets go of the items
		// it handed over: a written batch's items are garbage at once,
		// instead of living until the page's last batch is written.
		part := items[i:min(i+25, len(items))]
		b := &batch{kind: kind, items: append([]map[string]types.AttributeValue(nil), part...), pg: pg}
		clear(part)
		select {
		case out <- b:
		case <-ctx.Done():
			pg.failed.Store(true)
			return ctx.Err()
		}
	}
	return nil
}

// tracker turns completed pages into checkpoint positions: a unit's
// position only moves past pages that completed in order.
type tracker struct {
	mu    sync.Mutex
	units map[string]*unitTrack
	state *checkpoint.State
	dirty bool
}

type unitTrack struct {
	next int
	done map[int]*page
}

func newTracker(state *checkpoint.State) *tracker {
	if state == nil {
		state = &checkpoint.State{Units: map[string]checkpoint.Unit{}}
	}
	return &tracker{units: map[string]*unitTrack{}, state: state}
}

// start returns where a unit resumes.
func (t *tracker) start(u unit) checkpoint.Unit {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.units[u.key()] = &unitTrack{done: map[int]*page{}}
	return t.state.Units[u.key()]
}

// finished is called when a batch of pg is done (ok=false: given up).
func (t *tracker) finished(pg *page, ok bool) {
	if !ok {
		pg.failed.Store(true)
	}
	if pg.pending.Add(-1) == 0 && !pg.failed.Load() {
		t.pageDone(pg)
	}
}

// pageDone records a complete page and advances the unit's position.
func (t *tracker) pageDone(pg *page) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ut := t.units[pg.u.key()]
	ut.done[pg.seq] = pg
	for {
		done, ok := ut.done[ut.next]
		if !ok {
			return
		}
		delete(ut.done, ut.next)
		ut.next++
		t.state.Units[pg.u.key()] = done.pos
		done.mu.Lock()
		t.state.Conflicts = append(t.state.Conflicts, done.conflicts...)
		t.state.Clobbered = append(t.state.Clobbered, done.clobbered...)
		done.mu.Unlock()
		t.dirty = true
	}
}

// snapshot returns a copy of the state if it changed since the last call.
func (t *tracker) snapshot(force bool) *checkpoint.State {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.dirty && !force {
		return nil
	}
	t.dirty = false
	s := *t.state
	s.Units = make(map[string]checkpoint.Unit, len(t.state.Units))
	for k, v := range t.state.Units {
		s.Units[k] = v
	}
	s.Conflicts = slices.Clone(t.state.Conflicts)
	s.Clobbered = slices.Clone(t.state.Clobbered)
	return &s
}
