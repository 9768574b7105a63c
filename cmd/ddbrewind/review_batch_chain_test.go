package main

import (
	"flag"
	"fmt"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"context"
	"encoding/json"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TestReviewBatchWorkersAboveArrayLimit: AWS Batch takes array jobs of 2
// to 10,000 children; more workers are refused with exit 2 before
// anything is read or submitted (no endpoint answers here), not after the
// restore job was submitted.
func TestReviewBatchWorkersAboveArrayLimit(t *testing.T) {
	base := []string{"batch", "start", "--table", "orders", "--job-queue", "q", "--job-definition", "d", "--state-prefix", "s3://b/p",
		"--endpoint-url", "http://127.0.0.1:1", "--latest", "--yes"}
	for _, tt := range []struct {
		workers string
		code    int
		want    string
	}{
		{"10001", 2, "--workers 10001: AWS Batch runs at most 10000 children in an array job"},
		{"250000", 2, "--workers 250000: AWS Batch runs at most 10000 children"},
	} {
		r := ddb(t, append(base, "--workers", tt.workers)...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("--workers %s: exit %d, stderr %q; want exit %d and %q", tt.workers, r.code, r.stderr, tt.code, tt.want)
		}
	}
}

// startChainNoWait submits a chain to moto with --no-wait and returns its
// record.
func startChainNoWait(t *testing.T, extra ...string) (chainRecord, string, func(args ...string) result) {
	t.Helper()
	srv, _, table := motoTable(t, true)
	_, queue, def := motoBatch(t, srv)
	s3c, bucket := s3Bucket(t, srv)
	prefix := "s3://" + bucket + "/rewinds/" + table
	opts := cliOpts{env: motoBatchEnv(srv)}
	args := append([]string{"batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--latest",
		"--job-queue", queue, "--job-definition", def, "--workers", "2", "--state-prefix", prefix, "--no-wait", "--yes"}, extra...)
	r := runCLI(t, opts, args...)
	if r.code != 0 {
		t.Fatalf("batch start: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	raw, _ := s3Object(t, s3c, bucket, "rewinds/"+table+"/"+chainFile)
	var rec chainRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatalf("record %q: %v", raw, err)
	}
	cli := func(args ...string) result {
		t.Helper()
		if len(args) > 0 && args[0] != "batch" {
			args = append(args, "--endpoint-url", srv.Endpoint)
		}
		return runCLI(t, opts, args...)
	}
	return rec, prefix, cli
}

// TestReviewBatchCleanupRetriedAfterDelete: the cleanup job is retried
// (exit 1 or 130, a lost host) after its first attempt deleted the
// recovery table, e.g. while it waited for the table to be gone; the
// retry must succeed, not fail the chain with "table not found" (exit 2)
// after a rewind that is done.
func TestReviewBatchCleanupRetriedAfterDelete(t *testing.T) {
	rec, _, cli := startChainNoWait(t)
	last := rec.Steps[len(rec.Steps)-1]
	if last.Step != stepCleanup {
		t.Fatalf("last step %s", last.Step)
	}
	// moto runs no container: the recovery table was never created, as
	// after an attempt that deleted it.
	r := cli(last.Command...)
	if r.code != 0 {
		t.Errorf("the cleanup job's command on a recovery table already deleted: exit %d, want 0: %s", r.code, r.stderr)
	}
}

// TestReviewBatchCleanupStillRefuses: the cleanup job's tolerance of a
// table already gone does not make it delete a table ddbrewind did not
// create.
func TestReviewBatchCleanupStillRefuses(t *testing.T) {
	srv, dc, table := motoTable(t, true)
	_ = dc
	r := runCLI(t, cliOpts{}, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", table, "--missing-ok", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "ddbrewind did not create it") {
		t.Errorf("cleanup --missing-ok of a table without ddbrewind's tags: exit %d: %s", r.code, r.stderr)
	}
	if _, err := dc.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
		t.Errorf("the table is gone: %v", err)
	}
	// --missing-ok says what to do with a named table: alone, it is bad usage.
	r = runCLI(t, cliOpts{}, "cleanup", "--endpoint-url", srv.Endpoint, "--source", table, "--missing-ok", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "cleanup --missing-ok goes with --recovery-table NAME") {
		t.Errorf("cleanup --source --missing-ok: exit %d: %s", r.code, r.stderr)
	}
	// A table that never existed, named without --missing-ok: still refused.
	r = runCLI(t, cliOpts{}, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", table+"-rewind-none", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "table not found") {
		t.Errorf("cleanup of a missing table: exit %d: %s", r.code, r.stderr)
	}
}

// TestReviewBatchBucketOwnerReachesJobs: --s3-bucket-owner guards every S3
// request of batch start; the jobs write the checkpoints, journals and
// reports in the same bucket, so their commands carry it too.
func TestReviewBatchBucketOwnerReachesJobs(t *testing.T) {
	rec, _, _ := startChainNoWait(t, "--s3-bucket-owner", "123456789012")
	for _, s := range rec.Steps {
		set := parseCommand(t, s.Command)
		if got := flagValue(set, "s3-bucket-owner"); got != "123456789012" {
			t.Errorf("%s job: --s3-bucket-owner %q, want 123456789012 (%q)", s.Step, got, s.Command)
		}
	}
}

// TestReviewBatchStatusOtherRegion: batch status follows the chain in
// the Region it was submitted to (recorded), whatever Region the machine
// that follows it is set to.
func TestReviewBatchStatusOtherRegion(t *testing.T) {
	rec, prefix, cli := startChainNoWait(t)
	if rec.Region != "us-east-1" {
		t.Fatalf("region %q", rec.Region)
	}
	r := cli("batch", "status", "--region", "eu-west-1", "--no-wait", prefix)
	if r.code != 0 || !strings.Contains(r.stdout, "restore SUCCEEDED") {
		t.Errorf("batch status --region eu-west-1 of a chain in us-east-1: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// TestReviewBatchStatusHalfSubmitted: a chain whose submission was cut
// off (jobs without an id in the record) is not described with empty ids:
// batch status says which jobs are missing and that the same batch start
// submits them.
func TestReviewBatchStatusHalfSubmitted(t *testing.T) {
	rec := testChain()
	rec.Steps[2].JobID, rec.Steps[3].JobID = "", ""
	f := &fakeBatch{jobs: map[string]btypes.JobDetail{"r": job(btypes.JobStatusSucceeded, 0), "c": job(btypes.JobStatusRunning)}}
	_, err := chainStatus(context.Background(), f, rec)
	if err == nil || !strings.Contains(err.Error(), "diff and cleanup jobs were never submitted") || !strings.Contains(err.Error(), "the same batch start") {
		t.Errorf("half-submitted chain: %v", err)
	}
	if exitCode(err) != 1 {
		t.Errorf("exit %d, want 1", exitCode(err))
	}
}

// TestReviewBatchLongPrefixTag: a Batch tag value holds at most 256
// characters; a long state prefix (S3 keys take 1024) is cut in the
// job's tag rather than making every SubmitJob fail.
func TestReviewBatchLongPrefixTag(t *testing.T) {
	rec := testChain()
	for _, s := range rec.Steps {
		s.JobID = ""
	}
	prefix := t.TempDir() + "/" + strings.Repeat("abcdefghi/", 30) + "p"
	if err := os.MkdirAll(prefix, 0o700); err != nil {
		t.Fatal(err)
	}
	f := &fakeBatch{}
	if err := submitChain(context.Background(), f, &statefile.Store{}, prefix, rec, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	for _, in := range f.submitted {
		for k, v := range in.Tags {
			if len([]rune(v)) > 256 || len(k) > 128 {
				t.Errorf("%s: tag %s has %d characters", aws.ToString(in.JobName), k, len([]rune(v)))
			}
		}
		if v := in.Tags["ddbrewind:state-prefix"]; !strings.HasPrefix(prefix, v) || v == "" {
			t.Errorf("state-prefix tag %q is not the prefix's beginning", v)
		}
	}
}

// TestReviewBatchChainFlagsReachJobs: the write mode, the restore's
// options and the durations given to batch start reach the jobs that use
// them, as values the container's parser reads back; two workers are an
// array job of two children (a plain job would copy worker 0's share only).
func TestReviewBatchChainFlagsReachJobs(t *testing.T) {
	rec, _, _ := startChainNoWait(t, "--if-main", "attribute_exists(pk)", "--sse-kms-key", "alias/ddbrewind-test", "--timeout", "3h",
		"--max-retry-time", "10m", "--billing-mode", "PAY_PER_REQUEST")
	sets := map[string]*flag.FlagSet{}
	for _, s := range rec.Steps {
		sets[s.Step] = parseCommand(t, s.Command)
	}
	if rec.Steps[1].Step != stepCopy || rec.Steps[1].ArraySize != 2 {
		t.Errorf("copy step %+v: want an array job of 2 children", rec.Steps[1])
	}
	for _, c := range []struct{ step, name, want string }{
		{stepRestore, "sse-kms-key", "alias/ddbrewind-test"}, {stepRestore, "timeout", "3h0m0s"}, {stepRestore, "billing-mode", "PAY_PER_REQUEST"},
		{stepCopy, "if-main", "attribute_exists(pk)"}, {stepCopy, "max-retry-time", "10m0s"}, {stepCopy, "worker-count", "2"},
		{stepCopy, "sse-kms-key", "alias/ddbrewind-test"}, // its journal, checkpoint and report in S3
		{stepDiff, "if-main", "attribute_exists(pk)"}, {stepDiff, "show", "100"}, {stepDiff, "output", "json"},
	} {
		if set := sets[c.step]; set == nil || flagValue(set, c.name) != c.want || !isSet(set, c.name) {
			t.Errorf("%s --%s: want %q", c.step, c.name, c.want)
		}
	}
}

// TestReviewBatchRecoveryTableExists: batch start checks, as run does,
// that the recovery table does not exist yet: exit 2 and nothing
// submitted or recorded (the restore job would adopt a table it did not
// restore for this rewind).
func TestReviewBatchRecoveryTableExists(t *testing.T) {
	srv, dc, table := motoTable(t, true)
	_, queue, def := motoBatch(t, srv)
	s3c, bucket := s3Bucket(t, srv)
	taken := table + "-taken"
	ddbtest.CreateTable(t, dc, taken, ddbtest.TableSpec{HashKey: "pk", HashType: "S"})
	r := runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--latest",
		"--recovery-table", taken, "--job-queue", queue, "--job-definition", def, "--state-prefix", "s3://"+bucket+"/p", "--no-wait", "--yes")
	if raw, _ := s3Object(t, s3c, bucket, "p/"+chainFile); r.code != 2 || raw != "" || !strings.Contains(r.stderr, taken) {
		t.Errorf("recovery table exists: exit %d, record %q: %s", r.code, raw, r.stderr)
	}
}

// TestReviewBatchRecordCreatedOnce: the chain's record is created with a
// conditional write: a second batch start that raced the first is
// refused (exit 2) rather than overwriting the record of the jobs the
// first one submits; with --sse-kms-key the record is encrypted with that
// key.
func TestReviewBatchRecordCreatedOnce(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	s3c, bucket := s3Bucket(t, srv)
	prefix := "s3://" + bucket + "/race"
	rec := testChain()
	ctx := context.Background()
	if err := createChain(ctx, s3c, "alias/ddbrewind-test", prefix, rec); err != nil {
		t.Fatal(err)
	}
	_, obj := s3Object(t, s3c, bucket, "race/"+chainFile)
	if obj == nil || obj.ServerSideEncryption != "aws:kms" || aws.ToString(obj.SSEKMSKeyId) == "" {
		t.Errorf("record encryption: %+v", obj)
	}
	err := createChain(ctx, s3c, "", prefix, rec)
	if exitCode(err) != 2 || err == nil || !strings.Contains(err.Error(), "another batch start recorded a chain") {
		t.Errorf("second create: exit %d: %v", exitCode(err), err)
	}
}

// TestReviewBatchLongTableJobNames: a table name of 255 characters (with
// '.' and '_') still gives job names that AWS Batch takes: 128 characters
// at most, letters, digits, '-' and '_', starting with a letter, each step
// its own.
func TestReviewBatchLongTableJobNames(t *testing.T) {
	rec := testChain()
	rec.Table = strings.Repeat("a.b_c-", 42) + "xyz"
	nameJobs(rec, "20261125T083000Z")
	valid := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
	seen := map[string]bool{}
	for _, s := range rec.Steps {
		if !valid.MatchString(s.JobName) || seen[s.JobName] {
			t.Errorf("%s: job name %q (%d characters)", s.Step, s.JobName, len(s.JobName))
		}
		seen[s.JobName] = true
	}
}

// TestReviewBatchManyChildrenExitCode: a failed array job of more than
// 100 children is judged by all of them (DescribeJobs takes 100 ids at a
// time): a refused child 180 makes exit 2. A failed cleanup does not say
// the recovery table stays.
func TestReviewBatchManyChildrenExitCode(t *testing.T) {
	rec := testChain()
	rec.Steps[1].ArraySize = 250
	failedDep := btypes.JobDetail{Status: btypes.JobStatusFailed, StatusReason: aws.String("Dependent Job failed")}
	f := &fakeBatch{jobs: map[string]btypes.JobDetail{"r": job(btypes.JobStatusSucceeded, 0), "v": failedDep, "x": failedDep,
		"c": {Status: btypes.JobStatusFailed, ArrayProperties: &btypes.ArrayPropertiesDetail{Size: aws.Int32(250)}}}}
	for i := range 250 {
		f.jobs[fmt.Sprintf("c:%d", i)] = job(btypes.JobStatusSucceeded, 0)
	}
	f.jobs["c:7"] = job(btypes.JobStatusFailed, 1)
	f.jobs["c:180"] = job(btypes.JobStatusFailed, 2)
	st, err := chainStatus(context.Background(), f, rec)
	if err != nil || !st.done || exitCode(st.err) != 2 {
		t.Errorf("done %v, exit %d: %v %v", st.done, exitCode(st.err), st.err, err)
	}

	f = &fakeBatch{jobs: map[string]btypes.JobDetail{"r": job(btypes.JobStatusSucceeded, 0), "c": job(btypes.JobStatusSucceeded, 0),
		"v": job(btypes.JobStatusSucceeded, 0), "x": job(btypes.JobStatusFailed, 1)}}
	st, err = chainStatus(context.Background(), f, testChain())
	if err != nil || exitCode(st.err) != 1 || strings.Contains(st.err.Error(), "stays") || !strings.Contains(st.err.Error(), "the cleanup job") {
		t.Errorf("failed cleanup: exit %d: %v %v", exitCode(st.err), st.err, err)
	}
}

// TestReviewBatchBackupBeforeResolved: --backup-before is resolved once,
// to the backup's ARN: the restore job (and each of its retries) restores
// that backup, not the point in time of its creation.
func TestReviewBatchBackupBeforeResolved(t *testing.T) {
	srv, _, table, arn, created, _ := backedUpTable(t, 10)
	_, queue, def := motoBatch(t, srv)
	s3c, bucket := s3Bucket(t, srv)
	r := runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table,
		"--backup-before", tables.FormatTime(created.Add(time.Second)), "--job-queue", queue, "--job-definition", def,
		"--state-prefix", "s3://"+bucket+"/b", "--no-wait", "--yes")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	raw, _ := s3Object(t, s3c, bucket, "b/"+chainFile)
	var rec chainRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatal(err)
	}
	set := parseCommand(t, rec.Steps[0].Command)
	if flagValue(set, "backup") != arn || isSet(set, "at") || isSet(set, "backup-before") {
		t.Errorf("restore command %q: want --backup %s only", rec.Steps[0].Command, arn)
	}
}

// TestReviewBatchEarlierRecoveryTableRefused: a recovery table left by an
// earlier rewind to the same point (a chain whose diff failed keeps it) is
// refused by a new batch start, as run refuses it without its state file:
// only a retried restore job of the same chain adopts it.
func TestReviewBatchEarlierRecoveryTableRefused(t *testing.T) {
	srv, dc, table := motoTable(t, true)
	_, queue, def := motoBatch(t, srv)
	s3c, bucket := s3Bucket(t, srv)
	at := latestRestorable(t, dc, table).UTC().Format(time.RFC3339Nano)
	left := table + "-left"
	if r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--at", at, "--recovery-table", left, "--yes"); r.code != 0 {
		t.Fatalf("restore: exit %d: %s", r.code, r.stderr)
	}
	r := runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--at", at,
		"--recovery-table", left, "--job-queue", queue, "--job-definition", def, "--state-prefix", "s3://"+bucket+"/p", "--no-wait", "--yes")
	if raw, _ := s3Object(t, s3c, bucket, "p/"+chainFile); r.code != 2 || raw != "" || !strings.Contains(r.stderr, left) {
		t.Errorf("an earlier recovery table: exit %d, record %q: %s", r.code, raw, r.stderr)
	}
}

