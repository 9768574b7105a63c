package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/rewind"
)

// s3Bucket creates a bucket on the moto server and returns a client.
func s3Bucket(t *testing.T, srv *ddbtest.Server) (*s3.Client, string) {
	t.Helper()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	bucket := strings.ToLower(ddbtest.UniqueName(t, "state"))
	bucket = strings.NewReplacer("_", "-", ".", "-").Replace(bucket)
	if len(bucket) > 63 {
		bucket = bucket[len(bucket)-63:]
	}
	bucket = strings.Trim(bucket, "-")
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return c, bucket
}

func s3Object(t *testing.T, c *s3.Client, bucket, key string) (string, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", nil
	}
	defer out.Body.Close()
	data, _ := io.ReadAll(out.Body)
	return string(data), out
}

// TestRunResumesFromS3State kills a run mid-copy and starts it again from
// another working directory with the same S3 locations, as a retried AWS
// Batch attempt on a fresh container would.
func TestRunResumesFromS3State(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 150)
	c := srv.Client(t)
	want := ddbtest.ScanAll(t, c, table)
	s3c, bucket := s3Bucket(t, srv)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, Latency: 150 * time.Millisecond})
	state := "s3://" + bucket + "/rewinds/" + table + ".json"
	args := []string{"run", "--endpoint-url", proxy.URL(), "--table", table, "--latest", "--state", state, "--yes",
		"--page-size", "10", "--writers", "1", "--journal", "s3://" + bucket + "/rewinds/journal.jsonl"}

	cmd := binaryCommand(t, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+srv.Endpoint)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if data, _ := s3Object(t, s3c, bucket, "rewinds/"+table+".json.checkpoint"); data != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint in S3")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if lease, _ := s3Object(t, s3c, bucket, "rewinds/"+table+".json.lock"); !strings.Contains(lease, fmt.Sprintf(`"pid":%d`, cmd.Process.Pid)) {
		t.Errorf("lease %q while the run goes on, want its pid", lease)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	data, obj := s3Object(t, s3c, bucket, "rewinds/"+table+".json")
	if !strings.Contains(data, `"step": "copy"`) {
		t.Fatalf("state in S3 %q, want step copy", data)
	}
	if obj.ServerSideEncryption == "" {
		t.Errorf("the state object is not encrypted at rest")
	}

	proxy.SetConfig(ddbtest.FaultConfig{})
	r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}}, args...)
	if r.code != 0 {
		t.Fatalf("resumed run: exit %d", r.code)
	}
	if n := proxy.Stats().Ops["RestoreTableToPointInTime"].Calls; n != 1 {
		t.Errorf("%d restores, want exactly 1", n)
	}
	if !strings.Contains(r.stderr, "resuming rewind") || !strings.Contains(r.stderr, "resumed=true") {
		t.Errorf("the second attempt did not resume")
	}
	assertSame(t, "main after the resumed run", want, ddbtest.ScanAll(t, c, table))
	data, _ = s3Object(t, s3c, bucket, "rewinds/"+table+".json")
	if !strings.Contains(data, `"step": "`+rewind.StepDone+`"`) {
		t.Errorf("final state %q", data)
	}
	// The killed run's lease was taken over at once (its process is gone,
	// on this host), and the resumed run deleted its own.
	if lease, _ := s3Object(t, s3c, bucket, "rewinds/"+table+".json.lock"); lease != "" {
		t.Errorf("lease left after the run: %q", lease)
	}
	// The journal in S3 undoes the run's copy (here: back to the same items).
	r = runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}},
		"undo", "--endpoint-url", srv.Endpoint, "--journal", "s3://"+bucket+"/rewinds/journal.jsonl", "--table", table, "--yes")
	if r.code != 0 {
		t.Fatalf("undo from an S3 journal: exit %d", r.code)
	}
	assertSame(t, "main after undo", want, ddbtest.ScanAll(t, c, table))
}

// TestCopyKeysFileFromS3 copies the keys listed in an S3 object, as a Batch
// job whose container has no local copy of the list would, and checks the
// refusals name the S3 location.
func TestCopyKeysFileFromS3(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	from, to := ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "main")
	ddbtest.CreateTable(t, c, from, mixedSpec)
	ddbtest.CreateTable(t, c, to, mixedSpec)
	items := tenantItems(40, 2, "good", "app")
	ddbtest.PutItems(t, c, from, items)
	s3c, bucket := s3Bucket(t, srv)
	put := func(key, body string) string {
		t.Helper()
		if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		return "s3://" + bucket + "/" + key
	}
	var lines []string
	want := map[string]map[string]types.AttributeValue{}
	for _, it := range items[:10] {
		k := map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}
		data, err := ddbjson.MarshalItem(k)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(data))
		want[ddbtest.KeyOf(it, "pk", "sk")] = it
	}
	good := put("keys/good.jsonl", strings.Join(lines, "\n")+"\n")
	broken := put("keys/broken.jsonl", lines[0]+"\n{\"pk\":\n")
	temps := func() int {
		m, _ := filepath.Glob(filepath.Join(os.TempDir(), "ddbrewind-input-*"))
		return len(m)
	}
	before := temps()
	env := map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}

	for _, tt := range []struct {
		name, loc, want string
	}{
		{"missing object", "s3://" + bucket + "/keys/nope.jsonl", "keys/nope.jsonl"},
		{"broken line named by its S3 location", broken, broken + ":2"},
		{"not an S3 location", "s3://" + bucket, "s3://bucket/key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, cliOpts{env: env}, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--keys-file", tt.loc)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line naming %q", r.code, r.stderr, tt.want)
			}
		})
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Fatalf("%d items written despite bad keys files", n)
	}

	r := runCLI(t, cliOpts{env: env}, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--keys-file", good)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	assertSame(t, "main after a copy of the S3 keys file", want, ddbtest.ScanAll(t, c, to))
	r = runCLI(t, cliOpts{env: env}, "diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--keys-file", good)
	if r.code != 0 {
		t.Errorf("diff of the S3 keys file: exit %d, want 0 (equal)", r.code)
	}
	if after := temps(); after != before {
		t.Errorf("%d temporary copies of keys files left behind", after-before)
	}
}

