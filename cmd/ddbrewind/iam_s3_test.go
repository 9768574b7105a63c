package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// readExportCommands may hold S3 read grants: they read exports with
// --from-export (s3:GetObject on the export's objects, in a statement of
// its own, ReadExports).
var readExportCommands = map[string][]string{
	"copy": {"s3:GetObject"},
	"diff": {"s3:GetObject"},
	"show": {"s3:GetObject"},
	// run --since reads its exports, then lists and deletes them.
	"run": {"s3:GetObject", "s3:DeleteObject", "s3:ListBucket"},
}

// s3Recorder is an HTTP proxy in front of an S3 endpoint (path style) that
// records each request as the IAM action it needs: GET and HEAD of an
// object s3:GetObject, PUT s3:PutObject, DELETE s3:DeleteObject, GET of a
// bucket (a listing) s3:ListBucket on the bucket.
type s3Recorder struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []iamCall
}

func newS3Recorder(t *testing.T, upstream string) *s3Recorder {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	r := &s3Recorder{}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.record(req)
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *s3Recorder) record(req *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	c := iamCall{op: req.Method, arns: []string{"arn:aws:s3:::" + bucket + "/" + key}}
	switch {
	case key == "" && req.Method == http.MethodGet:
		c.action, c.arns = "s3:ListBucket", []string{"arn:aws:s3:::" + bucket}
		// The listed prefix, for an s3:prefix condition.
		c.reqTags = map[string]string{"s3:prefix": req.URL.Query().Get("prefix")}
	case req.Method == http.MethodGet, req.Method == http.MethodHead:
		c.action = "s3:GetObject"
	case req.Method == http.MethodPut:
		c.action = "s3:PutObject"
	case req.Method == http.MethodDelete:
		c.action = "s3:DeleteObject"
	default:
		c.action = "s3:" + req.Method + "?" // no policy grants it: the check fails, naming it
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

// Calls returns the requests recorded so far.
func (r *s3Recorder) Calls() []iamCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]iamCall(nil), r.calls...)
}

// iamExport writes the items of iamTables' recovery table as a full
// export of main (a dynalite table of c) to moto's S3, in
// ${Bucket}/${Prefix}, and returns moto and the export's URL.
func iamExport(t *testing.T, c *dynamodb.Client, main string) (*ddbtest.Server, string) {
	t.Helper()
	moto, s3c := iamBucketOnMoto(t)
	items := tenantItems(300, 5, "good", "app")
	return moto, ddbtest.WriteExport(t, s3c, iamBucket, iamPrefix, items, ddbtest.ExportOptions{TableArn: iamTableARN(t, c, main)}).URL
}

// iamBucketOnMoto creates ${Bucket} on moto's S3 (once per moto server).
func iamBucketOnMoto(t *testing.T) (*ddbtest.Server, *s3.Client) {
	t.Helper()
	moto := pool.Get(t, ddbtest.Moto)
	s3c := moto.S3Client(t)
	_, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(iamBucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		t.Fatal(err)
	}
	return moto, s3c
}

// iamTableARN is the emulator's ARN of table.
func iamTableARN(t *testing.T, c *dynamodb.Client, table string) string {
	t.Helper()
	out, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Table.TableArn)
}

// iamExportSource writes the export a variant names by its first argument
// — EXPORT (full) or INCREMENTAL — and returns moto's S3 endpoint and the
// export's URL; ok is false for any other argument (the variant reads a
// recovery table).
func iamExportSource(t *testing.T, c *dynamodb.Client, main, kind string) (endpoint, url string, ok bool) {
	t.Helper()
	var moto *ddbtest.Server
	switch kind {
	case "EXPORT":
		moto, url = iamExport(t, c, main)
	case "INCREMENTAL":
		moto, url = iamIncremental(t, c, main)
	default:
		return "", "", false
	}
	return moto.Endpoint, url, true
}

// iamIncremental writes an incremental export of main (iamTables' main
// table) to moto's S3, in ${Bucket}/${Prefix}: the window changed
// tenant#1's items 0-9 from "good" to what main holds now, and created
// tenant#0's items 10000-10004 (main holds them).
func iamIncremental(t *testing.T, c *dynamodb.Client, main string) (*ddbtest.Server, string) {
	t.Helper()
	moto, s3c := iamBucketOnMoto(t)
	now := ddbtest.ScanAll(t, c, main)
	var lines []string
	for _, it := range tenantItems(300, 5, "good", "app") {
		k := iamKeyOf(it)
		cur, ok := now[ddbtest.KeyOf(k, "pk", "sk")]
		if !ok || it["pk"].(*types.AttributeValueMemberS).Value != "tenant#1" || len(lines) >= 10 {
			continue
		}
		lines = append(lines, iamRecord(t, k, it, cur))
	}
	for _, cur := range now {
		if n := cur["sk"].(*types.AttributeValueMemberN).Value; strings.HasPrefix(n, "1000") && len(n) == 5 {
			lines = append(lines, iamRecord(t, iamKeyOf(cur), nil, cur))
		}
	}
	if len(lines) < 6 {
		t.Fatalf("the incremental export would hold %d records: iamTables changed", len(lines))
	}
	return moto, ddbtest.WriteExportLines(t, s3c, iamBucket, iamPrefix, [][]string{lines},
		ddbtest.ExportOptions{TableArn: iamTableARN(t, c, main), ExportType: "INCREMENTAL_EXPORT"}).URL
}

// iamRecord is one incremental export record.
func iamRecord(t *testing.T, keys, old, new map[string]types.AttributeValue) string {
	t.Helper()
	enc := func(it map[string]types.AttributeValue) string {
		data, err := ddbjson.MarshalItem(it)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	line := `{"Metadata":{"WriteTimestampMicros":{"N":"1700000000000000"}},"Keys":` + enc(keys)
	if old != nil {
		line += `,"OldImage":` + enc(old)
	}
	if new != nil {
		line += `,"NewImage":` + enc(new)
	}
	return line + "}"
}

// iamKeyOf is the primary key of an item of iamTables' tables.
func iamKeyOf(it map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}
}
