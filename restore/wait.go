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

// notVisibleGrace is how long a recovery table that DescribeTable has never
// found is taken to be not visible yet rather than gone: DescribeTable is
// eventually consistent and may answer ResourceNotFoundException for a few
// seconds after the table is created (DynamoDB API reference,
// DescribeTable).
const notVisibleGrace = 2 * time.Minute

// presence follows a recovery table through DescribeTable's answers, to
// tell a table deleted meanwhile (by someone, or with a restore that
// failed), which will never be ACTIVE, from one not visible yet.
type presence struct {
	table  string
	start  time.Time
	now    func() time.Time
	status types.TableStatus // last seen; "" never seen
}

// observe records one DescribeTable answer. It returns a *goneError when
// the table is DELETING, not found after it was seen, or not found for
// longer than notVisibleGrace; any other error than not found as it is.
func (p *presence) observe(out *dynamodb.DescribeTableOutput, err error) error {
	switch {
	case err != nil && !isNotFound(err):
		return err
	case err != nil && (p.status != "" || p.now().Sub(p.start) >= notVisibleGrace):
		return p.gone()
	case err == nil:
		p.status = out.Table.TableStatus
		if p.status == types.TableStatusDeleting {
			return p.gone()
		}
	}
	return nil
}

func (p *presence) gone() error {
	return &goneError{table: p.table, status: p.status, after: p.now().Sub(p.start).Round(time.Second)}
}

// goneError says a recovery table was deleted (or is being deleted) while
// ddbrewind waited to tag it or for it to become ACTIVE.
type goneError struct {
	table  string
	status types.TableStatus
	after  time.Duration
	// while says what ddbrewind was waiting for.
	while string
}

func (e *goneError) Error() string {
	while := e.while
	if while == "" {
		while = "while waiting for it to become ACTIVE"
	}
	return fmt.Sprintf("%s was deleted %s (last status %s after %s): the restore failed or someone deleted the table; see why in CloudTrail, then restore again",
		e.table, while, statusOr(e.status), e.after)
}

// WaitActive polls DescribeTable until table is ACTIVE (and no restore is in
// progress), the timeout passes or ctx is cancelled. It logs the elapsed time
// and status at each poll. Cancelling ctx stops the wait, not the restore. A
// table deleted meanwhile (see presence) ends the wait at once: waiting on
// would last until the timeout (12 h by default) for a table that will
// never be ACTIVE.
func WaitActive(ctx context.Context, api API, table string, timeout time.Duration, schedule Poll, now func() time.Time, log *slog.Logger) (types.TableStatus, error) {
	start := now()
	seen := &presence{table: table, start: start, now: now}
	err := poll.Until(ctx, schedule, timeout, now, func(ctx context.Context) (bool, error) {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err := seen.observe(out, err); err != nil {
			return false, err
		}
		if err == nil {
			restoring := out.Table.RestoreSummary != nil && aws.ToBool(out.Table.RestoreSummary.RestoreInProgress)
			if seen.status == types.TableStatusActive && !restoring {
				log.Info("recovery table is ACTIVE", "table", table, "elapsed", now().Sub(start).Round(time.Second).String())
				return true, nil
			}
		}
		log.Info("waiting for recovery table", "table", table, "status", statusOr(seen.status), "elapsed", now().Sub(start).Round(time.Second).String())
		return false, nil
	})
	status := seen.status
	var gone *goneError
	switch {
	case err == nil:
		return status, nil
	case errors.As(err, &gone):
		return status, gone
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
