package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	btypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// motoBatch turns moto's Batch into its simple mode (jobs end at once,
// without containers: POST /moto-api/config) and creates a compute
// environment, a job queue and a job definition; it returns a client and
// the queue's and definition's names.
func motoBatch(t *testing.T, srv *ddbtest.Server) (*batch.Client, string, string) {
	t.Helper()
	name := strings.ReplaceAll(ddbtest.UniqueName(t, "q"), ".", "-")
	if len(name) > 100 {
		name = name[len(name)-100:]
	}
	return motoBatchNamed(t, srv, name, name)
}

// motoBatchNamed is motoBatch with the queue's and definition's names.
func motoBatchNamed(t *testing.T, srv *ddbtest.Server, queue, def string) (*batch.Client, string, string) {
	t.Helper()
	ctx := context.Background()
	resp, err := http.Post(srv.Endpoint+"/moto-api/config", "application/json", strings.NewReader(`{"batch": {"use_docker": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	role := ddbtest.UniqueName(t, "batch-role")
	if len(role) > 64 {
		role = role[len(role)-64:]
	}
	motoIAM(t, srv, url.Values{"Action": {"CreateRole"}, "Version": {"2010-05-08"}, "RoleName": {role},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[]}`}})
	bc := batch.New(batch.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	name := queue
	if _, err := bc.CreateComputeEnvironment(ctx, &batch.CreateComputeEnvironmentInput{ComputeEnvironmentName: aws.String(name),
		Type: btypes.CETypeUnmanaged, State: btypes.CEStateEnabled, ServiceRole: aws.String("arn:aws:iam::123456789012:role/" + role)}); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.CreateJobQueue(ctx, &batch.CreateJobQueueInput{JobQueueName: aws.String(name), Priority: aws.Int32(1), State: btypes.JQStateEnabled,
		ComputeEnvironmentOrder: []btypes.ComputeEnvironmentOrder{{Order: aws.Int32(1), ComputeEnvironment: aws.String(name)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := bc.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{JobDefinitionName: aws.String(def), Type: btypes.JobDefinitionTypeContainer,
		ContainerProperties: &btypes.ContainerProperties{Image: aws.String("ddbrewind:test"), Vcpus: aws.Int32(1), Memory: aws.Int32(512)}}); err != nil {
		t.Fatal(err)
	}
	return bc, queue, def
}

// motoIAM sends one signed IAM Query call to moto (the module has no IAM
// client).
func motoIAM(t *testing.T, srv *ddbtest.Server, form url.Values) {
	t.Helper()
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, srv.Endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req,
		hex.EncodeToString(sum[:]), "iam", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("IAM %s: %s: %s", form.Get("Action"), resp.Status, b)
	}
}

// motoBatchEnv is the environment of ddbrewind against one moto: S3 and Batch
// at its endpoint.
func motoBatchEnv(srv *ddbtest.Server) map[string]string {
	return map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint, "AWS_ENDPOINT_URL_BATCH": srv.Endpoint}
}

// parseCommand parses a submitted command with the flag definitions of
// the CLI's own command of that name, as the container will; it returns
// the parsed flag set.
func parseCommand(t *testing.T, args []string) *flag.FlagSet {
	t.Helper()
	app := newApp(&Env{Getenv: func(string) string { return "" }})
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.Name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		t.Fatalf("%q: ddbrewind has no command %s", args, args[0])
	}
	set := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range cmd.Flags {
		if err := f.Apply(set); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Parse(args[1:]); err != nil || set.NArg() > 0 {
		t.Fatalf("%q: the CLI's parser refuses it: %v (left over %q)", args, err, set.Args())
	}
	return set
}

func flagValue(set *flag.FlagSet, name string) string {
	if f := set.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

func isSet(set *flag.FlagSet, name string) bool {
	seen := false
	set.Visit(func(f *flag.Flag) { seen = seen || f.Name == name })
	return seen
}

// TestBatchStartChain submits a rewind to moto's Batch and checks the
// chain it sees (order, dependencies, array size, commands parsed back by
// the CLI's own parser, state paths under the prefix, the record), follows
// it to exit 0, then reruns: the same flags follow the same chain, other
// flags on the prefix are refused, batch status follows it.
func TestBatchStartChain(t *testing.T) {
	srv, dc, table := motoTable(t, true)
	bc, queue, def := motoBatch(t, srv)
	s3c, bucket := s3Bucket(t, srv)
	at := latestRestorable(t, dc, table).UTC().Format(time.RFC3339Nano)
	prefix := "s3://" + bucket + "/rewinds/" + table
	args := []string{"batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--at", at,
		"--job-queue", queue, "--job-definition", def, "--workers", "3", "--state-prefix", prefix + "/",
		"--delete-extra", "--skip-expired", "--max-wcu", "100", "--filter-expression", "#s = :s",
		"--expression-attribute-names", `{"#s":"status"}`, "--expression-attribute-values", `{":s":{"S":"open"}}`, "--poll-interval", "1s", "--yes"}
	opts := cliOpts{env: motoBatchEnv(srv)}
	// Without --yes and without a terminal: refused, nothing submitted or
	// recorded (the rewind's jobs write the main table).
	r := runCLI(t, opts, args[:len(args)-1]...)
	if raw, _ := s3Object(t, s3c, bucket, "rewinds/"+table+"/"+chainFile); r.code != 2 || !strings.Contains(r.stderr, "refusing to submit AWS Batch jobs that restore") ||
		!strings.Contains(r.stderr, "add --yes") || raw != "" {
		t.Fatalf("without --yes: exit %d, record %q: %s", r.code, raw, r.stderr)
	}
	r = runCLI(t, opts, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "rewound "+table) || !strings.Contains(r.stdout, "console.aws.amazon.com/batch/home?region=us-east-1#jobs/detail/") {
		t.Fatalf("batch start: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	raw, _ := s3Object(t, s3c, bucket, "rewinds/"+table+"/"+chainFile)
	var rec chainRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatalf("record %q: %v", raw, err)
	}
	steps := []string{}
	for _, s := range rec.Steps {
		steps = append(steps, s.Step)
		if s.JobID == "" || !strings.Contains(r.stdout, s.JobID) {
			t.Errorf("step %s: job id %q not recorded or not printed", s.Step, s.JobID)
		}
	}
	if !slices.Equal(steps, []string{stepRestore, stepCopy, stepDiff, stepCleanup}) {
		t.Fatalf("steps %v", steps)
	}
	ids := []string{rec.Steps[0].JobID, rec.Steps[1].JobID, rec.Steps[2].JobID, rec.Steps[3].JobID}
	out, err := bc.DescribeJobs(context.Background(), &batch.DescribeJobsInput{Jobs: ids})
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]btypes.JobDetail{}
	for _, j := range out.Jobs {
		jobs[aws.ToString(j.JobId)] = j
	}
	var sets []*flag.FlagSet
	for i, id := range ids {
		j, ok := jobs[id]
		if !ok {
			t.Fatalf("job %s unknown to Batch", id)
		}
		var deps []string
		for _, d := range j.DependsOn {
			deps = append(deps, aws.ToString(d.JobId))
		}
		if (i == 0 && len(deps) != 0) || (i > 0 && !slices.Equal(deps, []string{ids[i-1]})) {
			t.Errorf("%s depends on %v, want the job before it", rec.Steps[i].Step, deps)
		}
		if aws.ToString(j.JobQueue) == "" || j.Container == nil {
			t.Fatalf("%s: %+v", id, j)
		}
		if !slices.Equal(j.Container.Command, rec.Steps[i].Command) || j.Container.Command[0] != rec.Steps[i].Step {
			t.Errorf("%s: Batch has command %q, the record %q", rec.Steps[i].Step, j.Container.Command, rec.Steps[i].Command)
		}
		sets = append(sets, parseCommand(t, j.Container.Command))
	}
	if ap := jobs[ids[1]].ArrayProperties; ap == nil || aws.ToInt32(ap.Size) != 3 {
		t.Errorf("copy job: array properties %+v, want size 3", ap)
	}
	restoreSet, copySet, diffSet, cleanupSet := sets[0], sets[1], sets[2], sets[3]
	recovery := flagValue(restoreSet, "recovery-table")
	checks := []struct {
		set        *flag.FlagSet
		name, want string
	}{
		{restoreSet, "table", table}, {restoreSet, "at", rec.RestorePoint.Format(time.RFC3339Nano)}, {restoreSet, "if-exists", "adopt"},
		{restoreSet, "recovery-table", rec.RecoveryTable},
		{copySet, "from", recovery}, {copySet, "to", table}, {copySet, "worker-count", "3"}, {copySet, "segments", "24"},
		{copySet, "checkpoint", prefix + "/checkpoint.json"}, {copySet, "journal", prefix + "/journal.jsonl"},
		{copySet, "delete-extra", "true"}, {copySet, "max-wcu", "100"}, {copySet, "filter-expression", "#s = :s"},
		{copySet, "expression-attribute-names", `{"#s":"status"}`}, {copySet, "yes", "true"}, {copySet, "log-format", "json"},
		{diffSet, "from", recovery}, {diffSet, "to", table}, {diffSet, "segments", "24"}, {diffSet, "filter-expression", "#s = :s"},
		{diffSet, "expression-attribute-values", `{":s":{"S":"open"}}`},
		{diffSet, "after-copy", "true"}, {diffSet, "delete-extra", "true"},
		{copySet, "skip-expired", "true"}, {diffSet, "skip-expired", "true"},
		{cleanupSet, "recovery-table", "[" + recovery + "]"},
	}
	for _, c := range checks {
		if got := flagValue(c.set, c.name); got != c.want || !isSet(c.set, c.name) {
			t.Errorf("%s --%s = %q, want %q", c.set.Name(), c.name, got, c.want)
		}
	}
	if at != rec.RestorePoint.Format(time.RFC3339Nano) || !strings.HasPrefix(recovery, table+"-rewind-") {
		t.Errorf("restore point %s (asked %s), recovery table %s", rec.RestorePoint, at, recovery)
	}
	if p, err := tables.ParseTime(flagValue(restoreSet, "at")); err != nil || !p.Equal(*rec.RestorePoint) {
		t.Errorf("restore --at %s reads as %v (%v), want %v", flagValue(restoreSet, "at"), p, err, rec.RestorePoint)
	}
	if isSet(copySet, "worker-index") {
		t.Error("the array job's command names a worker index: every child would be the same worker")
	}
	// Each child writes its own report under the prefix, where the
	// follower reads it.
	if got := flagValue(copySet, "report"); got != prefix+"/"+copyReportFile {
		t.Errorf("copy --report %q, want %s", got, prefix+"/"+copyReportFile)
	}
	checkReportsFollowed(t, rec.Steps[1], prefix)
	if tableExists(t, dc, recovery) {
		t.Error("batch start restored: only the jobs do")
	}

	// The same command again follows the recorded chain: nothing submitted.
	r = runCLI(t, opts, args...)
	raw2, _ := s3Object(t, s3c, bucket, "rewinds/"+table+"/"+chainFile)
	if r.code != 0 || raw2 != raw || !strings.Contains(r.stderr, "submitted before") || !strings.Contains(r.stdout, ids[3]) {
		t.Errorf("rerun: exit %d, record changed %v\n%s%s", r.code, raw2 != raw, r.stdout, r.stderr)
	}
	// The prefix without its trailing '/' is the same prefix.
	same := slices.Clone(args)
	same[slices.Index(same, prefix+"/")] = prefix
	if r = runCLI(t, opts, same...); r.code != 0 || !strings.Contains(r.stderr, "submitted before") {
		t.Errorf("rerun without the trailing /: exit %d: %s", r.code, r.stderr)
	}
	// Other flags on the same prefix: refused before any call to Batch.
	other := slices.Clone(args)
	other[slices.Index(other, "100")] = "200"
	r = runCLI(t, opts, other...)
	if r.code != 2 || !strings.Contains(r.stderr, "holds the chain of another rewind") || !strings.Contains(r.stderr, "--max-wcu=200") {
		t.Errorf("other flags: exit %d: %s", r.code, r.stderr)
	}
	// Following more closely does not make it another rewind.
	r = runCLI(t, opts, append(slices.Clone(args), "--no-wait", "--log-level", "debug")...)
	if r.code != 0 || !strings.Contains(r.stdout, "batch status "+prefix) {
		t.Errorf("--no-wait rerun: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, opts, "batch", "status", prefix)
	if r.code != 0 || !strings.Contains(r.stdout, "rewound "+table) {
		t.Errorf("batch status: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, opts, "batch", "status", "s3://"+bucket+"/nothing-here")
	if r.code != 2 || !strings.Contains(r.stderr, "no chain recorded") {
		t.Errorf("batch status of an empty prefix: exit %d: %s", r.code, r.stderr)
	}
}

// TestBatchStartNoWaitAndKeep: --no-wait returns once submitted;
// --keep-recovery-table and --no-verify leave their jobs out; one worker
// is a plain job.
func TestBatchStartNoWaitAndKeep(t *testing.T) {
	srv, dc, table := motoTable(t, true)
	_, queue, def := motoBatch(t, srv)
	s3c, bucket := s3Bucket(t, srv)
	r := runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--latest",
		"--job-queue", queue, "--job-definition", def, "--state-prefix", "s3://"+bucket+"/p", "--no-wait", "--no-verify", "--keep-recovery-table", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "follow it with: ddbrewind batch status s3://"+bucket+"/p") || strings.Contains(r.stdout, "rewound") {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	raw, _ := s3Object(t, s3c, bucket, "p/"+chainFile)
	var rec chainRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Steps) != 2 || rec.Steps[0].Step != stepRestore || rec.Steps[1].Step != stepCopy || rec.Steps[1].ArraySize != 0 {
		t.Errorf("steps: %+v", rec.Steps)
	}
	// --latest is resolved: every attempt of the restore job restores to
	// the same time.
	set := parseCommand(t, rec.Steps[0].Command)
	if isSet(set, "latest") || flagValue(set, "at") == "" || !rec.RestorePoint.Before(latestRestorable(t, dc, table).Add(time.Second)) {
		t.Errorf("restore command %q", rec.Steps[0].Command)
	}
}

// TestBatchStartFailingChain: on a moto whose Batch fails every job, the
// chain ends with the first failure, exit 1 (no exit code: a failure
// Batch retried as far as it would), and says the recovery table stays.
func TestBatchStartFailingChain(t *testing.T) {
	srv, err := ddbtest.LaunchEnv(context.Background(), ddbtest.Moto, "MOTO_SIMPLE_BATCH_FAIL_AFTER=0")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("moto: %v", err) // a missing emulator fails in CI, as ddbtest.Pool does
		}
		t.Skipf("moto: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	dc := srv.Client(t)
	table := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, dc, table, ddbtest.TableSpec{HashKey: "pk", HashType: "S", PITR: true})
	_, queue, def := motoBatch(t, srv)
	_, bucket := s3Bucket(t, srv)
	prefix := "s3://" + bucket + "/r"
	r := runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--latest",
		"--job-queue", queue, "--job-definition", def, "--workers", "2", "--state-prefix", prefix, "--poll-interval", "1s", "--yes")
	if r.code != 1 || !strings.Contains(r.stderr, "the restore job") || !strings.Contains(r.stderr, "failed") || !strings.Contains(r.stderr, "stays") {
		t.Errorf("failing chain: exit %d: %s", r.code, r.stderr)
	}
	r = runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "status", "--no-wait", prefix)
	if r.code != 1 || !strings.Contains(r.stdout, "restore FAILED") {
		t.Errorf("batch status: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
}

// TestBatchStartRefusals: bad flags exit 2 with one line, before any AWS
// call (no endpoint answers here).
func TestBatchStartRefusals(t *testing.T) {
	base := []string{"batch", "start", "--table", "orders", "--job-queue", "q", "--job-definition", "d", "--state-prefix", "s3://b/p", "--endpoint-url", "http://127.0.0.1:1"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no restore point", nil, "give exactly one of --at"},
		{"two restore points", []string{"--at", "2026-01-01T00:00:00Z", "--latest"}, ""},
		{"since with a restore point", []string{"--since", "2026-01-01T00:00:00Z", "--s3-bucket", "x", "--at", "2026-01-01T00:00:00Z"}, "batch start --since rewinds from incremental exports"},
		{"since split", []string{"--since", "2026-01-01T00:00:00Z", "--s3-bucket", "x", "--workers", "2"}, "is not split"},
		{"until without since", []string{"--latest", "--until", "2026-01-01T00:00:00Z"}, "batch start --until goes with --since"},
		{"no workers", []string{"--latest", "--workers", "0"}, "--workers 0: must be at least 1"},
		{"key condition split", []string{"--latest", "--workers", "2", "--key-condition-expression", "pk = :p"}, "read by one worker"},
		{"local keys file", []string{"--latest", "--keys-file", "keys.jsonl"}, "s3://BUCKET/KEY"},
		{"local names file", []string{"--latest", "--expression-attribute-names", "file://names.json", "--filter-expression", "#a = :a"}, "cannot read a local file"},
		{"bad table", []string{"--latest", "--table", "x"}, "not a valid table name"},
		{"local prefix", []string{"--latest", "--state-prefix", "/tmp/p"}, "give s3://BUCKET/PREFIX"},
		{"bucket only", []string{"--latest", "--state-prefix", "s3://b/"}, "a prefix of its own"},
		{"worker count is batch's", []string{"--latest", "--worker-count", "2"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ddb(t, append(slices.Clone(base), tt.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr %q, want exit 2 and %q", r.code, r.stderr, tt.want)
			}
		})
	}
	for _, tt := range []struct{ args, want string }{
		{"batch", "batch: give a subcommand: start or status"},
		{"batch strat", `batch: unknown subcommand "strat": did you mean start?`},
		{"batch frobnicate", `batch: unknown subcommand "frobnicate": use start or status`},
		{"batch status", "batch status: give the --state-prefix of batch start"},
		{"batch status /tmp/p", `--state-prefix "/tmp/p": give s3://BUCKET/PREFIX`},
		{"batch status s3://b/p --no-wait", "batch status: --no-wait after the prefix: put the flags before it"},
	} {
		if r := ddb(t, strings.Fields(tt.args)...); r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: exit %d: %s", tt.args, r.code, r.stderr)
		}
	}
	for _, missing := range []string{"--job-queue", "--job-definition", "--state-prefix"} {
		args := slices.Clone(base)
		i := slices.Index(args, missing)
		args = append(append(args[:i:i], args[i+2:]...), "--latest")
		if r := ddb(t, args...); r.code != 2 || !strings.Contains(r.stderr, "batch start: "+missing+" is required") {
			t.Errorf("without %s: exit %d: %s", missing, r.code, r.stderr)
		}
	}
}

// fakeBatch answers DescribeJobs from fixed jobs (array children by
// ARRAY:INDEX) and records SubmitJob inputs.
type fakeBatch struct {
	jobs      map[string]btypes.JobDetail
	submitted []*batch.SubmitJobInput
}

func (f *fakeBatch) SubmitJob(_ context.Context, in *batch.SubmitJobInput, _ ...func(*batch.Options)) (*batch.SubmitJobOutput, error) {
	f.submitted = append(f.submitted, in)
	return &batch.SubmitJobOutput{JobId: aws.String(fmt.Sprintf("job-%d", len(f.submitted)))}, nil
}

func (f *fakeBatch) DescribeJobs(_ context.Context, in *batch.DescribeJobsInput, _ ...func(*batch.Options)) (*batch.DescribeJobsOutput, error) {
	out := &batch.DescribeJobsOutput{}
	for _, id := range in.Jobs {
		if j, ok := f.jobs[id]; ok {
			j.JobId = aws.String(id)
			out.Jobs = append(out.Jobs, j)
		}
	}
	return out, nil
}

func testChain() *chainRecord {
	at := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	return &chainRecord{Version: 1, Table: "orders", RecoveryTable: "orders-rewind-20261125T083000Z", RestorePoint: &at, Region: "eu-west-1", Workers: 4,
		JobQueue: "q", JobDefinition: "d", Steps: []*chainStep{
			{Step: stepRestore, JobID: "r"}, {Step: stepCopy, JobID: "c", ArraySize: 4}, {Step: stepDiff, JobID: "v"}, {Step: stepCleanup, JobID: "x"}}}
}

func job(status btypes.JobStatus, exit ...int32) btypes.JobDetail {
	j := btypes.JobDetail{Status: status}
	if len(exit) > 0 {
		j.Container = &btypes.ContainerDetail{ExitCode: aws.Int32(exit[0])}
	}
	return j
}

// TestBatchChainExitCodes: the first failed job decides the exit code as
// run's would (a failed array job by its children: 2 before 3 before
// others), a running chain is not done, a finished one exits 0.
func TestBatchChainExitCodes(t *testing.T) {
	failedDep := btypes.JobDetail{Status: btypes.JobStatusFailed, StatusReason: aws.String("Dependent Job failed")}
	child := func(code int32) btypes.JobDetail { return job(btypes.JobStatusFailed, code) }
	array := func(status btypes.JobStatus, done int32) btypes.JobDetail {
		return btypes.JobDetail{Status: status, ArrayProperties: &btypes.ArrayPropertiesDetail{Size: aws.Int32(4), StatusSummary: map[string]int32{"SUCCEEDED": done}}}
	}
	ok := btypes.JobStatusSucceeded
	tests := []struct {
		name     string
		jobs     []btypes.JobDetail
		children []btypes.JobDetail
		done     bool
		code     int
		line     string
	}{
		{"running", []btypes.JobDetail{job(ok), array(btypes.JobStatusRunning, 3), job(btypes.JobStatusPending), job(btypes.JobStatusPending)}, nil, false, 0, "copy RUNNING (3 of 4 children done)"},
		{"done", []btypes.JobDetail{job(ok, 0), array(ok, 4), job(ok, 0), job(ok, 0)}, nil, true, 0, "cleanup SUCCEEDED"},
		{"diff differs", []btypes.JobDetail{job(ok), array(ok, 4), job(btypes.JobStatusFailed, 3), failedDep}, nil, true, 3, "diff FAILED"},
		{"restore refused", []btypes.JobDetail{job(btypes.JobStatusFailed, 2), failedDep, failedDep, failedDep}, nil, true, 2, "restore FAILED"},
		{"children refused", []btypes.JobDetail{job(ok), array(btypes.JobStatusFailed, 1), failedDep, failedDep}, []btypes.JobDetail{child(1), child(2), child(3), job(btypes.JobStatusSucceeded, 0)}, true, 2, "copy FAILED"},
		{"children unwritten", []btypes.JobDetail{job(ok), array(btypes.JobStatusFailed, 2), failedDep, failedDep}, []btypes.JobDetail{child(3), child(137), job(btypes.JobStatusSucceeded, 2)}, true, 3, ""},
		{"host lost", []btypes.JobDetail{job(ok), array(btypes.JobStatusFailed, 2), failedDep, failedDep}, []btypes.JobDetail{{Status: btypes.JobStatusFailed, StatusReason: aws.String("Host EC2 (instance i-0abc) terminated.")}}, true, 1, ""},
		{"interrupted for good", []btypes.JobDetail{job(btypes.JobStatusFailed, 130), failedDep, failedDep, failedDep}, nil, true, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := testChain()
			f := &fakeBatch{jobs: map[string]btypes.JobDetail{}}
			for i, s := range rec.Steps {
				f.jobs[s.JobID] = tt.jobs[i]
			}
			for i, c := range tt.children {
				f.jobs[fmt.Sprintf("c:%d", i)] = c
			}
			st, err := chainStatus(context.Background(), f, rec)
			if err != nil {
				t.Fatal(err)
			}
			if st.done != tt.done || exitCode(st.err) != tt.code || !strings.Contains(st.line(rec), tt.line) {
				t.Errorf("done %v, exit %d (%v), line %q", st.done, exitCode(st.err), st.err, st.line(rec))
			}
			if tt.code != 0 && !strings.Contains(st.err.Error(), "recovery table orders-rewind-20261125T083000Z stays") {
				t.Errorf("the failure does not say the recovery table stays: %v", st.err)
			}
		})
	}
}

// TestBatchSubmitChain: each job depends on the one before, with the
// retry policy (host lost, 1 and 130 retried; 2, 3 and others not), the
// array size, and the ids recorded; a partly submitted chain gets only
// its missing jobs.
func TestBatchSubmitChain(t *testing.T) {
	rec := testChain()
	for _, s := range rec.Steps[1:] {
		s.JobID = ""
	}
	rec.Steps[1].Command = []string{"copy"}
	f := &fakeBatch{}
	dir := t.TempDir() // a local prefix: the record is written the same way
	if err := submitChain(context.Background(), f, &statefile.Store{}, dir, rec, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if len(f.submitted) != 3 {
		t.Fatalf("submitted %d jobs, want the 3 missing", len(f.submitted))
	}
	prev := "r"
	for i, in := range f.submitted {
		if len(in.DependsOn) != 1 || aws.ToString(in.DependsOn[0].JobId) != prev {
			t.Errorf("job %d depends on %+v, want %s", i, in.DependsOn, prev)
		}
		prev = fmt.Sprintf("job-%d", i+1)
		rs := in.RetryStrategy
		if rs == nil || aws.ToInt32(rs.Attempts) < 2 {
			t.Fatalf("job %d: retry strategy %+v", i, rs)
		}
		for _, c := range []struct {
			reason, exit string
			want         btypes.RetryAction
		}{{"Host EC2 (instance i-0abc) terminated.", "", btypes.RetryActionRetry}, {"", "1", btypes.RetryActionRetry}, {"", "130", btypes.RetryActionRetry},
			{"", "2", btypes.RetryActionExit}, {"", "3", btypes.RetryActionExit}, {"", "137", btypes.RetryActionExit}} {
			if got := evaluateOnExit(rs.EvaluateOnExit, c.reason, c.exit); got != c.want {
				t.Errorf("job %d, reason %q exit %q: %s, want %s", i, c.reason, c.exit, got, c.want)
			}
		}
	}
	if aws.ToInt32(f.submitted[0].ArrayProperties.Size) != 4 || f.submitted[1].ArrayProperties != nil {
		t.Errorf("array properties: %+v, %+v", f.submitted[0].ArrayProperties, f.submitted[1].ArrayProperties)
	}
	var saved chainRecord
	data, err := os.ReadFile(filepath.Join(dir, chainFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &saved); err != nil || saved.Steps[3].JobID != "job-3" {
		t.Errorf("record: %v %+v", err, saved.Steps)
	}
}

// evaluateOnExit applies Batch's rule to one failed attempt: the first
// entry whose patterns match decides; none matching retries.
func evaluateOnExit(rules []btypes.EvaluateOnExit, reason, exit string) btypes.RetryAction {
	match := func(pattern, s string) bool {
		if pattern == "" {
			return true
		}
		if p, ok := strings.CutSuffix(pattern, "*"); ok {
			return strings.HasPrefix(s, p)
		}
		return pattern == s
	}
	for _, r := range rules {
		if r.OnExitCode != nil && exit == "" {
			continue
		}
		if match(aws.ToString(r.OnStatusReason), reason) && match(aws.ToString(r.OnExitCode), exit) && match(aws.ToString(r.OnReason), "") {
			return r.Action
		}
	}
	return btypes.RetryActionRetry
}

// TestBatchFollowInterrupted: Ctrl-C stops the following, not the jobs,
// says so, and exits 130.
func TestBatchFollowInterrupted(t *testing.T) {
	rec := testChain()
	f := &fakeBatch{jobs: map[string]btypes.JobDetail{"r": job(btypes.JobStatusRunning), "c": job(btypes.JobStatusPending), "v": job(btypes.JobStatusPending), "x": job(btypes.JobStatusPending)}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := followChain(ctx, f, nil, &Env{Out: &out, Now: time.Now}, slog.New(slog.DiscardHandler), rec, "s3://b/p", time.Second)
	if exitCode(err) != exitInterrupted || !strings.Contains(err.Error(), "the jobs go on") || !strings.Contains(err.Error(), "batch status s3://b/p") {
		t.Errorf("exit %d: %v", exitCode(err), err)
	}
}

// TestDiffAfterCopy: diff --after-copy (batch start's diff job) judges as
// run's verification does: an extra item fails only with --delete-extra,
// a different one not with --only-missing or --if-main, a missing one
// always; the write flags without --after-copy are refused.
func TestDiffAfterCopy(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(20, 3, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	ddbtest.PutItems(t, c, to, items)
	extra := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "extra"}, "sk": &types.AttributeValueMemberN{Value: "1"}}
	ddbtest.PutItems(t, c, to, []map[string]types.AttributeValue{extra})
	diff := func(args ...string) int {
		return ddb(t, append([]string{"diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to}, args...)...).code
	}
	for _, tt := range []struct {
		args []string
		want int
	}{
		{nil, 3}, // a plain diff: any difference
		{[]string{"--after-copy"}, 0},
		{[]string{"--after-copy", "--delete-extra"}, 3},
		{[]string{"--only-missing"}, 2},
		{[]string{"--after-copy", "--from-export", "s3://b/x/"}, 2},
	} {
		if got := diff(tt.args...); got != tt.want {
			t.Errorf("diff %q: exit %d, want %d", tt.args, got, tt.want)
		}
	}
	changed := maps.Clone(items[4])
	changed["status"] = &types.AttributeValueMemberS{Value: "changed"}
	ddbtest.PutItems(t, c, to, []map[string]types.AttributeValue{changed})
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"--after-copy"}, 3},
		{[]string{"--after-copy", "--only-missing"}, 0},
		{[]string{"--after-copy", "--if-main", "attribute_exists(pk)"}, 0},
	} {
		if got := diff(tt.args...); got != tt.want {
			t.Errorf("diff %q with a different item: exit %d, want %d", tt.args, got, tt.want)
		}
	}
}

// TestBatchStartSince: a rewind from incremental exports is one run
// --since job, with run's flags as given and its state, journal and
// report under the prefix.
func TestBatchStartSince(t *testing.T) {
	srv, _, table := motoTable(t, true)
	_, queue, def := motoBatch(t, srv)
	s3c, bucket := s3Bucket(t, srv)
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	r := runCLI(t, cliOpts{env: motoBatchEnv(srv)}, "batch", "start", "--endpoint-url", srv.Endpoint, "--table", table, "--since", since,
		"--s3-bucket", bucket, "--s3-prefix", "exports", "--overwrite-conflicts", "--max-wcu", "50",
		"--job-queue", queue, "--job-definition", def, "--state-prefix", "s3://"+bucket+"/since", "--no-wait", "--yes")
	if r.code != 0 {
		t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	raw, _ := s3Object(t, s3c, bucket, "since/"+chainFile)
	var rec chainRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.Steps) != 1 || rec.Steps[0].Step != stepRun || rec.RestorePoint != nil || rec.RecoveryTable != "" {
		t.Fatalf("chain %+v", rec)
	}
	set := parseCommand(t, rec.Steps[0].Command)
	prefix := "s3://" + bucket + "/since"
	for name, want := range map[string]string{"table": table, "since": since, "s3-bucket": bucket, "s3-prefix": "exports", "overwrite-conflicts": "true",
		"max-wcu": "50", "state": prefix + "/state.json", "journal": prefix + "/journal.jsonl", "report": prefix + "/report.json", "yes": "true"} {
		if got := flagValue(set, name); got != want || !isSet(set, name) {
			t.Errorf("run --%s = %q, want %q", name, got, want)
		}
	}
	// The follower sums the one job's report.
	if got := reportLocations(rec.Steps[0]); !slices.Equal(got, []string{prefix + "/report.json"}) {
		t.Errorf("the follower reads the reports %q, want %s/report.json", got, prefix)
	}
}
