package rewind

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/progress"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
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

// windowSource is the source of a rewind from incremental exports
// (--since): export the window (adopting exports a previous attempt
// started), rewind the keys it changed, verify with a dry run of the same
// rewind, and delete the export files.
type windowSource struct {
	api   API
	o     Options
	table string
	// eo is the export's options, with the prefix of this rewind.
	eo  export.Options
	job *copier.Job
	// plan is the export prepared by this process (nil until then).
	plan *export.Plan
}

// newWindowSource refuses what a rewind from incremental exports does not
// take.
func newWindowSource(api API, o Options, table string) (*windowSource, error) {
	if err := incrementalChecks(o); err != nil {
		return nil, err
	}
	eo := o.Export
	if eo.Table == "" {
		eo.Table = o.Restore.Table
	}
	eo.Wait, eo.Now, eo.Logger = true, o.Now, o.Logger
	return &windowSource{api: api, o: o, table: table, eo: eo}, nil
}

func (w *windowSource) first() string { return StepExport }

// prepare prepares the copy once, before anything starts (the main table
// described and checked, the keys file downloaded and checked; the
// export, the copy and the verification reuse it), then, for a new
// rewind, the exports: the window (15 minutes at least, inside the
// point-in-time window) and the exports to adopt.
func (w *windowSource) prepare(ctx context.Context, st *State, sel string) (*State, error) {
	if st != nil {
		w.eo.Prefix = st.exportPrefix()
	}
	job, err := copier.PrepareWindowJob(ctx, w.api, w.o.Copy)
	if err != nil {
		return nil, err
	}
	w.job = job
	w.eo.Described = job.Target()
	if st != nil {
		return st, nil
	}
	started := w.o.Now().UTC()
	w.eo.Prefix = rewindPrefix(w.o.Export.Prefix, started)
	p, err := export.Prepare(ctx, w.api, w.eo)
	if err != nil {
		return nil, err
	}
	if len(p.Tasks) == 0 {
		return nil, fmt.Errorf("run %s: no export to make of the window from %s", w.table, tables.FormatTime(w.eo.Since))
	}
	w.plan = p
	since, end := w.eo.Since.UTC(), p.Tasks[len(p.Tasks)-1].Window.To.UTC()
	st = newState(w.o, w.table, sel, StepExport, started)
	st.RestorePoint = since
	st.Since, st.ExportUntil, st.Bucket, st.Prefix, st.ExportPrefix = &since, &end, w.eo.Bucket, w.o.Export.Prefix, w.eo.Prefix
	if !w.eo.Until.IsZero() {
		u := w.eo.Until.UTC()
		st.Until = &u
	}
	return st, nil
}

func (w *windowSource) confirm(st *State) string {
	return withNotes(fmt.Sprintf("rewind %s to %s: export what changed from %s to %s to s3://%s/%s, write back the keys it changed, then delete the export files",
		w.table, tables.MessageTime(st.RestorePoint), tables.MessageTime(st.RestorePoint), tables.MessageTime(*st.ExportUntil), st.Bucket, st.exportPrefix()), w.job)
}

func (w *windowSource) logAttrs(st *State) []any {
	return []any{"since", tables.FormatTime(st.RestorePoint)}
}

func (w *windowSource) kept(*State) string {
	return "the exports are kept; resume with: " + w.o.ResumeCommand
}

func (w *windowSource) close() {
	if w.job != nil {
		w.job.Close()
	}
}

// start exports the window and waits; on a resume, the window as resolved
// the first time, so that the exports started then are adopted, not
// started again.
func (w *windowSource) start(ctx context.Context, st *State) error {
	if w.plan == nil {
		w.eo.Until = *st.ExportUntil
		p, err := export.Prepare(ctx, w.api, w.eo)
		if err != nil {
			return &stepFailure{err: err}
		}
		w.plan = p
	}
	if err := w.plan.Start(ctx, w.api); err != nil {
		return &stepFailure{err: err, tail: "; resume with: " + w.o.ResumeCommand}
	}
	st.ExportDirs = nil
	for _, t := range w.plan.Tasks {
		st.ExportDirs = append(st.ExportDirs, t.Directory)
	}
	return nil
}

