package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
)

// batchStateS3Actions are the S3 actions batch start and status need on
// their state prefix: read and write the chain's record, list the prefix
// so that a record not there yet reads as missing (404), not as
// AccessDenied, and list and read the copy children's reports.
var batchStateS3Actions = []string{"s3:GetObject", "s3:PutObject", "s3:ListBucket"}

// batchRecorder is an HTTP proxy in front of an AWS Batch endpoint
// (REST-JSON: POST /v1/<operation>) that records each request as the IAM
// action and resources it needs. SubmitJob acts on its job queue and its
// job definition (a name without revision is the revision moto registered,
// 1); DescribeJobs takes no resource-level permissions (*).
type batchRecorder struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []iamCall
}

func newBatchRecorder(t *testing.T, upstream string) *batchRecorder {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	r := &batchRecorder{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.record(req.URL.Path, body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *batchRecorder) record(path string, body []byte) {
	op := strings.TrimPrefix(path, "/v1/")
	c := iamCall{op: op, arns: []string{"*"}}
	switch op {
	case "submitjob":
		var in struct{ JobQueue, JobDefinition string }
		_ = json.Unmarshal(body, &in)
		def := in.JobDefinition
		if !strings.Contains(def, ":") {
			def += ":1"
		}
		c.action = "batch:SubmitJob"
		c.arns = []string{fmt.Sprintf("arn:aws:batch:%s:%s:job-queue/%s", iamRegion, iamAccount, in.JobQueue),
			fmt.Sprintf("arn:aws:batch:%s:%s:job-definition/%s", iamRegion, iamAccount, def)}
	case "describejobs":
		c.action = "batch:DescribeJobs"
	default:
		c.action = "batch:" + op + "?" // no policy grants it: the check fails, naming it
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

// Take returns the requests recorded since the last Take.
func (r *batchRecorder) Take() []iamCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// TestIAMBatch proves docs/iam/batch.json: batch start (a new chain split
// across two workers with a filter, the same command following it with
// the children's reports there, a --no-wait chain) and batch status, every
// call recorded and checked against the policy, every grant needed.
func TestIAMBatch(t *testing.T) {
	_, s3c := iamBucketOnMoto(t)
	srv := pool.Get(t, ddbtest.Moto)
	bc := batch.New(batch.Options{Region: iamRegion, BaseEndpoint: aws.String(srv.Endpoint), Credentials: aws.AnonymousCredentials{}})
	if q, err := bc.DescribeJobQueues(context.Background(), &batch.DescribeJobQueuesInput{JobQueues: []string{iamJobQueue}}); err != nil || len(q.JobQueues) == 0 {
		motoBatchNamed(t, srv, iamJobQueue, iamJobDefinition)
	}
	c := srv.Client(t)
	table := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, table, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, PITR: true})
	ddbtest.PutItems(t, c, table, ddbtest.MixedItems(10, 1))
	at := latestRestorable(t, c, table).UTC().Format(time.RFC3339Nano)
	rec := newBatchRecorder(t, srv.Endpoint)
	opts := iamRunOpts{s3: srv.Endpoint, env: map[string]string{"AWS_ENDPOINT_URL_BATCH": rec.srv.URL}, more: rec.Take}
	prefix := "s3://" + iamBucket + "/" + iamPrefix + "/" + table
	start := []string{"batch", "start", "--table", table, "--at", at, "--workers", "2", "--job-queue", iamJobQueue, "--job-definition", iamJobDefinition,
		"--state-prefix", prefix + "/a", "--filter-expression", "attribute_exists(pk)", "--poll-interval", "1s", "--yes"}

	check := newIAMCheck(t, "batch")
	check.runWith(t, srv, table, 0, opts, start...)
	// The copy's two children leave their reports, as they would end
	// (moto's Batch runs no container).
	chain, err := readChain(context.Background(), &statefile.Store{S3: s3c}, prefix+"/a")
	if err != nil || chain == nil {
		t.Fatalf("the chain's record: %v", err)
	}
	for i, loc := range childReportPaths(t, chain.Steps[1]) {
		putReport(t, s3c, loc, int64(10*(i+1)))
	}
	seen := newS3Recorder(t, srv.Endpoint) // behind the check's own recorder: what the follow read
	follow := opts
	follow.s3 = seen.srv.URL
	check.runWith(t, srv, table, 0, follow, start...) // follows the recorded chain, reading the reports
	var reports []string
	for _, c := range seen.Calls() {
		if c.action == "s3:GetObject" && strings.Contains(c.arns[0], "/"+copyReportFile) {
			reports = append(reports, c.arns[0])
		}
	}
	if len(reports) != 2 {
		t.Errorf("the follow read the reports %q, want the 2 children's", reports)
	}
	check.runWith(t, srv, table, 0, opts, "batch", "status", prefix+"/a")
	check.runWith(t, srv, table, 0, opts, "batch", "start", "--table", table, "--latest", "--job-queue", iamJobQueue, "--job-definition", iamJobDefinition,
		"--state-prefix", prefix+"/b", "--no-wait", "--yes")
	check.finish(t)
}
