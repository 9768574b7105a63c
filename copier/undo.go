package copier

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/journalfmt"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// UndoOptions configures Undo: Options.To is the main table, Journal the
// journal a copy wrote; Writers, MaxRetryTime, MaxWCU, DryRun, Backoff,
// Stats, Logger and Now work as for a copy.
type UndoOptions struct {
	Options
}

// UndoPlan is a checked undo, ready to run.
type UndoPlan struct {
	opts    Options
	keys    keySchemaInfo
	journal *journalFile
	cleanup func() // removes a downloaded copy
}

// Records returns the number of before-images in the journal.
func (u *UndoPlan) Records() int { return u.journal.records }

// PrepareUndo checks the journal before anything is written: it is a
// ddbrewind journal for this table, with the table's key attributes, and
// every line parses.
func PrepareUndo(ctx context.Context, api API, opts UndoOptions) (*UndoPlan, error) {
	o := opts.Options
	if o.Journal == "" || o.To == "" {
		return nil, usage.Errorf("undo needs --journal PATH and --table MAIN_TABLE")
	}
	if err := o.check("undo", false, "--table"); err != nil {
		return nil, err
	}
	o.defaults()
	path, cleanup, err := o.Files.Fetch(ctx, o.Journal)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usage.Errorf("--journal %s: no such file", o.Journal)
		}
		return nil, fmt.Errorf("undo: read --journal %s: %w", o.Journal, err)
	}
	u := &UndoPlan{opts: o, cleanup: sync.OnceFunc(cleanup)}
	if err := u.prepare(ctx, api, path); err != nil {
		u.Close()
		return nil, err
	}
	return u, nil
}

// Close removes the local copy of a journal fetched from S3. Run closes
// the plan when it ends; a caller that may not run it (a refused
// confirmation) defers Close right after PrepareUndo. Close is idempotent.
func (u *UndoPlan) Close() { u.cleanup() }

func (u *UndoPlan) prepare(ctx context.Context, api API, path string) error {
	o := u.opts
	h, err := journalfmt.ReadHeader(path)
	if err != nil {
		return err
	}
	if h.Table != o.To {
		return usage.Errorf("--journal %s records table %s, not %s: undo it with --table %s", o.Journal, h.Table, o.To, h.Table)
	}
	t, err := describe(ctx, api, o.To, "--table", "undo")
	if err != nil {
		return err
	}
	u.keys = schemaOf(t)
	if strings.Join(u.keys.names, ",") != strings.Join(h.Keys, ",") {
		return usage.Errorf("--journal %s was written for key %s but %s has key %s", o.Journal, strings.Join(h.Keys, "+"), o.To, strings.Join(u.keys.names, "+"))
	}
	if u.journal, err = indexJournal(o.Journal, path, u.keys); err != nil {
		return err
	}
	o.Stats.Estimated.Store(int64(u.journal.records))
	return nil
}

// Run puts every journaled item back to its before-image (deleting items
// that did not exist): the oldest record of each key, which a copy wrote
// before it first touched the item (a resumed copy may have journaled a key
// again, after writing it). Records of one key are never in one batch.
func (u *UndoPlan) Run(ctx context.Context, api API) (*Summary, error) {
	defer u.Close()
	o := u.opts
	sum := newSummary(o, o.Journal, false)
	sum.Segments = 0
	x := newExecutor(api, o, u.keys.names, o.To)
	expect := &sync.Map{}
	src := &journalSource{x: x, file: u.journal, keys: u.keys, expect: expect}
	snk := &undoSink{x: x, table: o.To, keyNames: u.keys.names, dryRun: o.DryRun, expect: expect}
	pl := &pipeline{writers: o.Writers, drainTimeout: o.DrainTimeout, now: o.Now, tracker: newTracker(nil)}
	err := pl.run(ctx, phaseCopy, src, kindItems, snk)
	sum.finish(o, x)
	switch {
	case ctx.Err() != nil:
		sum.Outcome = "interrupted"
		return sum, fmt.Errorf("undo %s: %w; run the same command again: undo can be repeated", o.To, ErrInterrupted)
	case err != nil:
		sum.Outcome = "failed"
		return sum, err
	}
	err = sum.outcome(o.To)
	var ce *ConflictError
	if errors.As(err, &ce) {
		ce.Undo = true
	}
	return sum, err
}

