package copier

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

var pool *ddbtest.Pool

func TestMain(m *testing.M) {
	pool = ddbtest.NewPool()
	code := m.Run()
	if err := pool.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// backend is a DynamoDB the conformance suite runs against: the in-memory
// fake or a real emulator.
type backend struct {
	api    API
	create func(t *testing.T, prefix string) string
	put    func(t *testing.T, table string, items []map[string]types.AttributeValue)
	scan   func(t *testing.T, table string) map[string]map[string]types.AttributeValue
}

func memBackend() backend {
	m := newMemAPI()
	n := 0
	return backend{
		api: m,
		create: func(t *testing.T, prefix string) string {
			n++
			name := fmt.Sprintf("%s-%d", prefix, n)
			m.create(name)
			return name
		},
		put: func(t *testing.T, table string, items []map[string]types.AttributeValue) {
			for _, it := range items {
				if _, err := m.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it,
					ConditionExpression: aws.String("attribute_not_exists(#ddbk0)"), ExpressionAttributeNames: map[string]string{"#ddbk0": "pk"}}); err != nil {
					t.Fatal(err)
				}
			}
		},
		scan: func(t *testing.T, table string) map[string]map[string]types.AttributeValue {
			m.mu.Lock()
			defer m.mu.Unlock()
			out := map[string]map[string]types.AttributeValue{}
			for k, v := range m.tables[table] {
				out[k] = v
			}
			return out
		},
	}
}

func dynaliteBackend(t *testing.T) backend {
	srv := pool.Get(t, ddbtest.Dynalite)
	c := srv.Client(t)
	return backend{
		api: c,
		create: func(t *testing.T, prefix string) string {
			name := ddbtest.UniqueName(t, prefix)
			ddbtest.CreateTable(t, c, name, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})
			return name
		},
		put: func(t *testing.T, table string, items []map[string]types.AttributeValue) {
			ddbtest.PutItems(t, c, table, items)
		},
		scan: func(t *testing.T, table string) map[string]map[string]types.AttributeValue {
			out := map[string]map[string]types.AttributeValue{}
			for _, it := range ddbtest.ScanAll(t, c, table) {
				out[ddbjson.KeyString(keyOf(it, memKey))] = it
			}
			return out
		},
	}
}

// TestConformance runs every source and write mode of the pipeline — table
// scan, keys file, full export in S3, journal; overwrite, --only-missing,
// --if-main, --delete-extra, diff, undo — against the in-memory fake and
// against dynalite, with the same expectations: the fake cannot drift from
// the real thing unnoticed, and the modes are pinned on both. The export's
// S3 is an in-memory fake in both (the S3 side has its own tests on moto).
func TestConformance(t *testing.T) {
	backends := []struct {
		name string
		get  func(t *testing.T) backend
	}{
		{"fake", func(*testing.T) backend { return memBackend() }},
		{"dynalite", dynaliteBackend},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			be := b.get(t)
			for kind, suite := range conformanceSuites() {
				t.Run(kind, func(t *testing.T) { suite(t, be) })
			}
		})
	}
}

// conformanceSuites are the conformance suites by kind of past (the names
// of pastKinds): every one runs on every backend.
func conformanceSuites() map[string]func(t *testing.T, be backend) {
	return map[string]func(*testing.T, backend){
		"table":              func(t *testing.T, be backend) { runConformance(t, be, "table") },
		"full export":        func(t *testing.T, be backend) { runConformance(t, be, "export") },
		"incremental window": runIncrementalRewind,
	}
}

// TestConformanceCoversTheRegistry: every registered kind of past has its
// conformance suite, and every registered write mode is among the
// conformance cases: adding one without its conformance fails here.
func TestConformanceCoversTheRegistry(t *testing.T) {
	suites := conformanceSuites()
	kinds := map[string]bool{}
	for _, k := range pastKinds() {
		kinds[k.name] = true
		if suites[k.name] == nil {
			t.Errorf("the kind of past %q has no conformance suite (conformanceSuites)", k.name)
		}
	}
	for name := range suites {
		if !kinds[name] {
			t.Errorf("the conformance suite %q is of no registered kind of past (pastKinds)", name)
		}
	}
	covered := map[string]bool{}
	for _, c := range conformanceCases(nil, nil, "") {
		covered[c.opts.Mode().Name()] = true
	}
	for _, b := range baseModes() {
		if !covered[b.name] {
			t.Errorf("the write mode %q has no conformance case (conformanceCases)", b.name)
		}
		delete(covered, b.name)
	}
	if len(covered) > 0 {
		t.Errorf("conformance cases of unregistered modes: %v", covered)
	}
}

