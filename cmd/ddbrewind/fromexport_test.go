package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// exportSetup is a main table on dynalite and a bucket on moto's S3.
type exportSetup struct {
	ddb    *ddbtest.Server
	c      *dynamodb.Client
	table  string
	arn    string
	s3     *ddbtest.Server
	bucket string
	env    map[string]string
}

func newExportSetup(t *testing.T, spec ddbtest.TableSpec) *exportSetup {
	t.Helper()
	s := &exportSetup{ddb: pool.Get(t, ddbtest.Dynalite), s3: pool.Get(t, ddbtest.Moto)}
	s.c = s.ddb.Client(t)
	s.table = ddbtest.UniqueName(t, "main")
	ddbtest.CreateTable(t, s.c, s.table, spec)
	out, err := s.c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatal(err)
	}
	s.arn = aws.ToString(out.Table.TableArn)
	s.bucket = ddbtest.CreateBucket(t, s.s3.S3Client(t))
	s.env = map[string]string{"AWS_ENDPOINT_URL_S3": s.s3.Endpoint}
	return s
}

// export writes items as a full export of the main table (unless opts
// names another table).
func (s *exportSetup) export(t *testing.T, items []map[string]types.AttributeValue, opts ddbtest.ExportOptions) *ddbtest.TestExport {
	t.Helper()
	if opts.TableArn == "" {
		opts.TableArn = s.arn
	}
	return ddbtest.WriteExport(t, s.s3.S3Client(t), s.bucket, "exports/nightly", items, opts)
}

// run runs ddbrewind in-process with S3 on moto and DynamoDB on dynalite.
func (s *exportSetup) run(t *testing.T, args ...string) result {
	t.Helper()
	return runCLI(t, cliOpts{env: s.env}, append(args[:1:1], append([]string{"--endpoint-url", s.ddb.Endpoint}, args[1:]...)...)...)
}

func byKeys(items []map[string]types.AttributeValue, keys ...string) map[string]map[string]types.AttributeValue {
	m := map[string]map[string]types.AttributeValue{}
	for _, it := range items {
		m[ddbtest.KeyOf(it, keys...)] = it
	}
	return m
}

