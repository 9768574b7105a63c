package copier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/restore"
)

// MaxReportedKeys bounds the keys kept for the report (unwritten, not in
// recovery table).
const MaxReportedKeys = 1000

// Options configures a copy.
type Options struct {
	// From is the recovery table read from; To the main table written to.
	From, To string
	// Selection picks the items; the zero value copies the whole table.
	Selection Selection
	// OnlyMissing writes an item only where the main table has no item
	// with its key (conditional put; never clobbers).
	OnlyMissing bool
	// DeleteExtra also deletes main items of the selection that the
	// recovery table lacks.
	DeleteExtra bool
	// IfMain overwrites (or deletes) a main item only while its current
	// version satisfies this condition expression.
	IfMain string
	// Segments is the number of parallel Scan segments; 0 picks one from
	// the table's size and item count (see DefaultSegments), or, when a
	// checkpoint is resumed, takes the checkpoint's.
	Segments int
	// PageSize is the Limit of each Scan or Query page; 0 means
	// DefaultPageSize. DynamoDB still ends a page at 1 MB.
	PageSize int
	// Writers is the number of concurrent writers; 0 means DefaultWriters.
	Writers int
	// WorkerIndex and WorkerCount split the work between processes: this
	// one handles units u with u % WorkerCount == WorkerIndex.
	WorkerIndex, WorkerCount int
	// MaxWCU caps the write capacity units consumed per second; 0 = no cap.
	MaxWCU float64
	// MaxRetryTime bounds how long one call is retried; 0 retries forever.
	MaxRetryTime time.Duration
	// DryRun reads and counts, writes nothing.
	DryRun bool
	// Checkpoint is a file path recording progress; empty = none.
	Checkpoint string
	// Journal is a file path where the main table's version of every item
	// is appended (durably) before the copy overwrites or deletes it, for
	// Undo; empty = none.
	Journal string
	// Files stores the checkpoint and the journal (local paths or s3://
	// URLs); nil handles local paths only.
	Files *statefile.Store
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

// DefaultPageSize is the Scan/Query Limit when Options.PageSize is 0. A
// full 1 MB page of small items decodes into tens of MB of Go values (twice,
// briefly, while the SDK decodes it); 500 items keep a copy's peak memory
// flat and low (measured: 110 MB → 43 MB RSS on 100,000 items of 400 B) at
// the same speed.
const DefaultPageSize = 500

// DefaultSegments picks a segment count from the table's size and item
// count: one segment per 256 MiB or per million items, whichever gives more,
// at least 4, at most 256. DynamoDB serves each segment from one partition
// at a time, so big tables need many; and many small items make long
// segments, whose last one would finish alone.
func DefaultSegments(sizeBytes, itemCount int64) int {
	n := max(sizeBytes/(256<<20), itemCount/1_000_000)
	return int(min(max(n, 4), 256))
}

// Plan is a checked copy, ready to run.
type Plan struct {
	opts     Options
	keyNames []string
	keyTypes map[string]string
	state    *checkpoint.State
	resumed  bool
	// diff: the plan compares instead of copying.
	diff bool
	// verb names the command in messages: copy, diff or run.
	verb string
	// keysPath is a local copy of the keys file (Selection.KeysFile may be
	// on S3); release removes a temporary one.
	keysPath string
	release  func()
	// autoSegments: Segments was not given, so a checkpoint's count wins.
	autoSegments bool
	// Estimate is what Read will reach, roughly: DynamoDB's approximate
	// item count of the source (updated about every six hours) for a scan,
	// the number of keys of a keys file; 0 (unknown) for a key range or a
	// resumed copy.
	Estimate int64
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stats == nil {
		o.Stats = &Stats{}
	}
	if o.Backoff == (Backoff{}) {
		o.Backoff = DefaultBackoff
	}
	if o.Files == nil {
		o.Files = &statefile.Store{}
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 20 * time.Second
	}
	if o.Writers == 0 {
		o.Writers = DefaultWriters
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.WorkerCount == 0 {
		o.WorkerCount = 1
	}
}

// Prepare checks everything before anything is written: options, tables
// (both exist, differ, same key schema, target not a recovery table), the
// selection (placeholders, keys file, expressions DynamoDB must accept) and
// the checkpoint (made for this same copy).
func Prepare(ctx context.Context, api API, opts Options) (*Plan, error) {
	return prepare(ctx, api, opts, modeCopy)
}

// Check runs, before a rewind restores anything, every check of Prepare
// that does not need the recovery table: the options, the selection and
// keys file against the main table's key schema, and the expressions,
// which DynamoDB must accept on the main table (it has the same key
// schema as the recovery table to come). opts.To is the main table.
func Check(ctx context.Context, api API, opts Options) error {
	opts.From = opts.To
	p, err := prepare(ctx, api, opts, modeCheck)
	if err != nil {
		return err
	}
	p.release()
	return nil
}

// mode says what prepare prepares.
type mode int

const (
	modeCopy mode = iota
	modeDiff
	modeCheck
)

func (m mode) verb() string {
	return [...]string{"copy", "diff", "run"}[m]
}

// check validates the options themselves, before defaults fill in zero
// values.
func (o *Options) check(verb string) error {
	switch {
	case o.From == "" || o.To == "":
		return usagef("%s needs --from RECOVERY_TABLE and --to MAIN_TABLE", verb)
	case o.Segments < 0 || o.Segments > 1000000:
		return usagef("--segments %d: use 1 to 1000000 (or omit it to choose from the table size and item count)", o.Segments)
	case o.Writers < 0 || o.Writers > 1024:
		return usagef("--writers %d: use 1 to 1024", o.Writers)
	case o.WorkerCount < 0 || o.WorkerIndex < 0 || o.WorkerIndex >= max(o.WorkerCount, 1):
		return usagef("--worker-index %d --worker-count %d: the count must be at least 1 and the index in [0, count)", o.WorkerIndex, o.WorkerCount)
	case o.PageSize < 0:
		return usagef("--page-size %d: must be positive", o.PageSize)
	case o.MaxWCU < 0:
		return usagef("--max-wcu %v: must be positive", o.MaxWCU)
	case o.MaxRetryTime < 0:
		return usagef("--max-retry-time %s: must be positive (or omit it to retry forever)", o.MaxRetryTime)
	case o.OnlyMissing && o.IfMain != "":
		return usagef("--only-missing writes only absent items and --if-main only present ones: use one of them")
	case o.WorkerCount > 1 && o.Segments == 0 && o.Selection.KeysFile == "" && o.Selection.KeyCondition == "":
		// The default follows DescribeTable's size and item count, which
		// DynamoDB refreshes about every six hours: two workers (or a
		// retried one) could split the table differently and miss items.
		return usagef("--worker-count %d needs --segments N, the same in every worker, so that all of them split the table the same way (e.g. --segments %d)", o.WorkerCount, 8*o.WorkerCount)
	}
	for _, t := range []struct{ flag, name string }{{"--from", o.From}, {"--to", o.To}} {
		if err := restore.ValidateTableName(t.flag, t.name); err != nil {
			return &UsageError{Msg: err.Error()}
		}
	}
	return o.Selection.validate(o.IfMain)
}

func prepare(ctx context.Context, api API, opts Options, m mode) (_ *Plan, err error) {
	verb := m.verb()
	if err := opts.check(verb); err != nil {
		return nil, err
	}
	if opts.From == opts.To && m != modeCheck {
		return nil, usagef("%s: --from and --to are both %s: %s from the recovery table into the main table", verb, opts.From, verb)
	}
	opts.defaults()
	p := &Plan{opts: opts, diff: m == modeDiff, verb: verb, release: func() {}}
	defer func() {
		if err != nil {
			p.release()
		}
	}()
	toFlag := "--to"
	if m == modeCheck {
		toFlag = "--table"
	}
	to, err := describe(ctx, api, opts.To, toFlag, verb)
	if err != nil {
		return nil, err
	}
	from := to
	if m != modeCheck {
		if from, err = describe(ctx, api, opts.From, "--from", verb); err != nil {
			return nil, err
		}
	}
	fromKeys, toKeys := keySchema(from), keySchema(to)
	if fmtKeys(fromKeys) != fmtKeys(toKeys) {
		return nil, usagef("%s %s → %s: refused: key schemas differ (%s has %s, %s has %s); use tables with the same keys",
			verb, opts.From, opts.To, opts.From, fmtKeys(fromKeys), opts.To, fmtKeys(toKeys))
	}
	p.keyTypes = map[string]string{}
	for _, k := range fromKeys {
		p.keyNames = append(p.keyNames, k.name)
		p.keyTypes[k.name] = k.attrType
	}
	if m != modeDiff {
		isRecovery, err := restore.IsRecoveryTable(ctx, api, aws.ToString(to.TableArn))
		if err != nil {
			return nil, fmt.Errorf("%s into %s: read tags: %w", verb, opts.To, err)
		}
		if isRecovery {
			return nil, usagef("%s into %s: refused: it is a recovery table (tag %s); the target must be the main table", verb, opts.To, restore.TagSourceTable)
		}
	}
	p.autoSegments = p.opts.Segments == 0
	if p.autoSegments {
		p.opts.Segments = DefaultSegments(aws.ToInt64(from.TableSizeBytes), aws.ToInt64(from.ItemCount))
	}
	// The table's item count estimates a scan's Read (with or without a
	// filter); a key range's size is unknown.
	if opts.Selection.KeyCondition == "" {
		p.Estimate = aws.ToInt64(from.ItemCount)
	}
	if loc := opts.Selection.KeysFile; loc != "" {
		path, release, err := p.opts.Files.Local(ctx, loc)
		switch {
		case errors.Is(err, fs.ErrNotExist) || badS3(loc):
			return nil, usagef("--keys-file %s: %v", loc, err)
		case err != nil:
			return nil, fmt.Errorf("%s: --keys-file: %w", verb, err)
		}
		p.keysPath, p.release = path, release
		n, err := p.validateKeysFile()
		if err != nil {
			return nil, err
		}
		p.Estimate = int64(n)
	}
	if err := p.probe(ctx, api); err != nil {
		return nil, err
	}
	if m == modeCopy {
		if err := p.loadCheckpoint(ctx); err != nil {
			return nil, err
		}
	}
	if p.resumed {
		p.Estimate = 0 // what is left is unknown
	}
	p.opts.Stats.Estimated.Store(p.Estimate / int64(p.opts.WorkerCount))
	return p, nil
}

// Segments returns the segment count the copy will use.
func (p *Plan) Segments() int { return p.opts.Segments }

// Resumed reports whether the copy resumes from a checkpoint.
func (p *Plan) Resumed() bool { return p.resumed }

// KeyNames returns the table's key attribute names (hash first).
func (p *Plan) KeyNames() []string { return p.keyNames }

// fingerprint identifies this copy for its checkpoint.
func (p *Plan) fingerprint() (string, string) {
	o := p.opts
	desc := fmt.Sprintf("from=%s to=%s segments=%d worker=%d/%d only-missing=%v delete-extra=%v if-main=%s\n%s",
		o.From, o.To, o.Segments, o.WorkerIndex, o.WorkerCount, o.OnlyMissing, o.DeleteExtra, o.IfMain, o.Selection.describe())
	return hash(desc), desc
}

func (p *Plan) loadCheckpoint(ctx context.Context) error {
	fp, desc := p.fingerprint()
	p.state = &checkpoint.State{Fingerprint: fp, Describe: desc, Segments: p.opts.Segments, Units: map[string]checkpoint.Unit{}}
	if p.opts.Checkpoint == "" || p.opts.DryRun {
		return nil
	}
	data, err := p.opts.Files.Read(ctx, p.opts.Checkpoint)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--checkpoint %s: %w", p.opts.Checkpoint, err)
	}
	st, err := checkpoint.Decode(data, p.opts.Checkpoint)
	if err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if p.autoSegments && st.Segments > 0 && st.Segments != p.opts.Segments {
		// The default moved with DescribeTable's figures since the
		// checkpoint was made: resume with the checkpoint's split.
		p.opts.Logger.Info("resuming with the checkpoint's segment count", "segments", st.Segments, "default_now", p.opts.Segments)
		p.opts.Segments = st.Segments
		fp, desc = p.fingerprint()
		p.state = &checkpoint.State{Fingerprint: fp, Describe: desc, Segments: p.opts.Segments, Units: map[string]checkpoint.Unit{}}
	}
	if st.Fingerprint != fp {
		return usagef("--checkpoint %s was made for another copy (%s); this one is (%s): use the same flags, or another --checkpoint path to start over",
			p.opts.Checkpoint, oneLine(st.Describe), oneLine(desc))
	}
	st.Segments = p.opts.Segments
	p.state = st
	p.resumed = true
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

type keyAttr struct {
	name, keyType, attrType string
}

func keySchema(t *types.TableDescription) []keyAttr {
	attrTypes := map[string]string{}
	for _, d := range t.AttributeDefinitions {
		attrTypes[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	var ks []keyAttr
	for _, k := range t.KeySchema {
		n := aws.ToString(k.AttributeName)
		ks = append(ks, keyAttr{name: n, keyType: string(k.KeyType), attrType: attrTypes[n]})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].keyType < ks[j].keyType }) // HASH before RANGE
	return ks
}

func fmtKeys(ks []keyAttr) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s %s (%s)", k.keyType, k.name, k.attrType)
	}
	return strings.Join(parts, ", ")
}