// TestReviewBatchGivenValuesKept: values given on purpose reach the jobs
// as given: --segments is not replaced by the default 8 × K, and a boolean
// given false stays false (--delete-extra=false must not delete).
func TestReviewBatchGivenValuesKept(t *testing.T) {
	rec, _, _ := startChainNoWait(t, "--segments", "5", "--delete-extra=false")
	for _, s := range rec.Steps[1:3] {
		set := parseCommand(t, s.Command)
		if flagValue(set, "segments") != "5" || flagValue(set, "delete-extra") != "false" {
			t.Errorf("%s: --segments %s --delete-extra %s, want 5 and false", s.Step, flagValue(set, "segments"), flagValue(set, "delete-extra"))
		}
	}
}

// TestReviewBatchLocalValuesFile: a file:// expression values file is
// refused like a names file (the jobs could not read it): exit 2 before
// any call.
func TestReviewBatchLocalValuesFile(t *testing.T) {
	r := ddb(t, "batch", "start", "--table", "orders", "--job-queue", "q", "--job-definition", "d", "--state-prefix", "s3://b/p",
		"--endpoint-url", "http://127.0.0.1:1", "--latest", "--filter-expression", "a = :a", "--expression-attribute-values", "file://values.json", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "--expression-attribute-values file://values.json: the jobs run on other machines") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// TestReviewBatchSubmitArrayOfTwo: a copy of two workers is submitted as
// an array job of two children.
func TestReviewBatchSubmitArrayOfTwo(t *testing.T) {
	rec := testChain()
	for _, s := range rec.Steps {
		s.JobID = ""
	}
	rec.Steps[1].ArraySize = 2
	f := &fakeBatch{}
	if err := submitChain(context.Background(), f, &statefile.Store{}, t.TempDir(), rec, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if ap := f.submitted[1].ArrayProperties; ap == nil || aws.ToInt32(ap.Size) != 2 {
		t.Errorf("copy job array properties %+v, want size 2", ap)
	}
}

// TestReviewBatchSinceReportsFollowed: the follower reads the one run
// --since job's report, as it reads the copy children's.
func TestReviewBatchSinceReportsFollowed(t *testing.T) {
	rec := &chainRecord{Version: 1, Table: "orders", Steps: []*chainStep{{Step: stepRun, JobID: "j",
		Command: []string{"run", "--table", "orders", "--report", "s3://b/p/report.json"}}}}
	r := newChainReports(&statefile.Store{S3: s3.New(s3.Options{Region: "us-east-1"})}, rec)
	if r == nil || r.step != 0 || !r.want["p/report.json"] {
		t.Errorf("reports of a run --since chain: %+v", r)
	}
}

// TestReviewBatchConfirmationNotes: the confirmation of batch start says
// what run's says of the main table (here its stream), before anything
// is submitted.
func TestReviewBatchConfirmationNotes(t *testing.T) {
	srv, dc, table := motoTable(t, true)
	_, queue, def := motoBatch(t, srv)
	_, bucket := s3Bucket(t, srv)
	if _, err := dc.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String(table),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}}); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--latest",
		"--job-queue", queue, "--job-definition", def, "--state-prefix", "s3://"+bucket+"/p", "--no-wait")
	if r.code != 2 || !strings.Contains(r.stderr, "has a stream (NEW_AND_OLD_IMAGES)") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// TestReviewBatchSinceOneWorker: --workers 1 (the default, given) is