// undoSink restores before-images: items are put back, absent keys (items
// that did not exist before the copy) deleted. A record that says what the
// copy wrote is undone with a conditional write — only while the item is
// still what ddbrewind wrote (asking for the item it replaces, to catch an
// attribute added since, which the condition cannot see: that item is put
// back); an item changed since is an undo conflict, left alone and listed.
// Records of journals written before that are undone with BatchWriteItem,
// unconditionally.
type undoSink struct {
	x        *executor
	table    string
	keyNames []string
	dryRun   bool
	expect   *sync.Map // KeyString → undoEntry, from the source
}

func (s *undoSink) handle(ctx context.Context, rng *rand.Rand, b *batch) error {
	var reqs []types.WriteRequest
	var conds []undoEntry
	for _, it := range b.items {
		k := it
		if b.kind != kindAbsent {
			k = keyOf(it, s.keyNames)
		}
		v, _ := s.expect.LoadAndDelete(ddbjson.KeyString(k))
		e, ok := v.(undoEntry)
		switch {
		case ok && e.afterKnown:
			conds = append(conds, e)
		case b.kind == kindAbsent:
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
		default:
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
	}
	s.x.matched(int64(len(b.items)))
	if s.dryRun {
		s.x.countDone(reqs, nil)
		for _, e := range conds {
			s.x.wroteIf(true, e.before == nil)
		}
		return nil
	}
	// A batch write given up (recorded as failed) does not keep the
	// conditional writes from being done; another error ends the undo.
	var werr error
	if len(reqs) > 0 {
		werr = s.x.batchWrite(ctx, rng, s.table, reqs)
		if inc := (*IncompleteError)(nil); werr != nil && !errors.As(werr, &inc) {
			return werr
		}
	}
	if err := s.x.parallel(rng, len(conds), func(n int) map[string]types.AttributeValue { return conds[n].key },
		func(n int, rng *rand.Rand) error { return s.undo(ctx, rng, b.pg, conds[n]) }); err != nil {
		return err
	}
	return werr
}

// undo puts e.before back (deletes the key when nil) while the item is
// e.after. When the item it replaced was not e.after (an attribute added
// since ddbrewind wrote it), that item is put back — while the item is
// still what undo wrote — and the key is an undo conflict.
func (s *undoSink) undo(ctx context.Context, rng *rand.Rand, pg *page, e undoEntry) error {
	res, err := s.put(ctx, rng, e.key, e.before, e.after)
	switch {
	case err != nil:
		return err
	case !res.held:
		// Changed since ddbrewind wrote it — unless it is as it was
		// before the copy already: put back by an undo run before (undo
		// is repeated, or resumed), or never written (a write the copy
		// gave up). Then there is nothing to undo.
		done := false
		if res.failed { // not a condition too long to send
			if done, err = s.x.isNow(ctx, rng, s.table, e.key, e.before, res); err != nil {
				return err
			}
		}
		if done {
			s.x.kept(1)
			return nil
		}
		s.x.noteConflict(pg, e.key)
		return nil
	case !res.earlier && !sameState(res.old, e.after):
		if _, err := s.put(ctx, rng, e.key, res.old, e.before); err != nil {
			return err
		}
		s.x.noteConflict(pg, e.key)
		return nil
	}
	s.x.wroteIf(true, e.before == nil)
	return nil
}

// put writes item (nil: deletes key) while the item is expect (nil:
// absent), and returns whether the condition held and the item it
// replaced. The condition compares expect's attributes other than lists
// and maps (some emulators, dynalite among them, never find two lists or
// maps equal in a condition); the caller compares the whole replaced item
// (sameState) and puts it back when it differs. A condition DynamoDB
// cannot take (too long) does not hold: the item is never overwritten
// blindly.
func (s *undoSink) put(ctx context.Context, rng *rand.Rand, key, item, expect map[string]types.AttributeValue) (condResult, error) {
	cond, names, values, ok := stillAsLeft(scalarsOf(expect), s.keyNames)
	if !ok {
		return condResult{}, nil
	}
	return s.x.write(ctx, rng, condWrite{what: writeWhat("undo", s.table, item == nil), table: s.table,
		key: key, item: item, cond: cond, names: names, values: values, old: true})
}

// scalarsOf returns item without its list and map attributes (nil: nil).
func scalarsOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	if item == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(item))
	for a, v := range item {
		switch v.(type) {
		case *types.AttributeValueMemberL, *types.AttributeValueMemberM:
		default:
			out[a] = v
		}
	}
	return out
}
