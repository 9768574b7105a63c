package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/restore"
)

// motoTable creates a table with PITR on moto holding a few items.
func motoTable(t *testing.T, pitr bool) (*ddbtest.Server, *dynamodb.Client, string) {
	t.Helper()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	name := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, name, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeN, PITR: pitr})
	ddbtest.PutItems(t, c, name, ddbtest.MixedItems(20, 1))
	return srv, c, name
}

func latestRestorable(t *testing.T, c *dynamodb.Client, table string) time.Time {
	t.Helper()
	out, err := c.DescribeContinuousBackups(context.Background(), &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToTime(out.ContinuousBackupsDescription.PointInTimeRecoveryDescription.LatestRestorableDateTime)
}

func tableExists(t *testing.T, c *dynamodb.Client, table string) bool {
	t.Helper()
	_, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err == nil {
		return true
	}
	if strings.Contains(err.Error(), "ResourceNotFoundException") {
		return false
	}
	t.Fatal(err)
	return false
}

// tablesWithPrefix lists the tables whose name starts with prefix.
func tablesWithPrefix(t *testing.T, c *dynamodb.Client, prefix string) []string {
	t.Helper()
	var names []string
	p := dynamodb.NewListTablesPaginator(c, &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range page.TableNames {
			if strings.HasPrefix(n, prefix) {
				names = append(names, n)
			}
		}
	}
	return names
}

func tagsOf(t *testing.T, c *dynamodb.Client, table string) map[string]string {
	t.Helper()
	d, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := tables.Tags(context.Background(), c, aws.ToString(d.Table.TableArn))
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

// deleteAfter removes a table the test created through the CLI.
func deleteAfter(t *testing.T, c *dynamodb.Client, table string) {
	t.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
}

func TestRestoreDefaultName(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	latest := latestRestorable(t, c, table)
	want := restore.DefaultRecoveryName(table, latest)
	deleteAfter(t, c, want)

	r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--tag", "team=payments")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stdout != want+"\n" {
		t.Fatalf("stdout %q, want the recovery table name %q alone on its line", r.stdout, want)
	}
	d, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(want)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Table.TableStatus != types.TableStatusActive || d.Table.RestoreSummary == nil {
		t.Errorf("recovery table status %s, restore summary %v", d.Table.TableStatus, d.Table.RestoreSummary)
	}
	tags := tagsOf(t, c, want)
	if tags[tables.TagSourceTable] != table || tags[tables.TagRestorePoint] != tables.FormatTime(latest) || tags["team"] != "payments" {
		t.Errorf("tags %v", tags)
	}
	created, err := time.Parse(time.RFC3339Nano, tags[tables.TagCreatedAt])
	if err != nil || time.Since(created) > time.Minute || !strings.HasSuffix(tags[tables.TagCreatedAt], "Z") {
		t.Errorf("created-at tag %q is not a recent RFC 3339 UTC time", tags[tables.TagCreatedAt])
	}
	// Global flags are accepted before the command name too.
	r = ddb(t, "--endpoint-url", srv.Endpoint, "list", "--source", table, "--output", "json")
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("list with global flag before the command: exit %d, %s", r.code, r.stdout)
	}
}

func TestRestoreCustomNameAtTime(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	latest := latestRestorable(t, c, table)
	name := ddbtest.UniqueName(t, "custom")
	deleteAfter(t, c, name)
	r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--at", tables.FormatTime(latest), "--recovery-table", name, "--log-format", "json")
	if r.code != 0 || r.stdout != name+"\n" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	if got := tagsOf(t, c, name)[tables.TagSourceTable]; got != table {
		t.Errorf("source tag %q", got)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("--log-format json printed a non-JSON line: %q", line)
		}
	}
	items := ddbtest.ScanAll(t, c, name)
	if len(items) != 20 {
		t.Errorf("recovery table has %d items, want 20", len(items))
	}
}

