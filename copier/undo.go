package copier

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// UndoOptions configures Undo: Options.To is the main table, Journal the
// journal a copy wrote; Writers, MaxRetryTime, MaxWCU, DryRun, Backoff,
// Stats, Logger and Now work as for a copy.
type UndoOptions struct {
	Options
}

// UndoPlan is a checked undo, ready to run.
type UndoPlan struct {
	p       *Plan
	path    string  // local copy of the journal
	cleanup func()  // removes a downloaded copy; idempotent
	offsets []int64 // start of each record line, in file order
}

// Records returns the number of before-images in the journal.
func (u *UndoPlan) Records() int { return len(u.offsets) }

// PrepareUndo checks the journal before anything is written: it is a
// ddbrewind journal for this table, with the table's key attributes, and
// every line parses.
func PrepareUndo(ctx context.Context, api API, opts UndoOptions) (*UndoPlan, error) {
	o := opts.Options
	switch {
	case o.Journal == "" || o.To == "":
		return nil, usagef("undo needs --journal PATH and --table MAIN_TABLE")
	case o.Writers < 0 || o.Writers > 1024:
		return nil, usagef("--writers %d: use 1 to 1024", o.Writers)
	case o.MaxWCU < 0:
		return nil, usagef("--max-wcu %v: must be positive", o.MaxWCU)
	case o.MaxRetryTime < 0:
		return nil, usagef("--max-retry-time %s: must be positive (or omit it to retry forever)", o.MaxRetryTime)
	}
	if err := tables.ValidateName("--table", o.To); err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	o.defaults()
	path, cleanup, err := o.Files.Fetch(ctx, o.Journal)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("--journal %s: no such file", o.Journal)
		}
		return nil, fmt.Errorf("undo: read --journal %s: %w", o.Journal, err)
	}
	h, err := readJournalHeader(path)
	if err != nil {
		cleanup()
		return nil, err
	}
	if err := (&UndoPlan{}).checkHeader(h, o); err != nil {
		cleanup()
		return nil, err
	}
	u, err := prepareUndo(ctx, api, o, h, path)
	if err != nil {
		cleanup()
		return nil, err
	}
	u.cleanup = sync.OnceFunc(cleanup)
	return u, nil
}

// Close removes the local copy of a journal fetched from S3. Run closes
// the plan when it ends; a caller that may not run it (a refused
// confirmation) defers Close right after PrepareUndo. Close is idempotent.
func (u *UndoPlan) Close() { u.cleanup() }

func (*UndoPlan) checkHeader(h *JournalHeader, o Options) error {
	if h.Table != o.To {
		return usagef("--journal %s records table %s, not %s: undo it with --table %s", o.Journal, h.Table, o.To, h.Table)
	}
	return nil
}

func prepareUndo(ctx context.Context, api API, o Options, h *JournalHeader, path string) (*UndoPlan, error) {
	t, err := describe(ctx, api, o.To, "--table", "undo")
	if err != nil {
		return nil, err
	}
	p := &Plan{opts: o, keyTypes: map[string]string{}, verb: "undo", release: func() {}}
	for _, k := range keySchema(t) {
		p.keyNames = append(p.keyNames, k.name)
		p.keyTypes[k.name] = k.attrType
	}
	if strings.Join(p.keyNames, ",") != strings.Join(h.Keys, ",") {
		return nil, usagef("--journal %s was written for key %s but %s has key %s", o.Journal, strings.Join(h.Keys, "+"), o.To, strings.Join(p.keyNames, "+"))
	}
	u := &UndoPlan{p: p, path: path}
	if err := u.index(); err != nil {
		return nil, err
	}
	p.Estimate = int64(len(u.offsets))
	p.opts.Stats.Estimated.Store(p.Estimate)
	return u, nil
}

// index validates every record and remembers where each line starts.
func (u *UndoPlan) index() error {
	path := u.p.opts.Journal
	f, err := os.Open(u.path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var off int64
	for line := 1; ; line++ {
		data, err := r.ReadBytes('\n')
		if len(data) > 0 && line > 1 {
			if _, _, perr := u.parse(data); perr != nil {
				if err == io.EOF && !strings.HasSuffix(string(data), "\n") {
					// A torn last line: the copy was killed while writing
					// it, before the write it protects. Ignore it.
					break
				}
				return usagef("%s:%d: %v", path, line, perr)
			}
			u.offsets = append(u.offsets, off)
		}
		off += int64(len(data))
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read journal %s: %w", path, err)
		}
	}
	return nil
}

