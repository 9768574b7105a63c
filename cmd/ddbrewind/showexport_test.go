package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestShowFromExport prints a full export's items (S3 on moto) exactly,
// with the key schema of --table (dynalite) or, without it, of the table
// the manifest names, in each format, for a key condition, a keys file and
// a limit; it reads nothing of the table and refuses bad input with exit
// 2 (--table is required only when the manifest's table is gone).
func TestShowFromExport(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	items := ddbtest.MixedItems(150, 7, ddbtest.WithLargeEvery(0))
	te := s.export(t, items, ddbtest.ExportOptions{Files: 3})
	want := byKeys(items, "pk", "sk")
	lines := func(t *testing.T, out string) map[string]map[string]types.AttributeValue {
		t.Helper()
		got := map[string]map[string]types.AttributeValue{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			it, err := ddbjson.ParseItem([]byte(line))
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			got[ddbtest.KeyOf(it, "pk", "sk")] = it
		}
		return got
	}
	pk0 := items[0]["pk"].(*types.AttributeValueMemberS).Value
	slice := map[string]map[string]types.AttributeValue{}
	for k, it := range want {
		if it["pk"].(*types.AttributeValueMemberS).Value == pk0 {
			slice[k] = it
		}
	}
	keysFile := filepath.Join(t.TempDir(), "keys.jsonl")
	var kf strings.Builder
	picked := map[string]map[string]types.AttributeValue{}
	for _, it := range items[10:14] {
		data, err := ddbjson.MarshalItem(map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]})
		if err != nil {
			t.Fatal(err)
		}
		kf.Write(append(data, '\n'))
		picked[ddbtest.KeyOf(it, "pk", "sk")] = it
	}
	if err := os.WriteFile(keysFile, []byte(kf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	vals, _ := json.Marshal(map[string]map[string]string{":p": {"S": pk0}})

	for _, tc := range []struct {
		name string
		args []string
		want map[string]map[string]types.AttributeValue
	}{
		{"jsonl, exact", nil, want},
		{"key condition", []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", string(vals)}, slice},
		{"keys file", []string{"--keys-file", keysFile}, picked},
		{"no --table: the manifest's table", []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", string(vals)}, slice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"show", "--from-export", te.URL}
			if !strings.HasPrefix(tc.name, "no --table") {
				args = append(args, "--table", s.table)
			}
			r := s.run(t, append(args, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, lastLine(r.stderr))
			}
			if d := ddbtest.DiffItemSets(tc.want, lines(t, r.stdout)); len(d) > 0 {
				t.Fatalf("show differs from the export:\n%s", strings.Join(d, "\n"))
			}
		})
	}
	t.Run("json, limit", func(t *testing.T) {
		r := s.run(t, "show", "--from-export", te.URL, "--table", s.table, "-o", "json", "--limit", "5")
		var arr []json.RawMessage
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &arr) != nil || len(arr) != 5 {
			t.Fatalf("exit %d, %d items, want a JSON array of 5", r.code, len(arr))
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := s.run(t, "show", "--from-export", te.URL, "--table", s.table, "-o", "csv")
		rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if r.code != 0 || err != nil || len(rows) != len(items)+1 {
			t.Fatalf("exit %d, %v, %d rows, want a header and %d", r.code, err, len(rows), len(items))
		}
	})
	if got := ddbtest.ScanAll(t, s.c, s.table); len(got) != 0 {
		t.Errorf("show wrote %d items into the table", len(got))
	}
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"--table with --from", []string{"--from", s.table, "--table", s.table}, "only for --from-export"},
		{"both sources", []string{"--from", s.table, "--from-export", te.URL, "--table", s.table}, "give one of them"},
		{"no such table", []string{"--from-export", te.URL, "--table", "nosuchtable"}, "table not found"},
		{"a filter", []string{"--from-export", te.URL, "--table", s.table, "--filter-expression", "attribute_exists(pk)"}, "--filter-expression cannot select from an export"},
	} {
		r := s.run(t, append([]string{"show"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(lastLine(r.stderr), tc.msg) || r.stdout != "" {
			t.Errorf("%s: exit %d %q, want 2 with %q and no output", tc.name, r.code, lastLine(r.stderr), tc.msg)
		}
	}
	other := ddbtest.WriteExport(t, s.s3.S3Client(t), s.bucket, "other", items[:3], ddbtest.ExportOptions{TableArn: "arn:aws:dynamodb:us-east-1:123456789012:table/other"})
	if r := s.run(t, "show", "--from-export", other.URL); r.code != 2 || !strings.Contains(lastLine(r.stderr), "the export's table other") || !strings.Contains(lastLine(r.stderr), "pass --table") {
		t.Errorf("an export of a table that is gone, without --table: exit %d %q, want 2 saying to pass --table", r.code, lastLine(r.stderr))
	}
	if r := s.run(t, "show", "--from-export", other.URL, "--table", s.table); r.code != 2 || !strings.Contains(lastLine(r.stderr), "--allow-other-table") {
		t.Errorf("another table's export: exit %d %q, want 2 naming --allow-other-table", r.code, lastLine(r.stderr))
	}
	if r := s.run(t, "show", "--from-export", other.URL, "--table", s.table, "--allow-other-table"); r.code != 0 || len(lines(t, r.stdout)) != 3 {
		t.Errorf("another table's export with --allow-other-table: exit %d", r.code)
	}
}

// TestShowFromIncrementalExports prints the state at a window's start of
// the keys two incremental exports changed (S3 on moto, --table on
// dynalite): the earliest export's old image of each key that had an item
// then — changed back or not, exactly — and nothing for keys created in
// the window; a key condition or a keys file selects among them; the table
// is never read or written.
func TestShowFromIncrementalExports(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})
	item := func(pk, v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: v},
			"n": &types.AttributeValueMemberN{Value: "-0.00000000000000000000000000000000000001"},
			"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"b": &types.AttributeValueMemberBS{Value: [][]byte{{0}, {0xfe}}}, "e": &types.AttributeValueMemberS{Value: ""}}}}
	}
	enc := func(it map[string]types.AttributeValue) string {
		data, err := ddbjson.MarshalItem(it)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	rec := func(pk string, old, new map[string]types.AttributeValue) string {
		line := `{"Metadata":{"WriteTimestampMicros":{"N":"1700000000000000"}},"Keys":{"pk":{"S":"` + pk + `"}}`
		if old != nil {
			line += `,"OldImage":` + enc(old)
		}
		if new != nil {
			line += `,"NewImage":` + enc(new)
		}
		return line + "}"
	}
	// Export 1: a0, a1 changed, c0 created, z0 changed; export 2: a0
	// changed again, z0 changed back, d0 deleted.
	e1 := []string{rec("a0", item("a0", "start"), item("a0", "bad")), rec("a1", item("a1", "start"), item("a1", "bad")),
		rec("c0", nil, item("c0", "new")), rec("z0", item("z0", "start"), item("z0", "bad"))}
	e2 := []string{rec("a0", item("a0", "bad"), item("a0", "worse")), rec("z0", item("z0", "bad"), item("z0", "start")),
		rec("d0", item("d0", "start"), nil)}
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	x1 := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "inc", [][]string{e1[:2], e1[2:]}, ddbtest.ExportOptions{ID: "01700000000000-bbbb0001", TableArn: s.arn, ExportType: "INCREMENTAL_EXPORT", ExportTime: t0})
	x2 := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "inc", [][]string{e2}, ddbtest.ExportOptions{ID: "01700000000000-bbbb0002", TableArn: s.arn, ExportType: "INCREMENTAL_EXPORT", ExportTime: t0.Add(time.Hour)})
	ddbtest.PutItems(t, s.c, s.table, []map[string]types.AttributeValue{item("a0", "now")})
	before := ddbtest.ScanAll(t, s.c, s.table)

	keysFile := filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(keysFile, []byte(`{"pk":{"S":"a1"}}`+"\n"+`{"pk":{"S":"c0"}}`+"\n"+`{"pk":{"S":"u0"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func(pks ...string) map[string]map[string]types.AttributeValue {
		m := map[string]map[string]types.AttributeValue{}
		for _, pk := range pks {
			it := item(pk, "start")
			m[ddbtest.KeyOf(it, "pk")] = it
		}
		return m
	}
	both := []string{"show", "--from-export", x1.URL, "--from-export", x2.URL, "--table", s.table}
	for _, tc := range []struct {
		name string
		args []string
		want map[string]map[string]types.AttributeValue
	}{
		{"the window", both, start("a0", "a1", "z0", "d0")},
		{"the first export only", []string{"show", "--from-export", x1.URL, "--table", s.table}, start("a0", "a1", "z0")},
		{"key condition", append(both, "--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"a0"}}`), start("a0")},
		{"keys file", append(both, "--keys-file", keysFile), start("a1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.run(t, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, lastLine(r.stderr))
			}
			got := map[string]map[string]types.AttributeValue{}
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				if line == "" {
					continue
				}
				it, err := ddbjson.ParseItem([]byte(line))
				if err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				got[ddbtest.KeyOf(it, "pk")] = it
			}
			if d := ddbtest.DiffItemSets(tc.want, got); len(d) > 0 {
				t.Fatalf("show differs from the window's start:\n%s", strings.Join(d, "\n"))
			}
		})
	}
	if d := ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, s.c, s.table)); len(d) > 0 {
		t.Errorf("show changed the table:\n%s", strings.Join(d, "\n"))
	}
	other := ddbtest.UniqueName(t, "other")
	ddbtest.CreateTable(t, s.c, other, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"a gap", []string{"show", "--from-export", x2.URL, "--from-export", x1.URL, "--table", s.table}, "without gaps"},
		{"another table", []string{"show", "--from-export", x1.URL, "--table", other}, "--allow-other-table"},
	} {
		if r := s.run(t, tc.args...); r.code != 2 || !strings.Contains(lastLine(r.stderr), tc.msg) || r.stdout != "" {
			t.Errorf("%s: exit %d %q, want 2 with %q and no output", tc.name, r.code, lastLine(r.stderr), tc.msg)
		}
	}
}