// TestS3TempCopiesRemovedOnRefusal refuses copy and undo at the
// confirmation (no terminal and no --yes, or an answer other than yes) after
// they downloaded a keys file or a journal from S3: the temporary local
// copies must be gone when the command exits, refusals included. TMPDIR
// points at a fresh directory that must stay empty.
func TestS3TempCopiesRemovedOnRefusal(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	from, to := ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "main")
	ddbtest.CreateTable(t, c, from, mixedSpec)
	ddbtest.CreateTable(t, c, to, mixedSpec)
	ddbtest.PutItems(t, c, from, tenantItems(20, 2, "good", "app"))
	ddbtest.PutItems(t, c, to, tenantItems(20, 2, "bad", "badjob"))
	s3c, bucket := s3Bucket(t, srv)
	keyData, err := ddbjson.MarshalItem(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "tenant#0"}, "sk": &types.AttributeValueMemberN{Value: "0"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("keys.jsonl"),
		Body: strings.NewReader(string(keyData) + "\n")}); err != nil {
		t.Fatal(err)
	}
	keys, journal := "s3://"+bucket+"/keys.jsonl", "s3://"+bucket+"/journal.jsonl"
	env := map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}
	// A journal in S3 to undo: a copy of everything, journaled.
	if r := runCLI(t, cliOpts{env: env}, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--journal", journal); r.code != 0 {
		t.Fatalf("setup copy: exit %d", r.code)
	}
	want := ddbtest.ScanAll(t, c, to)

	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	copyArgs := []string{"copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--keys-file", keys}
	undoArgs := []string{"undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to}
	for _, tt := range []struct {
		name string
		o    cliOpts
		args []string
		want string
	}{
		{"copy with an S3 keys file, no terminal", cliOpts{}, copyArgs, "add --yes"},
		{"copy with an S3 keys file, answered no", cliOpts{stdin: "no\n", stdinTTY: true}, copyArgs, "not confirmed"},
		{"undo of an S3 journal, no terminal", cliOpts{}, undoArgs, "add --yes"},
		{"undo of an S3 journal, answered no", cliOpts{stdin: "n\n", stdinTTY: true}, undoArgs, "not confirmed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.env = env
			r := runCLI(t, tt.o, tt.args...)
			if r.code != 2 || !strings.Contains(lastLine(r.stderr), tt.want) {
				t.Errorf("exit %d, last line %q: want exit 2 saying %q", r.code, lastLine(r.stderr), tt.want)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				var names []string
				for _, e := range left {
					names = append(names, e.Name())
					os.Remove(filepath.Join(tmp, e.Name()))
				}
				t.Errorf("temporary copies left in TMPDIR after the refusal: %v", names)
			}
		})
	}
	assertSame(t, "main after refused commands", want, ddbtest.ScanAll(t, c, to))
}

// TestCopyStateObjectsWithKMSKey: copy --sse-kms-key encrypts the s3://
// journal, checkpoint and report it writes with that KMS key (SSE-KMS), as
// run and batch start do with theirs; without it they are SSE-S3.
func TestCopyStateObjectsWithKMSKey(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 30)               // moto: DynamoDB and S3
	items := tenantItems(30, 5, "restored", "app") // other versions: each write journals the item it replaces
	s3c, bucket := s3Bucket(t, srv)
	rec := ddbtest.UniqueName(t, "rec")
	ddbtest.CreateTable(t, srv.Client(t), rec, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeN})
	ddbtest.PutItems(t, srv.Client(t), rec, items)
	env := map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}
	for _, tc := range []struct {
		name, key string
		args      []string
		sse       string
	}{
		{"kms", "alias/rewinds", []string{"--sse-kms-key", "alias/rewinds"}, "aws:kms"},
		{"default", "", nil, "AES256"},
	} {
		prefix := "s3://" + bucket + "/" + tc.name + "/"
		args := append([]string{"copy", "--endpoint-url", srv.Endpoint, "--from", rec, "--to", table, "--yes",
			"--journal", prefix + "journal.jsonl", "--checkpoint", prefix + "copy.ckpt", "--report", prefix + "report.json"}, tc.args...)
		if r := runCLI(t, cliOpts{env: env}, args...); r.code != 0 {
			t.Fatalf("%s: copy exit %d: %s", tc.name, r.code, r.stderr)
		}
		for _, obj := range []string{"journal.jsonl.part-00000000", "copy.ckpt", "report.json"} { // an S3 journal is a series of parts
			data, out := s3Object(t, s3c, bucket, tc.name+"/"+obj)
			if data == "" || out == nil {
				t.Errorf("%s: no %s in S3", tc.name, obj)
				continue
			}
			if string(out.ServerSideEncryption) != tc.sse || (tc.key != "" && !strings.Contains(aws.ToString(out.SSEKMSKeyId), strings.TrimPrefix(tc.key, "alias/"))) {
				t.Errorf("%s: %s encrypted with %q key %q, want %q key %q", tc.name, obj, out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId), tc.sse, tc.key)
			}
		}
	}
}

