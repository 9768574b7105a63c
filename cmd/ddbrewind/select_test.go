package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// tenantItems returns n items over tenants t0..t(k-1): pk "tenant#i", sk N,
// with a reserved-word attribute "status" and "lastWriter".
func tenantItems(n, k int, status, writer string) []map[string]types.AttributeValue {
	items := make([]map[string]types.AttributeValue, n)
	for i := range items {
		items[i] = map[string]types.AttributeValue{
			"pk":         &types.AttributeValueMemberS{Value: fmt.Sprintf("tenant#%d", i%k)},
			"sk":         &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
			"status":     &types.AttributeValueMemberS{Value: status},
			"lastWriter": &types.AttributeValueMemberS{Value: writer},
			"n":          &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
		}
		if i%3 == 0 {
			items[i]["status"] = &types.AttributeValueMemberS{Value: "archived"}
		}
	}
	return items
}

// report reads a --report file.
func report(t *testing.T, path string) copier.Summary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s copier.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// slice keeps the items of m whose pk is tenant.
func slice(m map[string]map[string]types.AttributeValue, tenant string) map[string]map[string]types.AttributeValue {
	out := map[string]map[string]types.AttributeValue{}
	for k, it := range m {
		if it["pk"].(*types.AttributeValueMemberS).Value == tenant {
			out[k] = it
		}
	}
	return out
}

func without(m map[string]map[string]types.AttributeValue, tenant string) map[string]map[string]types.AttributeValue {
	out := map[string]map[string]types.AttributeValue{}
	for k, it := range m {
		if it["pk"].(*types.AttributeValueMemberS).Value != tenant {
			out[k] = it
		}
	}
	return out
}

func assertSame(t *testing.T, what string, want, got map[string]map[string]types.AttributeValue) {
	t.Helper()
	if d := ddbtest.DiffItemSets(want, got); len(d) > 0 {
		t.Fatalf("%s:\n%s", what, strings.Join(d, "\n"))
	}
}

func TestCopyKeyRangeReadsOnlyTheSlice(t *testing.T) {
	t.Parallel()
	items := tenantItems(2000, 20, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	rep := filepath.Join(t.TempDir(), "report.json")
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes",
		"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#7"}}`, "--report", rep)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	src := ddbtest.ScanAll(t, c, from)
	assertSame(t, "main table vs tenant#7 slice", slice(src, "tenant#7"), ddbtest.ScanAll(t, c, to))
	s := report(t, rep)
	if s.Counts.Read != 100 || s.Counts.Written != 100 {
		t.Errorf("read %d written %d, want 100 and 100: a key range must read only its slice", s.Counts.Read, s.Counts.Written)
	}
	fi, err := os.Stat(rep)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestCopyFilterWithReservedWord(t *testing.T) {
	t.Parallel()
	items := tenantItems(600, 4, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	valuesFile := filepath.Join(t.TempDir(), "values.json")
	if err := os.WriteFile(valuesFile, []byte(`{":s": {"S": "archived"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--segments", "3",
		"--filter-expression", "#s = :s", "--expression-attribute-names", `{"#s":"status"}`, "--expression-attribute-values", "file://"+valuesFile)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	want := map[string]map[string]types.AttributeValue{}
	for k, it := range ddbtest.ScanAll(t, c, from) {
		if it["status"].(*types.AttributeValueMemberS).Value == "archived" {
			want[k] = it
		}
	}
	assertSame(t, "filtered copy", want, ddbtest.ScanAll(t, c, to))
	if len(want) != 200 {
		t.Fatalf("fixture: %d archived items, want 200", len(want))
	}
	// A filter applies after reading: DynamoDB reads (and charges for)
	// every item; the filter matches some.
	if read, matched := summaryCount(t, r.stderr, "read"), summaryCount(t, r.stderr, "matched"); read != int64(len(items)) || matched != 200 {
		t.Errorf("summary read=%d matched=%d, want %d and 200", read, matched, len(items))
	}
}

