package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// batch start submits a rewind to AWS Batch as a chain of jobs that
// depend on each other (restore → array copy → diff → cleanup, or one
// run --since job), records the chain under the state prefix, and follows
// it; batch status follows a recorded chain.

// The steps of a chain, in order.
const (
	stepRestore = "restore"
	stepCopy    = "copy"
	stepDiff    = "diff"
	stepCleanup = "cleanup"
	stepRun     = "run" // run --since: export, rewind, verify in one job
)

// chainFile is the chain's record under the state prefix.
const chainFile = "batch-chain.json"

// copyReportFile is the copy job's --report under the state prefix: with
// K children above 1, each writes its own, copy-report.json.worker-I-of-K
// (reportPath), which the follower sums (chainReports).
const copyReportFile = "copy-report.json"

// maxArraySize is the most children AWS Batch runs in one array job.
const maxArraySize = 10000

// batchOwnFlags are run's flags that batch start sets itself, per job.
var batchOwnFlags = []string{"state", "worker-index", "worker-count", "checkpoint", "journal", "report"}

// batchFollowFlags change how batch start follows the chain, not the
// chain: they are left out of the record's flags.
var batchFollowFlags = []string{"no-wait", "poll-interval"}

// batchRetry is the retry strategy of every job: retry a lost host and
// the exit codes that resume (1: AWS error, 130: stopped by SIGTERM), and
// nothing else (2: refused, 3: differences) — the job definitions' of
// deploy/batch.
func batchRetry() *btypes.RetryStrategy {
	return &btypes.RetryStrategy{Attempts: aws.Int32(3), EvaluateOnExit: []btypes.EvaluateOnExit{
		{OnStatusReason: aws.String("Host EC2*"), Action: btypes.RetryActionRetry},
		{OnExitCode: aws.String("1"), Action: btypes.RetryActionRetry},
		{OnExitCode: aws.String("130"), Action: btypes.RetryActionRetry},
		{OnExitCode: aws.String("*"), Action: btypes.RetryActionExit},
	}}
}

// batchAPI is the part of the AWS Batch client batch start and status use.
type batchAPI interface {
	SubmitJob(context.Context, *batch.SubmitJobInput, ...func(*batch.Options)) (*batch.SubmitJobOutput, error)
	DescribeJobs(context.Context, *batch.DescribeJobsInput, ...func(*batch.Options)) (*batch.DescribeJobsOutput, error)
}

// chainRecord is the submitted chain, as recorded under the state prefix.
type chainRecord struct {
	Version       int          `json:"version"`
	Flags         []string     `json:"flags"` // batch start's flags as given, the rewind's identity
	Table         string       `json:"table"`
	RecoveryTable string       `json:"recovery_table,omitempty"`
	RestorePoint  *time.Time   `json:"restore_point,omitempty"`
	Workers       int          `json:"workers"`
	JobQueue      string       `json:"job_queue"`
	JobDefinition string       `json:"job_definition"`
	Region        string       `json:"region"`
	Submitted     time.Time    `json:"submitted"`
	Steps         []*chainStep `json:"steps"`

	// notes is what the confirmation says of the main table's stream,
	// replicas and TTL (copier.Job.Notes); not recorded.
	notes string
}

// chainStep is one job of the chain.
type chainStep struct {
	Step      string   `json:"step"`
	JobName   string   `json:"job_name"`
	JobID     string   `json:"job_id,omitempty"` // empty until submitted
	ArraySize int      `json:"array_size,omitempty"`
	Command   []string `json:"command"`
}

// batchAction is batch's action when no subcommand is given: a usage
// error naming the subcommands (the nearest one to a misspelled name).
func batchAction(c *cli.Context, _ *Env) error {
	if c.NArg() > 0 {
		if s := suggest([]string{"start", "status"}, c.Args().First()); s != "" {
			return &usage.Error{Msg: fmt.Sprintf("batch: unknown subcommand %q: did you mean %s? (see ddbrewind batch --help)", c.Args().First(), s)}
		}
		return &usage.Error{Msg: fmt.Sprintf("batch: unknown subcommand %q: use start or status (see ddbrewind batch --help)", c.Args().First())}
	}
	return &usage.Error{Msg: "batch: give a subcommand: start or status (see ddbrewind batch --help)"}
}

func batchStartFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "job-queue", Usage: "AWS Batch job queue to submit to (required)"},
		&cli.StringFlag{Name: "job-definition", Usage: "job definition that runs ddbrewind's image: NAME, NAME:REVISION or ARN (required)"},
		&cli.StringFlag{Name: "state-prefix", Usage: "s3://BUCKET/PREFIX, one per rewind: the chain's record, checkpoints and journals go under it (required)"},
		&cli.IntFlag{Name: "workers", Value: 1, Usage: "containers the copy is split across: an array job of that size (copy --worker-count)"},
		noWaitFlag("return once the chain is submitted (follow it later with batch status)"),
		pollIntervalFlag(),
	}
	for _, f := range runFlags() {
		if !slices.Contains(batchOwnFlags, f.Names()[0]) {
			flags = append(flags, f)
		}
	}
	return flags
}

// batchStartAction is batchStart's action.
func batchStartAction(c *cli.Context, env *Env) error {
	if err := noLocalFiles(c); err != nil {
		return err
	}
	in, err := readRunInputs(c, env) // run's own validation
	if err != nil {
		return err
	}
	prefix, err := batchChecks(c, in)
	if err != nil {
		return err
	}
	log, err := newLogger(c, env)
	if err != nil {
		return err
	}
	flags := givenFlags(c)
	s3c, err := s3Client(c.Context, c, env)
	if err != nil {
		return err
	}
	files := &statefile.Store{S3: s3c, KMSKey: in.restore.SSEKMSKey}
	bc, err := batchClient(c.Context, c, env, log)
	if err != nil {
		return err
	}
	rec, err := readChain(c.Context, files, prefix)
	if err != nil {
		return err
	}
	if rec != nil {
		if err := sameChain(prefix, rec.Flags, flags); err != nil {
			return err
		}
		log.Info("the chain of this rewind was submitted before: following it", "state_prefix", prefix, "submitted", tables.FormatTime(rec.Submitted))
		bc = inRegion(bc, rec.Region)
	} else {
		if rec, err = planChain(c, env, log, in, prefix, flags, bc.Options().Region); err != nil {
			return err
		}
		if err := confirm(c.Context, env, gBool(c, "yes"), submitQuestion(rec)); err != nil {
			return err
		}
		if err := createChain(c.Context, s3c, in.restore.SSEKMSKey, prefix, rec); err != nil {
			return err
		}
	}
	if err := submitChain(c.Context, bc, files, prefix, rec, log); err != nil {
		return err
	}
	printChain(env, rec, prefix)
	if c.Bool("no-wait") {
		fmt.Fprintf(env.Out, "follow it with: ddbrewind batch status %s\n", prefix)
		return nil
	}
	return followChain(c.Context, bc, files, env, log, rec, prefix, c.Duration("poll-interval"))
}

