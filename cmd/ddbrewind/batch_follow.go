package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/poll"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// batchClient builds the AWS Batch client; its endpoint as serviceConfig
// says.
func batchClient(ctx context.Context, c *cli.Context, env *Env, log *slog.Logger) (*batch.Client, error) {
	cfg, err := serviceConfig(ctx, c, env, log, "AWS_ENDPOINT_URL_BATCH")
	if err != nil {
		return nil, err
	}
	return batch.NewFromConfig(cfg), nil
}

// inRegion is bc working in region, the chain's recorded Region: its
// jobs are there, whatever Region this machine is set to. An empty region
// (never recorded) leaves bc as it is.
func inRegion(bc *batch.Client, region string) *batch.Client {
	if region == "" || bc.Options().Region == region {
		return bc
	}
	return batch.New(bc.Options(), func(o *batch.Options) { o.Region = region })
}

// jobState is what DescribeJobs says of one job of the chain.
type jobState struct {
	status   btypes.JobStatus
	reason   string
	exitCode *int32 // the job's, or the worst of its failed children's
	done     int32  // array children SUCCEEDED
	size     int32  // array size
}

// chainState is the chain as AWS Batch sees it now, and what the reports
// of the copy's finished children say.
type chainState struct {
	jobs []jobState // by step
	done bool       // ended: every job succeeded, or one failed
	err  error      // when done: nil, or the failure, worded with run's exit code

	written writtenSoFar
}

// writtenSoFar is the items written by the copy's children whose reports
// are there (a child writes its report when it ends).
type writtenSoFar struct {
	step    int   // the copy's (or run --since's) step; meaningful when reports > 0
	reports int   // reports read
	of      int   // reports expected: the children
	items   int64 // their counts.written, summed
}

// text words the items written for the copy step's progress: "" before
// any report is there.
func (w writtenSoFar) text(ended bool) string {
	items := countNoun(w.items, "item") + " written"
	switch {
	case w.reports == 0:
		return ""
	case ended && w.reports == w.of:
		return items
	case ended:
		return fmt.Sprintf("%s by the %d of %d children that left a report", items, w.reports, w.of)
	case w.of == 1:
		return items + " so far"
	}
	return items + " so far by finished children"
}

// line is the one-line progress of the chain: each step's status, the
// children done of an array job, and the items written by the finished
// children.
func (st chainState) line(rec *chainRecord) string {
	parts := make([]string, len(rec.Steps))
	for i, s := range rec.Steps {
		j := st.jobs[i]
		parts[i] = fmt.Sprintf("%s %s", s.Step, j.status)
		var more []string
		if j.size > 1 {
			more = append(more, fmt.Sprintf("%d of %d children done", j.done, j.size))
		}
		if st.written.step == i {
			if w := st.written.text(ended(j.status)); w != "" {
				more = append(more, w)
			}
		}
		if len(more) > 0 {
			parts[i] += " (" + strings.Join(more, "; ") + ")"
		}
	}
	return strings.Join(parts, " · ")
}

// ended reports whether a job's status is final.
func ended(s btypes.JobStatus) bool {
	return s == btypes.JobStatusSucceeded || s == btypes.JobStatusFailed
}

// chainReports reads the reports the copy job's children leave under the
// state prefix as they end: the copy command's --report, with each
// child's worker suffix (reportPath), or run --since's --report. A chain
// recorded before its copy command had a --report has none to read.
type chainReports struct {
	files  *statefile.Store
	step   int             // the step whose reports these are
	bucket string          // the state prefix's bucket
	list   string          // the listed prefix: the report's key
	want   map[string]bool // the keys of the reports, one per child
	seen   map[string]seenReport
}

// seenReport is a report read, by its ETag: read again only when a retried
// child replaced it.
type seenReport struct {
	etag    string
	written int64
}

// newChainReports returns the reports of rec's copy (or run) step; nil
// when its command writes none.
func newChainReports(files *statefile.Store, rec *chainRecord) *chainReports {
	for i, s := range rec.Steps {
		if s.Step != stepCopy && s.Step != stepRun {
			continue
		}
		locs := reportLocations(s)
		if len(locs) == 0 || files == nil || files.S3 == nil {
			return nil
		}
		bucket, key, err := statefile.ParseS3(commandFlag(s.Command, "report"))
		if err != nil {
			return nil
		}
		r := &chainReports{files: files, step: i, bucket: bucket, list: key, want: map[string]bool{}, seen: map[string]seenReport{}}
		for _, l := range locs {
			if _, k, err := statefile.ParseS3(l); err == nil {
				r.want[k] = true
			}
		}
		return r
	}
	return nil
}

// reportLocations lists where the children of a copy (or run) step write
// their reports: its --report as each of its K workers resolves it
// (reportPath); none when the command has no s3:// --report.
func reportLocations(s *chainStep) []string {
	base := commandFlag(s.Command, "report")
	if !statefile.IsS3(base) {
		return nil
	}
	k := max(s.ArraySize, 1)
	locs := make([]string, k)
	for i := range k {
		locs[i] = base + workerSuffix(i, k)
	}
	return locs
}