func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	_, _, noPITR := motoTable(t, false)
	existing := ddbtest.UniqueName(t, "existing")
	ddbtest.CreateTable(t, c, existing, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})
	latest := latestRestorable(t, c, table)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"pitr off", []string{"--table", noPITR, "--latest"}, "point-in-time recovery is not enabled"},
		// moto returns RecoveryPeriodInDays (35 unless set): the refusal
		// names both ends, the period and the end missed.
		{"before window", []string{"--table", table, "--at", "2001-01-01T00:00:00Z"}, "outside the restorable window [" + tables.FormatTime(latest) + ", " + tables.FormatTime(latest) + "] (recovery period: 35 days), before its earliest end"},
		// A time in the future says so (issue 22 row 17: it said "outside
		// the window").
		{"in the future", []string{"--table", table, "--at", tables.FormatTime(latest.Add(time.Hour))}, "is in the future (it is now "},
		{"ago outside window", []string{"--table", table, "--ago", "240h"}, "outside the restorable window"},
		{"existing target", []string{"--table", table, "--latest", "--recovery-table", existing}, "already exists"},
		{"bad name", []string{"--table", table, "--latest", "--recovery-table", "no spaces allowed"}, "not a valid table name"},
		{"short name", []string{"--table", table, "--latest", "--recovery-table", "ab"}, "not a valid table name"},
		{"conflicting time flags", []string{"--table", table, "--latest", "--at", tables.FormatTime(latest)}, "exactly one of"},
		{"missing source", []string{"--table", "no-such-table-xyz", "--latest"}, "table not found"},
		{"unknown index", []string{"--table", table, "--latest", "--indexes", "byCustomer"}, "no index byCustomer"},
		{"provisioned without capacity", []string{"--table", table, "--latest", "--billing-mode", "PROVISIONED"}, "--read-capacity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ddb(t, append([]string{"restore", "--endpoint-url", srv.Endpoint}, tt.args...)...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q", tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Errorf("want one line on stderr, got %d", n+1)
			}
			for _, src := range []string{table, noPITR} {
				if made := tablesWithPrefix(t, c, src+"-rewind-"); len(made) > 0 {
					t.Errorf("a refusal must create nothing, found %v", made)
				}
			}
		})
	}
}

// TestRestoreIfExistsAdopt retries a restore whose first attempt started it,
// as an AWS Batch retry would: --if-exists adopt takes the table over
// without a second RestoreTableToPointInTime, but only when it is a restore
// of the same table to the same point.
func TestRestoreIfExistsAdopt(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{})
	point := latestRestorable(t, c, table)
	name := ddbtest.UniqueName(t, "rec")
	deleteAfter(t, c, name)
	args := []string{"restore", "--endpoint-url", proxy.URL(), "--table", table, "--at", tables.FormatTime(point), "--recovery-table", name}
	if r := ddb(t, args...); r.code != 0 {
		t.Fatalf("first restore: exit %d", r.code)
	}
	restores := func() int64 { return proxy.Stats().Ops["RestoreTableToPointInTime"].Calls }

	r := ddb(t, args...)
	if r.code != 2 || !strings.Contains(r.stderr, "--if-exists adopt") {
		t.Errorf("retry without --if-exists: exit %d, want 2 and a hint at --if-exists adopt", r.code)
	}
	r = ddb(t, append(args, "--if-exists", "adopt")...)
	if r.code != 0 || r.stdout != name+"\n" || !strings.Contains(r.stderr, "adopting") {
		t.Fatalf("retry with --if-exists adopt: exit %d, stdout %q", r.code, r.stdout)
	}
	if n := restores(); n != 1 {
		t.Errorf("%d RestoreTableToPointInTime calls, want 1", n)
	}

	// A table restored to another point is another restore: refused.
	// (moto's restorable window is a single instant, so the table's tag
	// says the other point.)
	before := point.Add(-time.Hour)
	if _, err := c.TagResource(context.Background(), &dynamodb.TagResourceInput{
		ResourceArn: aws.String(describeARN(t, c, name)), Tags: []types.Tag{{Key: aws.String(tables.TagRestorePoint), Value: aws.String(tables.FormatTime(before))}},
	}); err != nil {
		t.Fatal(err)
	}
	r = ddb(t, append(args, "--if-exists", "adopt")...)
	if r.code != 2 || !strings.Contains(r.stderr, "was restored to "+tables.FormatTime(before)) {
		t.Errorf("adopt at another point: exit %d, want 2 naming the table's own point", r.code)
	}

	// A first attempt stopped before tagging: --latest adopts whatever point
	// the table was restored to, and tags it.
	if _, err := c.UntagResource(context.Background(), &dynamodb.UntagResourceInput{
		ResourceArn: aws.String(describeARN(t, c, name)), TagKeys: []string{tables.TagSourceTable, tables.TagRestorePoint, tables.TagCreatedAt},
	}); err != nil {
		t.Fatal(err)
	}
	latest := append(args[:len(args)-4:len(args)-4], "--latest", "--recovery-table", name, "--if-exists", "adopt")
	if r = ddb(t, latest...); r.code != 0 {
		t.Fatalf("adopt an untagged restore with --latest: exit %d", r.code)
	}
	if tags := tagsOf(t, c, name); tags[tables.TagSourceTable] != table || tags[tables.TagRestorePoint] == "" {
		t.Errorf("adopted table tags %v, want ddbrewind's tags back", tags)
	}
	if n := restores(); n != 1 {
		t.Errorf("%d RestoreTableToPointInTime calls, want 1", n)
	}

	// A table that is not a restore of this table is never adopted.
	_, oc, otherTable := motoTable(t, true)
	otherRec := ddbtest.UniqueName(t, "otherrec")
	deleteAfter(t, oc, otherRec)
	if r = ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", otherTable, "--latest", "--recovery-table", otherRec); r.code != 0 {
		t.Fatalf("restore of another table: exit %d", r.code)
	}
	r = ddb(t, append(args[:len(args)-4:len(args)-4], "--latest", "--recovery-table", otherRec, "--if-exists", "adopt")...)
	if r.code != 2 || !strings.Contains(r.stderr, "is a restore of") {
		t.Errorf("adopt a restore of another table: exit %d, want 2", r.code)
	}
	plain := ddbtest.UniqueName(t, "plain")
	ddbtest.CreateTable(t, c, plain, mixedSpec)
	deleteAfter(t, c, plain)
	r = ddb(t, append(args[:len(args)-4:len(args)-4], "--latest", "--recovery-table", plain, "--if-exists", "adopt")...)
	if r.code != 2 || !strings.Contains(r.stderr, "not created by a restore") {
		t.Errorf("adopt a plain table: exit %d, want 2", r.code)
	}
	if r = ddb(t, append(args, "--if-exists", "maybe")...); r.code != 2 || !strings.Contains(r.stderr, "--if-exists") {
		t.Errorf("--if-exists maybe: exit %d, want 2", r.code)
	}
	if n := restores(); n != 1 {
		t.Errorf("%d RestoreTableToPointInTime calls, want 1", n)
	}
}

