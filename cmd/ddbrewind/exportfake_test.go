package main

// exportFake stands in front of moto and answers the export calls itself,
// as DynamoDB documents them, where moto 5.2.1 does not
// (moto/dynamodb/models/table_export.py, responses.py):
//
//   - moto ignores ClientToken, IncrementalExportSpecification and the SSE
//     options, reports no ExportTime, window, ClientToken or ExportManifest,
//     names exports table/<table ARN>/import/<hex>, and fails without
//     S3Prefix;
//   - moto's point-in-time window is one instant (earliest = latest = when
//     PITR was turned on), so no incremental window of 15 minutes fits.
//
// The fake answers ExportTableToPointInTime (a known ClientToken returns its
// export, or ExportConflictException when other parameters differ),
// DescribeExport (IN_PROGRESS until doneAfter calls, then COMPLETED with a
// manifest, or FAILED), ListExports (newest first, pages of MaxResults) and,
// when window is set, DescribeContinuousBackups; everything else goes to
// moto. It records every export request.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

type exportFake struct {
	srv *httptest.Server
	// moto is the emulator behind it, when the test set it.
	moto *ddbtest.Server

	mu sync.Mutex
	// window is the PITR window DescribeContinuousBackups reports; zero
	// forwards the call to moto.
	earliest, latest time.Time
	// ignoreToken starts a new export for a known token (as moto does);
	// unlisted hides exports in progress from ListExports (documented to
	// list completed exports).
	ignoreToken, unlisted bool
	// doneAfter is the number of DescribeExport calls after which an export
	// completes; 0 never.
	doneAfter int
	// failCode and failMessage make completing exports fail.
	failCode, failMessage string
	// onDescribe, if set, runs at each DescribeExport.
	onDescribe func()
	// onComplete, if set, runs as an export completes, with its
	// description (e.g. to write the export's files, which the fake does
	// not).
	onComplete func(desc map[string]any)
	// ttl, if set, is the TTL attribute DescribeTimeToLive reports as
	// enabled (dynalite keeps no TTL setting).
	ttl string

	exports  []*fakeExport
	tokens   map[string]*fakeExport
	requests []map[string]any
	ops      map[string]int
}

type fakeExport struct {
	desc      map[string]any
	params    string
	describes int
}

func newExportFake(t *testing.T, upstream string) *exportFake {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	f := &exportFake{doneAfter: 1, tokens: map[string]*fakeExport{}, ops: map[string]int{}}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndexByte(op, '.')+1:]
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		if out, code, ok := f.answer(op, in); ok {
			data, _ := json.Marshal(out)
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			// As DynamoDB does; the SDK checks it (and warns without it).
			w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(data)), 10))
			w.WriteHeader(code)
			_, _ = w.Write(data)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the endpoint to give the CLI.
func (f *exportFake) URL() string { return f.srv.URL }

// set changes the fake's behaviour under its lock.
func (f *exportFake) set(change func(*exportFake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// count returns how many calls of op the fake answered.
func (f *exportFake) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ops[op]
}

// created returns how many exports were started.
func (f *exportFake) created() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.exports)
}

// recorded returns the ExportTableToPointInTime requests.
func (f *exportFake) recorded() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.requests...)
}

