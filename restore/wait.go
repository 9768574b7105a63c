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

	"github.com/ddbrewind/ddbrewind/internal/poll"
)

// Poll is a capped exponential polling schedule. Restores of big tables take
// hours, so the wait polls DescribeTable itself instead of relying on a
// waiter's default limit.
type Poll = poll.Schedule

// DefaultPoll polls after 2 s, doubling up to every 30 s.
var DefaultPoll = poll.Default

// WaitActive polls DescribeTable until table is ACTIVE (and no restore is in
// progress), the timeout passes or ctx is cancelled. It logs the elapsed time
// and status at each poll. Cancelling ctx stops the wait, not the restore.
func WaitActive(ctx context.Context, api API, table string, timeout time.Duration, schedule Poll, now func() time.Time, log *slog.Logger) (types.TableStatus, error) {
	start := now()
	var status types.TableStatus
	// gone is the check's error once the table, seen before, is deleted
	// or being deleted (by someone else, or with a restore that failed). Waiting on would last until the
	// timeout (12 h by default) for a table that will never be ACTIVE.
	gone := errors.New("gone")
	err := poll.Until(ctx, schedule, timeout, now, func(ctx context.Context) (bool, error) {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		switch {
		case err != nil && !isNotFound(err):
			return false, err
		case err != nil && status != "":
			// Not found after it was seen: not the eventual consistency
			// of a table just created, which is not visible yet.
			return false, gone
		case err == nil:
			status = out.Table.TableStatus
			if status == types.TableStatusDeleting {
				return false, gone
			}
			restoring := out.Table.RestoreSummary != nil && aws.ToBool(out.Table.RestoreSummary.RestoreInProgress)
			if status == types.TableStatusActive && !restoring {
				log.Info("recovery table is ACTIVE", "table", table, "elapsed", now().Sub(start).Round(time.Second).String())
				return true, nil
			}
		}
		log.Info("waiting for recovery table", "table", table, "status", statusOr(status), "elapsed", now().Sub(start).Round(time.Second).String())
		return false, nil
	})
	switch {
	case err == nil:
		return status, nil
	case errors.Is(err, gone):
		return status, fmt.Errorf("%s was deleted while waiting for it to become ACTIVE (last status %s after %s): the restore failed or someone deleted the table; see why in CloudTrail, then restore again",
			table, statusOr(status), now().Sub(start).Round(time.Second))
	case errors.Is(err, poll.ErrInterrupted):
		return status, fmt.Errorf("%w for %s (status %s after %s): the restore goes on in DynamoDB; see it with ddbrewind list, and delete it with ddbrewind cleanup --recovery-table %s if unwanted",
			ErrWaitInterrupted, table, statusOr(status), now().Sub(start).Round(time.Second), table)
	case errors.Is(err, poll.ErrTimeout):
		return status, fmt.Errorf("timed out after %s waiting for %s to become ACTIVE (status %s): the restore goes on in DynamoDB; wait longer with --timeout or check it with ddbrewind list",
			timeout, table, statusOr(status))
	default:
		return status, fmt.Errorf("wait for %s: %w", table, err)
	}
}

// WaitRestoreJob polls DescribeRestoreJob until the AWS Backup restore job
// has COMPLETED, failed (FAILED, ABORTED: an error with AWS Backup's status
// message), the timeout passes or ctx is cancelled, with the same schedule,
// logging and Ctrl-C behaviour as WaitActive: cancelling ctx stops the wait,
// not the job.
func WaitRestoreJob(ctx context.Context, api BackupAPI, job string, timeout time.Duration, schedule Poll, now func() time.Time, log *slog.Logger) (*backup.DescribeRestoreJobOutput, error) {
	start := now()
	var status backuptypes.RestoreJobStatus
	var last *backup.DescribeRestoreJobOutput
	failed := errors.New("failed")
	err := poll.Until(ctx, schedule, timeout, now, func(ctx context.Context) (bool, error) {
		out, err := api.DescribeRestoreJob(ctx, &backup.DescribeRestoreJobInput{RestoreJobId: aws.String(job)})
		if err != nil {
			return false, fmt.Errorf("describe AWS Backup restore job %s: %w", job, err)
		}
		last, status = out, out.Status
		switch status {
		case backuptypes.RestoreJobStatusCompleted:
			log.Info("AWS Backup restore job COMPLETED", "job", job, "elapsed", now().Sub(start).Round(time.Second).String())
			return true, nil
		case backuptypes.RestoreJobStatusFailed, backuptypes.RestoreJobStatusAborted:
			return false, failed
		}
		log.Info("waiting for AWS Backup restore job", "job", job, "status", jobStatusOr(status),
			"percent_done", aws.ToString(out.PercentDone), "elapsed", now().Sub(start).Round(time.Second).String())
		return false, nil
	})
	switch {
	case err == nil:
		return last, nil
	case errors.Is(err, failed):
		return last, fmt.Errorf("AWS Backup restore job %s %s: %s", job, status, aws.ToString(last.StatusMessage))
	case errors.Is(err, poll.ErrInterrupted):
		return nil, fmt.Errorf("%w for AWS Backup restore job %s (status %s after %s): the job goes on in AWS Backup (aws backup describe-restore-job --restore-job-id %s)",
			ErrWaitInterrupted, job, jobStatusOr(status), now().Sub(start).Round(time.Second), job)
	case errors.Is(err, poll.ErrTimeout):
		return nil, fmt.Errorf("timed out after %s waiting for AWS Backup restore job %s to complete (status %s): the job goes on in AWS Backup; wait longer with --timeout",
			timeout, job, jobStatusOr(status))
	}
	return nil, err
}

func jobStatusOr(s backuptypes.RestoreJobStatus) string {
	if s == "" {
		return "not known yet"
	}
	return string(s)
}

// WaitGone polls DescribeTable until table no longer exists.
func WaitGone(ctx context.Context, api API, table string, timeout time.Duration, schedule Poll, now func() time.Time, log *slog.Logger) error {
	start := now()
	err := poll.Until(ctx, schedule, timeout, now, func(ctx context.Context) (bool, error) {
		_, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if isNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		log.Debug("waiting for table deletion", "table", table, "elapsed", now().Sub(start).Round(time.Second).String())
		return false, nil
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, poll.ErrInterrupted):
		return fmt.Errorf("%w for the deletion of %s: the deletion goes on in DynamoDB", ErrWaitInterrupted, table)
	case errors.Is(err, poll.ErrTimeout):
		return fmt.Errorf("timed out after %s waiting for %s to be deleted", timeout, table)
	default:
		return fmt.Errorf("wait for deletion of %s: %w", table, err)
	}
}

func statusOr(s types.TableStatus) string {
	if s == "" {
		return "not visible yet"
	}
	return string(s)
}