// batch start's own flag, not passed to the run --since job.
func TestReviewBatchSinceOneWorker(t *testing.T) {
	srv, _, table := motoTable(t, true)
	_, queue, def := motoBatch(t, srv)
	_, bucket := s3Bucket(t, srv)
	r := runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table,
		"--since", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--s3-bucket", bucket, "--workers", "1",
		"--job-queue", queue, "--job-definition", def, "--state-prefix", "s3://"+bucket+"/since", "--no-wait", "--yes")
	if r.code != 0 {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// TestReviewBatchTagValue: a state prefix with characters a tag value may
// not hold (S3 keys take them) is tagged with '_' in their place.
func TestReviewBatchTagValue(t *testing.T) {
	valid := regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$`)
	for _, prefix := range []string{"s3://b/rewinds/orders~2026(a),b!", "s3://b/" + strings.Repeat("é", 300), "s3://b/p q/20261125T083000Z"} {
		if v := tagValue(prefix); !valid.MatchString(v) || len([]rune(v)) > 256 {
			t.Errorf("tagValue(%q) = %q", prefix, v)
		}
	}
	if v := tagValue("s3://b/ddbrewind/orders_1.x/p=1+2@3"); v != "s3://b/ddbrewind/orders_1.x/p=1+2@3" {
		t.Errorf("a valid prefix changed: %q", v)
	}
}

// TestReviewBatchLocalConflictKeys: run --since's --overwrite-conflicts-keys
// is read by the job, on another machine: a local path is refused like a
// local --keys-file, exit 2 before any call (it would fail the job after
// submission).
func TestReviewBatchLocalConflictKeys(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "conflicts.jsonl")
	if err := os.WriteFile(keys, []byte(`{"pk":{"S":"a"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ddb(t, "batch", "start", "--table", "orders", "--job-queue", "q", "--job-definition", "d", "--state-prefix", "s3://b/p",
		"--endpoint-url", "http://127.0.0.1:1", "--since", "2026-01-01T00:00:00Z", "--s3-bucket", "x", "--overwrite-conflicts-keys", keys, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "batch start --overwrite-conflicts-keys "+keys+": the jobs run on other machines: give the keys file as s3://BUCKET/KEY") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}