func describe(ctx context.Context, api API, table, flag, verb string) (*types.TableDescription, error) {
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		if apiCode(err) == "ResourceNotFoundException" {
			return nil, usagef("%s: %s %s: table not found (check the name, --region and --endpoint-url)", verb, flag, table)
		}
		return nil, fmt.Errorf("%s: describe %s table %s: %w", verb, flag, table, err)
	}
	return out.Table, nil
}

// badS3 reports whether loc is an s3:// location that is not s3://bucket/key.
func badS3(loc string) bool {
	if !statefile.IsS3(loc) {
		return false
	}
	_, _, err := statefile.ParseS3(loc)
	return err != nil
}

// validateKeysFile reads the whole keys file once, checking every line's
// syntax and that each key has exactly the table's key attributes.
func (p *Plan) validateKeysFile() (int, error) {
	path := p.opts.Selection.KeysFile
	f, err := os.Open(p.keysPath)
	if err != nil {
		return 0, usagef("--keys-file %s: %v", path, err)
	}
	defer f.Close()
	r := ddbjson.NewKeysReader(f, path)
	n := 0
	for {
		key, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		if err := p.checkKey(key); err != nil {
			return 0, usagef("%s:%d: %v", path, line, err)
		}
		n++
	}
	if n == 0 {
		return 0, usagef("--keys-file %s holds no keys: put one key per line, e.g. {\"pk\":{\"S\":\"a\"}}", path)
	}
	return n, nil
}

