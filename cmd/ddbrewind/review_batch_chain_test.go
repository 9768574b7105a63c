package main

import (
	"log/slog"
	"os"

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