func fakeError(code, msg string) map[string]any {
	return map[string]any{"__type": "com.amazonaws.dynamodb.v20120810#" + code, "message": msg}
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// answer answers op itself; ok is false for calls that go to moto.
func (f *exportFake) answer(op string, in map[string]any) (out map[string]any, code int, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch op {
	case "DescribeTimeToLive":
		if f.ttl == "" {
			return nil, 0, false
		}
		f.ops[op]++
		return map[string]any{"TimeToLiveDescription": map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": f.ttl}}, 200, true
	case "DescribeContinuousBackups":
		if f.latest.IsZero() {
			return nil, 0, false
		}
		f.ops[op]++
		return map[string]any{"ContinuousBackupsDescription": map[string]any{
			"ContinuousBackupsStatus": "ENABLED",
			"PointInTimeRecoveryDescription": map[string]any{"PointInTimeRecoveryStatus": "ENABLED",
				"EarliestRestorableDateTime": epoch(f.earliest), "LatestRestorableDateTime": epoch(f.latest)},
		}}, 200, true
	case "ExportTableToPointInTime":
		f.ops[op]++
		f.requests = append(f.requests, in)
		token, _ := in["ClientToken"].(string)
		rest := map[string]any{}
		for k, v := range in {
			if k != "ClientToken" {
				rest[k] = v
			}
		}
		params, _ := json.Marshal(rest)
		if e, known := f.tokens[token]; known && token != "" && !f.ignoreToken {
			if e.params != string(params) {
				return fakeError("ExportConflictException", "the ClientToken was used with other parameters"), 400, true
			}
			return map[string]any{"ExportDescription": e.view()}, 200, true
		}
		created := time.Now().Add(time.Duration(len(f.exports)) * time.Millisecond)
		id := fmt.Sprintf("%014d-%08x", created.UnixMilli(), 0xab000000+len(f.exports))
		d := map[string]any{"ExportArn": fmt.Sprint(in["TableArn"], "/export/", id), "ExportStatus": "IN_PROGRESS",
			"StartTime": epoch(created), "ClientToken": token}
		for _, k := range []string{"TableArn", "ExportTime", "S3Bucket", "S3Prefix", "S3BucketOwner", "S3SseAlgorithm",
			"S3SseKmsKeyId", "ExportFormat", "ExportType", "IncrementalExportSpecification"} {
			if v, ok := in[k]; ok {
				d[k] = v
			}
		}
		e := &fakeExport{desc: d, params: string(params)}
		f.exports = append(f.exports, e)
		f.tokens[token] = e
		return map[string]any{"ExportDescription": e.view()}, 200, true
	case "DescribeExport":
		f.ops[op]++
		if f.onDescribe != nil {
			f.onDescribe()
		}
		for _, e := range f.exports {
			if e.desc["ExportArn"] == in["ExportArn"] {
				e.describes++
				if e.desc["ExportStatus"] == "IN_PROGRESS" && f.doneAfter > 0 && e.describes >= f.doneAfter {
					e.finish(f.failCode, f.failMessage)
					if f.onComplete != nil && e.desc["ExportStatus"] == "COMPLETED" {
						f.onComplete(e.view())
					}
				}
				return map[string]any{"ExportDescription": e.view()}, 200, true
			}
		}
		return fakeError("ExportNotFoundException", "no such export"), 400, true
	case "ListExports":
		f.ops[op]++
		var all []map[string]any
		for i := len(f.exports) - 1; i >= 0; i-- {
			d := f.exports[i].desc
			if d["TableArn"] != in["TableArn"] || (f.unlisted && d["ExportStatus"] == "IN_PROGRESS") {
				continue
			}
			all = append(all, map[string]any{"ExportArn": d["ExportArn"], "ExportStatus": d["ExportStatus"], "ExportType": d["ExportType"]})
		}
		start := 0
		if s, ok := in["NextToken"].(string); ok {
			start, _ = strconv.Atoi(s)
		}
		size := 25
		if n, ok := in["MaxResults"].(float64); ok {
			size = int(n)
		}
		end := min(start+size, len(all))
		out := map[string]any{"ExportSummaries": all[start:end]}
		if end < len(all) {
			out["NextToken"] = strconv.Itoa(end)
		}
		return out, 200, true
	}
	return nil, 0, false
}

// finish completes (or, with a failure code, fails) the export.
func (e *fakeExport) finish(failCode, failMessage string) {
	if failCode != "" {
		e.desc["ExportStatus"], e.desc["FailureCode"], e.desc["FailureMessage"] = "FAILED", failCode, failMessage
		return
	}
	id := fmt.Sprint(e.desc["ExportArn"])
	id = id[strings.LastIndexByte(id, '/')+1:]
	key := "AWSDynamoDB/" + id + "/manifest-summary.json"
	if p, _ := e.desc["S3Prefix"].(string); p != "" {
		key = p + "/" + key
	}
	e.desc["ExportStatus"], e.desc["ExportManifest"], e.desc["ItemCount"] = "COMPLETED", key, 20
	e.desc["EndTime"] = epoch(time.Now())
}

// view is a copy of the description.
func (e *fakeExport) view() map[string]any {
	c := make(map[string]any, len(e.desc))
	for k, v := range e.desc {
		c[k] = v
	}
	return c
}
