package rewind

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/restore"
)

// ObjectDeleter is the S3 calls the cleanup of a rewind from incremental
// exports makes: list each export directory (s3:ListBucket) and delete its
// objects (s3:DeleteObject).
type ObjectDeleter interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ ObjectDeleter = (*s3.Client)(nil)

// incremental reports whether the rewind is from incremental exports.
func (o Options) incremental() bool { return !o.Export.Since.IsZero() }

// runIncremental runs or resumes a rewind from incremental exports:
// export the window (adopting exports a previous attempt started), rewind
// the keys it changed, verify with a dry run of the same rewind, and delete
// the export files. st is the loaded state (nil: a new rewind).
func runIncremental(ctx context.Context, api API, o Options, st *State, table, sel string, res *Result) (*Result, error) {
	co := o.Copy
	co.To = table
	if err := incrementalChecks(o); err != nil {
		return res, err
	}
	eo := o.Export
	if eo.Table == "" {
		eo.Table = o.Restore.Table
	}
	eo.Wait, eo.Now, eo.Logger = true, o.Now, o.Logger
	var plan *export.Plan
	if st != nil {
		eo.Prefix = st.exportPrefix()
		if err := checkSame(o, st, table, sel); err != nil {
			return res, err
		}
		if st.Step == StepDone {
			res.State, res.AlreadyDone = *st, true
			o.Logger.Info("the rewind is already done; remove the state file or pass another --state to rewind again",
				"table", table, "state", o.State, "since", tables.FormatTime(st.RestorePoint))
			return res, nil
		}
		o.Logger.Info("resuming rewind", "table", table, "step", st.Step, "state", o.State)
	}
	// The copy is prepared once, before anything starts: the main table
	// described and checked, the keys file downloaded and checked. The
	// export, the copy and the verification reuse it.
	job, err := copier.PrepareWindowJob(ctx, api, co)
	if err != nil {
		return res, err
	}
	defer job.Close()
	eo.Described = job.Target()
	if st == nil {
		// Everything checked before the first export starts: the main
		// table, then the window (15 minutes at least, inside the
		// point-in-time window) and the exports to adopt.
		started := o.Now().UTC()
		eo.Prefix = rewindPrefix(o.Export.Prefix, started)
		p, err := export.Prepare(ctx, api, eo)
		if err != nil {
			return res, err
		}
		if len(p.Tasks) == 0 {
			return res, fmt.Errorf("run %s: no export to make of the window from %s", table, tables.FormatTime(eo.Since))
		}
		plan = p
		since, end := eo.Since.UTC(), p.Tasks[len(p.Tasks)-1].Window.To.UTC()
		st = &State{Version: 1, Table: table, RestorePoint: since, Step: StepExport, Selection: sel,
			Checkpoint: DefaultCheckpoint(o.State), Started: started,
			Since: &since, ExportUntil: &end, Bucket: eo.Bucket, Prefix: o.Export.Prefix, ExportPrefix: eo.Prefix}
		if !eo.Until.IsZero() {
			u := eo.Until.UTC()
			st.Until = &u
		}
		if o.Copy.Checkpoint != "" {
			st.Checkpoint = o.Copy.Checkpoint
		}
	}
	if o.Confirm != nil {
		what := fmt.Sprintf("rewind %s to %s: export what changed from %s to %s to s3://%s/%s, write back the keys it changed, then delete the export files",
			table, tables.FormatTime(st.RestorePoint), tables.FormatTime(st.RestorePoint), tables.FormatTime(*st.ExportUntil), st.Bucket, st.exportPrefix())
		if notes := job.Notes(); notes != "" {
			what += "; " + notes
		}
		if err := o.Confirm(what); err != nil {
			return res, err
		}
	}
	// Saved before any export starts: a resume adopts what was started.
	if err := saveState(o, st); err != nil {
		return res, err
	}
	res.State = *st
	keep := fmt.Sprintf("the exports are kept; resume with: %s", o.ResumeCommand)

	if st.Step == StepExport {
		if plan == nil {
			// The window as resolved the first time, so that the exports
			// started then are adopted, not started again.
			eo.Until = *st.ExportUntil
			p, err := export.Prepare(ctx, api, eo)
			if err != nil {
				return res, fmt.Errorf("run %s: export step: %w", table, err)
			}
			plan = p
		}
		if err := plan.Start(ctx, api); err != nil {
			return res, fmt.Errorf("run %s: export step: %w; resume with: %s", table, err, o.ResumeCommand)
		}
		st.ExportDirs = nil
		for _, t := range plan.Tasks {
			st.ExportDirs = append(st.ExportDirs, t.Directory)
		}
		if err := advance(o, st, StepCopy, res); err != nil {
			return res, err
		}
	}
	if st.Step == StepCopy {
		p, err := job.Rewind(ctx, api, st.ExportDirs, copyCheckpoint(st), false, nil)
		if err != nil {
			return res, fmt.Errorf("run %s: copy step: %w; %s", table, err, keep)
		}
		sum, err := p.Run(ctx, api)
		res.Copy = sum
		var ce *copier.ConflictError
		if errors.As(err, &ce) {
			// The next run rewinds the window again (with
			// --overwrite-conflicts, the conflicts too).
			st.CopyPass++
			st.Conflicts, st.ConflictKeys = ce.Conflicts, ce.Keys
			res.State = *st
			if serr := saveState(o, st); serr != nil {
				return res, serr
			}
			next := "go on with: " + o.ResumeCommand + " --overwrite-conflicts (or --overwrite-conflicts-keys FILE, or --accept-conflicts)"
			if ce.Clobbered > 0 {
				next = "check the clobbered keys (ddbrewind undo --journal puts back what was overwritten), then rerun: " + o.ResumeCommand
			}
			return res, fmt.Errorf("run %s: copy step: %w; the exports and the state file are kept; %s", table, err, next)
		}
		if err != nil {
			return res, fmt.Errorf("run %s: copy step: %w; %s", table, err, keep)
		}
		// Conflicts left alone on purpose (--accept-conflicts) are the
		// ones the verification accepts.
		st.Conflicts, st.ConflictKeys = 0, nil
		if sum != nil && sum.ConflictsAccepted {
			st.Conflicts, st.ConflictKeys = sum.Counts.Conflicts, sum.Conflicts
		}
		if err := advance(o, st, StepVerify, res); err != nil {
			return res, err
		}
	}
	if st.Step == StepVerify {
		if o.NoVerify {
			o.Logger.Info("skipping the verification (--no-verify)", "table", table)
		} else if err := verifyIncremental(ctx, api, o, job, st); err != nil {
			if errors.Is(err, errUnreported) {
				// The next run copies again (a pass of its own), and that
				// pass reports these keys as conflicts (or, with the
				// flags, overwrites or accepts them).
				st.CopyPass++
				st.Step = StepCopy
				res.State = *st
				if serr := saveState(o, st); serr != nil {
					return res, serr
				}
			}
			return res, fmt.Errorf("run %s: verify step: %w; %s", table, err, keep)
		}
		if err := advance(o, st, StepCleanup, res); err != nil {
			return res, err
		}
	}
	if st.Step == StepCleanup {
		if o.KeepExport {
			o.Logger.Info("keeping the export files (--keep-export)", "exports", strings.Join(st.ExportDirs, " "))
		} else if err := deleteExports(ctx, o, st); err != nil {
			return res, fmt.Errorf("run %s: cleanup step: %w; resume with: %s", table, err, o.ResumeCommand)
		}
		if err := advance(o, st, StepDone, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// rewindPrefix is the S3 prefix of the exports of a rewind started at
// started: a directory of its own under prefix, named by the start time
// and a random suffix. A later rewind of the same window (another
// selection, or the same one again) then never adopts the exports of an
// earlier one, whose files that rewind deleted: export adopts the exports
// of the same window, bucket and prefix, and DynamoDB returns the export
// of a known ClientToken, made of them, for 8 hours.
func rewindPrefix(prefix string, started time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand's Read never fails
	dir := fmt.Sprintf("ddbrewind-rewind-%s-%x", started.UTC().Format("20060102T150405Z"), b)
	if prefix == "" {
		return dir
	}
	return prefix + "/" + dir
}

// exportPrefix is where the rewind's exports go.
func (st *State) exportPrefix() string {
	if st.ExportPrefix != "" {
		return st.ExportPrefix
	}
	return st.Prefix
}

// incrementalChecks refuses what a rewind from incremental exports does
// not take.
func incrementalChecks(o Options) error {
	c := o.Copy
	switch {
	case o.Restore.Point != (restore.Point{}):
		return &UsageError{Msg: "run --since rewinds from incremental exports: --at, --ago, --latest, --backup and --backup-before name a restore instead; give one or the other"}
	case o.KeepRecoveryTable:
		return &UsageError{Msg: "run --since makes no recovery table: --keep-recovery-table does not apply (--keep-export keeps the export files)"}
	case c.OnlyMissing || c.IfMain != "":
		return &UsageError{Msg: "run --since writes each item only while it is what the window left (see --overwrite-conflicts): --only-missing and --if-main do not apply"}
	case c.Selection.Filter != "":
		return &UsageError{Msg: "run --since: --filter-expression cannot select from an export: ddbrewind does not evaluate filter expressions itself (DynamoDB does, on a table); select the window's keys with --key-condition-expression or --keys-file, or rewind with a restore (--at, --ago, --latest) instead"}
	case o.Files == nil || o.Files.S3 == nil:
		return fmt.Errorf("run --since: S3 is not configured for reading the exports")
	}
	return nil
}

// copyCheckpoint is the checkpoint of the current copy pass: the state's
// checkpoint for the first, then one per pass, since a pass that ended with
// conflicts left a complete checkpoint behind.
func copyCheckpoint(st *State) string {
	if st.CopyPass == 0 {
		return st.Checkpoint
	}
	return fmt.Sprintf("%s.pass%d", st.Checkpoint, st.CopyPass+1)
}

// verifyIncremental runs the rewind again as a dry run, without
// --overwrite-conflicts: every key the window changed must be in its start
// state (nothing left to write or delete), or be a conflict the copy step
// reported and accepted (st.ConflictKeys); any other conflict — a key the
// copy did not report, e.g. one a resumed copy never read again — fails
// the verification, so the exports are kept.
func verifyIncremental(ctx context.Context, api API, o Options, job *copier.Job, st *State) error {
	stats := o.VerifyStats
	if stats == nil {
		stats = &copier.Stats{}
	}
	p, err := job.Rewind(ctx, api, st.ExportDirs, "", true, stats)
	if err != nil {
		return err
	}
	sum, err := p.Run(ctx, api)
	var ce *copier.ConflictError
	if err != nil && !errors.As(err, &ce) {
		return err
	}
	n := sum.Counts
	o.Logger.Info("verification", "table", st.Table, "rewound", n.Skipped, "left_to_write", n.Written, "left_to_delete", n.Deleted, "conflicts", n.Conflicts)
	if n.Written > 0 || n.Deleted > 0 {
		return fmt.Errorf("%w: %d items are not in their state at %s and %d items created in the window are still there",
			ErrVerifyFailed, n.Written, tables.FormatTime(st.RestorePoint), n.Deleted)
	}
	if ce != nil {
		accepted := make(map[string]bool, len(st.ConflictKeys))
		for _, k := range st.ConflictKeys {
			accepted[k] = true
		}
		var other []string
		for _, k := range ce.Keys {
			if !accepted[k] {
				other = append(other, k)
			}
		}
		o.Logger.Warn("keys written again after the window are left alone (conflicts)", "table", st.Table, "conflicts", ce.Conflicts,
			"accepted", len(ce.Keys)-len(other), "keys", strings.Join(ce.Keys[:min(len(ce.Keys), 20)], " "))
		if len(other) > 0 {
			return fmt.Errorf("%w: %w: %d items are neither in their state at %s nor conflicts the copy step reported (e.g. %s): they were written after the window and not rewound; the next run copies again and lists them: check them, then rerun (with --overwrite-conflicts or --overwrite-conflicts-keys FILE to rewind them, --accept-conflicts to leave them)",
				ErrVerifyFailed, errUnreported, len(other), tables.FormatTime(st.RestorePoint), strings.Join(other[:min(len(other), 5)], " "))
		}
	}
	return nil
}

// errUnreported marks a verification that found conflicts the copy step
// did not report.
var errUnreported = errors.New("unreported conflicts")

// deleteExports deletes every object under each export directory (data
// files and manifests); a directory already empty is fine.
func deleteExports(ctx context.Context, o Options, st *State) error {
	if o.S3 == nil {
		return fmt.Errorf("S3 is not configured for deleting the export files")
	}
	for _, dir := range st.ExportDirs {
		bucket, prefix, err := exportDir(dir, st.Bucket)
		if err != nil {
			return err
		}
		n := 0
		in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
		for {
			out, err := o.S3.ListObjectsV2(ctx, in)
			if err != nil {
				return fmt.Errorf("list the export files of %s: %w", dir, err)
			}
			for _, obj := range out.Contents {
				if _, err := o.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: obj.Key}); err != nil {
					return fmt.Errorf("delete s3://%s/%s: %w", bucket, aws.ToString(obj.Key), err)
				}
				n++
			}
			if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
				break
			}
			in.ContinuationToken = out.NextContinuationToken
		}
		o.Logger.Info("deleted the export files", "export", dir, "objects", n)
	}
	return nil
}