func TestCopyKeysFile(t *testing.T) {
	t.Parallel()
	items := tenantItems(300, 3, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	// The main table has a stray item that the keys file names but the
	// recovery table lacks, and an unrelated item.
	stray := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "tenant#0"}, "sk": &types.AttributeValueMemberN{Value: "99999"}}
	other := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "tenant#1"}, "sk": &types.AttributeValueMemberN{Value: "88888"}}
	ddbtest.PutItems(t, c, to, []map[string]types.AttributeValue{stray, other})

	var lines []string
	for i := 0; i < 250; i += 2 { // 125 keys, in several chunks of 100 lines
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":"tenant#%d"},"sk":{"N":"%d"}}`, i%3, i))
	}
	lines = append(lines, "", `{"pk":{"S":"tenant#0"},"sk":{"N":"0"}}`) // a blank line and a duplicate
	lines = append(lines, `{"pk":{"S":"tenant#0"},"sk":{"N":"99999"}}`)
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep := filepath.Join(t.TempDir(), "report.json")
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--keys-file", keys, "--report", rep)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	s := report(t, rep)
	// 125 distinct keys, the stray one included: the duplicate line, in
	// another chunk of 100 lines, is merged into the first (each key is
	// read, written and counted once). Read counts the keys looked up,
	// matched those found.
	if s.Counts.Read != 126 || s.Counts.Matched != 125 {
		t.Errorf("report: read %d matched %d, want 126 and 125", s.Counts.Read, s.Counts.Matched)
	}
	if s.Counts.Written != 125 || s.Counts.NotInRecovery != 1 || len(s.NotInRecovery) != 1 || !strings.Contains(s.NotInRecovery[0], "99999") {
		t.Errorf("report: written %d, not in recovery %d %v", s.Counts.Written, s.Counts.NotInRecovery, s.NotInRecovery)
	}
	if !strings.Contains(r.stderr, "not in recovery table") {
		t.Errorf("no warning about keys not in the recovery table")
	}
	got := ddbtest.ScanAll(t, c, to)
	if len(got) != 127 {
		t.Fatalf("main has %d items, want 125 copied + 2 untouched", len(got))
	}
	// With --delete-extra the stray key goes, the unrelated item stays.
	r = ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--keys-file", keys, "--delete-extra")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	got = ddbtest.ScanAll(t, c, to)
	if len(got) != 126 || summaryCount(t, r.stderr, "deleted") != 1 {
		t.Fatalf("after --delete-extra: %d items (want 126), deleted=%d", len(got), summaryCount(t, r.stderr, "deleted"))
	}
	if _, ok := got[ddbtest.KeyOf(other, "pk", "sk")]; !ok {
		t.Errorf("an item outside the keys file was deleted")
	}
}

func TestCopyOnlyMissingNeverOverwrites(t *testing.T) {
	t.Parallel()
	items := tenantItems(400, 4, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	newer := tenantItems(200, 4, "newer", "app") // the first 200 keys hold newer data
	ddbtest.PutItems(t, c, to, newer)
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--only-missing")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	got := ddbtest.ScanAll(t, c, to)
	src := ddbtest.ScanAll(t, c, from)
	if len(got) != 400 {
		t.Fatalf("main has %d items, want 400", len(got))
	}
	for _, it := range newer {
		k := ddbtest.KeyOf(it, "pk", "sk")
		if d := ddbtest.DiffItem(it, got[k]); len(d) > 0 {
			t.Fatalf("--only-missing overwrote %s: %v", k, d)
		}
	}
	for k, it := range src {
		if _, isNewer := got[k]["status"].(*types.AttributeValueMemberS); isNewer && got[k]["status"].(*types.AttributeValueMemberS).Value == "newer" {
			continue
		}
		if d := ddbtest.DiffItem(it, got[k]); len(d) > 0 {
			t.Fatalf("missing item %s not restored: %v", k, d)
		}
	}
	if summaryCount(t, r.stderr, "skipped") != 200 || summaryCount(t, r.stderr, "written") != 200 {
		t.Errorf("want skipped=200 written=200")
	}
}

func TestCopyDeleteExtraMakesSliceExact(t *testing.T) {
	t.Parallel()
	items := tenantItems(600, 3, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	// Main: the whole table copied, then a bad job adds items to every
	// tenant and changes some.
	ddbtest.PutItems(t, c, to, items)
	var extra []map[string]types.AttributeValue
	for i := 0; i < 90; i++ {
		extra = append(extra, map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("tenant#%d", i%3)},
			"sk": &types.AttributeValueMemberN{Value: fmt.Sprint(10000 + i)},
		})
	}
	ddbtest.PutItems(t, c, to, extra)
	ddbtest.PutItems(t, c, to, tenantItems(30, 3, "bad", "badjob"))
	before := ddbtest.ScanAll(t, c, to)

	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--delete-extra",
		"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	got := ddbtest.ScanAll(t, c, to)
	src := ddbtest.ScanAll(t, c, from)
	assertSame(t, "tenant#1 slice", slice(src, "tenant#1"), slice(got, "tenant#1"))
	assertSame(t, "items outside the slice", without(before, "tenant#1"), without(got, "tenant#1"))
	if summaryCount(t, r.stderr, "deleted") != 30 {
		t.Errorf("deleted=%d, want 30", summaryCount(t, r.stderr, "deleted"))
	}
	// Whole table: everything exact.
	r = ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--delete-extra", "--segments", "2")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	assertSameTables(t, c, from, to)
}