// checkKey checks a key against the key schema.
func (p *Plan) checkKey(key map[string]types.AttributeValue) error {
	if len(key) != len(p.keyNames) {
		return fmt.Errorf("the key has %d attributes, the table's key is %s", len(key), strings.Join(p.keyNames, " + "))
	}
	for _, n := range p.keyNames {
		v, ok := key[n]
		if !ok {
			return fmt.Errorf("the key lacks attribute %q (the table's key is %s)", n, strings.Join(p.keyNames, " + "))
		}
		if got := ddbjson.TypeName(v); got != p.keyTypes[n] {
			return fmt.Errorf("key attribute %q has type %s, the table says %s", n, got, p.keyTypes[n])
		}
	}
	return nil
}

// probe sends the expressions to DynamoDB once, before any write, so that
// an expression it rejects is bad input (exit 2), not a failure mid-copy.
func (p *Plan) probe(ctx context.Context, api API) error {
	o := p.opts
	s := o.Selection
	if s.KeysFile == "" {
		tables := []string{o.From}
		if o.DeleteExtra || p.diff {
			tables = append(tables, o.To)
		}
		for _, table := range tables {
			var err error
			if s.KeyCondition != "" {
				_, err = api.Query(ctx, p.queryInput(table, nil, 1))
			} else {
				_, err = api.Scan(ctx, p.scanInput(table, 0, nil, 1))
			}
			if err != nil {
				if apiCode(err) == "ValidationException" {
					return usagef("%s: DynamoDB rejects the selection on %s: %v; fix --key-condition-expression/--filter-expression and their placeholders", p.verb, table, err)
				}
				return fmt.Errorf("%s: read %s: %w", p.verb, table, err)
			}
		}
	}
	if o.IfMain != "" && !o.DryRun && !p.diff {
		// A conditional put whose condition can never hold: DynamoDB
		// parses and checks EXPR but never writes.
		key := map[string]types.AttributeValue{}
		for _, n := range p.keyNames {
			switch p.keyTypes[n] {
			case "N":
				key[n] = &types.AttributeValueMemberN{Value: "0"}
			case "B":
				key[n] = &types.AttributeValueMemberB{Value: []byte("ddbrewind-probe")}
			default:
				key[n] = &types.AttributeValueMemberS{Value: "ddbrewind-probe"}
			}
		}
		in := p.condPut(key, o.IfMain)
		in.ConditionExpression = aws.String("(" + o.IfMain + ") AND attribute_not_exists(#ddbprobe) AND attribute_exists(#ddbprobe)")
		if in.ExpressionAttributeNames == nil {
			in.ExpressionAttributeNames = map[string]string{}
		}
		in.ExpressionAttributeNames["#ddbprobe"] = p.keyNames[0]
		_, err := api.PutItem(ctx, in)
		switch {
		case err == nil:
			return fmt.Errorf("%s: the --if-main probe unexpectedly wrote a probe item into %s", p.verb, o.To)
		case apiCode(err) == "ConditionalCheckFailedException":
		case apiCode(err) == "ValidationException":
			return usagef("%s: DynamoDB rejects --if-main %q on %s: %v", p.verb, o.IfMain, o.To, err)
		default:
			return fmt.Errorf("%s: check --if-main on %s: %w", p.verb, o.To, err)
		}
	}
	return nil
}