func describeARN(t *testing.T, c *dynamodb.Client, table string) string {
	t.Helper()
	d, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(d.Table.TableArn)
}

// regionRecorder is a pass-through proxy that records, for each DynamoDB
// call, its operation, the region it was signed for and its body.
type regionRecorder struct {
	mu    sync.Mutex
	calls []regionCall
}

type regionCall struct{ op, region, body string }

func newRegionRecorder(t *testing.T, target string) (*regionRecorder, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &regionRecorder{}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		region := ""
		if m := regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/`).FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			region = m[1]
		}
		op := r.Header.Get("X-Amz-Target")
		op = op[strings.LastIndex(op, ".")+1:]
		rec.mu.Lock()
		rec.calls = append(rec.calls, regionCall{op: op, region: region, body: string(body)})
		rec.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

// TestRestoreCrossRegionSource restores from a table ARN of another region:
// the checks on the source table (DescribeTable, DescribeContinuousBackups)
// go to the source's region, the restore to the client's, naming the
// source by ARN. moto's RestoreTableToPointInTime reads only
// SourceTableName, so the restore itself fails there (exit 1); what this
// checks is where each call went. run refuses a table of another region.
func TestRestoreCrossRegionSource(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	eu := srv.Client(t, func(o *dynamodb.Options) { o.Region = "eu-west-1" })
	name := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, eu, name, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, PITR: true})
	arn := describeARN(t, eu, name)
	if !strings.Contains(arn, ":eu-west-1:") {
		t.Fatalf("source ARN %s is not in eu-west-1", arn)
	}
	rec, endpoint := newRegionRecorder(t, srv.Endpoint)
	r := ddb(t, "restore", "--endpoint-url", endpoint, "--region", "us-east-1", "--table", arn, "--latest", "--recovery-table", name+"-x")
	if r.code != 1 || !strings.Contains(r.stderr, "starting point-in-time restore") {
		t.Fatalf("the checks on the source did not reach eu-west-1: %s", r.stderr)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var restores int
	for _, c := range rec.calls {
		switch {
		case (c.op == "DescribeTable" || c.op == "DescribeContinuousBackups") && strings.Contains(c.body, arn):
			if c.region != "eu-west-1" {
				t.Errorf("%s of the source signed for %q, want eu-west-1", c.op, c.region)
			}
		case c.op == "RestoreTableToPointInTime":
			restores++
			if c.region != "us-east-1" || !strings.Contains(c.body, `"SourceTableArn":"`+arn+`"`) {
				t.Errorf("restore signed for %q with body %s, want us-east-1 and SourceTableArn", c.region, c.body)
			}
		}
	}
	if restores != 1 {
		t.Errorf("%d RestoreTableToPointInTime calls, want 1", restores)
	}

	r = ddb(t, "run", "--endpoint-url", endpoint, "--region", "us-east-1", "--table", arn, "--latest", "--yes", "--state", filepath.Join(t.TempDir(), "s.json"))
	if r.code != 2 || !strings.Contains(r.stderr, "pass --region eu-west-1") {
		t.Errorf("run on a table of another region: exit %d, want 2 naming --region eu-west-1", r.code)
	}
}
