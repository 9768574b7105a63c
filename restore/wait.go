package restore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/backoff"
)

// Poll is a capped exponential polling schedule. Restores of big tables take
// hours, so the wait polls DescribeTable itself instead of relying on a
// waiter's default limit.
type Poll struct {
	Min, Max time.Duration
}

// DefaultPoll polls after 2 s, doubling up to every 30 s.
var DefaultPoll = Poll{Min: 2 * time.Second, Max: 30 * time.Second}

// WaitActive polls DescribeTable until table is ACTIVE (and no restore is in
// progress), the timeout passes or ctx is cancelled. It logs the elapsed time
// and status at each poll. Cancelling ctx stops the wait, not the restore.
func WaitActive(ctx context.Context, api API, table string, timeout time.Duration, poll Poll, now func() time.Time, log *slog.Logger) (types.TableStatus, error) {
	start := now()
	delay := poll.Min
	var status types.TableStatus
	for {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		switch {
		case ctx.Err() != nil:
			return status, fmt.Errorf("%w for %s (status %s after %s): the restore goes on in DynamoDB; see it with ddbrewind list, and delete it with ddbrewind cleanup --recovery-table %s if unwanted",
				ErrWaitInterrupted, table, statusOr(status), now().Sub(start).Round(time.Second), table)
		case err != nil && !isNotFound(err):
			return status, fmt.Errorf("wait for %s: %w", table, err)
		case err == nil:
			status = out.Table.TableStatus
			restoring := out.Table.RestoreSummary != nil && aws.ToBool(out.Table.RestoreSummary.RestoreInProgress)
			if status == types.TableStatusActive && !restoring {
				log.Info("recovery table is ACTIVE", "table", table, "elapsed", now().Sub(start).Round(time.Second).String())
				return status, nil
			}
		}
		elapsed := now().Sub(start)
		log.Info("waiting for recovery table", "table", table, "status", statusOr(status), "elapsed", elapsed.Round(time.Second).String())
		if elapsed > timeout {
			return status, fmt.Errorf("timed out after %s waiting for %s to become ACTIVE (status %s): the restore goes on in DynamoDB; wait longer with --timeout or check it with ddbrewind list",
				timeout, table, statusOr(status))
		}
		if err := backoff.Sleep(ctx, delay); err != nil {
			continue // reported at the top of the loop
		}
		delay = min(delay*2, poll.Max)
	}
}

// WaitRestoreJob polls DescribeRestoreJob until the AWS Backup restore job
// has COMPLETED, failed (FAILED, ABORTED: an error with AWS Backup's status
// message), the timeout passes or ctx is cancelled, with the same schedule,
// logging and Ctrl-C behaviour as WaitActive: cancelling ctx stops the wait,
// not the job.
func WaitRestoreJob(ctx context.Context, api BackupAPI, job string, timeout time.Duration, poll Poll, now func() time.Time, log *slog.Logger) (*backup.DescribeRestoreJobOutput, error) {
	start := now()
	delay := poll.Min
	var status backuptypes.RestoreJobStatus
	for {
		out, err := api.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(job)})
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%w for AWS Backup restore job %s (status %s after %s): the job goes on in AWS Backup (aws backup describe-restore-job --restore-job-id %s)",
				ErrWaitInterrupted, job, jobStatusOr(status), now().Sub(start).Round(time.Second), job)
		case err != nil:
			return nil, fmt.Errorf("describe AWS Backup restore job %s: %w", job, err)
		}
		status = out.Status
		switch status {
		case backuptypes.RestoreJobStatusCompleted:
			log.Info("AWS Backup restore job COMPLETED", "job", job, "elapsed", now().Sub(start).Round(time.Second).String())
			return out, nil
		case backuptypes.RestoreJobStatusFailed, backuptypes.RestoreJobStatusAborted:
			return out, fmt.Errorf("AWS Backup restore job %s %s: %s", job, status, aws.ToString(out.StatusMessage))
		}
		elapsed := now().Sub(start)
		log.Info("waiting for AWS Backup restore job", "job", job, "status", jobStatusOr(status),
			"percent_done", aws.ToString(out.PercentDone), "elapsed", elapsed.Round(time.Second).String())
		if elapsed > timeout {
			return nil, fmt.Errorf("timed out after %s waiting for AWS Backup restore job %s to complete (status %s): the job goes on in AWS Backup; wait longer with --timeout",
				timeout, job, jobStatusOr(status))
		}
		if err := backoff.Sleep(ctx, delay); err != nil {
			continue // reported at the top of the loop
		}
		delay = min(delay*2, poll.Max)
	}
}

func jobStatusOr(s backuptypes.RestoreJobStatus) string {
	if s == "" {
		return "not known yet"
	}
	return string(s)
}

// WaitGone polls DescribeTable until table no longer exists.
func WaitGone(ctx context.Context, api API, table string, timeout time.Duration, poll Poll, now func() time.Time, log *slog.Logger) error {
	start := now()
	delay := poll.Min
	for {
		_, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if isNotFound(err) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w for the deletion of %s: the deletion goes on in DynamoDB", ErrWaitInterrupted, table)
		}
		if err != nil {
			return fmt.Errorf("wait for deletion of %s: %w", table, err)
		}
		if now().Sub(start) > timeout {
			return fmt.Errorf("timed out after %s waiting for %s to be deleted", timeout, table)
		}
		log.Debug("waiting for table deletion", "table", table, "elapsed", now().Sub(start).Round(time.Second).String())
		if err := backoff.Sleep(ctx, delay); err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		delay = min(delay*2, poll.Max)
	}
}

func statusOr(s types.TableStatus) string {
	if s == "" {
		return "not visible yet"
	}
	return string(s)
}