func TestCopyIfMainKeepsGoodWrites(t *testing.T) {
	t.Parallel()
	items := tenantItems(300, 3, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	ddbtest.PutItems(t, c, to, items)
	// A bad job rewrote items 0..99; a good writer then updated 0..19 again.
	ddbtest.PutItems(t, c, to, tenantItems(100, 3, "bad", "badjob"))
	good := tenantItems(20, 3, "newer-good", "app")
	ddbtest.PutItems(t, c, to, good)
	// The bad job also created items that did not exist at the restore point.
	var created []map[string]types.AttributeValue
	for i := 0; i < 10; i++ {
		created = append(created, map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "tenant#0"}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(5000 + i)},
			"lastWriter": &types.AttributeValueMemberS{Value: "badjob"},
		})
	}
	created = append(created, map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "tenant#0"}, "sk": &types.AttributeValueMemberN{Value: "6000"},
		"lastWriter": &types.AttributeValueMemberS{Value: "app"},
	})
	ddbtest.PutItems(t, c, to, created)

	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--delete-extra",
		"--if-main", "lastWriter = :bad", "--expression-attribute-values", `{":bad":{"S":"badjob"}}`)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	got := ddbtest.ScanAll(t, c, to)
	src := ddbtest.ScanAll(t, c, from)
	for i, it := range items {
		k := ddbtest.KeyOf(it, "pk", "sk")
		want := src[k]
		if i < 20 {
			want = good[i]
		}
		if d := ddbtest.DiffItem(want, got[k]); len(d) > 0 {
			t.Fatalf("item %d (%s): %v", i, k, d)
		}
	}
	if len(got) != 301 {
		t.Errorf("main has %d items, want 300 + the good item created after the restore point", len(got))
	}
	if summaryCount(t, r.stderr, "written") != 80 || summaryCount(t, r.stderr, "deleted") != 10 {
		t.Errorf("want written=80 deleted=10")
	}
}

func TestCopyTwoWorkersCopyEverythingOnce(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(1200, 9, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	var total int64
	for i, env := range []map[string]string{{"AWS_BATCH_JOB_ARRAY_INDEX": "0"}, {"AWS_BATCH_JOB_ARRAY_INDEX": "1"}} {
		r := runCLI(t, cliOpts{env: env}, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes",
			"--segments", "5", "--worker-count", "2")
		if r.code != 0 {
			t.Fatalf("worker %d: exit %d", i, r.code)
		}
		total += summaryCount(t, r.stderr, "written")
	}
	if total != int64(len(items)) {
		t.Errorf("the workers wrote %d items in total, want exactly %d", total, len(items))
	}
	assertSameTables(t, c, from, to)
}

func TestCopyBadSelectionWritesNothing(t *testing.T) {
	t.Parallel()
	items := tenantItems(50, 2, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.jsonl")
	os.WriteFile(broken, []byte(`{"pk":{"S":"tenant#0"},"sk":{"N":"0"}}`+"\n"+`{"pk":{"S":"tenant#0"},"sk":{"N":"2"}}`+"\n"+`{"pk":{"X":"a"}}`+"\n"), 0o600)
	wrongKey := filepath.Join(dir, "wrongkey.jsonl")
	os.WriteFile(wrongKey, []byte(`{"pk":{"S":"tenant#0"},"sk":{"S":"0"}}`+"\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed values json", []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"x"}`}, "--expression-attribute-values"},
		{"unknown attribute type", []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"Q":"x"}}`}, "unknown type"},
		{"undefined placeholder", []string{"--filter-expression", "#s = :s", "--expression-attribute-values", `{":s":{"S":"x"}}`}, "#s is not defined"},
		{"unused placeholder", []string{"--filter-expression", "lastWriter = :s", "--expression-attribute-values", `{":s":{"S":"x"},":t":{"S":"y"}}`}, ":t but no expression uses it"},
		{"expression DynamoDB rejects", []string{"--filter-expression", "lastWriter === :s", "--expression-attribute-values", `{":s":{"S":"x"}}`}, "DynamoDB rejects"},
		{"key condition on a non-key", []string{"--key-condition-expression", "lastWriter = :s", "--expression-attribute-values", `{":s":{"S":"x"}}`}, "DynamoDB rejects"},
		{"if-main DynamoDB rejects", []string{"--if-main", "lastWriter = = :s", "--expression-attribute-values", `{":s":{"S":"x"}}`}, "DynamoDB rejects --if-main"},
		{"broken keys file line", []string{"--keys-file", broken}, "broken.jsonl:3"},
		{"keys file with wrong key type", []string{"--keys-file", wrongKey}, "wrongkey.jsonl:1"},
		{"missing keys file", []string{"--keys-file", filepath.Join(dir, "nope.jsonl")}, "nope.jsonl"},
		{"values file missing", []string{"--filter-expression", "lastWriter = :s", "--expression-attribute-values", "file://" + filepath.Join(dir, "nope.json")}, "nope.json"},
		{"only-missing with if-main", []string{"--only-missing", "--if-main", "attribute_exists(pk)"}, "use one of them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ddb(t, append([]string{"copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes"}, tt.args...)...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2", r.code)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("want one stderr line mentioning %q", tt.want)
			}
			if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
				t.Fatalf("%d items written despite bad input", n)
			}
		})
	}
}