// batchStatusAction is batchStatus's action.
func batchStatusAction(c *cli.Context, env *Env) error {
	if c.NArg() > 1 && strings.HasPrefix(c.Args().Get(1), "-") {
		return &usage.Error{Msg: fmt.Sprintf("batch status: %s after the prefix: put the flags before it (ddbrewind batch status %s %s)", c.Args().Get(1), c.Args().Get(1), c.Args().First())}
	}
	switch {
	case c.NArg() == 0:
		return &usage.Error{Msg: "batch status: give the --state-prefix of batch start, s3://BUCKET/PREFIX (see ddbrewind batch status --help)"}
	case c.NArg() > 1:
		return &usage.Error{Msg: fmt.Sprintf("batch status: unexpected argument %q: give one prefix, s3://BUCKET/PREFIX (see ddbrewind batch status --help)", c.Args().Get(1))}
	}
	prefix, err := statePrefix(c.Args().First())
	if err != nil {
		return err
	}
	log, err := newLogger(c, env)
	if err != nil {
		return err
	}
	s3c, err := s3Client(c.Context, c, env)
	if err != nil {
		return err
	}
	files := &statefile.Store{S3: s3c}
	rec, err := readChain(c.Context, files, prefix)
	if err != nil {
		return err
	}
	if rec == nil {
		return &usage.Error{Msg: fmt.Sprintf("batch status: no chain recorded under %s (%s): check the prefix, or submit one with ddbrewind batch start --state-prefix %s", prefix, chainFile, prefix)}
	}
	bc, err := batchClient(c.Context, c, env, log)
	if err != nil {
		return err
	}
	bc = inRegion(bc, rec.Region)
	printChain(env, rec, prefix)
	if c.Bool("no-wait") {
		st, err := observe(c.Context, bc, rec, newChainReports(files, rec), log)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Out, st.line(rec))
		if st.done {
			return st.err
		}
		return nil
	}
	return followChain(c.Context, bc, files, env, log, rec, prefix, c.Duration("poll-interval"))
}

// batchStatusFlags are batchStatus's own flags (the table in commands.go adds the global ones).
func batchStatusFlags() []cli.Flag {
	return []cli.Flag{
		noWaitFlag("print the jobs' state once and return"),
		pollIntervalFlag(),
	}
}

// statePrefix checks an s3:// state prefix and returns it without a
// trailing '/'.
func statePrefix(s string) (string, error) {
	p := strings.TrimRight(strings.TrimSpace(s), "/")
	if !statefile.IsS3(p) {
		return "", &usage.Error{Msg: fmt.Sprintf("--state-prefix %q: give s3://BUCKET/PREFIX (the jobs run on other machines: their state must be in S3)", s)}
	}
	if _, key, err := statefile.ParseS3(p + "/" + chainFile); err != nil || key == chainFile {
		return "", &usage.Error{Msg: fmt.Sprintf("--state-prefix %q: give s3://BUCKET/PREFIX with a prefix of its own for this rewind", s)}
	}
	return p, nil
}

// batchChecks are batch start's own checks, after run's: nothing in them
// calls AWS.
func batchChecks(c *cli.Context, in runInputs) (string, error) {
	for _, f := range []string{"job-queue", "job-definition", "state-prefix"} {
		if err := required(c, f); err != nil {
			return "", err
		}
	}
	prefix, err := statePrefix(c.String("state-prefix"))
	if err != nil {
		return "", err
	}
	k := c.Int("workers")
	sel := in.copy.Selection
	switch {
	case k > maxArraySize:
		return "", &usage.Error{Msg: fmt.Sprintf("batch start --workers %d: AWS Batch runs at most %d children in an array job: give --workers %d or fewer (each child can use more --writers)", k, maxArraySize, maxArraySize)}
	case in.since && k > 1:
		return "", &usage.Error{Msg: fmt.Sprintf("batch start --since --workers %d: a rewind from incremental exports is not split (it reads only the keys the window changed): it runs as one run --since job; leave --workers out", k)}
	case sel.KeyCondition != "" && k > 1:
		return "", &usage.Error{Msg: fmt.Sprintf("batch start --key-condition-expression --workers %d: a key condition is one Query, read by one worker: leave --workers out", k)}
	case sel.KeysFile != "" && !statefile.IsS3(sel.KeysFile):
		return "", &usage.Error{Msg: fmt.Sprintf("batch start --keys-file %s: the jobs run on other machines: give the keys file as s3://BUCKET/KEY", sel.KeysFile)}
	case in.copy.OverwriteConflictsKeys != "" && !statefile.IsS3(in.copy.OverwriteConflictsKeys):
		return "", &usage.Error{Msg: fmt.Sprintf("batch start --overwrite-conflicts-keys %s: the jobs run on other machines: give the keys file as s3://BUCKET/KEY", in.copy.OverwriteConflictsKeys)}
	}
	return prefix, nil
}

