package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// ownerRecorder is a pass-through proxy to an S3 endpoint that records each
// request's method, path and x-amz-expected-bucket-owner header.
type ownerRecorder struct {
	srv *httptest.Server
	mu  sync.Mutex
	// reqs are "METHOD PATH?QUERY owner=OWNER".
	reqs []string
}

func newOwnerRecorder(t *testing.T, target string) *ownerRecorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &ownerRecorder{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" owner="+r.Header.Get("X-Amz-Expected-Bucket-Owner"))
		rec.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// check fails unless every recorded request names owner, and each method
// in methods was seen.
func (rec *ownerRecorder) check(t *testing.T, owner string, methods ...string) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range rec.reqs {
		seen[strings.Fields(r)[0]] = true
		if !strings.HasSuffix(r, " owner="+owner) {
			t.Errorf("S3 request without the expected bucket owner %s: %s", owner, r)
		}
	}
	for _, m := range methods {
		if !seen[m] {
			t.Errorf("no %s request recorded (of %d)", m, len(rec.reqs))
		}
	}
}

const testOwner = "123456789012" // moto's account

// TestS3BucketOwnerOnEveryRequest: with --s3-bucket-owner, every S3
// request of run (state file, its lease, checkpoint, journal, report),
// undo (the journal's listing and parts) and copy --from-export (the
// export's manifests and data files) carries x-amz-expected-bucket-owner.
func TestS3BucketOwnerOnEveryRequest(t *testing.T) {
	t.Parallel()
	t.Run("run and undo with state in S3", func(t *testing.T) {
		t.Parallel()
		srv, table, _ := runTable(t, 30)
		_, bucket := s3Bucket(t, srv)
		rec := newOwnerRecorder(t, srv.Endpoint)
		env := cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": rec.srv.URL}}
		loc := "s3://" + bucket + "/rewinds/"
		r := runCLI(t, env, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--yes", "--s3-bucket-owner", testOwner,
			"--state", loc+"state.json", "--journal", loc+"journal.jsonl", "--report", loc+"report.json")
		if r.code != 0 {
			t.Fatalf("run: exit %d", r.code)
		}
		r = runCLI(t, env, "undo", "--endpoint-url", srv.Endpoint, "--journal", loc+"journal.jsonl", "--table", table, "--yes", "--s3-bucket-owner", testOwner)
		if r.code != 0 {
			t.Fatalf("undo: exit %d", r.code)
		}
		rec.check(t, testOwner, "GET", "PUT", "DELETE")
	})
	t.Run("copy from an export", func(t *testing.T) {
		t.Parallel()
		s := newExportSetup(t, mixedSpec)
		te := s.export(t, ddbtest.MixedItems(100, 3, ddbtest.WithLargeEvery(0)), ddbtest.ExportOptions{Files: 2})
		rec := newOwnerRecorder(t, s.s3.Endpoint)
		r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": rec.srv.URL}}, "copy", "--endpoint-url", s.ddb.Endpoint,
			"--from-export", te.URL, "--to", s.table, "--yes", "--s3-bucket-owner", testOwner)
		if r.code != 0 {
			t.Fatalf("copy --from-export: exit %d", r.code)
		}
		rec.check(t, testOwner, "GET")
	})
	t.Run("not an account id", func(t *testing.T) {
		r := ddb(t, "undo", "--journal", "s3://b/j.jsonl", "--table", "t", "--yes", "--s3-bucket-owner", "12345")
		if r.code != 2 || !strings.Contains(lastLine(r.stderr), `--s3-bucket-owner "12345" is not an AWS account id`) {
			t.Errorf("exit %d, %q; want 2", r.code, lastLine(r.stderr))
		}
	})
}
