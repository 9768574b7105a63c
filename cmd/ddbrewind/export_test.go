package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// A full export on moto: the request and the polling as moto answers them,
// and the file moto writes.
func TestExportFullOnMoto(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	s3c, bucket := s3Bucket(t, srv)
	at := tables.FormatTime(latestRestorable(t, c, table))
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{})

	r := ddb(t, "export", "--endpoint-url", proxy.URL(), "--table", table, "--at", at, "--s3-bucket", bucket, "--s3-prefix", "rewinds/orders")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	arn := motoExportARN(t, c, table)
	id := arn[strings.LastIndexByte(arn, '/')+1:]
	if want := "s3://" + bucket + "/rewinds/orders/AWSDynamoDB/" + id + "/\n"; r.stdout != want {
		t.Errorf("stdout %q, want the export's directory %q alone on its line", r.stdout, want)
	}
	// moto's export runs in a thread that may finish before the request
	// is answered: then there is nothing to poll.
	st := proxy.Stats().Ops
	polled := st["DescribeExport"].Calls >= 1 || strings.Contains(r.stderr, "status=COMPLETED")
	if st["ExportTableToPointInTime"].Calls != 1 || !polled {
		t.Errorf("calls %v: want one export request, then polls until COMPLETED", proxy.Operations())
	}
	if !strings.Contains(r.stderr, "export completed") || !strings.Contains(r.stderr, "items=20") {
		t.Errorf("stderr does not report the completed export of 20 items")
	}
	// moto writes its one data file under the prefix, in a directory of
	// its own (not the export id: moto's quirk), as gzip'd DynamoDB JSON.
	list, err := s3c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("rewinds/orders/AWSDynamoDB/")})
	if err != nil || len(list.Contents) != 1 {
		t.Fatalf("objects under the prefix: %v, %v", list, err)
	}
	obj, err := s3c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: list.Contents[0].Key})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	zr, err := gzip.NewReader(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for sc := bufio.NewScanner(zr); sc.Scan(); n++ {
		if !strings.HasPrefix(sc.Text(), `{"Item": {`) {
			t.Fatalf("line %d is not an exported item: %.60s", n+1, sc.Text())
		}
	}
	if n != 20 {
		t.Errorf("the export holds %d items, want 20", n)
	}
}

// motoExportARN returns the ARN of the table's only export.
func motoExportARN(t *testing.T, c *dynamodb.Client, table string) string {
	t.Helper()
	d, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.ListExports(context.Background(), &dynamodb.ListExportsInput{TableArn: d.Table.TableArn})
	if err != nil || len(out.ExportSummaries) != 1 {
		t.Fatalf("exports of %s: %v, %v", table, out, err)
	}
	return aws.ToString(out.ExportSummaries[0].ExportArn)
}

// TestExportManifestMissingOnMoto: moto completes an export without its
// manifest-summary.json; with S3 on moto (AWS_ENDPOINT_URL_S3) export says
// so in one warning line naming the manifest's URL, and still exits 0 with
// the directory (the unit tests check a present manifest warns of nothing).
func TestExportManifestMissingOnMoto(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	_, bucket := s3Bucket(t, srv)
	at := tables.FormatTime(latestRestorable(t, c, table))
	env := map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}
	args := []string{"export", "--endpoint-url", srv.Endpoint, "--table", table, "--at", at, "--s3-bucket", bucket, "--s3-prefix", "rewinds"}

	r := runCLI(t, cliOpts{env: env}, args...)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (a missing manifest is a warning)", r.code)
	}
	dir := strings.TrimSpace(r.stdout)
	url := dir + "manifest-summary.json"
	var warnings []string
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, "level=WARN") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], url+" does not exist: some emulators (moto) complete exports without writing their files") {
		t.Errorf("warnings %q: want one line naming %s and moto", warnings, url)
	}
	// Without an S3 endpoint next to --endpoint-url's emulator, S3 would
	// be AWS's, where the emulator's export is not: no check, no warning.
	if r = ddb(t, args...); r.code != 0 || strings.Contains(r.stderr, "level=WARN") {
		t.Errorf("without AWS_ENDPOINT_URL_S3: exit %d, stderr %q: want 0 and no warning", r.code, r.stderr)
	}
}