// noLocalFiles refuses a local file:// flag value: the jobs run on other
// machines.
func noLocalFiles(c *cli.Context) error {
	for _, f := range []string{"expression-attribute-names", "expression-attribute-values"} {
		if strings.HasPrefix(c.String(f), "file://") {
			return &usage.Error{Msg: fmt.Sprintf("batch start --%s %s: the jobs run on other machines and cannot read a local file: give the JSON itself", f, c.String(f))}
		}
	}
	return nil
}

// givenFlags lists the flags given to c's command, as --name=value in the
// command's flag order, without the global flags and those that only
// change how the chain is followed: the identity of a rewind.
func givenFlags(c *cli.Context) []string {
	global := map[string]bool{}
	for _, f := range globalFlags() {
		global[f.Names()[0]] = true
	}
	global["region"] = false // another region is another rewind
	var out []string
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if global[name] || slices.Contains(batchFollowFlags, name) || !c.IsSet(name) {
			continue
		}
		if name == "state-prefix" {
			out = append(out, "--state-prefix="+strings.TrimRight(strings.TrimSpace(c.String(name)), "/"))
			continue
		}
		for _, v := range flagValues(c, f) {
			out = append(out, "--"+name+"="+v)
		}
	}
	if r := gString(c, "region"); r != "" && !slices.ContainsFunc(out, func(s string) bool { return strings.HasPrefix(s, "--region=") }) {
		out = append(out, "--region="+r)
	}
	return out
}

// flagValues returns a flag's value(s) in c as the strings that parse
// back to them.
func flagValues(c *cli.Context, f cli.Flag) []string {
	name := f.Names()[0]
	switch f.(type) {
	case *cli.BoolFlag:
		return []string{strconv.FormatBool(c.Bool(name))}
	case *cli.IntFlag:
		return []string{strconv.Itoa(c.Int(name))}
	case *cli.Int64Flag:
		return []string{strconv.FormatInt(c.Int64(name), 10)}
	case *cli.Float64Flag:
		return []string{strconv.FormatFloat(c.Float64(name), 'g', -1, 64)}
	case *cli.StringSliceFlag:
		return c.StringSlice(name)
	case dayDurationFlag, *cli.DurationFlag:
		return []string{c.Duration(name).String()}
	default:
		return []string{c.String(name)}
	}
}

// sameChain refuses a chain recorded with other flags, as run refuses a
// state file of another rewind.
func sameChain(prefix string, recorded, given []string) error {
	if slices.Equal(recorded, given) {
		return nil
	}
	var gone, added []string
	for _, f := range recorded {
		if !slices.Contains(given, f) {
			gone = append(gone, f)
		}
	}
	for _, f := range given {
		if !slices.Contains(recorded, f) {
			added = append(added, f)
		}
	}
	return &usage.Error{Msg: fmt.Sprintf("batch start: %s holds the chain of another rewind (submitted with %s; this command differs: %s): give each rewind its own --state-prefix, or follow that one with ddbrewind batch status %s",
		prefix, orNone(gone), orNone(added), prefix)}
}

func orNone(fs []string) string {
	if len(fs) == 0 {
		return "nothing more"
	}
	return strings.Join(fs, " ")
}

// readChain reads the chain recorded under prefix; nil when there is none.
//
// It lists the record's key before reading it: S3 answers a read of a
// missing object with AccessDenied unless the caller may list the bucket,
// so the listing is what tells "no chain yet" for sure (docs/iam/batch.json
// grants s3:ListBucket on the prefix).
func readChain(ctx context.Context, files *statefile.Store, prefix string) (*chainRecord, error) {
	loc := prefix + "/" + chainFile
	if statefile.IsS3(loc) && files.S3 != nil {
		bucket, key, err := statefile.ParseS3(loc)
		if err != nil {
			return nil, &usage.Error{Msg: err.Error()}
		}
		out, err := files.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key), MaxKeys: aws.Int32(1)})
		if err != nil {
			return nil, fmt.Errorf("batch: look for the chain's record %s: %w", loc, err)
		}
		if len(out.Contents) == 0 || aws.ToString(out.Contents[0].Key) != key {
			return nil, nil
		}
	}
	data, err := files.Read(ctx, loc)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("batch: read the chain's record: %w", err)
	}
	var rec chainRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Version != 1 || len(rec.Steps) == 0 {
		return nil, &usage.Error{Msg: fmt.Sprintf("batch: %s/%s is not a chain ddbrewind recorded (%v): give another --state-prefix", prefix, chainFile, err)}
	}
	return &rec, nil
}

