package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

var mixedSpec = ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeN}

// copyPair creates a recovery-like source table holding items and an empty
// main table with the same keys on dynalite.
func copyPair(t *testing.T, spec ddbtest.TableSpec, items []map[string]types.AttributeValue) (*ddbtest.Server, *dynamodb.Client, string, string) {
	t.Helper()
	srv := pool.Get(t, ddbtest.Dynalite)
	c := srv.Client(t)
	from, to := ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "main")
	ddbtest.CreateTable(t, c, from, spec)
	ddbtest.CreateTable(t, c, to, spec)
	ddbtest.PutItems(t, c, from, items)
	return srv, c, from, to
}

// assertSameTables fails when the two tables differ in any item or attribute.
func assertSameTables(t *testing.T, c *dynamodb.Client, want, got string) {
	t.Helper()
	if diffs := ddbtest.DiffItemSets(ddbtest.ScanAll(t, c, want), ddbtest.ScanAll(t, c, got)); len(diffs) > 0 {
		t.Fatalf("%s differs from %s:\n%s", got, want, strings.Join(diffs, "\n"))
	}
}

// summaryCount extracts a counter from the summary log line.
func summaryCount(t *testing.T, stderr, name string) int64 {
	t.Helper()
	m := regexp.MustCompile(`msg=summary .*\b` + name + `=(\d+)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no %s in the summary line:\n%s", name, stderr)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

func TestCopyWholeTableExact(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(3200, 42, ddbtest.WithLargeEvery(800))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	// The main table holds changed versions of some items: copy overwrites them.
	changed := make([]map[string]types.AttributeValue, 0, 100)
	for _, it := range items[:100] {
		changed = append(changed, map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"], "status": &types.AttributeValueMemberS{Value: "broken by migration"}})
	}
	ddbtest.PutItems(t, c, to, changed)

	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--segments", "4", "--yes")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	assertSameTables(t, c, from, to)
	if got := summaryCount(t, r.stderr, "written"); got != int64(len(items)) {
		t.Errorf("summary written=%d, want %d", got, len(items))
	}
	if got := summaryCount(t, r.stderr, "read"); got != int64(len(items)) {
		t.Errorf("summary read=%d, want %d", got, len(items))
	}
}

func TestCopyBinarySortKey(t *testing.T) {
	t.Parallel()
	spec := ddbtest.TableSpec{HashKey: "tenant", HashType: types.ScalarAttributeTypeS, RangeKey: "id", RangeType: types.ScalarAttributeTypeB}
	var items []map[string]types.AttributeValue
	for i := 0; i < 300; i++ {
		items = append(items, map[string]types.AttributeValue{
			"tenant": &types.AttributeValueMemberS{Value: fmt.Sprintf("t%d", i%7)},
			"id":     &types.AttributeValueMemberB{Value: []byte{0x00, byte(i), byte(i >> 8), 0xff}},
			"v":      &types.AttributeValueMemberN{Value: "-1.000000000000000000000000000000000001E-100"},
		})
	}
	srv, c, from, to := copyPair(t, spec, items)
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--segments", "3", "--writers", "2")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	assertSameTables(t, c, from, to)
}

func TestCopySurvivesThrottlingAndUnprocessedItems(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(1500, 7)
	srv, c, from, to := copyPair(t, mixedSpec, items)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{
		Seed: 1, Ops: []string{"BatchWriteItem"}, Partial: 0.5, Throttle: 0.15, Error500: 0.05,
	})
	r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--segments", "4")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	assertSameTables(t, c, from, to)
	st := proxy.Stats().Total()
	if st.Partials == 0 || st.Throttles == 0 {
		t.Fatalf("the proxy injected nothing: %+v", st)
	}
	if got := summaryCount(t, r.stderr, "written"); got != int64(len(items)) {
		t.Errorf("summary written=%d, want exactly %d (no item counted twice or lost)", got, len(items))
	}
	if summaryCount(t, r.stderr, "retries") == 0 || summaryCount(t, r.stderr, "throttles") == 0 {
		t.Errorf("retries and throttles must be counted in the summary")
	}
}

func TestCopyRefusals(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(50, 3)
	srv, c, from, to := copyPair(t, mixedSpec, items)
	other := ddbtest.UniqueName(t, "otherkeys")
	ddbtest.CreateTable(t, c, other, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeS})
	tagged := ddbtest.UniqueName(t, "tagged")
	ddbtest.CreateTable(t, c, tagged, mixedSpec)
	d, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(tagged)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(context.Background(), &dynamodb.TagResourceInput{ResourceArn: d.Table.TableArn,
		Tags: []types.Tag{{Key: aws.String(tables.TagSourceTable), Value: aws.String(to)}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"same table", []string{"--from", from, "--to", from, "--yes"}, "--from and --to are both"},
		{"different key schema", []string{"--from", from, "--to", other, "--yes"}, "key schemas differ"},
		{"target is a recovery table", []string{"--from", from, "--to", tagged, "--yes"}, "it is a recovery table"},
		{"missing source", []string{"--from", "no-such-table", "--to", to, "--yes"}, "not found"},
		{"no --yes off a terminal", []string{"--from", from, "--to", to}, "--yes"},
		{"bad worker index", []string{"--from", from, "--to", to, "--worker-index", "2", "--worker-count", "2", "--yes"}, "--worker-index"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ddb(t, append([]string{"copy", "--endpoint-url", srv.Endpoint}, tt.args...)...)
			if r.code != 2 || !strings.Contains(lastLine(r.stderr), tt.want) {
				t.Fatalf("exit %d, want 2 with %q", r.code, tt.want)
			}
			for _, tbl := range []string{to, other, tagged} {
				if n := len(ddbtest.ScanAll(t, c, tbl)); n != 0 {
					t.Errorf("%s has %d items after a refusal", tbl, n)
				}
			}
		})
	}
}

func TestCopyDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(200, 5)
	srv, c, from, to := copyPair(t, mixedSpec, items)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{})
	r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--dry-run")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Fatalf("dry run wrote %d items", n)
	}
	for _, op := range proxy.Operations() {
		if op == "BatchWriteItem" || op == "PutItem" || op == "DeleteItem" {
			t.Errorf("dry run called %s", op)
		}
	}
	if got := summaryCount(t, r.stderr, "read"); got != 200 {
		t.Errorf("dry run read=%d, want 200", got)
	}
}

// TestCopyTerminalProgress copies on a "terminal": a progress bar is drawn
// and ends at the items read, and every log line starts on a line of its
// own, never inside the bar.
func TestCopyTerminalProgress(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(2000, 7)
	srv, c, from, to := copyPair(t, mixedSpec, items)
	// Latency makes the copy last a few redraws.
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, Latency: 40 * time.Millisecond})

	r := runCLI(t, cliOpts{stderrTTY: true}, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--writers", "2")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	assertSameTables(t, c, from, to)
	var last string
	for _, s := range strings.Split(r.stderr, "\r") {
		if strings.HasPrefix(s, "\x1b[Kcopy ") {
			last = s
		}
	}
	for _, w := range []string{"written 2,000 deleted 0", "2,000/2,000", "100%"} {
		if !strings.Contains(last, w) {
			t.Errorf("last progress state %q lacks %q", last, w)
		}
	}
	// On a terminal the log lines are short ("summary: …", see
	// ttyHandler); each starts on a cleared line of its own.
	logs := 0
	for _, line := range strings.Split(r.stderr, "\n") {
		for _, msg := range []string{"copy starting: ", "summary: "} {
			if i := strings.Index(line, msg); i >= 0 {
				logs++
				if !strings.HasPrefix(line[strings.LastIndex(line[:i], "\r")+1:], "\x1b[K"+msg) {
					t.Errorf("log line shares its line with the progress bar: %q", line)
				}
			}
		}
	}
	if logs != 2 {
		t.Errorf("%d of the 2 log lines (copy starting, summary) found:\n%q", logs, r.stderr)
	}
}