// A FAILED export (moto: the bucket does not exist) exits 1 with DynamoDB's
// failure code and message, and prints no directory.
func TestExportFailedOnMoto(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	at := tables.FormatTime(latestRestorable(t, c, table))
	r := ddb(t, "export", "--endpoint-url", srv.Endpoint, "--table", table, "--at", at, "--s3-bucket", "no-such-bucket-ddbrewind", "--s3-prefix", "x")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1", r.code)
	}
	last := lastLine(r.stderr)
	for _, want := range []string{"FAILED", "S3NoSuchBucket", "The specified bucket does not exist", "run the same command again"} {
		if !strings.Contains(last, want) {
			t.Errorf("error line %q does not say %q", last, want)
		}
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
}

// fakeTable is a moto table behind an exportFake whose PITR window is the
// last 35 days up to 5 minutes ago, as on AWS.
func fakeTable(t *testing.T) (*exportFake, *dynamodb.Client, string, time.Time) {
	t.Helper()
	srv, c, table := motoTable(t, true)
	f := newExportFake(t, srv.Endpoint)
	f.moto = srv
	latest := time.Now().UTC().Add(-5 * time.Minute).Truncate(time.Second)
	f.set(func(f *exportFake) { f.earliest, f.latest = latest.Add(-35*24*time.Hour), latest })
	return f, c, table, latest
}

func TestExportIncremental(t *testing.T) {
	t.Parallel()
	f, c, table, latest := fakeTable(t)
	since, until := latest.Add(-3*24*time.Hour-time.Hour), latest.Add(-time.Hour)
	r := ddb(t, "export", "--endpoint-url", f.URL(), "--table", table, "--since", tables.FormatTime(since), "--until", tables.FormatTime(until),
		"--s3-bucket", "exports-bucket", "--s3-prefix", "rewinds", "--sse-kms-key", "alias/rewinds", "--s3-bucket-owner", "444455556666")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	d, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(d.Table.TableArn)
	reqs := f.recorded()
	if len(reqs) != 3 {
		t.Fatalf("%d export requests, want 3 of 24 hours", len(reqs))
	}
	var dirs []string
	for i, in := range reqs {
		w := export.Window{From: since.Add(time.Duration(i) * 24 * time.Hour), To: since.Add(time.Duration(i+1) * 24 * time.Hour)}
		spec, _ := in["IncrementalExportSpecification"].(map[string]any)
		if in["ExportType"] != "INCREMENTAL_EXPORT" || in["ExportFormat"] != "DYNAMODB_JSON" || in["ExportTime"] != nil || spec == nil ||
			!sameEpoch(spec["ExportFromTime"], w.From) || !sameEpoch(spec["ExportToTime"], w.To) || spec["ExportViewType"] != "NEW_AND_OLD_IMAGES" {
			t.Errorf("request %d %v: want an incremental export of [%s, %s) with new and old images", i, in, w.From, w.To)
		}
		if in["TableArn"] != arn || in["S3Bucket"] != "exports-bucket" || in["S3Prefix"] != "rewinds" || in["S3BucketOwner"] != "444455556666" ||
			in["S3SseAlgorithm"] != "KMS" || in["S3SseKmsKeyId"] != "alias/rewinds" {
			t.Errorf("request %d %v: table, bucket, prefix, owner or encryption wrong", i, in)
		}
		if tok := export.ClientToken(arn, "INCREMENTAL_EXPORT", time.Time{}, w, "exports-bucket", "rewinds", 0); in["ClientToken"] != tok {
			t.Errorf("request %d: token %v, want %s", i, in["ClientToken"], tok)
		}
	}
	for _, e := range f.exports {
		id := fmt.Sprint(e.desc["ExportArn"])
		dirs = append(dirs, "s3://exports-bucket/rewinds/AWSDynamoDB/"+id[strings.LastIndexByte(id, '/')+1:]+"/")
	}
	if want := strings.Join(dirs, "\n") + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want the 3 directories in time order %q", r.stdout, want)
	}
	if n := strings.Count(r.stderr, "waiting for export") + strings.Count(r.stderr, "export completed"); n < 3 {
		t.Errorf("stderr shows no progress of the wait")
	}
}