// createChain records a new chain; it fails if another batch start
// recorded one meanwhile (S3 conditional write, If-None-Match).
func createChain(ctx context.Context, s3c *s3.Client, kmsKey, prefix string, rec *chainRecord) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	loc := prefix + "/" + chainFile
	bucket, key, err := statefile.ParseS3(loc)
	if err != nil {
		return &usage.Error{Msg: err.Error()}
	}
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(append(data, '\n')),
		IfNoneMatch: aws.String("*"), ServerSideEncryption: s3types.ServerSideEncryptionAes256}
	if kmsKey != "" {
		in.ServerSideEncryption, in.SSEKMSKeyId = s3types.ServerSideEncryptionAwsKms, aws.String(kmsKey)
	}
	if _, err := s3c.PutObject(ctx, in); err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
			return &usage.Error{Msg: fmt.Sprintf("batch start: another batch start recorded a chain under %s meanwhile: follow it with ddbrewind batch status %s", prefix, prefix)}
		}
		return fmt.Errorf("batch start: record the chain in %s: %w", loc, err)
	}
	return nil
}

// saveChain records the chain's job ids as they are submitted.
func saveChain(ctx context.Context, files *statefile.Store, prefix string, rec *chainRecord) error {
	if err := writeJSON(ctx, files, prefix+"/"+chainFile, rec); err != nil {
		return fmt.Errorf("batch start: record the chain: %w", err)
	}
	return nil
}

// planChain checks the rewind against AWS as run does before restoring
// (the main table, the selection, the restore point and the recovery
// table's name), and builds the chain's jobs, with every restore point
// resolved to a fixed time so that every job and retry agrees.
func planChain(c *cli.Context, env *Env, log *slog.Logger, in runInputs, prefix string, flags []string, region string) (*chainRecord, error) {
	ctx := c.Context
	api, err := dynamoClient(ctx, c, nil, log)
	if err != nil {
		return nil, err
	}
	if r := tables.Region(in.restore.Table); r != "" && r != region {
		return nil, &usage.Error{Msg: fmt.Sprintf("batch start --table %s: the table is in %s but the jobs would work in %s: pass --region %s", in.restore.Table, r, region, r)}
	}
	table := tables.Name(in.restore.Table)
	k := c.Int("workers")
	co := in.copy
	co.To, co.WorkerCount = table, k
	if k > 1 && co.Segments == 0 && co.Selection.KeysFile == "" {
		co.Segments = 8 * k // every child and the diff split the table the same way
	}
	files, err := stateFiles(ctx, c, env, "", co.Selection.KeysFile)
	if err != nil {
		return nil, err
	}
	co.Files, co.Logger = files, log
	job, err := copier.PrepareJob(ctx, api, co)
	if err != nil {
		return nil, err
	}
	defer job.Close()
	rec := &chainRecord{Version: 1, Flags: flags, Table: table, Workers: k, JobQueue: c.String("job-queue"),
		JobDefinition: c.String("job-definition"), Region: region, Submitted: env.Now().UTC(), notes: job.Notes()}
	common := []string{"--region", region, "--log-format", "json", "--no-progress", "--yes"}
	if owner := gString(c, "s3-bucket-owner"); owner != "" {
		common = append(common, "--s3-bucket-owner", owner) // the jobs write in the same bucket
	}
	if in.since {
		args, err := batchRunSince(c, prefix)
		if err != nil {
			return nil, err
		}
		rec.Steps = []*chainStep{{Step: stepRun, Command: append(args, common...)}}
		nameJobs(rec, "since-"+compactTime(in.export.Since))
		return rec, nil
	}
	ro := in.restore
	ro.Described, ro.IfExists, ro.Logger, ro.Now = job.Target(), restore.IfExistsFail, log, env.Now
	ro.Backup, err = backupClientFor(ctx, c, env, ro.Point, log)
	if err != nil {
		return nil, err
	}
	plan, err := restore.Prepare(ctx, api, ro)
	if err != nil {
		return nil, err
	}
	point, recovery := plan.RestorePoint().UTC(), plan.RecoveryTable()
	rec.RestorePoint, rec.RecoveryTable = &point, recovery
	if rec.Steps, err = restoreChainSteps(c, in.restore.Table, plan, co, prefix, common); err != nil {
		return nil, err
	}
	nameJobs(rec, compactTime(point))
	return rec, nil
}

