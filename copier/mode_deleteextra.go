package copier

import (
	"context"
	"math/rand/v2"
)

// copySink is a copy's sink: the write mode puts the source's items; with
// --delete-extra (deleteExtra) it also deletes the target's keys the source
// lacks — a keys file's keys the recovery table does not have (absent), and
// the target selection's keys (candidates, the delete phase) that the
// source lacks (a BatchGetItem on the recovery table, or an export's key
// index) — so the slice becomes exactly the source's.
type copySink struct {
	mode        writeMode
	t           *target
	lookup      sourceLookup // where candidates are looked up
	deleteExtra bool
}

func (s *copySink) handle(ctx context.Context, rng *rand.Rand, b *batch) error {
	var err error
	switch b.kind {
	case kindItems:
		err = s.mode.put(ctx, rng, s.t, b.items)
	case kindAbsent:
		if s.deleteExtra {
			err = s.mode.del(ctx, rng, s.t, b.items)
		}
	case kindCandidates:
		missing, gerr := s.lookup.missing(ctx, rng, b.items)
		if gerr != nil {
			// Which of these keys are extras is unknown: all are reported.
			return s.t.x.giveUpRest(b.items, gerr)
		}
		err = s.mode.del(ctx, rng, s.t, missing)
	}
	if err != nil {
		return s.t.x.giveUpRest(b.items, err)
	}
	return nil
}
