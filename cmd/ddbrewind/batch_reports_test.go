package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
)

// childReportPaths runs a submitted copy command through the CLI as each
// of the step's children would (argv as submitted, AWS_BATCH_JOB_ARRAY_INDEX
// set in an array job's children only) and returns where each child
// writes its --report: copy's own reportPath of its own options.
func childReportPaths(t *testing.T, s *chainStep) []string {
	t.Helper()
	k := max(s.ArraySize, 1)
	var paths []string
	for i := range k {
		env := deployEnv()
		env.Getenv = func(name string) string {
			if name == deployArrayIndex && s.ArraySize > 1 {
				return strconv.Itoa(i)
			}
			return ""
		}
		app := newApp(env)
		got := ""
		for _, c := range app.Commands {
			if c.Name == stepCopy {
				c.Action = func(ctx *cli.Context) error {
					o, err := copyOptions(ctx, env)
					got = reportPath(ctx, o)
					return err
				}
			}
		}
		if err := app.RunContext(context.Background(), append([]string{"ddbrewind"}, s.Command...)); err != nil || got == "" {
			t.Fatalf("child %d: %q: report %q, %v", i, s.Command, got, err)
		}
		paths = append(paths, got)
	}
	return paths
}

// checkReportsFollowed checks that the children of a submitted copy step
// write their reports, one each, under prefix, exactly where the follower
// reads them (reportLocations).
func checkReportsFollowed(t *testing.T, s *chainStep, prefix string) []string {
	t.Helper()
	paths := childReportPaths(t, s)
	follower := reportLocations(s)
	if !slices.Equal(paths, follower) {
		t.Errorf("the children write their reports to %q, the follower reads %q", paths, follower)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(paths)))) != len(paths) {
		t.Errorf("children share a report: %q", paths)
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, prefix+"/") {
			t.Errorf("report %s is not under the state prefix %s", p, prefix)
		}
	}
	return paths
}

// putReport writes a copy report at loc (s3://) as a child would, with
// counts.written = written.
func putReport(t *testing.T, c *s3.Client, loc string, written int64) {
	t.Helper()
	bucket, key, err := statefile.ParseS3(loc)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(&copier.Summary{Source: "orders-rewind", Target: "orders", Counts: copier.Snapshot{Read: written, Written: written}, Outcome: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(string(data))}); err != nil {
		t.Fatal(err)
	}
}

// TestBatchFollowReports: on moto, the copy children's reports (written
// here under the prefix where the submitted command has each child write
// its own, as moto runs no container) are summed into the follow's
// progress line and final line: "by the 2 of 3 children that left a
// report" while one is missing, the total once all are there. The plain
// copy job (one worker) writes one report, without a worker suffix.
func TestBatchFollowReports(t *testing.T) {
	srv, _, table := motoTable(t, true)
	_, queue, def := motoBatch(t, srv)
	s3c, bucket := s3Bucket(t, srv)
	opts := cliOpts{env: motoBatchEnv(srv)}
	prefix := "s3://" + bucket + "/follow"
	r := runCLI(t, opts, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--workers", "3",
		"--job-queue", queue, "--job-definition", def, "--state-prefix", prefix, "--no-wait", "--yes")
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	rec, err := readChain(context.Background(), &statefile.Store{S3: s3c}, prefix)
	if err != nil || rec == nil {
		t.Fatalf("record: %v", err)
	}
	copyStep := rec.Steps[1]
	if set := parseCommand(t, copyStep.Command); flagValue(set, "report") != prefix+"/"+copyReportFile {
		t.Fatalf("copy --report %q, want %s", flagValue(set, "report"), prefix+"/"+copyReportFile)
	}
	paths := checkReportsFollowed(t, copyStep, prefix)
	if len(paths) != 3 || paths[2] != prefix+"/copy-report.json.worker-2-of-3" {
		t.Fatalf("child reports %q", paths)
	}
	// Not a child's report of this chain: never summed.
	putReport(t, s3c, prefix+"/copy-report.json.worker-3-of-4", 1000000)
	putReport(t, s3c, prefix+"/copy-report.json", 1000000)

	putReport(t, s3c, paths[0], 1200)
	putReport(t, s3c, paths[2], 34)
	r = runCLI(t, opts, "batch", "status", "--no-wait", prefix)
	if want := "copy SUCCEEDED (3 of 3 children done; 1,234 items written by the 2 of 3 children that left a report)"; r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("two reports of three: exit %d, want %q in\n%s%s", r.code, want, r.stdout, r.stderr)
	}
	putReport(t, s3c, paths[1], 1)
	r = runCLI(t, opts, "batch", "status", "--poll-interval", "1s", prefix)
	if want := "copy SUCCEEDED (3 of 3 children done; 1,235 items written)"; r.code != 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("progress: exit %d, want %q in\n%s", r.code, want, r.stderr)
	}
	if want := "AWS Batch chain under " + prefix + " done; 1,235 items written)"; !strings.Contains(r.stdout, want) {
		t.Errorf("final line: want %q in\n%s", want, r.stdout)
	}

	// One worker: a plain job, one report without a suffix.
	prefix = "s3://" + bucket + "/one"
	r = runCLI(t, opts, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--keep-recovery-table",
		"--job-queue", queue, "--job-definition", def, "--state-prefix", prefix, "--no-wait", "--yes")
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if rec, err = readChain(context.Background(), &statefile.Store{S3: s3c}, prefix); err != nil || rec == nil {
		t.Fatalf("record: %v", err)
	}
	paths = checkReportsFollowed(t, rec.Steps[1], prefix)
	if !slices.Equal(paths, []string{prefix + "/" + copyReportFile}) {
		t.Fatalf("plain copy job's report %q", paths)
	}
	putReport(t, s3c, paths[0], 7)
	r = runCLI(t, opts, "batch", "status", "--poll-interval", "1s", prefix)
	if want := "done; 7 items written)"; r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stderr, "copy SUCCEEDED (7 items written)") {
		t.Errorf("one worker: exit %d, want %q\n%s%s", r.code, want, r.stdout, r.stderr)
	}
}