// chainSelection are the selection flags that the copy and the diff of a
// chain pass on as given.
var chainSelection = []string{"key-condition-expression", "filter-expression", "expression-attribute-names", "expression-attribute-values", "keys-file", "page-size"}

// restoreChainSteps returns the commands of a chain that rewinds table
// (as --table gave it) with a restore: restore at the plan's fixed point
// (or backup), copy with co's workers and segments, diff unless
// --no-verify, cleanup unless --keep-recovery-table; each ends with common.
func restoreChainSteps(c *cli.Context, table string, plan *restore.Plan, co copier.Options, prefix string, common []string) ([]*chainStep, error) {
	recovery := plan.RecoveryTable()
	b := newArgs("restore", restoreFlags())
	b.flag("table", table)
	if arn := plan.BackupARN(); arn != "" {
		b.flag("backup", arn)
	} else {
		b.flag("at", plan.RestorePoint().UTC().Format(time.RFC3339Nano))
	}
	b.recovery(recovery)
	b.pass(c, "backup-role-arn", "billing-mode", "read-capacity", "write-capacity", "indexes", "sse-kms-key", "tag", "timeout")
	b.flag("if-exists", restore.IfExistsAdopt) // a retried restore job takes over its own restore
	steps := []*chainStep{{Step: stepRestore, Command: b.done(common)}}
	errs := []error{b.err}

	b = newArgs("copy", copyFlags())
	b.fromRecovery(c, recovery, co.To, co.Segments)
	b.pass(c, "only-missing", "delete-extra", "if-main", "skip-expired", "max-wcu", "writers", "max-retry-time", "progress-interval", "sse-kms-key")
	b.flag("worker-count", strconv.Itoa(co.WorkerCount))
	b.flag("checkpoint", prefix+"/checkpoint.json")
	b.flag("journal", prefix+"/journal.jsonl")
	b.flag("report", prefix+"/"+copyReportFile) // each child's: copy-report.json.worker-I-of-K
	copyStep := &chainStep{Step: stepCopy, Command: b.done(common)}
	if co.WorkerCount > 1 {
		copyStep.ArraySize = co.WorkerCount
	}
	steps = append(steps, copyStep)
	errs = append(errs, b.err)

	if !c.Bool("no-verify") {
		b = newArgs("diff", diffFlags())
		b.fromRecovery(c, recovery, co.To, co.Segments)
		b.pass(c, "writers", "max-retry-time", "progress-interval")
		b.flag("after-copy", "true") // judged as run's verification: extras fail only with --delete-extra
		b.pass(c, "only-missing", "if-main", "delete-extra", "skip-expired")
		b.flag("show", "100")
		b.flag("output", "json")
		steps = append(steps, &chainStep{Step: stepDiff, Command: b.done(common)})
		errs = append(errs, b.err)
	}
	if !c.Bool("keep-recovery-table") {
		b = newArgs("cleanup", cleanupFlags())
		b.flag("recovery-table", recovery)
		b.flag("missing-ok", "true") // a retry after the first attempt deleted it has nothing to do
		steps = append(steps, &chainStep{Step: stepCleanup, Command: b.done(common)})
		errs = append(errs, b.err)
	}
	return steps, errors.Join(errs...)
}

