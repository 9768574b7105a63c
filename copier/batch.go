package copier

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
)

// Phases of a copy. The copy phase puts the selected recovery items; the
// delete phase (--delete-extra) removes main items of the selection that
// the recovery table lacks.
const (
	phaseCopy   = "copy"
	phaseDelete = "delete"
)

// unit is one stream of pages: a Scan segment, the Query or the keys file,
// in one phase.
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
}

// batchKind says what a writer does with a batch.
type batchKind int

const (
	// kindPut puts items (overwrite, --only-missing or --if-main).
	kindPut batchKind = iota
	// kindCheckExtra holds keys of main items; those the recovery table
	// lacks are deleted (--delete-extra).
	kindCheckExtra
	// kindDelete deletes keys from the main table.
	kindDelete
)

// batch is at most 25 items or keys of one page.
type batch struct {
	kind  batchKind
	items []map[string]types.AttributeValue
	pg    *page
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
	done map[int]checkpoint.Unit
}

func newTracker(state *checkpoint.State) *tracker {
	return &tracker{units: map[string]*unitTrack{}, state: state}
}

// start returns where a unit resumes.
func (t *tracker) start(u unit) checkpoint.Unit {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.units[u.key()] = &unitTrack{done: map[int]checkpoint.Unit{}}
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
	ut.done[pg.seq] = pg.pos
	for {
		pos, ok := ut.done[ut.next]
		if !ok {
			return
		}
		delete(ut.done, ut.next)
		ut.next++
		t.state.Units[pg.u.key()] = pos
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
	return &s
}