// TestCopyFromExportExact copies a full export holding every attribute type
// (38-digit numbers, binary in sets and nested maps, empty strings, items
// near 400 KB) into the main table, over changed versions of some items:
// the table then equals the export item by item; diff --from-export agrees,
// then counts what a later change made different, missing and extra; and
// --delete-extra removes the extras.
func TestCopyFromExportExact(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	items := ddbtest.MixedItems(900, 17, ddbtest.WithLargeEvery(400))
	te := s.export(t, items, ddbtest.ExportOptions{Files: 5, EmptyFile: true})
	var changed []map[string]types.AttributeValue
	for _, it := range items[:50] {
		changed = append(changed, map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"], "status": &types.AttributeValueMemberS{Value: "broken"}})
	}
	ddbtest.PutItems(t, s.c, s.table, changed)

	r := s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--yes", "--segments", "3", "--page-size", "100")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	want := byKeys(items, "pk", "sk")
	assertSame(t, "main after the copy from the export", want, ddbtest.ScanAll(t, s.c, s.table))
	if got := summaryCount(t, r.stderr, "read"); got != 900 {
		t.Errorf("read=%d, want 900", got)
	}
	if got := summaryCount(t, r.stderr, "written"); got != 900 {
		t.Errorf("written=%d, want 900", got)
	}
	if !strings.Contains(r.stderr, "check with: ddbrewind diff --endpoint-url "+s.ddb.Endpoint+" --from-export "+te.URL+" --to "+s.table) {
		t.Errorf("the closing sentence does not give the diff --from-export that checks the copy")
	}

	r = s.run(t, "diff", "--from-export", te.URL+"manifest-summary.json", "--to", s.table)
	if r.code != 0 || !strings.Contains(r.stdout, "identical:        900") {
		t.Fatalf("diff after the copy: exit %d, %q", r.code, r.stdout)
	}

	// A later change: 3 items different, 2 missing, 4 extras.
	var later []map[string]types.AttributeValue
	for _, it := range items[100:103] {
		later = append(later, map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]})
	}
	for i := range 4 {
		later = append(later, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "extra"}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(i)}})
	}
	ddbtest.PutItems(t, s.c, s.table, later)
	for _, it := range items[200:202] {
		if _, err := s.c.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(s.table),
			Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}}); err != nil {
			t.Fatal(err)
		}
	}
	r = s.run(t, "diff", "--from-export", te.URL, "--to", s.table, "--output", "json")
	var res struct {
		copier.DiffResult
		DifferentKeys []json.RawMessage `json:"different_keys"`
		MissingKeys   []json.RawMessage `json:"missing_in_main_keys"`
		ExtraKeys     []json.RawMessage `json:"extra_in_main_keys"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); r.code != 3 || err != nil {
		t.Fatalf("diff after a change: exit %d, %v", r.code, err)
	}
	if res.Identical != 895 || res.Different != 3 || res.MissingInMain != 2 || res.ExtraInMain != 4 || res.From != te.URL ||
		len(res.DifferentKeys) != 3 || len(res.MissingKeys) != 2 || len(res.ExtraKeys) != 4 {
		t.Errorf("diff %+v; want 895 identical, 3 different, 2 missing, 4 extra (keys listed), from %s", res, te.URL)
	}

	r = s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--yes", "--delete-extra")
	if r.code != 0 || summaryCount(t, r.stderr, "deleted") != 4 {
		t.Fatalf("copy --delete-extra: exit %d", r.code)
	}
	assertSame(t, "main after --delete-extra", want, ddbtest.ScanAll(t, s.c, s.table))
}

// TestCopyFromExportBadFile: a data file whose MD5 or item count differs
// from the manifest stops the copy (exit 1, the file named) before any of
// its items is written.
func TestCopyFromExportBadFile(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		edit func(i int, f *ddbtest.ExportFile)
		want string
	}{
		{"md5", func(i int, f *ddbtest.ExportFile) {
			if i == 1 {
				f.MD5Checksum = base64.StdEncoding.EncodeToString(make([]byte, 16))
			}
		}, "MD5 checksum is"},
		{"item count", func(i int, f *ddbtest.ExportFile) {
			if i == 1 {
				f.ItemCount--
			}
		}, "item count is 100 but the export manifest says 99"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newExportSetup(t, mixedSpec)
			items := ddbtest.MixedItems(300, 5, ddbtest.WithLargeEvery(0))
			te := s.export(t, items, ddbtest.ExportOptions{Files: 3, Edit: tt.edit})
			r := s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--yes", "--segments", "1")
			if r.code != 1 || !strings.Contains(lastLine(r.stderr), tt.want) || !strings.Contains(lastLine(r.stderr), te.Keys[1]) {
				t.Fatalf("exit %d, last line %q: want exit 1 naming %s", r.code, lastLine(r.stderr), te.Keys[1])
			}
			got := ddbtest.ScanAll(t, s.c, s.table)
			for _, it := range te.Items[1] {
				if _, ok := got[ddbtest.KeyOf(it, "pk", "sk")]; ok {
					t.Fatalf("an item of the bad file was written: %s", ddbtest.KeyOf(it, "pk", "sk"))
				}
			}
		})
	}
}

// TestCopyFromExportSelection: a key condition and a keys file select the
// same items from an export as from a table; a filter expression and an
// export of another table are refused before anything is written, and
// --allow-other-table accepts the latter.
func TestCopyFromExportSelection(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	items := tenantItems(400, 4, "good", "app")
	te := s.export(t, items, ddbtest.ExportOptions{Files: 4})
	all := byKeys(items, "pk", "sk")
	empty := func(t *testing.T, what string) {
		t.Helper()
		if n := len(ddbtest.ScanAll(t, s.c, s.table)); n != 0 {
			t.Fatalf("%s: %d items written", what, n)
		}
	}

	r := s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--yes", "--filter-expression", "#s = :s",
		"--expression-attribute-names", `{"#s":"status"}`, "--expression-attribute-values", `{":s":{"S":"good"}}`)
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "--filter-expression cannot select from an export") {
		t.Fatalf("filter: exit %d %q, want 2", r.code, lastLine(r.stderr))
	}
	other := s.export(t, items, ddbtest.ExportOptions{ID: "other", TableArn: "arn:aws:dynamodb:us-east-1:000000000000:table/elsewhere"})
	r = s.run(t, "copy", "--from-export", other.URL, "--to", s.table, "--yes")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "table/elsewhere, not of --to's table "+s.arn) || !strings.Contains(lastLine(r.stderr), "--allow-other-table") {
		t.Fatalf("other table: exit %d %q, want 2 naming both tables", r.code, lastLine(r.stderr))
	}
	r = s.run(t, "copy", "--from", "rec", "--from-export", te.URL, "--to", s.table, "--yes")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "give one of them") {
		t.Fatalf("--from and --from-export: exit %d %q, want 2", r.code, lastLine(r.stderr))
	}
	r = s.run(t, "copy", "--from-export", te.URL, "--from-export", other.URL, "--to", s.table, "--yes")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "give either one full export or incremental exports only") {
		t.Fatalf("two exports: exit %d %q, want 2", r.code, lastLine(r.stderr))
	}
	r = s.run(t, "copy", "--from-export", te.URL, "--to", s.table)
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "with their versions in export "+te.URL+", deleting nothing; the whole table, about 400 items (the export manifest)") {
		t.Fatalf("no --yes, no terminal: exit %d %q, want 2 with the manifest's estimate", r.code, lastLine(r.stderr))
	}
	// A key range of an export is a part of the manifest's count, not all
	// of it.
	r = s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`)
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "selected: the key range pk = :p among the export's about 400 items (the export manifest)") {
		t.Fatalf("key range, no --yes: exit %d %q, want 2 naming the key range among the export's items", r.code, lastLine(r.stderr))
	}
	empty(t, "after the refusals")

	// tenant#1 with 100 <= sk <= 200 (sk is a number: 1000 is not in it).
	r = s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--yes", "--key-condition-expression", "#p = :p AND sk BETWEEN :a AND :b",
		"--expression-attribute-names", `{"#p":"pk"}`, "--expression-attribute-values", `{":p":{"S":"tenant#1"},":a":{"N":"100"},":b":{"N":"2.0E2"}}`)
	if r.code != 0 {
		t.Fatalf("key condition: exit %d", r.code)
	}
	want := map[string]map[string]types.AttributeValue{}
	for k, it := range slice(all, "tenant#1") {
		if n := it["sk"].(*types.AttributeValueMemberN).Value; len(n) == 3 && n >= "100" && n <= "200" {
			want[k] = it
		}
	}
	if len(want) != 25 {
		t.Fatalf("test setup: %d items in the range", len(want))
	}
	assertSame(t, "main after the key-condition copy", want, ddbtest.ScanAll(t, s.c, s.table))
	if got := summaryCount(t, r.stderr, "matched"); got != 25 {
		t.Errorf("matched=%d, want 25", got)
	}

	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	var lines []string
	keyWant := map[string]map[string]types.AttributeValue{}
	for _, it := range []map[string]types.AttributeValue{items[0], items[7], items[399]} {
		lines = append(lines, fmt.Sprintf(`{"pk":%s,"sk":{"N":"%s.0"}}`, attrJSON(it["pk"]), it["sk"].(*types.AttributeValueMemberN).Value))
		keyWant[ddbtest.KeyOf(it, "pk", "sk")] = it
	}
	lines = append(lines, `{"pk":{"S":"nobody"},"sk":{"N":"1"}}`)
	if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		keyWant[k] = v
	}
	rep := filepath.Join(t.TempDir(), "report.json")
	r = s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--yes", "--keys-file", keys, "--report", rep)
	if r.code != 0 {
		t.Fatalf("keys file: exit %d", r.code)
	}
	assertSame(t, "main after the keys-file copy", keyWant, ddbtest.ScanAll(t, s.c, s.table))
	if sum := report(t, rep); sum.Counts.Written != 3 || sum.Counts.NotInRecovery != 1 || len(sum.NotInRecovery) != 1 || !strings.Contains(sum.NotInRecovery[0], "nobody") {
		t.Errorf("report: written %d, not in export %d %v", sum.Counts.Written, sum.Counts.NotInRecovery, sum.NotInRecovery)
	}

	r = s.run(t, "copy", "--from-export", other.URL, "--to", s.table, "--yes", "--allow-other-table")
	if r.code != 0 {
		t.Fatalf("--allow-other-table: exit %d", r.code)
	}
	assertSame(t, "main after --allow-other-table", all, ddbtest.ScanAll(t, s.c, s.table))
}