// compactTime is t in the time format without '-' and ':', for job names.
func compactTime(t time.Time) string {
	return strings.ReplaceAll(strings.ReplaceAll(tables.FormatTime(t), ":", ""), "-", "")
}

// submitQuestion is the confirmation of a new chain: what its jobs will
// write.
func submitQuestion(rec *chainRecord) string {
	var q string
	if rec.RestorePoint == nil {
		q = fmt.Sprintf("submit an AWS Batch job that rewinds main table %s from incremental exports (it writes items of %s)", rec.Table, rec.Table)
	} else {
		q = fmt.Sprintf("submit AWS Batch jobs that restore %s to %s as %s and copy it back with %s: they write items of main table %s",
			rec.Table, tables.MessageTime(*rec.RestorePoint), rec.RecoveryTable, countNoun(int64(rec.Workers), "worker"), rec.Table)
	}
	if rec.notes != "" {
		q += "; " + rec.notes
	}
	return q
}

// batchRunSince is the command of the one run --since job: run's flags as
// given, with its state, journal and report under the prefix.
func batchRunSince(c *cli.Context, prefix string) ([]string, error) {
	b := newArgs("run", runFlags())
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if !c.IsSet(name) || slices.Contains(batchFollowFlags, name) || slices.Contains([]string{"job-queue", "job-definition", "state-prefix", "workers"}, name) {
			continue
		}
		if slices.ContainsFunc(globalFlags(), func(g cli.Flag) bool { return g.Names()[0] == name }) {
			continue
		}
		b.pass(c, name)
	}
	b.flag("state", prefix+"/state.json")
	b.flag("journal", prefix+"/journal.jsonl")
	b.flag("report", prefix+"/report.json")
	return b.done(nil), b.err
}

// jobNameChar is what a Batch job name may not hold.
var jobNameChar = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// nameJobs names each job ddbrewind-STEP-TABLE-STAMP (128 characters at
// most, as Batch allows).
func nameJobs(rec *chainRecord, stamp string) {
	for _, s := range rec.Steps {
		n := jobNameChar.ReplaceAllString(fmt.Sprintf("ddbrewind-%s-%s-%s", s.Step, rec.Table, stamp), "-")
		if len(n) > 128 {
			n = n[:128]
		}
		s.JobName = n
	}
}

// argsBuilder builds a command line of one of ddbrewind's commands from
// that command's own flag definitions: a flag it does not have is an
// error, not a command that would fail in the container.
type argsBuilder struct {
	cmd  *cli.Command
	args []string
	err  error
}

func newArgs(name string, own []cli.Flag) *argsBuilder {
	return &argsBuilder{cmd: &cli.Command{Name: name, Flags: withGlobals(own...)}, args: []string{name}}
}

// lookup returns the command's flag named name.
func (b *argsBuilder) lookup(name string) cli.Flag {
	for _, f := range b.cmd.Flags {
		if slices.Contains(f.Names(), name) {
			return f
		}
	}
	if b.err == nil {
		b.err = fmt.Errorf("batch start: ddbrewind %s has no flag --%s (a bug in batch start)", b.cmd.Name, name)
	}
	return nil
}

// flag appends --name value (a boolean flag: --name=value).
func (b *argsBuilder) flag(name, value string) {
	f := b.lookup(name)
	if f == nil {
		return
	}
	if _, ok := f.(*cli.BoolFlag); ok {
		b.args = append(b.args, "--"+name+"="+value)
		return
	}
	b.args = append(b.args, "--"+name, value)
}

// recovery appends the recovery table's name.
func (b *argsBuilder) recovery(name string) { b.flag("recovery-table", name) }

// fromRecovery appends what a chain's copy and diff share: --from the
// recovery table, --to the main table, the selection as given and
// --segments when set.
func (b *argsBuilder) fromRecovery(c *cli.Context, recovery, table string, segments int) {
	b.flag("from", recovery)
	b.flag("to", table)
	b.pass(c, chainSelection...)
	if segments > 0 {
		b.flag("segments", strconv.Itoa(segments))
	}
}