// TestBatchFollowWrittenSoFar: while the array copy runs, the progress
// sums the reports of the children that ended ("so far by finished
// children"); a retried child's new report replaces its old one (read
// again by its ETag, not added); a chain recorded before the copy had a
// --report reads none. Batch is a fake here (moto's jobs end at once);
// the reports are in moto's S3.
func TestBatchFollowWrittenSoFar(t *testing.T) {
	srv, _, _ := motoTable(t, false)
	s3c, bucket := s3Bucket(t, srv)
	prefix := "s3://" + bucket + "/sofar"
	rec := testChain()
	rec.Steps[1].Command = []string{"copy", "--from", rec.RecoveryTable, "--to", "orders", "--segments", "32", "--worker-count", "4",
		"--report", prefix + "/" + copyReportFile, "--yes"}
	array := func(status btypes.JobStatus, done int32) btypes.JobDetail {
		return btypes.JobDetail{Status: status, ArrayProperties: &btypes.ArrayPropertiesDetail{Size: aws.Int32(4), StatusSummary: map[string]int32{"SUCCEEDED": done}}}
	}
	f := &fakeBatch{jobs: map[string]btypes.JobDetail{"r": job(btypes.JobStatusSucceeded, 0), "c": array(btypes.JobStatusRunning, 0),
		"v": job(btypes.JobStatusPending), "x": job(btypes.JobStatusPending)}}
	files := &statefile.Store{S3: s3c}
	reports := newChainReports(files, rec)
	log := slog.New(slog.DiscardHandler)
	paths := checkReportsFollowed(t, rec.Steps[1], prefix)
	step := func(status btypes.JobStatus, done int32, want string) {
		t.Helper()
		f.jobs["c"] = array(status, done)
		st, err := observe(context.Background(), f, rec, reports, log)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.line(rec); !strings.Contains(got, want) {
			t.Errorf("line %q, want %q", got, want)
		}
	}
	step(btypes.JobStatusRunning, 0, "copy RUNNING (0 of 4 children done) ·")
	putReport(t, s3c, paths[1], 500)
	step(btypes.JobStatusRunning, 1, "copy RUNNING (1 of 4 children done; 500 items written so far by finished children)")
	putReport(t, s3c, paths[3], 20)
	step(btypes.JobStatusRunning, 2, "(2 of 4 children done; 520 items written so far by finished children)")
	putReport(t, s3c, paths[1], 501) // child 1 retried: its last attempt's report
	step(btypes.JobStatusRunning, 2, "(2 of 4 children done; 521 items written so far by finished children)")
	putReport(t, s3c, paths[0], 1000)
	putReport(t, s3c, paths[2], 2000)
	step(btypes.JobStatusSucceeded, 4, "copy SUCCEEDED (4 of 4 children done; 3,521 items written) · diff PENDING")

	// A chain recorded before the copy command had a --report.
	old := testChain()
	old.Steps[1].Command = []string{"copy", "--from", old.RecoveryTable, "--to", "orders", "--worker-count", "4"}
	if r := newChainReports(files, old); r != nil {
		t.Errorf("a copy without --report: the follower reads %v", r.want)
	}
}

// TestBatchWrittenText words the items written, from the reports there
// and whether the copy ended.
func TestBatchWrittenText(t *testing.T) {
	for _, tt := range []struct {
		w     writtenSoFar
		ended bool
		want  string
	}{
		{writtenSoFar{reports: 0, of: 8}, false, ""},
		{writtenSoFar{reports: 0, of: 8}, true, ""},
		{writtenSoFar{reports: 3, of: 8, items: 1}, false, "1 item written so far by finished children"},
		{writtenSoFar{reports: 8, of: 8, items: 12345}, true, "12,345 items written"},
		{writtenSoFar{reports: 7, of: 8, items: 12345}, true, "12,345 items written by the 7 of 8 children that left a report"},
		{writtenSoFar{reports: 1, of: 1, items: 5}, false, "5 items written so far"},
		{writtenSoFar{reports: 1, of: 1, items: 5}, true, "5 items written"},
	} {
		t.Run(fmt.Sprintf("%+v-%v", tt.w, tt.ended), func(t *testing.T) {
			if got := tt.w.text(tt.ended); got != tt.want {
				t.Errorf("%q, want %q", got, tt.want)
			}
		})
	}
}