// sameEpoch reports whether a JSON number of epoch seconds is t, to the
// millisecond the SDK sends.
func sameEpoch(v any, t time.Time) bool {
	f, ok := v.(float64)
	d := f - epoch(t)
	return ok && d < 0.0005 && d > -0.0005
}

// A second identical command starts no export: it adopts those the first
// started (here still in progress), whether DynamoDB honours the
// ClientToken and lists them, ignores the token (as moto does), or does not
// list exports in progress.
func TestExportRetryAdopts(t *testing.T) {
	t.Parallel()
	modes := []struct {
		name                  string
		ignoreToken, unlisted bool
	}{
		{"token and listing", false, false},
		{"listing only", true, false},
		{"token only", false, true},
	}
	for _, md := range modes {
		for _, kind := range []string{"full", "incremental"} {
			t.Run(md.name+"/"+kind, func(t *testing.T) {
				t.Parallel()
				f, _, table, latest := fakeTable(t)
				f.set(func(f *exportFake) { f.ignoreToken, f.unlisted, f.doneAfter = md.ignoreToken, md.unlisted, 0 })
				args := []string{"export", "--endpoint-url", f.URL(), "--table", table, "--s3-bucket", "exports-bucket", "--s3-prefix", "p"}
				parts := 1
				if kind == "full" {
					args = append(args, "--at", tables.FormatTime(latest.Add(-time.Hour)))
				} else {
					args = append(args, "--since", tables.FormatTime(latest.Add(-30*time.Hour)), "--until", tables.FormatTime(latest))
					parts = 2
				}
				first := ddb(t, append(args, "--wait=false")...)
				if first.code != 0 || strings.Count(first.stdout, "\n") != parts {
					t.Fatalf("first attempt: exit %d, stdout %q", first.code, first.stdout)
				}
				f.set(func(f *exportFake) { f.doneAfter = 1 })
				second := ddb(t, args...)
				if second.code != 0 {
					t.Fatalf("retry: exit %d", second.code)
				}
				if n := f.created(); n != parts {
					t.Errorf("%d exports after the retry, want the %d the first attempt started", n, parts)
				}
				if second.stdout != first.stdout {
					t.Errorf("the retry printed %q, the first attempt %q", second.stdout, first.stdout)
				}
			})
		}
	}
}