// commandFlag is the value of --name in a command batch start built
// ("--name", value); "" when absent.
func commandFlag(cmd []string, name string) string {
	for i, a := range cmd {
		if a == "--"+name && i+1 < len(cmd) {
			return cmd[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	return ""
}

// read lists the reports there now and reads those new or replaced since
// the last read (ListObjectsV2, GetObject); it returns them summed.
func (r *chainReports) read(ctx context.Context) (writtenSoFar, error) {
	p := s3.NewListObjectsV2Paginator(r.files.S3, &s3.ListObjectsV2Input{Bucket: aws.String(r.bucket), Prefix: aws.String(r.list)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return r.sum(), fmt.Errorf("batch: list the copy's reports s3://%s/%s*: %w", r.bucket, r.list, err)
		}
		for _, o := range page.Contents {
			key, etag := aws.ToString(o.Key), aws.ToString(o.ETag)
			if !r.want[key] || (r.seen[key].etag == etag && etag != "") {
				continue
			}
			loc := "s3://" + r.bucket + "/" + key
			data, err := r.files.Read(ctx, loc)
			if err != nil {
				return r.sum(), fmt.Errorf("batch: read the copy's report %s: %w", loc, err)
			}
			var sum copier.Summary
			if err := json.Unmarshal(data, &sum); err != nil {
				return r.sum(), fmt.Errorf("batch: the copy's report %s is not a report of ddbrewind copy: %w", loc, err)
			}
			r.seen[key] = seenReport{etag: etag, written: sum.Counts.Written}
		}
	}
	return r.sum(), nil
}

// sum adds up the reports read so far.
func (r *chainReports) sum() writtenSoFar {
	w := writtenSoFar{step: r.step, reports: len(r.seen), of: len(r.want)}
	for _, s := range r.seen {
		w.items += s.written
	}
	return w
}

// observe is the chain's state now: its jobs, and the reports of the
// copy's children once the copy job started (reports may be nil). A
// report that cannot be read is a warning, not the end of the following:
// the progress keeps the last sum.
func observe(ctx context.Context, bc batchAPI, rec *chainRecord, reports *chainReports, log *slog.Logger) (chainState, error) {
	st, err := chainStatus(ctx, bc, rec)
	if err != nil || reports == nil {
		return st, err
	}
	st.written = writtenSoFar{step: -1}
	switch status := st.jobs[reports.step].status; status {
	case btypes.JobStatusRunning, btypes.JobStatusSucceeded, btypes.JobStatusFailed:
		if ended(status) && len(reports.seen) == len(reports.want) {
			st.written = reports.sum() // every child's read: no listing more
			break
		}
		w, err := reports.read(ctx)
		if err != nil {
			log.Warn("cannot read the copy's reports: the progress leaves out what the finished children wrote", "error", err)
		}
		st.written = w
	}
	return st, nil
}

// chainStatus describes the chain's jobs and decides whether it ended, and
// how: the first failed job (in chain order) decides the exit code, as
// run's (2 refused, 3 differences, else 1); the jobs after it never run.
func chainStatus(ctx context.Context, bc batchAPI, rec *chainRecord) (chainState, error) {
	ids := make([]string, len(rec.Steps))
	var missing []string
	for i, s := range rec.Steps {
		ids[i] = s.JobID
		if s.JobID == "" {
			missing = append(missing, s.Step)
		}
	}
	if len(missing) > 0 {
		were := "jobs were"
		if len(missing) == 1 {
			were = "job was"
		}
		return chainState{}, fmt.Errorf("batch: the %s %s never submitted (batch start was cut off while it submitted the chain): run the same batch start again, it submits only the missing jobs",
			andList(missing), were)
	}
	out, err := bc.DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: ids})
	if err != nil {
		return chainState{}, fmt.Errorf("batch: describe the jobs of the chain: %w", err)
	}
	byID := map[string]btypes.JobDetail{}
	for _, j := range out.Jobs {
		byID[aws.ToString(j.JobId)] = j
	}
	st := chainState{jobs: make([]jobState, len(rec.Steps)), written: writtenSoFar{step: -1}}
	for i, s := range rec.Steps {
		d, ok := byID[s.JobID]
		if !ok {
			return st, fmt.Errorf("batch: job %s (%s) of the chain is not known to AWS Batch in %s: jobs are kept about 7 days after they end", s.JobID, s.Step, rec.Region)
		}
		j := jobState{status: d.Status, reason: aws.ToString(d.StatusReason)}
		if d.Container != nil {
			j.exitCode = d.Container.ExitCode
		}
		if ap := d.ArrayProperties; ap != nil {
			j.size = aws.ToInt32(ap.Size)
			j.done = ap.StatusSummary["SUCCEEDED"]
		}
		st.jobs[i] = j
	}
	for i, j := range st.jobs {
		if j.status != btypes.JobStatusFailed {
			continue
		}
		if j.size > 1 && j.exitCode == nil {
			code, err := childExitCode(ctx, bc, rec.Steps[i].JobID, j.size)
			if err != nil {
				return st, err
			}
			st.jobs[i].exitCode = code
		}
		st.done, st.err = true, chainFailure(rec, rec.Steps[i], st.jobs[i])
		return st, nil
	}
	st.done = st.jobs[len(st.jobs)-1].status == btypes.JobStatusSucceeded
	return st, nil
}

// andList joins words as "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// childExitCode returns the exit code that decides for a failed array
// job of size children: 2 (refused) before 3 (differences) before any
// other; nil when no failed child has one. The children are described by
// their ids (ARRAY:INDEX), 100 at a time.
func childExitCode(ctx context.Context, bc batchAPI, arrayID string, size int32) (*int32, error) {
	var worst *int32
	rank := func(c int32) int {
		switch c {
		case exitUsage:
			return 3
		case exitDifferences:
			return 2
		}
		return 1
	}
	for first := int32(0); first < size; first += 100 {
		var ids []string
		for i := first; i < min(first+100, size); i++ {
			ids = append(ids, fmt.Sprintf("%s:%d", arrayID, i))
		}
		out, err := bc.DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: ids})
		if err != nil {
			return nil, fmt.Errorf("batch: describe the children of array job %s: %w", arrayID, err)
		}
		for _, j := range out.Jobs {
			if j.Status != btypes.JobStatusFailed || j.Container == nil || j.Container.ExitCode == nil {
				continue
			}
			if c := j.Container.ExitCode; worst == nil || rank(*c) > rank(*worst) {
				worst = c
			}
		}
	}
	return worst, nil
}

