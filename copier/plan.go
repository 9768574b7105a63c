package copier

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Plan is a checked copy, diff or show of a past (a recovery table, an
// export, an incremental window) into or against the main table of its
// Job, ready to run.
type Plan struct {
	job     *Job
	opts    Options // the job's, with From and Segments resolved
	purpose purpose
	past    past      // what the plan reads, resolved once
	mode    WriteMode // resolved once from opts
	ckpt
	// ownsJob: Close (and Run, Diff) release the job too.
	ownsJob bool
	// Estimate is what Read will reach, roughly: DynamoDB's approximate
	// item count of the source (updated about every six hours) for a scan,
	// or where that is 0 (a fresh recovery table) a sample's extrapolation;
	// the number of keys of a keys file; an export manifest's item count
	// for an export; a count of a key range (bounded: countPages); 0
	// (unknown) for a resumed copy. EstimateFrom says where it comes from;
	// EstimateAtLeast, that the count stopped before the end: there are
	// more items than Estimate.
	Estimate        int64
	EstimateFrom    string
	EstimateAtLeast bool
}

// ckpt is the plan's checkpoint: its state, whether it resumes one, and
// what the one it resumes recorded.
type ckpt struct {
	state *checkpoint.State
	// autoSegments: Segments was not given, so a checkpoint's count wins.
	autoSegments bool
	resumed      bool
	// priorConflicts and priorClobbered are what the checkpoint resumed
	// recorded for the pages it moved past: the summary folds them in.
	priorConflicts, priorClobbered []string
}

// Prepare checks everything before anything is written: options, tables
// (both exist, differ, same key schema, target not a recovery table), the
// selection (placeholders, keys file, expressions DynamoDB must accept) and
// the checkpoint (made for this same copy).
func Prepare(ctx context.Context, api API, opts Options) (*Plan, error) {
	return prepare(ctx, api, opts, forCopy)
}

// Copy prepares the copy from the recovery table from into the job's main
// table, resuming from checkpoint (empty: none). It describes from once and
// checks its key schema; everything else was checked by PrepareJob.
func (j *Job) Copy(ctx context.Context, api API, from, checkpoint string) (*Plan, error) {
	pa, err := j.tablePast(ctx, api, from, j.verb)
	if err != nil {
		return nil, err
	}
	return j.plan(ctx, api, pa, forCopy, j.opts.Stats, func(o *Options) { o.Checkpoint = checkpoint })
}

// Diff prepares the comparison of the job's selection between from and
// the main table, counting into stats (nil: new counters).
func (j *Job) Diff(ctx context.Context, api API, from string, stats *Stats) (*Plan, error) {
	pa, err := j.tablePast(ctx, api, from, "diff")
	if err != nil {
		return nil, err
	}
	if stats == nil {
		stats = &Stats{}
	}
	return j.plan(ctx, api, pa, forDiff, stats)
}

// plan builds the plan of past for purpose u, counting into stats; adjust
// changes the job's options for this plan (a run's checkpoint, a dry run).
func (j *Job) plan(ctx context.Context, api API, pa past, u purpose, stats *Stats, adjust ...func(*Options)) (*Plan, error) {
	o := j.opts
	o.From, o.Stats = pa.name(), stats
	for _, f := range adjust {
		f(&o)
	}
	if !u.writes() {
		o.DryRun, o.Checkpoint, o.Journal = true, "", ""
	}
	p := &Plan{job: j, opts: o, mode: o.Mode(), purpose: u, past: pa}
	if !u.writes() {
		p.mode = p.mode.reading()
	}
	pa.begin(p)
	if u.writes() {
		if err := p.loadCheckpoint(ctx); err != nil {
			return nil, err
		}
	} else {
		p.state = &checkpoint.State{Units: map[string]checkpoint.Unit{}}
	}
	if err := pa.settle(ctx, api, p); err != nil {
		return nil, err
	}
	if p.resumed {
		p.Estimate, p.EstimateFrom, p.EstimateAtLeast = 0, "", false // what is left is unknown
	}
	p.opts.Stats.Estimated.Store(p.Estimate / int64(p.opts.WorkerCount))
	return p, nil
}

// Close releases what the plan holds (a keys file downloaded from S3, when
// the plan prepared its own job). Run and Diff close the plan when they
// end; a caller that prepares a plan it may not run defers Close right
// after Prepare. Close is idempotent.
func (p *Plan) Close() {
	if p.ownsJob {
		p.job.Close()
	}
}

// Complete reports whether the plan resumes a checkpoint whose every unit
// this worker reads is done: a rerun of a finished copy has nothing left to
// copy.
//
// A checkpoint that records conflicts or clobbered keys is not complete:
// running the plan reports them (exit 3), or accepts them.
func (p *Plan) Complete() bool {
	if !p.resumed || len(p.priorConflicts)+len(p.priorClobbered) > 0 {
		return false
	}
	srcs := map[string]source{phaseCopy: p.source(nil)}
	if ex := p.extras(nil); ex != nil {
		srcs[phaseDelete] = ex
	}
	for phase, src := range srcs {
		for _, u := range src.units(phase) {
			if !p.state.Units[u.key()].Done {
				return false
			}
		}
	}
	f, ok := srcs[phaseCopy].(finisher)
	return !ok || f.checked(p.state)
}

// finisher is a source that ends its phase with a check of its own (a full
// export's key in two files, export_keyruns.go): finish runs it after the
// phase (err is the phase's error), checked reports whether the checkpoint
// records that it passed.
type finisher interface {
	finish(ctx context.Context, tr *tracker, err error) error
	checked(st *checkpoint.State) bool
}

// ResumeProgress says how far the checkpoint a plan resumes got, for the
// confirmation: per phase, the units this worker reads that are done (scan
// segments, export data files) or the keys-file lines handled, e.g. "3 of
// 8 scan segments done". It is empty when the plan does not resume.
func (p *Plan) ResumeProgress() string {
	if !p.resumed {
		return ""
	}
	srcs := []source{p.source(nil)}
	phases := []string{phaseCopy}
	if ex := p.extras(nil); ex != nil {
		srcs, phases = append(srcs, ex), append(phases, phaseDelete)
	}
	var parts []string
	for i, src := range srcs {
		us := src.units(phases[i])
		if len(us) == 0 {
			continue
		}
		done, total, what := 0, len(us), "parts"
		if n, ok := src.(interface{ unitsName() string }); ok {
			what = n.unitsName()
		}
		if ks, ok := src.(*keysSource); ok {
			total = ks.file.lines
		}
		for _, u := range us {
			pos := p.state.Units[u.key()]
			switch {
			case pos.Done && what == "keys-file lines":
				done = total
			case pos.Done:
				done++
			case what == "keys-file lines":
				done = min(pos.Line, total)
			}
		}
		part := fmt.Sprintf("%s of %s %s done", countText(int64(done)), countText(int64(total)), what)
		if len(srcs) > 1 {
			part = phases[i] + " phase " + part
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

// countText writes n with thousands separators.
func countText(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// KeysInFile returns the number of distinct keys of the keys file, 0
// without one.
func (p *Plan) KeysInFile() int {
	if p.job.keysFile == nil {
		return 0
	}
	return p.job.keysFile.keys
}

// Segments returns the segment count the copy will use.
func (p *Plan) Segments() int { return p.opts.Segments }

// Source returns what the plan reads: the recovery table's name, or the
// export's directory URL.
func (p *Plan) Source() string { return p.opts.From }

// Resumed reports whether the copy resumes from a checkpoint.
func (p *Plan) Resumed() bool { return p.resumed }

// fingerprint identifies this copy for its checkpoint.
func (p *Plan) fingerprint() (string, string) {
	desc := withSkipExpired(p.past.fingerprint(p), p.opts)
	return hash(desc), desc
}

// manifests identifies the export files the plan reads (see
// exportfile.Export.Digest), "" for a table source.
func (p *Plan) manifests() string { return p.past.manifests() }

// withSkipExpired adds --skip-expired to a fingerprint's description, only
// when set: it changes what the copy writes, and the checkpoints made
// without it keep their fingerprint.
func withSkipExpired(desc string, o Options) string {
	if !o.SkipExpired {
		return desc
	}
	first, rest, _ := strings.Cut(desc, "\n")
	return first + " skip-expired=true\n" + rest
}

func (p *Plan) loadCheckpoint(ctx context.Context) error {
	fp, desc := p.fingerprint()
	p.state = &checkpoint.State{Fingerprint: fp, Describe: desc, Segments: p.opts.Segments, Units: map[string]checkpoint.Unit{}, Manifests: p.manifests(), Keys: p.keysDigest()}
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
		return &usage.Error{Msg: err.Error()}
	}
	if p.autoSegments && st.Segments > 0 && st.Segments != p.opts.Segments {
		// The default moved with DescribeTable's figures since the
		// checkpoint was made: resume with the checkpoint's split.
		p.opts.Logger.Info("resuming with the checkpoint's segment count", "segments", st.Segments, "default_now", p.opts.Segments)
		p.opts.Segments = st.Segments
		fp, desc = p.fingerprint()
		p.state = &checkpoint.State{Fingerprint: fp, Describe: desc, Segments: p.opts.Segments, Units: map[string]checkpoint.Unit{}, Manifests: p.manifests(), Keys: p.keysDigest()}
	}
	if st.Fingerprint != fp {
		return usage.Errorf("--checkpoint %s was made for another copy (%s); this one is (%s): use the same flags, or another --checkpoint path to start over",
			p.opts.Checkpoint, oneLine(st.Describe), oneLine(desc))
	}
	if cur := p.manifests(); st.Manifests != "" && st.Manifests != cur {
		return usage.Errorf("--checkpoint %s was made for other export files: the manifests of %s changed since (other data files, checksums or item counts), and its positions are lines of the old files: pass another --checkpoint path to start over",
			p.opts.Checkpoint, p.opts.From)
	}
	if cur := p.keysDigest(); st.Keys != "" && st.Keys != cur {
		return usage.Errorf("--checkpoint %s was made for another keys file: %s holds other lines than when the checkpoint was saved, and its positions are line numbers of the old content: give the same keys, or another --checkpoint path to start over",
			p.opts.Checkpoint, keysFileName(p.opts.Selection.KeysFile))
	}
	st.Manifests = p.manifests()
	st.Keys = p.keysDigest()
	st.Segments = p.opts.Segments
	p.state = st
	p.resumed = true
	p.priorConflicts, p.priorClobbered = slices.Clone(st.Conflicts), slices.Clone(st.Clobbered)
	return nil
}

// keysDigest identifies the content of the keys file, "" without one.
func (p *Plan) keysDigest() string {
	if p.job.keysFile == nil {
		return ""
	}
	return p.job.keysFile.digest
}

// keysFileName names a keys file in messages: "--keys-file PATH", or
// stdin for "-".
func keysFileName(loc string) string {
	if loc == "-" {
		return "stdin (--keys-file -)"
	}
	return "--keys-file " + loc
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// source returns the source of the copy phase.
func (p *Plan) source(x *executor) source { return p.past.source(p, x) }

// extras returns the source of the delete phase — the main table's
// selection, keys only, to be looked up in the source, or a keys file's
// keys the source lacks — or nil when the plan has none.
func (p *Plan) extras(x *executor) source { return p.past.extras(p, x) }

// beforeExtras readies the delete phase: a source that must be read whole
// before its keys are looked up (an export's key index) completes itself.
func beforeExtras(ctx context.Context, src source) error {
	if c, ok := src.(interface{ beforeExtras(context.Context) error }); ok {
		return c.beforeExtras(ctx)
	}
	return nil
}

// pipeline returns the pipeline of the plan's phases.
func (p *Plan) pipeline(tr *tracker) *pipeline {
	return &pipeline{writers: p.opts.Writers, drainTimeout: p.opts.DrainTimeout, now: p.opts.Now, tracker: tr}
}

// Run copies. It returns the summary and, on failure, an error:
// ErrInterrupted (wrapped) after a signal, *IncompleteError when items could
// not be written, or the first permanent error.
func (p *Plan) Run(ctx context.Context, api API) (*Summary, error) {
	defer p.Close()
	o := p.opts
	sum := newSummary(o, o.From, p.resumed)
	x := newExecutor(api, o, p.job.keys.names, o.To)
	t := &target{x: x, table: o.To, keyNames: p.job.keys.names, sel: o.Selection, dryRun: o.DryRun}
	if o.Journal != "" && !o.DryRun {
		j, err := openJournal(ctx, o.Files, o.Journal, o.To, p.job.keys.names, o.Now(), o.Logger)
		if err != nil {
			return sum, err
		}
		defer j.close()
		t.journal = j
	}
	snk := &mainTableSink{next: p.past.sink(p, t, x), ttl: p.job.ttl, skip: o.SkipExpired, now: o.Now, x: x}
	if m := p.MainTable(); !m.empty() {
		sum.MainTable = &m
	}
	tr := newTracker(p.state)
	pl := p.pipeline(tr)

	saveErr := make(chan error, 1)
	stopSaver := p.startSaver(ctx, tr, saveErr)
	src := p.source(x)
	err := pl.run(ctx, phaseCopy, src, kindItems, snk)
	if f, ok := src.(finisher); ok {
		err = f.finish(ctx, tr, err)
	}
	if ex := p.extras(x); err == nil && ex != nil && ctx.Err() == nil {
		if err = beforeExtras(ctx, src); err == nil && ctx.Err() == nil {
			o.Stats.DeletePhase.Store(true)
			err = pl.run(ctx, phaseDelete, ex, kindCandidates, snk)
		}
	}
	stopSaver()
	// The saver's last save: its error decides what the messages may say
	// about the checkpoint.
	serr := <-saveErr
	if serr != nil {
		serr = fmt.Errorf("the checkpoint could not be saved in %s: %w", o.Checkpoint, serr)
	}
	sum.finish(o, x)
	sum.fold(p.priorConflicts, p.priorClobbered)
	_, window := p.past.(*windowPast)
	sum.ConflictsAccepted = p.mode.acceptsConflicts() && window
	switch {
	case ctx.Err() != nil:
		sum.Outcome = "interrupted"
		switch {
		case serr != nil:
			// Still ErrInterrupted (exit 130), but never "saved".
			return sum, fmt.Errorf("copy %s → %s: %w after finishing the batches in flight, but %w: a rerun resumes from the last checkpoint that was saved, if any, and writes again what was copied since",
				o.From, o.To, ErrInterrupted, serr)
		case o.Checkpoint != "" && !o.DryRun:
			return sum, fmt.Errorf("copy %s → %s: %w after finishing the batches in flight; checkpoint saved in %s: run the same command again to resume", o.From, o.To, ErrInterrupted, o.Checkpoint)
		}
		hint := ""
		if o.Checkpoint == "" {
			hint = "; rerun with --checkpoint FILE to be able to resume next time"
		}
		return sum, fmt.Errorf("copy %s → %s: %w after finishing the batches in flight%s", o.From, o.To, ErrInterrupted, hint)
	case err != nil:
		sum.Outcome = "failed"
		if serr != nil {
			return sum, fmt.Errorf("%w; also, %v", err, serr)
		}
		return sum, err
	case serr != nil:
		sum.Outcome = "failed"
		return sum, fmt.Errorf("copy %s → %s: %w", o.From, o.To, serr)
	}
	return sum, sum.outcome(o.To)
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

// sampleSegments is how many segments the size sample splits a table into.
const sampleSegments = 1000

// countPages bounds a count (Select=COUNT) of a key range, or of a table
// whose sample found nothing: at most 16 pages of at most 1 MB each, so
// at most 16 MB read (2,048 read capacity units, eventually consistent).
const countPages = 16

// sampleCount estimates a table's item count where DynamoDB's is 0: a
// Select=COUNT scan of segment after segment of a 1000-segment split,
// until 2,000 items or 16 segments (1.6 % of the table) were counted,
// extrapolated. It returns the estimate and the segments counted.
func sampleCount(ctx context.Context, api API, table string) (int64, int, error) {
	var counted int64
	k := 0
	for k < 16 && counted < 2000 {
		// Spread the sampled segments over the key space.
		seg := (k * 617) % sampleSegments
		in := &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount,
			Segment: aws.Int32(int32(seg)), TotalSegments: aws.Int32(sampleSegments)}
		n, _, err := countScan(ctx, api, in, 0)
		if err != nil {
			return 0, k, err
		}
		counted += n
		k++
	}
	return counted * sampleSegments / int64(k), k, nil
}

// countScan counts the items of a Select=COUNT scan, page after page, for
// at most maxPages pages (0: all); complete says whether it reached the
// end.
func countScan(ctx context.Context, api API, in *dynamodb.ScanInput, maxPages int) (n int64, complete bool, err error) {
	return countPaged(ctx, dynamodb.NewScanPaginator(api, in), func(o *dynamodb.ScanOutput) int32 { return o.Count }, maxPages)
}

// countQuery is countScan for a Query.
func countQuery(ctx context.Context, api API, in *dynamodb.QueryInput, maxPages int) (n int64, complete bool, err error) {
	return countPaged(ctx, dynamodb.NewQueryPaginator(api, in), func(o *dynamodb.QueryOutput) int32 { return o.Count }, maxPages)
}

// pager is the SDK's Scan or Query paginator.
type pager[O any] interface {
	HasMorePages() bool
	NextPage(ctx context.Context, optFns ...func(*dynamodb.Options)) (O, error)
}

// countPaged adds up the counts of p's pages, for at most maxPages pages
// (0: all); complete says whether it reached the last page.
func countPaged[O any](ctx context.Context, p pager[O], count func(O) int32, maxPages int) (int64, bool, error) {
	var n int64
	for pages := 0; p.HasMorePages(); pages++ {
		if maxPages > 0 && pages == maxPages {
			return n, false, nil
		}
		out, err := p.NextPage(ctx)
		if err != nil {
			return n, false, err
		}
		n += int64(count(out))
	}
	return n, true, nil
}