// TestRunRetriedAttemptWaitsForLostLease: a retried AWS Batch attempt
// (AWS_BATCH_JOB_ATTEMPT=2) of run --state s3://… meets the lease its first
// attempt left when its host was lost: it waits for the lease to expire
// and runs (exit 0); a first attempt, or a run outside Batch, is refused at
// once (exit 2), as before.
func TestRunRetriedAttemptWaitsForLostLease(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 20)
	s3c, bucket := s3Bucket(t, srv)
	state := "rewinds/" + table + ".json"
	leave := func() {
		lease := fmt.Sprintf(`{"host":"ip-10-0-0-1.ec2.internal","pid":7,"started":%q,"expires":%q,"token":"lost"}`,
			time.Now().UTC().Format(time.RFC3339), time.Now().UTC().Add(2*time.Second).Format(time.RFC3339Nano))
		if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(state + ".lock"), Body: strings.NewReader(lease)}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", "s3://" + bucket + "/" + state, "--yes"}
	for _, tc := range []struct {
		attempt string
		code    int
		want    string
	}{
		{"", 2, "is in use by another ddbrewind run (host ip-10-0-0-1.ec2.internal, pid 7"},
		{"1", 2, "is in use by another ddbrewind run (host ip-10-0-0-1.ec2.internal, pid 7"},
		{"2", 0, "waiting for it to expire"},
	} {
		leave()
		env := map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint, "AWS_BATCH_JOB_ATTEMPT": tc.attempt}
		if tc.attempt != "" {
			env["AWS_BATCH_JOB_ID"] = "job-1"
		}
		r := runCLI(t, cliOpts{env: env}, args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Fatalf("attempt %q: exit %d, want %d and %q in %s", tc.attempt, r.code, tc.code, tc.want, r.stderr)
		}
	}
}

// TestLeaseWait: only a retried AWS Batch attempt waits for a held lease,
// and long enough for a lease its lost first attempt renewed just before
// (DefaultLeaseTTL from now, waited until a second past its expiry).
func TestLeaseWait(t *testing.T) {
	for _, tc := range []struct {
		attempt string
		wait    bool
	}{{"", false}, {"1", false}, {"x", false}, {"2", true}, {"3", true}} {
		env := &Env{Getenv: func(k string) string {
			if k == "AWS_BATCH_JOB_ATTEMPT" {
				return tc.attempt
			}
			return ""
		}}
		got := leaseWait(env)
		switch {
		case tc.wait && got < statefile.DefaultLeaseTTL+time.Second:
			t.Errorf("attempt %q: waits %v, want at least the lease's TTL and a second (%v)", tc.attempt, got, statefile.DefaultLeaseTTL+time.Second)
		case !tc.wait && got != 0:
			t.Errorf("attempt %q: waits %v, want none (refused at once)", tc.attempt, got)
		}
	}
}

// TestRunStateObjectsWithKMSKey: run --sse-kms-key encrypts the s3://
// state file and checkpoint it writes with that KMS key (run takes one
// --sse-kms-key, the restore's, and copy's is not another flag of run).
func TestRunStateObjectsWithKMSKey(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 20)
	s3c, bucket := s3Bucket(t, srv)
	state := "rewinds/" + table + ".json"
	r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}}, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest",
		"--state", "s3://"+bucket+"/"+state, "--sse-kms-key", "alias/rewinds", "--yes")
	if r.code != 0 {
		t.Fatalf("run exit %d: %s", r.code, r.stderr)
	}
	for _, obj := range []string{state, state + ".checkpoint"} {
		data, out := s3Object(t, s3c, bucket, obj)
		if data == "" || out == nil {
			t.Errorf("no %s in S3", obj)
			continue
		}
		if out.ServerSideEncryption != "aws:kms" || !strings.Contains(aws.ToString(out.SSEKMSKeyId), "rewinds") {
			t.Errorf("%s encrypted with %q key %q, want aws:kms with alias/rewinds", obj, out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
		}
	}
}
