package copier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/restore"
)

// MaxReportedKeys bounds the unwritten keys kept for the report.
const MaxReportedKeys = 1000

// Options configures a copy.
type Options struct {
	// From is the recovery table read from; To the main table written to.
	From, To string
	// Segments is the number of parallel Scan segments; 0 picks one from
	// the table's size (see DefaultSegments).
	Segments int
	// Writers is the number of concurrent BatchWriteItem callers; 0 means
	// DefaultWriters.
	Writers int
	// WorkerIndex and WorkerCount split the segments between processes:
	// this one copies segments s with s % WorkerCount == WorkerIndex.
	WorkerIndex, WorkerCount int
	// MaxRetryTime bounds how long one batch is retried; 0 retries forever.
	MaxRetryTime time.Duration
	// DryRun reads and counts but writes nothing.
	DryRun bool
	// Backoff is the retry schedule; zero means DefaultBackoff.
	Backoff Backoff
	// DrainTimeout bounds how long batches in flight may take to finish
	// after an interrupt; 0 means 20 s.
	DrainTimeout time.Duration
	// Stats receives the live counters; nil allocates one.
	Stats *Stats
	// Logger receives events; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultWriters is the number of concurrent writers when Options.Writers
// is 0.
const DefaultWriters = 8

// DefaultSegments picks a segment count from the table's size: one segment
// per 256 MiB, at least 4, at most 256. DynamoDB serves each segment from
// one partition at a time, so big tables need many.
func DefaultSegments(sizeBytes int64) int {
	n := int(sizeBytes / (256 << 20))
	return min(max(n, 4), 256)
}

// Plan is a checked copy, ready to run.
type Plan struct {
	opts     Options
	keyNames []string
	// Estimate is DynamoDB's approximate item count of the source (updated
	// about every six hours).
	Estimate int64
}

// Prepare checks the tables and options before anything is written: the
// tables differ, both exist, their key schemas (names and types) are the
// same, and the target is not a recovery table.
func Prepare(ctx context.Context, api API, opts Options) (*Plan, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Stats == nil {
		opts.Stats = &Stats{}
	}
	if opts.Backoff == (Backoff{}) {
		opts.Backoff = DefaultBackoff
	}
	if opts.DrainTimeout == 0 {
		opts.DrainTimeout = 20 * time.Second
	}
	if opts.Writers == 0 {
		opts.Writers = DefaultWriters
	}
	if opts.WorkerCount == 0 {
		opts.WorkerCount = 1
	}
	switch {
	case opts.From == "" || opts.To == "":
		return nil, usagef("copy needs --from RECOVERY_TABLE and --to MAIN_TABLE")
	case opts.From == opts.To:
		return nil, usagef("copy: --from and --to are both %s: copy from the recovery table into the main table", opts.From)
	case opts.Segments < 0 || opts.Segments > 1000000:
		return nil, usagef("--segments %d: use 1 to 1000000 (or omit it to choose from the table size)", opts.Segments)
	case opts.Writers < 1 || opts.Writers > 1024:
		return nil, usagef("--writers %d: use 1 to 1024", opts.Writers)
	case opts.WorkerCount < 1 || opts.WorkerIndex < 0 || opts.WorkerIndex >= opts.WorkerCount:
		return nil, usagef("--worker-index %d --worker-count %d: the index must be in [0, count)", opts.WorkerIndex, opts.WorkerCount)
	}
	from, err := describe(ctx, api, opts.From, "--from")
	if err != nil {
		return nil, err
	}
	to, err := describe(ctx, api, opts.To, "--to")
	if err != nil {
		return nil, err
	}
	fromKeys, err := keySchema(from)
	if err != nil {
		return nil, err
	}
	toKeys, err := keySchema(to)
	if err != nil {
		return nil, err
	}
	if fmt.Sprint(fromKeys) != fmt.Sprint(toKeys) {
		return nil, usagef("copy %s → %s: refused: key schemas differ (%s has %s, %s has %s); copy between tables with the same keys",
			opts.From, opts.To, opts.From, fmtKeys(fromKeys), opts.To, fmtKeys(toKeys))
	}
	isRecovery, err := restore.IsRecoveryTable(ctx, api, aws.ToString(to.TableArn))
	if err != nil {
		return nil, fmt.Errorf("copy into %s: read tags: %w", opts.To, err)
	}
	if isRecovery {
		return nil, usagef("copy into %s: refused: it is a recovery table (tag %s); --to must be the main table", opts.To, restore.TagSourceTable)
	}
	if opts.Segments == 0 {
		opts.Segments = DefaultSegments(aws.ToInt64(from.TableSizeBytes))
	}
	p := &Plan{opts: opts, Estimate: aws.ToInt64(from.ItemCount)}
	for _, k := range fromKeys {
		p.keyNames = append(p.keyNames, k.name)
	}
	return p, nil
}

// Segments returns the segment count the copy will use.
func (p *Plan) Segments() int { return p.opts.Segments }

type keyAttr struct {
	name, keyType, attrType string
}

func keySchema(t *types.TableDescription) ([]keyAttr, error) {
	types := map[string]string{}
	for _, d := range t.AttributeDefinitions {
		types[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	var ks []keyAttr
	for _, k := range t.KeySchema {
		n := aws.ToString(k.AttributeName)
		ks = append(ks, keyAttr{name: n, keyType: string(k.KeyType), attrType: types[n]})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].keyType < ks[j].keyType }) // HASH before RANGE
	return ks, nil
}

func fmtKeys(ks []keyAttr) string {
	s := ""
	for i, k := range ks {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s %s (%s)", k.keyType, k.name, k.attrType)
	}
	return s
}

func describe(ctx context.Context, api API, table, flag string) (*types.TableDescription, error) {
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		if apiCode(err) == "ResourceNotFoundException" {
			return nil, usagef("copy: %s table %s not found (check the name, --region and --endpoint-url)", flag, table)
		}
		return nil, fmt.Errorf("copy: describe %s table %s: %w", flag, table, err)
	}
	return out.Table, nil
}