// chainFailure words a failed job as run's error of the same exit code.
func chainFailure(rec *chainRecord, s *chainStep, j jobState) error {
	code := "no exit code"
	if j.exitCode != nil {
		code = fmt.Sprintf("exit %d", *j.exitCode)
	}
	what := fmt.Sprintf("batch: the %s job %s failed (%s", s.Step, s.JobID, code)
	if j.reason != "" {
		what += ", " + j.reason
	}
	what += ")"
	logs := fmt.Sprintf("its log: %s", consoleURL(rec.Region, s.JobID))
	kept, again := "", "fix the cause, then batch start again with a new --state-prefix"
	if rec.RecoveryTable != "" && s.Step != stepCleanup {
		kept = fmt.Sprintf("; the later jobs do not run: recovery table %s stays (ddbrewind cleanup --recovery-table %s when done with it)", rec.RecoveryTable, rec.RecoveryTable)
		if s.Step == stepRestore {
			kept = fmt.Sprintf("; the later jobs do not run: recovery table %s stays if the restore started (ddbrewind cleanup --recovery-table %s)", rec.RecoveryTable, rec.RecoveryTable)
		}
		again = "fix the cause, delete the recovery table, then batch start again with a new --state-prefix"
	}
	switch {
	case j.exitCode != nil && *j.exitCode == exitUsage:
		return &usage.Error{Msg: fmt.Sprintf("%s: refused, the same command would fail again; read %s%s", what, logs, kept)}
	case j.exitCode != nil && *j.exitCode == exitDifferences:
		return fmt.Errorf("%s: %w; read %s%s", what, errDifferent, logs, kept)
	default:
		return fmt.Errorf("%s: read %s%s; %s", what, logs, kept, again)
	}
}

// followChain polls the chain until it ends, logging each change; Ctrl-C
// stops the following, not the jobs.
func followChain(ctx context.Context, bc batchAPI, files *statefile.Store, env *Env, log *slog.Logger, rec *chainRecord, prefix string, interval time.Duration) error {
	last := ""
	var final chainState
	reports := newChainReports(files, rec)
	err := poll.Until(ctx, poll.Schedule{Min: min(5*time.Second, interval), Max: interval}, 30*24*time.Hour, env.Now, func(ctx context.Context) (bool, error) {
		st, err := observe(ctx, bc, rec, reports, log)
		if err != nil {
			return false, err
		}
		if l := st.line(rec); l != last {
			log.Info("progress", "state_prefix", prefix, "jobs", l)
			last = l
		}
		final = st
		return st.done, nil
	})
	if errors.Is(err, poll.ErrInterrupted) {
		return fmt.Errorf("batch: stopped following; the jobs go on in AWS Batch (follow them again with ddbrewind batch status %s): %w", prefix, poll.ErrInterrupted)
	}
	if err != nil {
		return err
	}
	if final.err != nil {
		return final.err
	}
	written := final.written.text(true)
	if written != "" {
		written = "; " + written
	}
	if rec.RestorePoint != nil {
		fmt.Fprintf(env.Out, "rewound %s to %s (AWS Batch chain under %s done%s)\n", rec.Table, tables.MessageTime(*rec.RestorePoint), prefix, written)
	} else {
		fmt.Fprintf(env.Out, "rewound %s from incremental exports (AWS Batch job under %s done%s)\n", rec.Table, prefix, written)
	}
	return nil
}
