package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/ddbtest"
)

// TestShowFromExport prints a full export's items (S3 on moto) exactly,
// with the key schema of --table (dynalite), in each format, for a key
// condition, a keys file and a limit; it reads nothing of the table and
// refuses bad input with exit 2.
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.run(t, append([]string{"show", "--from-export", te.URL, "--table", s.table}, tc.args...)...)
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
		{"no --table", []string{"--from-export", te.URL}, "needs --table"},
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
	if r := s.run(t, "show", "--from-export", other.URL, "--table", s.table); r.code != 2 || !strings.Contains(lastLine(r.stderr), "--allow-other-table") {
		t.Errorf("another table's export: exit %d %q, want 2 naming --allow-other-table", r.code, lastLine(r.stderr))
	}
	if r := s.run(t, "show", "--from-export", other.URL, "--table", s.table, "--allow-other-table"); r.code != 0 || len(lines(t, r.stdout)) != 3 {
		t.Errorf("another table's export with --allow-other-table: exit %d", r.code)
	}
}