// exportDir splits an export directory s3://BUCKET/[PREFIX/]AWSDynamoDB/ID/
// into its bucket and key prefix, refusing anything else: the cleanup
// deletes every object under it.
func exportDir(dir, bucket string) (string, string, error) {
	rest, ok := strings.CutPrefix(dir, "s3://")
	b, key, _ := strings.Cut(rest, "/")
	parts := strings.Split(strings.TrimSuffix(key, "/"), "/")
	if !ok || b != bucket || !strings.HasSuffix(key, "/") || len(parts) < 2 || parts[len(parts)-2] != "AWSDynamoDB" || parts[len(parts)-1] == "" {
		return "", "", fmt.Errorf("export directory %q is not s3://%s/…/AWSDynamoDB/ID/: not deleting under it", dir, bucket)
	}
	return b, key, nil
}

// checkSameWindow refuses a rerun whose source is not the one the state
// file records: --since, --until (as given), --s3-bucket and --s3-prefix
// of a rewind from incremental exports, or a restore instead.
func checkSameWindow(o Options, st *State, table string) error {
	e := o.Export
	given, recorded := o.incremental(), st.Since != nil
	if !given && !recorded {
		return nil
	}
	if given && recorded && st.Since.Equal(e.Since) && sameOptional(st.Until, e.Until) && st.Bucket == e.Bucket && st.Prefix == e.Prefix {
		return nil
	}
	was := "a restore (--at, --ago, --latest, --backup or --backup-before)"
	if recorded {
		var until time.Time
		if st.Until != nil {
			until = *st.Until
		}
		was = windowFlags(*st.Since, until, st.Bucket, st.Prefix)
	}
	now := "a restore (--at, --ago, --latest, --backup or --backup-before)"
	if given {
		now = windowFlags(e.Since, e.Until, e.Bucket, e.Prefix)
	}
	if st.Step == StepDone {
		return &UsageError{Msg: fmt.Sprintf("state file %s records a finished rewind of %s started with %s, not %s: to rewind again, remove the state file or pass another --state",
			o.State, table, was, now)}
	}
	return &UsageError{Msg: fmt.Sprintf("state file %s records an unfinished rewind of %s started with %s, not %s: rerun with the same flags to resume, or remove the state file (or pass another --state) to start another rewind",
		o.State, table, was, now)}
}

// windowFlags is the source flags of a rewind from incremental exports as
// given, for messages.
func windowFlags(since, until time.Time, bucket, prefix string) string {
	s := "--since " + tables.FormatTime(since)
	if !until.IsZero() {
		s += " --until " + tables.FormatTime(until)
	}
	s += " --s3-bucket " + bucket
	if prefix != "" {
		s += " --s3-prefix " + prefix
	}
	return s
}

func sameOptional(recorded *time.Time, given time.Time) bool {
	if recorded == nil {
		return given.IsZero()
	}
	return recorded.Equal(given)
}