// TestCopyFromExportWorkers splits a copy from a 7-file export between 3
// workers (as an array job would): together they read every item once and
// the table ends complete.
func TestCopyFromExportWorkers(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	items := ddbtest.MixedItems(700, 3, ddbtest.WithLargeEvery(0))
	te := s.export(t, items, ddbtest.ExportOptions{Files: 7})
	var read int64
	for w := range 3 {
		r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": s.s3.Endpoint, "AWS_BATCH_JOB_ARRAY_INDEX": fmt.Sprint(w)}},
			"copy", "--endpoint-url", s.ddb.Endpoint, "--from-export", te.URL, "--to", s.table, "--yes", "--worker-count", "3")
		if r.code != 0 {
			t.Fatalf("worker %d: exit %d", w, r.code)
		}
		read += summaryCount(t, r.stderr, "read")
	}
	if read != 700 {
		t.Errorf("the workers read %d items together, want each of the 700 once", read)
	}
	assertSame(t, "main after the split copy", byKeys(items, "pk", "sk"), ddbtest.ScanAll(t, s.c, s.table))
}

// TestCopyFromExportKilledAndResumed kills a copy from an export (kill -9)
// once its checkpoint shows progress, then runs the same command: it
// resumes from the files and lines the checkpoint records and the table
// ends complete. The killed process leaves no local copy of a data file.
func TestCopyFromExportKilledAndResumed(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	items := ddbtest.MixedItems(3000, 23, ddbtest.WithLargeEvery(0))
	te := s.export(t, items, ddbtest.ExportOptions{Files: 6})
	proxy := ddbtest.NewFaultProxy(t, s.ddb.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, Latency: 60 * time.Millisecond})
	cp := filepath.Join(t.TempDir(), "copy.checkpoint")
	args := []string{"--from-export", te.URL, "--to", s.table, "--yes", "--segments", "2", "--writers", "2", "--page-size", "100", "--checkpoint", cp}

	cmd := binaryCommand(t, append([]string{"copy", "--endpoint-url", proxy.URL()}, args...)...)
	tmp := t.TempDir() // the local copies of data files go here
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+s.s3.Endpoint, "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitForFile(t, cp)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("killed run:\n%s", stderr.String())
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("kill -9 left local copies of export files behind: %v", left)
	}
	data, err := os.ReadFile(cp)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"line":`) {
		t.Errorf("the checkpoint records no line: %s", data)
	}
	before := len(ddbtest.ScanAll(t, s.c, s.table))
	if before >= len(items) {
		t.Logf("note: the copy finished before the kill")
	}

	r := s.run(t, append([]string{"copy"}, args...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "resumed=true") {
		t.Fatalf("resume: exit %d, want 0 and resumed=true", r.code)
	}
	if read := summaryCount(t, r.stderr, "read"); read >= int64(len(items)) {
		t.Errorf("the resumed copy read %d items: it started over instead of resuming", read)
	}
	assertSame(t, "main after the resumed copy", byKeys(items, "pk", "sk"), ddbtest.ScanAll(t, s.c, s.table))
}

// TestExportIncrementalRefused: show refuses a full export given with an
// incremental one (exit 2), and a URL that is no export is refused by copy.
func TestExportIncrementalRefused(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	line := `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"a"},"sk":{"N":"1"}},"NewImage":{"pk":{"S":"a"},"sk":{"N":"1"}}}`
	te := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "inc", [][]string{{line}}, ddbtest.ExportOptions{ExportType: "INCREMENTAL_EXPORT", TableArn: s.arn})
	full := s.export(t, ddbtest.MixedItems(3, 1), ddbtest.ExportOptions{})
	if r := s.run(t, "show", "--from-export", te.URL, "--from-export", full.URL, "--table", s.table); r.code != 2 || !strings.Contains(lastLine(r.stderr), "is a full export: give either one full export or incremental exports only") {
		t.Errorf("show of an incremental and a full export: exit %d %q, want 2", r.code, lastLine(r.stderr))
	}
	if r := s.run(t, "copy", "--from-export", "s3://"+s.bucket+"/nothing/here/", "--to", s.table, "--yes"); r.code != 2 || !strings.Contains(lastLine(r.stderr), "not an export directory") {
		t.Errorf("a URL that is no export: exit %d %q, want 2", r.code, lastLine(r.stderr))
	}
}

// TestIncrementalRecordKeyRefused: an incremental record whose images name
// another item than its Keys, or whose Keys are not the table's key, makes
// the export refused (exit 2, naming the file and line) before anything is
// written: selected by Keys (pk = a), it would otherwise overwrite item p
// (--overwrite-conflicts), which the selection excludes.
func TestIncrementalRecordKeyRefused(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	item := func(pk, v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberN{Value: "1"}, "v": &types.AttributeValueMemberS{Value: v}}
	}
	ddbtest.PutItems(t, s.c, s.table, []map[string]types.AttributeValue{item("a", "now"), item("p", "precious")})
	before := ddbtest.ScanAll(t, s.c, s.table)
	vals := `{":a":{"S":"a"}}`
	for i, tc := range []struct{ name, line string }{
		{"OldImage of another item", `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"a"},"sk":{"N":"1"}},"OldImage":{"pk":{"S":"p"},"sk":{"N":"1"},"v":{"S":"evil"}},"NewImage":{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"now"}}}`},
		{"NewImage of another item", `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"a"},"sk":{"N":"1"}},"OldImage":{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"old"}},"NewImage":{"pk":{"S":"p"},"sk":{"N":"1"},"v":{"S":"precious"}}}`},
		{"Keys with an extra attribute", `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"x"}},"OldImage":{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"old"}}}`},
		{"Keys of another type", `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"a"},"sk":{"S":"1"}},"OldImage":{"pk":{"S":"a"},"sk":{"S":"1"},"v":{"S":"old"}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			te := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, fmt.Sprintf("keys%d", i), [][]string{{tc.line}},
				ddbtest.ExportOptions{ExportType: "INCREMENTAL_EXPORT", TableArn: s.arn})
			r := s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--key-condition-expression", "pk = :a",
				"--expression-attribute-values", vals, "--overwrite-conflicts", "--yes")
			if r.code != 2 || !strings.Contains(lastLine(r.stderr), ".json.gz:1") || !strings.Contains(lastLine(r.stderr), "Keys") {
				t.Errorf("exit %d %q, want 2 naming the file and line and Keys", r.code, lastLine(r.stderr))
			}
			if d := ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, s.c, s.table)); len(d) > 0 {
				t.Errorf("the refused copy changed the table:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

// TestDiffFromRespelledExport: an export spells numbers as its writer did
// ("10.10", "1E2", "007") and lists set members in any order; diff compares
// as DynamoDB does, so a table holding exactly those values is identical
// to it (exit 0), and a copy from it changes nothing that differs.
func TestDiffFromRespelledExport(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	items := ddbtest.MixedItems(60, 5, ddbtest.WithLargeEvery(0))
	ddbtest.PutItems(t, s.c, s.table, items)
	rng := mrand.New(mrand.NewPCG(3, 9))
	respelled := make([]map[string]types.AttributeValue, len(items))
	for i, it := range items {
		respelled[i] = ddbtest.Respell(rng, it)
	}
	te := s.export(t, respelled, ddbtest.ExportOptions{Files: 2})
	r := s.run(t, "diff", "--from-export", te.URL, "--to", s.table, "-o", "json")
	var res copier.DiffResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || r.code != 0 || res.Identical != int64(len(items)) || !res.Equal() {
		t.Fatalf("diff of a respelled export: exit %d, %+v (%v); want exit 0 and %d identical", r.code, res, err, len(items))
	}
}

// TestExportKeyTwiceRefused: a full export holding a key twice is refused
// (exit 2) naming the file, both lines and the key — within a file by
// copy (numbers compared by value: "10.10" and "10.1" are one key), across
// two files by diff — and the page holding the second record is not written.
func TestExportKeyTwiceRefused(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	line := func(pk, sk, v string) string {
		return fmt.Sprintf(`{"Item":{"pk":{"S":%q},"sk":{"N":%q},"v":{"S":%q}}}`, pk, sk, v)
	}
	te := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "twice",
		[][]string{{line("a", "10.10", "first"), line("b", "1", "x"), line("a", "10.1", "second")}}, ddbtest.ExportOptions{TableArn: s.arn})
	r := s.run(t, "copy", "--from-export", te.URL, "--to", s.table, "--yes")
	want := fmt.Sprintf(`export file s3://%s/%s: the key {"pk":{"S":"a"},"sk":{"N":"10.1"}} is on lines 1 and 3: a key twice in a full export is refused`, s.bucket, te.Keys[0])
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), want) {
		t.Errorf("copy: exit %d %q, want 2 saying %q", r.code, lastLine(r.stderr), want)
	}
	if n := len(ddbtest.ScanAll(t, s.c, s.table)); n != 0 {
		t.Errorf("the refused copy wrote %d items", n)
	}

	te = ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "twofiles",
		[][]string{{line("b", "1", "x"), line("a", "7", "first")}, {line("a", "7.0", "second")}}, ddbtest.ExportOptions{TableArn: s.arn})
	r = s.run(t, "diff", "--from-export", te.URL, "--to", s.table)
	want = fmt.Sprintf(`has the key {"pk":{"S":"a"},"sk":{"N":"7"}} twice, in s3://%s/%s:2 and s3://%s/%s:1: a key twice in a full export is refused`, s.bucket, te.Keys[0], s.bucket, te.Keys[1])
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), want) {
		t.Errorf("diff: exit %d %q, want 2 saying %q", r.code, lastLine(r.stderr), want)
	}
}