// copy rewinds the keys the window changed. A pass that ends with
// conflicts is recorded: the next run rewinds the window again (with
// --overwrite-conflicts, the conflicts too).
func (w *windowSource) copy(ctx context.Context, st *State, res *Result) error {
	p, err := w.job.Rewind(ctx, w.api, st.ExportDirs, copyCheckpoint(st), false, nil)
	if err != nil {
		return err
	}
	sum, err := p.Run(ctx, w.api)
	res.Copy = sum
	var ce *copier.ConflictError
	if errors.As(err, &ce) {
		st.CopyPass++
		st.Conflicts, st.ConflictKeys = ce.Conflicts, ce.Keys
		next := "go on with: " + w.o.ResumeCommand + " --overwrite-conflicts (or --overwrite-conflicts-keys FILE, or --accept-conflicts)"
		if ce.Clobbered > 0 {
			next = "check the clobbered keys (ddbrewind undo --journal puts back what was overwritten), then rerun: " + w.o.ResumeCommand
		}
		return &stepFailure{err: err, tail: "; the exports and the state file are kept; " + next, save: true}
	}
	if err != nil {
		return err
	}
	// Conflicts left alone on purpose (--accept-conflicts) are the ones
	// the verification accepts.
	st.Conflicts, st.ConflictKeys = 0, nil
	if sum != nil && sum.ConflictsAccepted {
		st.Conflicts, st.ConflictKeys = sum.Counts.Conflicts, sum.Conflicts
	}
	return nil
}

// verify runs the rewind again as a dry run (see verifyIncremental). When
// it finds conflicts the copy did not report, the next run copies again
// (a pass of its own), and that pass reports these keys as conflicts (or,
// with the flags, overwrites or accepts them).
func (w *windowSource) verify(ctx context.Context, st *State, _ *Result) error {
	if w.o.NoVerify {
		w.o.Logger.Info("skipping the verification (--no-verify)", "table", w.table)
		return nil
	}
	err := verifyIncremental(ctx, w.api, w.o, w.job, st)
	if errors.Is(err, errUnreported) {
		st.CopyPass++
		st.Step = StepCopy
		return &stepFailure{err: err, tail: "; " + w.kept(st), save: true}
	}
	return err
}

// cleanup deletes the export files, unless --keep-export.
func (w *windowSource) cleanup(ctx context.Context, st *State) error {
	if w.o.KeepExport {
		w.o.Logger.Info("keeping the export files (--keep-export)", "exports", strings.Join(st.ExportDirs, " "))
		return nil
	}
	return deleteExports(ctx, w.o, st)
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
		return &usage.Error{Msg: "run --since rewinds from incremental exports: --at, --ago, --latest, --backup and --backup-before name a restore instead; give one or the other"}
	case o.KeepRecoveryTable:
		return &usage.Error{Msg: "run --since makes no recovery table: --keep-recovery-table does not apply (--keep-export keeps the export files)"}
	case c.Mode().WindowRefusal("run --since") != "":
		return &usage.Error{Msg: c.Mode().WindowRefusal("run --since")}
	case c.Selection.Filter != "":
		return &usage.Error{Msg: "run --since: --filter-expression cannot select from an export: ddbrewind does not evaluate filter expressions itself (DynamoDB does, on a table); select the window's keys with --key-condition-expression or --keys-file, or rewind with a restore (--at, --ago, --latest) instead"}
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
		return fmt.Errorf("%w: %s %s not in %s state at %s and %s created in the window %s still there",
			ErrVerifyFailed, progress.CountNoun(n.Written, "item"), progress.Plural(n.Written, "is", "are"), progress.Plural(n.Written, "its", "their"),
			tables.MessageTime(st.RestorePoint), progress.CountNoun(n.Deleted, "item"), progress.Plural(n.Deleted, "is", "are"))
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
			k := int64(len(other))
			return fmt.Errorf("%w: %w: %s %s neither in %s state at %s nor %s the copy step reported (e.g. %s): %s written after the window and not rewound; the next run copies again and lists %s: check %s, then rerun (with --overwrite-conflicts or --overwrite-conflicts-keys FILE to rewind %s, --accept-conflicts to leave %s)",
				ErrVerifyFailed, errUnreported, progress.CountNoun(k, "item"), progress.Plural(k, "is", "are"), progress.Plural(k, "its", "their"),
				tables.MessageTime(st.RestorePoint), progress.Plural(k, "a conflict", "conflicts"), strings.Join(other[:min(len(other), 5)], " "),
				progress.Plural(k, "it was", "they were"), progress.Plural(k, "it", "them"), progress.Plural(k, "it", "them"),
				progress.Plural(k, "it", "them"), progress.Plural(k, "it", "them"))
		}
	}
	return nil
}