func TestExportRefusals(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	_, _, noPITR := motoTable(t, false)
	f, _, fTable, latest := fakeTable(t)
	at := tables.FormatTime(latestRestorable(t, c, table))
	tests := []struct {
		name     string
		endpoint string
		args     []string
		want     string
	}{
		{"pitr off", srv.Endpoint, []string{"--table", noPITR, "--at", at}, "point-in-time recovery is not enabled"},
		{"missing table", srv.Endpoint, []string{"--table", "no-such-table-xyz", "--at", at}, "table not found"},
		{"--at outside the window", srv.Endpoint, []string{"--table", table, "--at", "2001-01-01T00:00:00Z"}, "outside the restorable window"},
		{"neither --at nor --since", srv.Endpoint, []string{"--table", table}, "exactly one of --at"},
		{"--at and --since", srv.Endpoint, []string{"--table", table, "--at", at, "--since", at}, "exactly one of --at"},
		{"bad --since", srv.Endpoint, []string{"--table", table, "--since", "yesterday"}, `--since "yesterday" is not a time`},
		{"bucket as a URL", srv.Endpoint, []string{"--table", table, "--at", at, "--s3-bucket", "s3://b/p"}, "without s3://"},
		{"bad bucket", srv.Endpoint, []string{"--table", table, "--at", at, "--s3-bucket", "My_Bucket"}, "not a valid S3 bucket name"},
		{"prefix ending in /", srv.Endpoint, []string{"--table", table, "--at", at, "--s3-prefix", "rewinds/"}, "trailing '/'"},
		{"no bucket", srv.Endpoint, []string{"--table", table, "--at", at, "--s3-bucket", ""}, "--s3-bucket is required"},
		{"stray argument", srv.Endpoint, []string{"--table", table, "--at", at, "stray"}, `unexpected argument "stray"`},
		{"window of 10 minutes", f.URL(), []string{"--table", fTable, "--since", tables.FormatTime(latest.Add(-time.Hour)),
			"--until", tables.FormatTime(latest.Add(-50 * time.Minute))}, "15 minutes to 24 hours"},
		{"--since after --until", f.URL(), []string{"--table", fTable, "--since", tables.FormatTime(latest.Add(-time.Hour)),
			"--until", tables.FormatTime(latest.Add(-2 * time.Hour))}, "is not before --until"},
		// Nothing has changed since the latest restorable time yet: said,
		// not an export of nothing with exit 0 (issue 22 row 5).
		{"--since at the latest restorable time", f.URL(), []string{"--table", fTable, "--since", tables.FormatTime(latest)},
			"is the latest restorable time"},
		{"--until after the window", f.URL(), []string{"--table", fTable, "--since", tables.FormatTime(latest.Add(-time.Hour)),
			"--until", tables.FormatTime(latest.Add(time.Hour))}, "--until"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proxy := ddbtest.NewFaultProxy(t, tt.endpoint, ddbtest.FaultConfig{})
			args := append([]string{"export", "--endpoint-url", proxy.URL(), "--s3-bucket", "exports-bucket"}, tt.args...)
			r := ddb(t, args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q", tt.want)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 || r.stdout != "" {
				t.Errorf("want one line on stderr and nothing on stdout, got %d lines and %q", n+1, r.stdout)
			}
			if n := proxy.Stats().Ops["ExportTableToPointInTime"].Calls; n != 0 {
				t.Errorf("a refusal started %d exports", n)
			}
		})
	}
}

// Ctrl-C stops the wait, not the export, and says so (exit 130); the same
// command then adopts the export and waits for it. A --timeout that passes
// exits 1 and says the export goes on.
func TestExportInterruptedAndTimeout(t *testing.T) {
	t.Parallel()
	f, _, table, latest := fakeTable(t)
	f.set(func(f *exportFake) { f.doneAfter = 0 })
	args := []string{"export", "--endpoint-url", f.URL(), "--table", table, "--at", tables.FormatTime(latest.Add(-time.Hour)), "--s3-bucket", "exports-bucket"}
	// Ctrl-C once the wait has begun.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.set(func(f *exportFake) { f.onDescribe = cancel })
	r := runCLI(t, cliOpts{ctx: ctx}, args...)
	f.set(func(f *exportFake) { f.onDescribe = nil })
	if r.code != 130 || !strings.Contains(lastLine(r.stderr), "stopped waiting") || !strings.Contains(lastLine(r.stderr), "the exports go on in DynamoDB") {
		t.Fatalf("exit %d, last line %q: want 130 saying the export goes on", r.code, lastLine(r.stderr))
	}
	r = ddb(t, append(args, "--timeout", "1s")...)
	if r.code != 1 || !strings.Contains(lastLine(r.stderr), "timed out after 1s") || !strings.Contains(lastLine(r.stderr), "go on in DynamoDB") {
		t.Fatalf("exit %d, last line %q: want 1 saying it timed out", r.code, lastLine(r.stderr))
	}
	f.set(func(f *exportFake) { f.doneAfter = 1 })
	r = ddb(t, args...)
	if r.code != 0 || f.created() != 1 || !strings.Contains(r.stderr, "adopting the export an earlier attempt started") {
		t.Fatalf("exit %d, %d exports: want the first export adopted and completed", r.code, f.created())
	}
}