// parse decodes one record: the key and the before-image (nil: absent).
func (u *UndoPlan) parse(line []byte) (map[string]types.AttributeValue, map[string]types.AttributeValue, error) {
	var rec journalRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, nil, fmt.Errorf("not a journal record: %v", err)
	}
	key, err := ddbjson.ParseItem(rec.Key)
	if err != nil {
		return nil, nil, err
	}
	if err := u.p.checkKey(key); err != nil {
		return nil, nil, err
	}
	if string(rec.Before) == "null" || len(rec.Before) == 0 {
		return key, nil, nil
	}
	before, err := ddbjson.ParseItem(rec.Before)
	if err != nil {
		return nil, nil, err
	}
	return key, before, nil
}

// Run puts every journaled item back to its before-image (deleting items
// that did not exist), newest record first, so that when a resumed copy
// journaled a key twice the oldest before-image wins. Records of one key
// always go to the same writer, in order; memory holds only the line
// offsets.
func (u *UndoPlan) Run(ctx context.Context, api API) (*Summary, error) {
	p := u.p
	o := p.opts
	st := o.Stats
	sum := &Summary{Source: o.Journal, Target: o.To, DryRun: o.DryRun, Writers: o.Writers, Started: o.Now().UTC()}
	tr := newTracker(&checkpoint.State{Units: map[string]checkpoint.Unit{}})
	w := &writer{api: api, plan: p, stats: st, backoff: o.Backoff, maxRetry: o.MaxRetryTime,
		pacer: newPacer(), wcu: newWCULimiter(o.MaxWCU), now: o.Now, log: o.Logger, tracker: tr}

	defer u.cleanup()
	f, err := os.Open(u.path)
	if err != nil {
		return sum, fmt.Errorf("undo: %w", err)
	}
	defer f.Close()
	shards := make([]chan undoRecord, o.Writers)
	for i := range shards {
		shards[i] = make(chan undoRecord, 64)
	}
	writeCtx, cancelWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrites()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer func() {
			for _, c := range shards {
				close(c)
			}
		}()
		for i := len(u.offsets) - 1; i >= 0; i-- {
			line, err := readLineAt(f, u.offsets[i])
			if err != nil {
				return fmt.Errorf("undo: read %s: %w", o.Journal, err)
			}
			key, before, err := u.parse(line)
			if err != nil {
				return usagef("%s: %v", o.Journal, err)
			}
			st.Read.Add(1)
			ks := ddbjson.KeyString(key)
			h := fnv.New32a()
			h.Write([]byte(ks))
			select {
			case shards[int(h.Sum32())%len(shards)] <- undoRecord{key: key, ks: ks, before: before}:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	for i := range shards {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(o.Now().UnixNano())))
		g.Go(func() error {
			var reqs []types.WriteRequest
			inBatch := map[string]bool{}
			flush := func() error {
				if len(reqs) == 0 {
					return nil
				}
				var err error
				if o.DryRun {
					w.countDone(reqs, nil)
				} else {
					err = w.batchWrite(writeCtx, reqs, rng)
				}
				reqs, inBatch = reqs[:0], map[string]bool{}
				var inc *IncompleteError
				if errors.As(err, &inc) {
					return nil // recorded as failed
				}
				return err
			}
			for rec := range shards[i] {
				if gctx.Err() != nil {
					continue
				}
				if inBatch[rec.ks] || len(reqs) == 25 {
					if err := flush(); err != nil {
						return err
					}
				}
				inBatch[rec.ks] = true
				st.Matched.Add(1)
				if rec.before == nil {
					reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: rec.key}})
				} else {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: rec.before}})
				}
			}
			if gctx.Err() != nil {
				return nil
			}
			return flush()
		})
	}
	err = g.Wait()
	sum.Finished = o.Now().UTC()
	sum.Elapsed = sum.Finished.Sub(sum.Started).Seconds()
	sum.Counts = st.Snapshot()
	if sum.Elapsed > 0 {
		sum.Rate = float64(sum.Counts.Written+sum.Counts.Deleted) / sum.Elapsed
	}
	sum.Unwritten = w.unwrittenKeys()
	switch {
	case ctx.Err() != nil:
		sum.Outcome = "interrupted"
		return sum, fmt.Errorf("undo %s: %w; run the same command again: undo can be repeated", o.To, ErrInterrupted)
	case err != nil:
		sum.Outcome = "failed"
		return sum, err
	case sum.Counts.Failed > 0:
		sum.Outcome = "incomplete"
		return sum, &IncompleteError{Table: o.To, Failed: sum.Counts.Failed, Unwritten: sum.Unwritten, Cause: w.lastFailure()}
	}
	sum.Outcome = "ok"
	return sum, nil
}

type undoRecord struct {
	key, before map[string]types.AttributeValue
	ks          string
}

// readLineAt reads the line starting at off.
func readLineAt(f *os.File, off int64) ([]byte, error) {
	r := bufio.NewReader(io.NewSectionReader(f, off, 1<<62))
	line, err := r.ReadBytes('\n')
	if err == io.EOF && len(line) > 0 {
		err = nil
	}
	return line, err
}
