package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestReviewKeysHostileFiles: keys files a user may really have, on a
// table keyed by an S partition key and an S sort key, on dynalite. The
// ones that cannot name items are refused with exit 2, one line naming
// file:line, before anything is written — even when the bad line comes
// after whole chunks of good keys (a check during the copy would have
// written those); the others select exactly their keys.
func TestReviewKeysHostileFiles(t *testing.T) {
	t.Parallel()
	spec := ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeS}
	var items []map[string]types.AttributeValue
	for i := range 300 {
		items = append(items, map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("p%d", i%3)},
			"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("s%03d", i)},
			"v":  &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		})
	}
	srv, c, from, to := copyPair(t, spec, items)
	key := func(i int) string { return fmt.Sprintf(`{"pk":{"S":"p%d"},"sk":{"S":"s%03d"}}`, i%3, i) }
	var good []string
	for i := range 250 {
		good = append(good, key(i))
	}
	goodText := strings.Join(good, "\n") + "\n"
	dir := t.TempDir()
	bad := []struct {
		name, text string
		want       []string
	}{
		{"sort key over 1024 bytes", goodText + `{"pk":{"S":"p0"},"sk":{"S":"` + strings.Repeat("x", 1025) + `"}}` + "\n",
			[]string{"k.jsonl:251", `"sk"`, "1025 bytes", "1024"}},
		{"partition key over 2048 bytes", goodText + `{"pk":{"S":"` + strings.Repeat("x", 2049) + `"},"sk":{"S":"a"}}` + "\n",
			[]string{"k.jsonl:251", "2049 bytes"}},
		{"a non-key attribute", goodText + `{"pk":{"S":"p0"},"v":{"N":"1"}}` + "\n",
			[]string{"k.jsonl:251", `lacks attribute "sk"`}},
		{"the whole item", goodText + `{"pk":{"S":"p0"},"sk":{"S":"s000"},"v":{"N":"1"}}` + "\n",
			[]string{"k.jsonl:251", "this line has 3"}},
		{"N for an S key", goodText + `{"pk":{"S":"p0"},"sk":{"N":"1"}}` + "\n",
			[]string{"k.jsonl:251", `"sk" has type N, the table says S`}},
		{"byte order mark", "\xef\xbb\xbf" + goodText, []string{"k.jsonl:1", "byte order mark"}},
		{"another table's keys", `{"id":{"N":"1"}}` + "\n", []string{"k.jsonl:1", "pk + sk"}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			to := ddbtest.UniqueName(t, "main") // a failure leaves nothing for the next case
			ddbtest.CreateTable(t, c, to, spec)
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"), "k.jsonl")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			cp := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"), "cp.json")
			r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--keys-file", path, "--checkpoint", cp)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and one line", r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
				t.Fatalf("%d items written despite the bad keys file", n)
			}
			if _, err := os.Stat(cp); err == nil {
				t.Errorf("a checkpoint was written despite the bad keys file")
			}
		})
	}

	// CRLF line ends, blank lines, white space around keys, keys listed
	// twice (in one chunk and across chunks), no final newline: exactly
	// the 250 keys, each written once.
	var lines []string
	for i, g := range good {
		lines = append(lines, g)
		if i%40 == 0 {
			lines = append(lines, "", "   ", " "+good[(i*7)%len(good)]+"\t")
		}
	}
	path := filepath.Join(dir, "crlf.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\r\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--keys-file", path)
	if r.code != 0 || summaryCount(t, r.stderr, "written") != 250 {
		t.Fatalf("CRLF keys file: exit %d, stderr:\n%s\nwant 0 and 250 written", r.code, r.stderr)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 250 {
		t.Errorf("main holds %d items, want 250", n)
	}
}
