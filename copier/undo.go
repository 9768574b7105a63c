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
		return nil, usagef("undo needs --journal PATH and --table MAIN_TABLE")
	}
	if err := o.check("undo", false, "--table"); err != nil {
		return nil, err
	}
	o.defaults()
	path, cleanup, err := o.Files.Fetch(ctx, o.Journal)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("--journal %s: no such file", o.Journal)
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
	h, err := readJournalHeader(path)
	if err != nil {
		return err
	}
	if h.Table != o.To {
		return usagef("--journal %s records table %s, not %s: undo it with --table %s", o.Journal, h.Table, o.To, h.Table)
	}
	t, err := describe(ctx, api, o.To, "--table", "undo")
	if err != nil {
		return err
	}
	u.keys = schemaOf(t)
	if strings.Join(u.keys.names, ",") != strings.Join(h.Keys, ",") {
		return usagef("--journal %s was written for key %s but %s has key %s", o.Journal, strings.Join(h.Keys, "+"), o.To, strings.Join(u.keys.names, "+"))
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
	src := &journalSource{x: x, file: u.journal, keys: u.keys}
	snk := &undoSink{x: x, table: o.To, dryRun: o.DryRun}
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
	return sum, sum.outcome(o.To)
}

// undoSink restores before-images: items are put back, absent keys (items
// that did not exist before the copy) deleted, with BatchWriteItem.
type undoSink struct {
	x      *executor
	table  string
	dryRun bool
}

func (s *undoSink) handle(ctx context.Context, rng *rand.Rand, b *batch) error {
	reqs := make([]types.WriteRequest, len(b.items))
	for i, it := range b.items {
		if b.kind == kindAbsent {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: it}}
		} else {
			reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
		}
	}
	s.x.stats.Matched.Add(int64(len(reqs)))
	if s.dryRun {
		s.x.countDone(reqs, nil)
		return nil
	}
	return s.x.batchWrite(ctx, rng, s.table, reqs)
}