// Run copies. It returns the summary and, on failure, an error:
// ErrInterrupted (wrapped) after a signal, *IncompleteError when items could
// not be written, or the first permanent error.
func (p *Plan) Run(ctx context.Context, api API) (*Summary, error) {
	defer p.release()
	o := p.opts
	st := o.Stats
	sum := &Summary{Source: o.From, Target: o.To, DryRun: o.DryRun, Segments: o.Segments, Writers: o.Writers,
		Started: o.Now().UTC(), Resumed: p.resumed}
	tr := newTracker(p.state)
	w := &writer{api: api, plan: p, stats: st, backoff: o.Backoff, maxRetry: o.MaxRetryTime,
		pacer: newPacer(), wcu: newWCULimiter(o.MaxWCU), now: o.Now, log: o.Logger, tracker: tr}

	if o.Journal != "" && !o.DryRun {
		j, err := openJournal(ctx, o.Files, o.Journal, o.To, p.keyNames, o.Now(), o.Logger)
		if err != nil {
			return sum, err
		}
		defer j.close()
		w.journal = j
	}
	saveErr := make(chan error, 1)
	stopSaver := p.startSaver(ctx, tr, saveErr)
	err := p.runPhase(ctx, api, phaseCopy, w, tr, w.do)
	if err == nil && o.DeleteExtra && ctx.Err() == nil {
		err = p.runPhase(ctx, api, phaseDelete, w, tr, w.do)
	}
	stopSaver()
	if serr := <-saveErr; serr != nil && err == nil {
		err = serr
	}

	sum.Finished = o.Now().UTC()
	sum.Elapsed = sum.Finished.Sub(sum.Started).Seconds()
	sum.Counts = st.Snapshot()
	if sum.Elapsed > 0 {
		sum.Rate = float64(sum.Counts.Written+sum.Counts.Deleted+sum.Counts.Skipped) / sum.Elapsed
	}
	sum.Unwritten = w.unwrittenKeys()
	sum.NotInRecovery = w.notInRecoveryKeys()
	switch {
	case ctx.Err() != nil:
		sum.Outcome = "interrupted"
		hint := ""
		if o.Checkpoint != "" {
			hint = "; checkpoint saved in " + o.Checkpoint + ": run the same command again to resume"
		}
		return sum, fmt.Errorf("copy %s → %s: %w after finishing the batches in flight%s", o.From, o.To, ErrInterrupted, hint)
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

// startSaver saves the checkpoint at most once a second while the copy
// runs, and a last time when stopped; the final error goes to errc.
func (p *Plan) startSaver(ctx context.Context, tr *tracker, errc chan<- error) (stop func()) {
	ctx = context.WithoutCancel(ctx) // the last save happens after an interrupt
	path := p.opts.Checkpoint
	if path == "" || p.opts.DryRun {
		errc <- nil
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastErr error
		save := func(force bool) {
			if s := tr.snapshot(force); s != nil {
				s.Updated = p.opts.Now().UTC()
				data, err := checkpoint.Encode(s)
				if err == nil {
					err = p.opts.Files.Write(ctx, path, data)
				}
				if err != nil {
					lastErr = err
					p.opts.Logger.Error("checkpoint not saved", "path", path, "error", err.Error())
				} else {
					lastErr = nil
				}
			}
		}
		for {
			select {
			case <-t.C:
				save(false)
			case <-done:
				save(true)
				errc <- lastErr
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// units returns the units of a phase that this worker handles.
func (p *Plan) units(phase string) []unit {
	o := p.opts
	n := o.Segments
	if o.Selection.KeyCondition != "" || o.Selection.KeysFile != "" {
		n = 1 // one Query, or one keys file (split by chunk between workers)
	}
	if phase == phaseDelete && o.Selection.KeysFile != "" {
		return nil // keys missing from the recovery table are deleted in the copy phase
	}
	var us []unit
	for i := 0; i < n; i++ {
		if o.Selection.KeysFile == "" && i%o.WorkerCount != o.WorkerIndex {
			continue
		}
		us = append(us, unit{phase: phase, idx: i})
	}
	return us
}

// runPhase reads the phase's units with bounded parallelism into a bounded
// channel that the writers drain.
func (p *Plan) runPhase(ctx context.Context, api API, phase string, w *writer, tr *tracker, exec func(context.Context, *batch, *rand.Rand) error) error {
	o := p.opts
	units := p.units(phase)
	if len(units) == 0 {
		return nil
	}
	// Writers finish their batch after an interrupt: they run on a context
	// that is not cancelled with ctx, bounded by DrainTimeout from then on.
	writeCtx, cancelWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrites()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(o.DrainTimeout, cancelWrites) })
	defer stopDrain()

	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *batch, o.Writers)
	g.Go(func() error {
		defer close(work)
		rg, rctx := errgroup.WithContext(gctx)
		rg.SetLimit(min(len(units), max(o.Writers, 4)))
		for _, u := range units {
			start := tr.start(u)
			if start.Done {
				continue
			}
			rg.Go(func() error { return p.readUnit(rctx, api, u, start, w, tr, work) })
		}
		return rg.Wait()
	})
	for i := 0; i < o.Writers; i++ {
		rng := rand.New(rand.NewPCG(uint64(i), uint64(o.Now().UnixNano())))
		g.Go(func() error {
			for b := range work {
				if gctx.Err() != nil {
					tr.finished(b.pg, false) // interrupted or failed: drain without writing
					continue
				}
				if err := exec(writeCtx, b, rng); err != nil {
					var inc *IncompleteError
					if errors.As(err, &inc) {
						continue // recorded as failed; the copy goes on
					}
					return err
				}
			}
			return nil
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return nil // reported by Run
	}
	return err
}