func confItem(pk, v string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"v":  &types.AttributeValueMemberS{Value: v},
		"n":  &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
		"b":  &types.AttributeValueMemberBS{Value: [][]byte{{0, 1}, {0xff}}},
	}
}

// confTables builds a recovery table's items, k000 up to total, and a
// main table's: the first equal ones, the next changed ones changed, the
// rest missing, and extras x00 up to extra.
func confTables(total, equal, changed, extra int) (src, main []map[string]types.AttributeValue) {
	for i := range total {
		pk := fmt.Sprintf("k%03d", i)
		src = append(src, confItem(pk, "good"))
		switch {
		case i < equal:
			main = append(main, confItem(pk, "good"))
		case i < equal+changed:
			main = append(main, confItem(pk, "broken"))
		}
	}
	for i := range extra {
		main = append(main, confItem(fmt.Sprintf("x%02d", i), "extra"))
	}
	return src, main
}

// confSource sets where a case reads the past state.
type confSource struct {
	name string
	set  func(t *testing.T, o *Options, from, to string)
}

// confCase is a case of the conformance suite: the options, the main
// table expected after the copy, and its counts.
type confCase struct {
	name string
	opts Options
	want map[string]map[string]types.AttributeValue
	// counts: written, skipped, deleted, not in recovery
	written, skipped, deleted, notIn int64
}

