package rewind

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// restoreSource is the source of a rewind from a restore: the main table
// restored to a point in time, or from a backup, as a recovery table; the
// copy reads the selection from it and the cleanup deletes it.
type restoreSource struct {
	api   API
	o     Options
	table string
	job   *copier.Job
	// plan is the restore this process prepared (nil when it resumes): it
	// checked already that the recovery table did not exist.
	plan *restore.Plan
}

func (r *restoreSource) first() string { return StepRestore }

// prepare prepares the copy, once, before anything else (the main table
// described, the keys file downloaded and checked, the expressions probed;
// every step reuses it), then, for a new rewind, the restore.
func (r *restoreSource) prepare(ctx context.Context, st *State, sel string) (*State, error) {
	job, err := copier.PrepareJob(ctx, r.api, r.o.Copy)
	if err != nil {
		return nil, err
	}
	r.job = job
	r.o.Restore.Described = job.Target()
	if st != nil {
		return st, nil
	}
	plan, err := restore.Prepare(ctx, r.api, r.o.Restore)
	if err != nil {
		return nil, err
	}
	r.plan = plan
	st = newState(r.o, r.table, sel, StepRestore, r.o.Now().UTC())
	st.RestorePoint = plan.RestorePoint()
	st.RecoveryTable, st.BackupARN = plan.RecoveryTable(), plan.BackupARN()
	if bb := r.o.Restore.Point.BackupBefore; !bb.IsZero() {
		bb = bb.UTC()
		st.BackupBefore = &bb
	}
	if !r.o.Restore.Point.FromBackup() {
		st.PointFlag = pointFlag(r.o.Restore.Point)
	}
	return st, nil
}

func (r *restoreSource) confirm(st *State) string {
	from := ""
	if st.BackupARN != "" {
		from = " from backup " + st.BackupARN
	}
	write := "overwrite the selected items of " + r.table + " with their versions in it"
	if r.o.Copy.Mode().DeletesExtra() {
		write += " and delete the selected items of " + r.table + " that it lacks (--delete-extra)"
	}
	return withNotes(fmt.Sprintf("rewind %s to %s: restore it%s as %s, %s, then delete %s",
		r.table, tables.MessageTime(st.RestorePoint), from, st.RecoveryTable, write, st.RecoveryTable), r.job)
}

// withNotes adds to a confirmation what the main table's production
// settings mean for the rewind (its stream, replicas, TTL: Job.Notes).
func withNotes(what string, job *copier.Job) string {
	if job == nil {
		return what
	}
	if notes := job.Notes(); notes != "" {
		what += "; " + notes
	}
	return what
}

func (r *restoreSource) logAttrs(st *State) []any {
	return []any{"recovery_table", st.RecoveryTable, "restore_point", tables.FormatTime(st.RestorePoint)}
}

func (r *restoreSource) kept(st *State) string {
	return fmt.Sprintf("the recovery table %s is kept; resume with: %s", st.RecoveryTable, r.o.ResumeCommand)
}

func (r *restoreSource) close() {
	if r.job != nil {
		r.job.Close()
	}
}

// start starts the restore unless the recovery table already exists (a
// previous attempt started it), re-applies the tags, and waits. A refusal
// (the existing table is not this run's restore) is returned without the
// advice to resume: resuming would be refused again.
func (r *restoreSource) start(ctx context.Context, st *State) error {
	err := r.ensureRestored(ctx, st)
	var ue *usage.Error
	if errors.As(err, &ue) {
		return &stepFailure{err: err}
	}
	return err
}

func (r *restoreSource) ensureRestored(ctx context.Context, st *State) error {
	if r.plan != nil {
		_, err := r.plan.Start(ctx, r.api)
		return err
	}
	// The point as recorded: a time, or the backup the run resolved (so a
	// resumed --backup-before run restores the backup it picked first).
	ro := r.o.Restore
	ro.Point = restore.Point{At: st.RestorePoint}
	if st.BackupARN != "" {
		ro.Point = restore.Point{Backup: st.BackupARN}
	}
	_, err := r.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.RecoveryTable)})
	switch {
	case err == nil:
		r.o.Logger.Info("the recovery table exists already: not restoring again", "recovery_table", st.RecoveryTable)
		return restore.Adopt(ctx, r.api, ro, st.RecoveryTable, st.RestorePoint)
	case awserr.Code(err) != "ResourceNotFoundException":
		return err
	}
	ro.RecoveryTable = st.RecoveryTable
	_, err = restore.Restore(ctx, r.api, ro)
	return err
}

// copy copies the selection from the recovery table, resuming from the
// checkpoint.
func (r *restoreSource) copy(ctx context.Context, st *State, res *Result) error {
	plan, err := r.job.Copy(ctx, r.api, st.RecoveryTable, st.Checkpoint)
	if err != nil {
		return err
	}
	sum, err := plan.Run(ctx, r.api)
	res.Copy = sum
	return err
}

// verify compares the selection in both tables.
func (r *restoreSource) verify(ctx context.Context, st *State, res *Result) error {
	if r.o.NoVerify {
		return nil
	}
	plan, err := r.job.Diff(ctx, r.api, st.RecoveryTable, r.o.VerifyStats)
	if err != nil {
		return err
	}
	d, err := plan.Diff(ctx, r.api, 10)
	res.Diff = d
	if err != nil {
		return err
	}
	r.o.Logger.Info("verification", "table", st.Table, "identical", d.Identical, "different", d.Different,
		"missing_in_main", d.MissingInMain, "extra_in_main", d.ExtraInMain)
	return Verdict(r.o.Copy, d)
}

// cleanup deletes the recovery table (unless --keep-recovery-table); a
// table already gone is fine.
func (r *restoreSource) cleanup(ctx context.Context, st *State) error {
	if r.o.KeepRecoveryTable {
		r.o.Logger.Info("keeping the recovery table (--keep-recovery-table)", "recovery_table", st.RecoveryTable)
		return nil
	}
	plan, err := restore.PlanCleanup(ctx, r.api, restore.CleanupOptions{Tables: []string{st.RecoveryTable}, Wait: true, Now: r.o.Now, Logger: r.o.Logger})
	if err != nil {
		var ue *usage.Error
		if errors.As(err, &ue) {
			if _, derr := r.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.RecoveryTable)}); awserr.Code(derr) == "ResourceNotFoundException" {
				return nil // deleted by the previous attempt
			}
		}
		return err
	}
	_, err = plan.Execute(ctx, r.api)
	return err
}