// batch is up to 25 items read from one page of one segment.
type batch struct {
	items []map[string]types.AttributeValue
	seg   int
}

// Run copies. It returns the summary and, on failure, an error:
// ErrInterrupted (wrapped) after a signal, *IncompleteError when items could
// not be written, or the first permanent error.
func (p *Plan) Run(ctx context.Context, api API) (*Summary, error) {
	o := p.opts
	st := o.Stats
	st.Estimated.Store(p.Estimate / int64(o.WorkerCount))
	sum := &Summary{Source: o.From, Target: o.To, DryRun: o.DryRun, Segments: o.Segments, Writers: o.Writers, Started: o.Now().UTC()}

	// Writers finish their batch after an interrupt: they run on a context
	// that is not cancelled with ctx, bounded by DrainTimeout from then on.
	writeCtx, cancelWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrites()
	stopDrain := context.AfterFunc(ctx, func() {
		time.AfterFunc(o.DrainTimeout, cancelWrites)
	})
	defer stopDrain()

	w := &writer{api: api, table: o.To, stats: st, backoff: o.Backoff, maxRetry: o.MaxRetryTime,
		pacer: newPacer(), now: o.Now, log: o.Logger, keyNames: p.keyNames}

	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *batch, o.Writers)
	var readers sync.WaitGroup
	for seg := 0; seg < o.Segments; seg++ {
		if seg%o.WorkerCount != o.WorkerIndex {
			continue
		}
		readers.Add(1)
		g.Go(func() error {
			defer readers.Done()
			return p.readSegment(gctx, api, seg, work)
		})
	}
	go func() { readers.Wait(); close(work) }()
	var failMu sync.Mutex
	var lastFail error
	for i := 0; i < o.Writers; i++ {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(o.Now().UnixNano())))
		g.Go(func() error {
			for b := range work {
				if gctx.Err() != nil {
					continue // interrupted or failed: drain without writing
				}
				if o.DryRun {
					st.Skipped.Add(int64(len(b.items)))
					continue
				}
				err := w.put(writeCtx, b, rng)
				var inc *IncompleteError
				if errors.As(err, &inc) {
					failMu.Lock()
					lastFail = inc.Cause
					failMu.Unlock()
					continue
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	sum.Finished = o.Now().UTC()
	sum.Elapsed = sum.Finished.Sub(sum.Started).Seconds()
	sum.Counts = st.Snapshot()
	if sum.Elapsed > 0 {
		sum.Rate = float64(sum.Counts.Written+sum.Counts.Deleted+sum.Counts.Skipped) / sum.Elapsed
	}
	sum.Unwritten = w.unwrittenKeys()
	switch {
	case ctx.Err() != nil:
		sum.Outcome = "interrupted"
		return sum, fmt.Errorf("copy %s → %s: %w after finishing the batches in flight", o.From, o.To, ErrInterrupted)
	case err != nil:
		sum.Outcome = "failed"
		return sum, err
	case sum.Counts.Failed > 0:
		sum.Outcome = "incomplete"
		return sum, &IncompleteError{Table: o.To, Failed: sum.Counts.Failed, Unwritten: sum.Unwritten, Cause: lastFail}
	}
	sum.Outcome = "ok"
	return sum, nil
}