// pass appends the flags given to c among names, with their values.
func (b *argsBuilder) pass(c *cli.Context, names ...string) {
	for _, name := range names {
		if !c.IsSet(name) {
			continue
		}
		var src cli.Flag
		for _, f := range c.Command.Flags {
			if slices.Contains(f.Names(), name) {
				src = f
			}
		}
		if src == nil {
			continue
		}
		for _, v := range flagValues(c, src) {
			b.flag(name, v)
		}
	}
}

// done returns the command line with the common flags appended.
func (b *argsBuilder) done(common []string) []string {
	return append(slices.Clone(b.args), common...)
}

// submitChain submits the steps not submitted yet, each depending on the
// one before, and records each job id as soon as it is known.
func submitChain(ctx context.Context, bc batchAPI, files *statefile.Store, prefix string, rec *chainRecord, log *slog.Logger) error {
	prev := ""
	for _, s := range rec.Steps {
		if s.JobID != "" {
			prev = s.JobID
			continue
		}
		in := &batch.SubmitJobInput{
			JobName:            aws.String(s.JobName),
			JobQueue:           aws.String(rec.JobQueue),
			JobDefinition:      aws.String(rec.JobDefinition),
			ContainerOverrides: &btypes.ContainerOverrides{Command: s.Command},
			RetryStrategy:      batchRetry(),
			Tags:               map[string]string{"ddbrewind:state-prefix": tagValue(prefix), "ddbrewind:step": s.Step},
		}
		if s.ArraySize > 1 {
			in.ArrayProperties = &btypes.ArrayProperties{Size: aws.Int32(int32(s.ArraySize))}
		}
		if prev != "" {
			in.DependsOn = []btypes.JobDependency{{JobId: aws.String(prev)}}
		}
		out, err := bc.SubmitJob(ctx, in)
		if err != nil {
			return fmt.Errorf("batch start: submit the %s job to queue %s: %w (the jobs submitted so far are recorded under %s: the same command submits the rest)", s.Step, rec.JobQueue, err, prefix)
		}
		s.JobID = aws.ToString(out.JobId)
		prev = s.JobID
		log.Info("submitted", "step", s.Step, "job_id", s.JobID, "job_name", s.JobName, "array_size", s.ArraySize)
		if err := saveChain(ctx, files, prefix, rec); err != nil {
			return err
		}
	}
	return nil
}

// tagValueChar is what a tag value may not hold: AWS tags take letters,
// digits, spaces and + - = . _ : / @ (ECS checks it when the job
// definition propagates the job's tags to its tasks).
var tagValueChar = regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]`)

// tagValue is s as a tag value: each character a tag may not hold becomes
// '_', cut to the 256 characters a value may hold (the prefix itself is in
// the record).
func tagValue(s string) string {
	r := []rune(tagValueChar.ReplaceAllString(s, "_"))
	if len(r) > 256 {
		r = r[:256]
	}
	return string(r)
}

// consoleURL is the AWS console's page of a job.
func consoleURL(region, jobID string) string {
	return fmt.Sprintf("https://%s.console.aws.amazon.com/batch/home?region=%s#jobs/detail/%s", region, region, jobID)
}

// printChain prints the chain's jobs on stdout.
func printChain(env *Env, rec *chainRecord, prefix string) {
	what := fmt.Sprintf("rewind of %s", rec.Table)
	if rec.RestorePoint != nil {
		what += fmt.Sprintf(" to %s through recovery table %s", tables.MessageTime(*rec.RestorePoint), rec.RecoveryTable)
	}
	fmt.Fprintf(env.Out, "%s (state %s):\n", what, prefix)
	for _, s := range rec.Steps {
		size := ""
		if s.ArraySize > 1 {
			size = fmt.Sprintf(" (%d children)", s.ArraySize)
		}
		fmt.Fprintf(env.Out, "  %-8s %s%s %s\n", s.Step, s.JobID, size, consoleURL(rec.Region, s.JobID))
	}
}
