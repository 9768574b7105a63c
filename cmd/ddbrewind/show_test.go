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
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestShow prints the items of a recovery table exactly (every type, 38
// digits, binary in sets and maps), in each format, for a selection or
// up to a limit, and writes nothing.
func TestShow(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(120, 9, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	want := ddbtest.ScanAll(t, c, from)
	parseLines := func(t *testing.T, out string) map[string]map[string]types.AttributeValue {
		t.Helper()
		got := map[string]map[string]types.AttributeValue{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			it, err := ddbjson.ParseItem([]byte(line))
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			got[ddbtest.KeyOf(it, "pk", "sk")] = it
		}
		return got
	}

	t.Run("jsonl, exact", func(t *testing.T) {
		r := ddb(t, "show", "--endpoint-url", srv.Endpoint, "--from", from, "--segments", "3")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if d := ddbtest.DiffItemSets(want, parseLines(t, r.stdout)); len(d) > 0 {
			t.Fatalf("show differs from the table:\n%s", strings.Join(d, "\n"))
		}
	})
	t.Run("json array, limit", func(t *testing.T) {
		r := ddb(t, "show", "--endpoint-url", srv.Endpoint, "--from", from, "-o", "json", "--limit", "7")
		var arr []json.RawMessage
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &arr) != nil || len(arr) != 7 {
			t.Fatalf("exit %d, %d items, want a JSON array of 7:\n%s", r.code, len(arr), r.stdout)
		}
		for _, raw := range arr {
			it, err := ddbjson.ParseItem(raw)
			if err != nil {
				t.Fatal(err)
			}
			if d := ddbtest.DiffItemSets(map[string]map[string]types.AttributeValue{"k": want[ddbtest.KeyOf(it, "pk", "sk")]}, map[string]map[string]types.AttributeValue{"k": it}); len(d) > 0 {
				t.Errorf("item differs: %v", d)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		r := ddb(t, "show", "--endpoint-url", srv.Endpoint, "--from", from, "-o", "csv")
		rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if r.code != 0 || err != nil || len(rows) != len(want)+1 {
			t.Fatalf("exit %d, %v, %d rows, want a header and %d", r.code, err, len(rows), len(want))
		}
		col := map[string]int{}
		for i, name := range rows[0] {
			col[name] = i
		}
		for _, row := range rows[1:] {
			k := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: row[col["pk"]]}, "sk": &types.AttributeValueMemberN{Value: row[col["sk"]]}}
			if _, ok := want[ddbtest.KeyOf(k, "pk", "sk")]; !ok {
				t.Fatalf("row with unknown key %v", row[:2])
			}
		}
	})
	t.Run("keys file", func(t *testing.T) {
		var lines []string
		for _, it := range items[:5] {
			data, _ := ddbjson.MarshalItem(map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]})
			lines = append(lines, string(data))
		}
		keys := filepath.Join(t.TempDir(), "keys.jsonl")
		if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := ddb(t, "show", "--endpoint-url", srv.Endpoint, "--from", from, "--keys-file", keys)
		if got := parseLines(t, r.stdout); r.code != 0 || len(got) != 5 {
			t.Fatalf("exit %d, %d items, want 5", r.code, len(got))
		}
	})
	t.Run("refusals", func(t *testing.T) {
		for _, args := range [][]string{
			{"-o", "xml"},
			{"--limit", "-1"},
			{"--filter-expression", "#nope = :x"},
		} {
			r := ddb(t, append([]string{"show", "--endpoint-url", srv.Endpoint, "--from", from}, args...)...)
			if r.code != 2 || r.stdout != "" {
				t.Errorf("%v: exit %d, stdout %q; want 2 and nothing printed", args, r.code, r.stdout)
			}
		}
	})
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Errorf("show wrote %d items into another table", n)
	}
}