// errUnreported marks a verification that found conflicts the copy step
// did not report.
var errUnreported = errors.New("unreported conflicts")

// deleteExports deletes each export's files: first the data files its
// manifest lists outside its directory (an incremental export's, which AWS
// writes to the shared PREFIX/AWSDynamoDB/data/), then every object under
// the directory (its own data files and the manifests, last: a cleanup
// killed in between finds the list again on its rerun); a directory
// already empty is fine.
func deleteExports(ctx context.Context, o Options, st *State) error {
	if o.S3 == nil {
		return fmt.Errorf("S3 is not configured for deleting the export files")
	}
	for _, dir := range st.ExportDirs {
		bucket, prefix, err := exportDir(dir, st.Bucket)
		if err != nil {
			return err
		}
		n, err := deleteSharedDataFiles(ctx, o, dir, bucket, prefix)
		if err != nil {
			return err
		}
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

// deleteSharedDataFiles deletes the data files the manifests of the export
// dir list outside its directory (bucket, prefix: its key prefix): an incremental
// export's data files are in PREFIX/AWSDynamoDB/data/, shared by the
// exports to PREFIX, where a listing of the directory does not find them.
// Only the files the manifest names are deleted (exportfile.Open confines
// them to the export's directory and that shared folder), so the other
// exports of the folder keep theirs. An export whose manifest is gone was
// cleaned up already: nothing to do. It returns the number of objects
// deleted.
func deleteSharedDataFiles(ctx context.Context, o Options, dir, bucket, prefix string) (int, error) {
	if o.Files == nil || o.Files.S3 == nil {
		return 0, fmt.Errorf("S3 is not configured for reading the manifests of %s", dir)
	}
	exp, err := exportfile.Open(ctx, o.Files.S3, dir)
	if err != nil {
		// The directory's listing deletes manifest-files.json before
		// manifest-summary.json, and both after the shared files: either
		// one gone means those are gone.
		if awserr.IsS3NotFound(err) {
			return 0, nil
		}
		out, gerr := o.Files.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(prefix + exportfile.SummaryFile)})
		switch {
		case gerr == nil:
			out.Body.Close()
		case awserr.IsS3NotFound(gerr):
			return 0, nil
		}
		return 0, fmt.Errorf("read the manifests of %s to delete its data files: %w", dir, err)
	}
	n := 0
	for i := range exp.Files {
		key := exp.FileKey(i)
		if strings.HasPrefix(key, prefix) {
			continue // deleted with the directory
		}
		if _, err := o.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(exp.Loc.Bucket), Key: aws.String(key)}); err != nil {
			return n, fmt.Errorf("delete s3://%s/%s: %w", exp.Loc.Bucket, key, err)
		}
		n++
	}
	return n, nil
}

// exportDir splits an export directory s3://BUCKET/[PREFIX/]AWSDynamoDB/ID/
// into its bucket and key prefix, refusing anything else: the cleanup
// deletes every object under it.
func exportDir(dir, bucket string) (string, string, error) {
	rest, ok := strings.CutPrefix(dir, "s3://")
	b, key, _ := strings.Cut(rest, "/")
	parts := strings.Split(strings.TrimSuffix(key, "/"), "/")
	if !ok || b != bucket || !strings.HasSuffix(key, "/") || len(parts) < 2 || parts[len(parts)-2] != "AWSDynamoDB" ||
		slices.Contains([]string{"", ".", "..", exportfile.SharedDataDir}, parts[len(parts)-1]) {
		return "", "", fmt.Errorf("export directory %q is not s3://%s/…/AWSDynamoDB/ID/: not deleting under it", dir, bucket)
	}
	return b, key, nil
}
