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
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// callCounter is a pass-through proxy that counts DynamoDB calls by
// operation and table, and S3 GETs by path.
type callCounter struct {
	mu    sync.Mutex
	calls map[string]int
}

func newCallCounter(t *testing.T, target string) (*callCounter, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	cc := &callCounter{calls: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		key := r.Method + " " + r.URL.Path // S3
		if op := r.Header.Get("X-Amz-Target"); op != "" {
			var in struct{ TableName string }
			_ = json.Unmarshal(body, &in)
			key = op[strings.LastIndex(op, ".")+1:] + " " + in.TableName
		}
		cc.mu.Lock()
		cc.calls[key]++
		cc.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return cc, srv.URL
}

func (cc *callCounter) count(key string) int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.calls[key]
}

// TestRunPreparesOnce: a whole run (check, restore, copy, verify, cleanup)
// describes the main table once, lists its tags once, and downloads an
// s3:// keys file once; each later step describes the recovery table at
// most once (besides the restore's and cleanup's waits).
func TestRunPreparesOnce(t *testing.T) {
	t.Parallel()
	srv, table, items := runTable(t, 60)
	s3c, bucket := s3Bucket(t, srv)
	var lines []string
	for _, it := range items[:20] {
		data, err := ddbjson.MarshalItem(map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(data))
	}
	if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("keys.jsonl"),
		Body: strings.NewReader(strings.Join(lines, "\n") + "\n")}); err != nil {
		t.Fatal(err)
	}
	cc, endpoint := newCallCounter(t, srv.Endpoint)
	state := filepath.Join(t.TempDir(), "state.json")
	r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": endpoint}},
		"run", "--endpoint-url", endpoint, "--table", table, "--latest", "--state", state, "--yes",
		"--keys-file", "s3://"+bucket+"/keys.jsonl", "--delete-extra")
	if r.code != 0 {
		t.Fatalf("run: exit %d", r.code)
	}
	st := readState(t, state)
	if st == nil {
		t.Fatal("no state")
	}
	cc.mu.Lock()
	t.Logf("calls: %v", cc.calls)
	cc.mu.Unlock()
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"DescribeTable " + table, 1},
		{"DescribeContinuousBackups " + table, 1},
		{"GET /" + bucket + "/keys.jsonl", 1},
		{"RestoreTableToPointInTime ", 1},
	} {
		if got := cc.count(tc.key); got != tc.want {
			t.Errorf("%s: %d calls, want %d", tc.key, got, tc.want)
		}
	}
	// The recovery table: the restore's existence check and wait (moto's
	// restore is ACTIVE at once: one poll), one describe for the copy, one
	// for the verification, and the cleanup's check and wait.
	if got := cc.count("DescribeTable " + st.RecoveryTable); got > 6 {
		t.Errorf("DescribeTable %s: %d calls, want at most 6", st.RecoveryTable, got)
	}
}