// confByKey indexes items by KeyString.
func confByKey(items []map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
	m := map[string]map[string]types.AttributeValue{}
	for _, it := range items {
		m[ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	return m
}

// conformanceCases are the copies of the suite, from src (the past) into
// main (the main table's start state), keysFile naming k000-k002,
// k045-k046, k070-k071, x00-x01, zz0.
func conformanceCases(src, main []map[string]types.AttributeValue, keysFile string) []confCase {
	key := func(pk string) string { return `{"pk":{"S":"` + pk + `"}}` }
	srcKeys := confByKey(src)
	// want builds the expected main table from its start state.
	want := func(edit func(m map[string]map[string]types.AttributeValue)) map[string]map[string]types.AttributeValue {
		m := confByKey(main)
		edit(m)
		return m
	}
	return []confCase{
		{"overwrite", Options{}, want(func(m map[string]map[string]types.AttributeValue) {
			for k, v := range srcKeys {
				m[k] = v
			}
		}), 120, 0, 0, 0},
		{"delete-extra", Options{DeleteExtra: true}, srcKeys, 120, 0, 15, 0},
		{"only-missing", Options{OnlyMissing: true}, want(func(m map[string]map[string]types.AttributeValue) {
			for k, v := range srcKeys {
				if _, ok := m[k]; !ok {
					m[k] = v
				}
			}
		}), 60, 60, 0, 0},
		{"if-main and delete-extra", Options{IfMain: "attribute_exists(pk)", DeleteExtra: true}, want(func(m map[string]map[string]types.AttributeValue) {
			for k := range m {
				if _, ok := srcKeys[k]; ok {
					m[k] = srcKeys[k]
				} else {
					delete(m, k)
				}
			}
		}), 60, 60, 15, 0},
		{"keys file and delete-extra", Options{DeleteExtra: true, Selection: Selection{KeysFile: keysFile}}, want(func(m map[string]map[string]types.AttributeValue) {
			for _, pk := range []string{"k000", "k001", "k002", "k045", "k046", "k070", "k071"} {
				m[key(pk)] = srcKeys[key(pk)]
			}
			delete(m, key("x00"))
			delete(m, key("x01"))
		}), 7, 0, 3, 3},
		{"dry run", Options{DeleteExtra: true, DryRun: true}, confByKey(main), 120, 0, 15, 0},
	}
}

// runConformance runs the copy cases and the diff from the source of the
// past only ("table" or "export") on be.
func runConformance(t *testing.T, be backend, only string) {
	// The recovery table holds k000-k119. The main table holds k000-k039
	// equal, k040-k059 changed, not k060-k119, and extras x00-x14.
	src, main := confTables(120, 40, 20, 15)
	keysFile := filepath.Join(t.TempDir(), "keys.jsonl")
	var lines []string
	for _, pk := range []string{"k000", "k001", "k002", "k045", "k046", "k070", "k071", "x00", "x01", "zz0", "k000"} {
		lines = append(lines, `{"pk":{"S":"`+pk+`"}}`)
	}
	if err := os.WriteFile(keysFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := func(pk string) string { return `{"pk":{"S":"` + pk + `"}}` }
	tests := conformanceCases(src, main, keysFile)

	// source sets where a case reads the past state: the recovery table
	// from, or a full export of the same items (of table to) in S3.
	sources := []confSource{
		{"table", func(t *testing.T, o *Options, from, _ string) {
			be.put(t, from, src)
			o.From = from
		}},
		{"export", func(t *testing.T, o *Options, _, to string) {
			s3 := ddbtest.NewMemS3()
			te := ddbtest.WriteExport(t, s3, "exports", "nightly", src, ddbtest.ExportOptions{Files: 4, EmptyFile: true, TableArn: tableArn(t, be.api, to)})
			o.FromExport, o.Files = []string{te.URL}, &statefile.Store{S3: s3}
		}},
	}
	sources = slices.DeleteFunc(sources, func(sc confSource) bool { return sc.name != only })
	for _, sc := range sources {
		for _, tt := range tests {
			t.Run(sc.name+"/"+tt.name, func(t *testing.T) {
				from, to := be.create(t, "rec"), be.create(t, "main")
				be.put(t, to, main)
				before := be.scan(t, to)
				journal := filepath.Join(t.TempDir(), "journal.jsonl")
				o := tt.opts
				sc.set(t, &o, from, to)
				o.To, o.Segments, o.PageSize, o.Writers = to, 3, 7, 4
				o.Journal = journal
				p, err := Prepare(context.Background(), be.api, o)
				if err != nil {
					t.Fatal(err)
				}
				sum, err := p.Run(context.Background(), be.api)
				if err != nil {
					t.Fatal(err)
				}
				assertItems(t, "after the copy", tt.want, be.scan(t, to))
				c := sum.Counts
				if c.Written != tt.written || c.Skipped != tt.skipped || c.Deleted != tt.deleted || c.NotInRecovery != tt.notIn || c.Failed != 0 {
					t.Errorf("written %d skipped %d deleted %d not in recovery %d failed %d; want %d %d %d %d 0",
						c.Written, c.Skipped, c.Deleted, c.NotInRecovery, c.Failed, tt.written, tt.skipped, tt.deleted, tt.notIn)
				}
				if o.DryRun {
					return
				}
				// Undo from the journal: back to the start state exactly.
				u, err := PrepareUndo(context.Background(), be.api, UndoOptions{Options{To: to, Journal: journal, Writers: 3}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := u.Run(context.Background(), be.api); err != nil {
					t.Fatal(err)
				}
				assertItems(t, "after undo", before, be.scan(t, to))
			})
		}
	}

	for _, sc := range sources {
		t.Run(sc.name+"/diff", func(t *testing.T) {
			from, to := be.create(t, "rec"), be.create(t, "main")
			be.put(t, to, main)
			o := Options{To: to, Segments: 3, PageSize: 7}
			sc.set(t, &o, from, to)
			p, err := PrepareDiff(context.Background(), be.api, DiffOptions{Options: o})
			if err != nil {
				t.Fatal(err)
			}
			d, err := p.Diff(context.Background(), be.api, 100)
			if err != nil {
				t.Fatal(err)
			}
			if d.Identical != 40 || d.Different != 20 || d.MissingInMain != 60 || d.ExtraInMain != 15 {
				t.Errorf("identical %d different %d missing %d extra %d; want 40 20 60 15", d.Identical, d.Different, d.MissingInMain, d.ExtraInMain)
			}
			if len(d.ExtraKeys) != 15 || d.ExtraKeys[0] != key("x00") || d.DifferentKeys[0] != key("k040") || d.MissingKeys[0] != key("k060") {
				t.Errorf("keys: extra %v different %v missing %v", d.ExtraKeys, d.DifferentKeys, d.MissingKeys)
			}
		})
	}
}

// tableArn returns the table's ARN.
func tableArn(t testing.TB, api API, table string) string {
	t.Helper()
	out, err := api.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Table.TableArn)
}

// assertItems fails when got differs from want in any item or attribute.
func assertItems(t *testing.T, when string, want, got map[string]map[string]types.AttributeValue) {
	t.Helper()
	var diffs []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+k)
		case !maps.EqualFunc(w, g, ddbtest.EqualValue): // exact: a copy keeps every byte
			diffs = append(diffs, "different "+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "extra "+k)
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		t.Fatalf("%s: %d differences: %s", when, len(diffs), strings.Join(diffs[:min(len(diffs), 10)], ", "))
	}
}
