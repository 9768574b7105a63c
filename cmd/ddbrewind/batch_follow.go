package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/internal/poll"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// batchClient builds the AWS Batch client. Its endpoint follows the SDK's
// settings (AWS_ENDPOINT_URL_BATCH, AWS_ENDPOINT_URL, the profile), not
// --endpoint-url, which is DynamoDB's; AWS_ENDPOINT_URL_BATCH is also read
// from env so that tests can point it at an emulator per run.
func batchClient(ctx context.Context, c *cli.Context, env *Env, log *slog.Logger) (*batch.Client, error) {
	cfg, err := awsConfig(ctx, c, nil, log)
	if err != nil {
		return nil, err
	}
	endpoint := env.Getenv("AWS_ENDPOINT_URL_BATCH")
	return batch.NewFromConfig(cfg, func(o *batch.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// jobState is what DescribeJobs says of one job of the chain.
type jobState struct {
	status   btypes.JobStatus
	reason   string
	exitCode *int32 // the job's, or the worst of its failed children's
	done     int32  // array children SUCCEEDED
	size     int32  // array size
}

// chainState is the chain as AWS Batch sees it now.
type chainState struct {
	jobs []jobState // by step
	done bool       // ended: every job succeeded, or one failed
	err  error      // when done: nil, or the failure, worded with run's exit code
}

// line is the one-line progress of the chain: each step's status, and
// the children done of an array job.
func (st chainState) line(rec *chainRecord) string {
	parts := make([]string, len(rec.Steps))
	for i, s := range rec.Steps {
		j := st.jobs[i]
		parts[i] = fmt.Sprintf("%s %s", s.Step, j.status)
		if j.size > 1 {
			parts[i] += fmt.Sprintf(" (%d of %d children done)", j.done, j.size)
		}
	}
	return strings.Join(parts, " · ")
}

// chainStatus describes the chain's jobs and decides whether it ended, and
// how: the first failed job (in chain order) decides the exit code, as
// run's (2 refused, 3 differences, else 1); the jobs after it never run.
func chainStatus(ctx context.Context, bc batchAPI, rec *chainRecord) (chainState, error) {
	ids := make([]string, len(rec.Steps))
	for i, s := range rec.Steps {
		ids[i] = s.JobID
	}
	out, err := bc.DescribeJobs(ctx, &batch.DescribeJobsInput{Jobs: ids})
	if err != nil {
		return chainState{}, fmt.Errorf("batch: describe the jobs of the chain: %w", err)
	}
	byID := map[string]btypes.JobDetail{}
	for _, j := range out.Jobs {
		byID[aws.ToString(j.JobId)] = j
	}
	st := chainState{jobs: make([]jobState, len(rec.Steps))}
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
		return &usageError{Msg: fmt.Sprintf("%s: refused, the same command would fail again; read %s%s", what, logs, kept)}
	case j.exitCode != nil && *j.exitCode == exitDifferences:
		return fmt.Errorf("%s: %w; read %s%s", what, errDifferent, logs, kept)
	default:
		return fmt.Errorf("%s: read %s%s; %s", what, logs, kept, again)
	}
}

// followChain polls the chain until it ends, logging each change; Ctrl-C
// stops the following, not the jobs.
func followChain(ctx context.Context, bc batchAPI, env *Env, log *slog.Logger, rec *chainRecord, prefix string, interval time.Duration) error {
	last := ""
	var final chainState
	err := poll.Until(ctx, poll.Schedule{Min: min(5*time.Second, interval), Max: interval}, 30*24*time.Hour, env.Now, func(ctx context.Context) (bool, error) {
		st, err := chainStatus(ctx, bc, rec)
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
	if rec.RestorePoint != nil {
		fmt.Fprintf(env.Out, "rewound %s to %s (AWS Batch chain under %s done)\n", rec.Table, tables.MessageTime(*rec.RestorePoint), prefix)
	} else {
		fmt.Fprintf(env.Out, "rewound %s from incremental exports (AWS Batch job under %s done)\n", rec.Table, prefix)
	}
	return nil
}