// TestRunSincePreparesOnce: run --since prepares its copy once, as run
// does: the main table is described once for the export, the copy and the
// verification, and an s3:// keys file is fetched once.
func TestRunSincePreparesOnce(t *testing.T) {
	t.Parallel()
	s := newSinceSetup(t)
	records, start := sinceTable(t, s)
	s.exportsHold(t, records)
	s3c := s.s3.S3Client(t)
	if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String("keys.jsonl"),
		Body: strings.NewReader(`{"pk":{"S":"a0"}}` + "\n" + `{"pk":{"S":"a9"}}` + "\n")}); err != nil {
		t.Fatal(err)
	}
	ddbCalls, ddbEndpoint := newCallCounter(t, s.fake.URL())
	s3Calls, s3Endpoint := newCallCounter(t, s.s3.Endpoint)
	r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": s3Endpoint}},
		"run", "--endpoint-url", ddbEndpoint, "--table", s.table, "--since", tables.FormatTime(s.since), "--until", tables.FormatTime(s.until),
		"--s3-bucket", s.bucket, "--s3-prefix", "rewinds/x", "--state", s.state, "--yes", "--delete-extra", "--keys-file", "s3://"+s.bucket+"/keys.jsonl")
	if r.code != 0 {
		t.Fatalf("run --since: exit %d", r.code)
	}
	got := ddbtest.ScanAll(t, s.c, s.table)
	for _, pk := range []string{"a0", "a9"} {
		k := ddbtest.KeyOf(sinceItem(pk, ""), "pk")
		if d := ddbtest.DiffItemSets(map[string]map[string]types.AttributeValue{k: start[k]}, map[string]map[string]types.AttributeValue{k: got[k]}); len(d) > 0 {
			t.Errorf("%s not rewound: %v", pk, d)
		}
	}
	ddbCalls.mu.Lock()
	t.Logf("DynamoDB calls: %v", ddbCalls.calls)
	ddbCalls.mu.Unlock()
	for _, tc := range []struct {
		calls *callCounter
		key   string
		want  int
	}{
		{ddbCalls, "DescribeTable " + s.table, 1},
		{ddbCalls, "DescribeContinuousBackups " + s.table, 1},
		{ddbCalls, "ExportTableToPointInTime ", 1},
		{s3Calls, "GET /" + s.bucket + "/keys.jsonl", 1},
	} {
		if got := tc.calls.count(tc.key); got != tc.want {
			t.Errorf("%s: %d calls, want %d", tc.key, got, tc.want)
		}
	}
	// Each export data file is read once, for the copy and the
	// verification together.
	s3Calls.mu.Lock()
	defer s3Calls.mu.Unlock()
	files := 0
	for key, n := range s3Calls.calls {
		if strings.HasPrefix(key, "GET /"+s.bucket+"/rewinds/x/") && strings.Contains(key, "/data/") {
			files++
			if n != 1 {
				t.Errorf("%s: %d calls, want 1", key, n)
			}
		}
	}
	if files == 0 {
		t.Errorf("no export data file read: %v", s3Calls.calls)
	}
}

// TestFromExportPreparesOnce: copy, diff and show of incremental exports
// describe the main table once and read each manifest and data file once
// (the kind of past is found from the first manifest, which is not opened
// again to read the window); show without --table describes the table its
// manifest names once.
func TestFromExportPreparesOnce(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})
	item := func(pk, v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: v}}
	}
	var e1, e2 []string
	for i := range 4 {
		pk := fmt.Sprintf("a%d", i)
		e1 = append(e1, changeRecord(t, item(pk, ""), item(pk, "start"), item(pk, "bad"), "pk"))
	}
	e2 = append(e2, changeRecord(t, item("a0", ""), item("a0", "bad"), item("a0", "worse"), "pk"))
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	x1 := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "inc", [][]string{e1[:2], e1[2:]}, ddbtest.ExportOptions{ID: "01700000000000-bbbb0001", TableArn: s.arn, ExportType: "INCREMENTAL_EXPORT", ExportTime: t0})
	x2 := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "inc", [][]string{e2}, ddbtest.ExportOptions{ID: "01700000000000-bbbb0002", TableArn: s.arn, ExportType: "INCREMENTAL_EXPORT", ExportTime: t0.Add(time.Hour)})
	ddbtest.PutItems(t, s.c, s.table, []map[string]types.AttributeValue{item("a0", "worse"), item("a1", "bad"), item("a2", "bad"), item("a3", "bad")})

	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"diff", []string{"diff", "--to", s.table}, 3},
		{"show", []string{"show", "--table", s.table}, 0},
		{"show without --table", []string{"show"}, 0},
		{"copy", []string{"copy", "--to", s.table, "--yes"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ddbCalls, ddbEndpoint := newCallCounter(t, s.ddb.Endpoint)
			s3Calls, s3Endpoint := newCallCounter(t, s.s3.Endpoint)
			args := append(tc.args, "--endpoint-url", ddbEndpoint, "--from-export", x1.URL, "--from-export", x2.URL)
			r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": s3Endpoint}}, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
			if got := ddbCalls.count("DescribeTable " + s.table); got != 1 {
				t.Errorf("DescribeTable %s: %d calls, want 1", s.table, got)
			}
			s3Calls.mu.Lock()
			defer s3Calls.mu.Unlock()
			gets := 0
			for key, n := range s3Calls.calls {
				if !strings.HasPrefix(key, "GET /"+s.bucket+"/inc/") {
					continue
				}
				gets++
				if n != 1 {
					t.Errorf("%s: %d calls, want 1", key, n)
				}
			}
			// Two exports: a summary, a files manifest and 2 + 1 data files.
			if gets != 7 {
				t.Errorf("%d objects of the exports read, want 7: %v", gets, s3Calls.calls)
			}
		})
	}
}
