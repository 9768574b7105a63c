package copier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestReviewKeysSchemaCheck: a key is checked against the table's key
// schema — the same attribute names, no other attribute, the same types —
// and a sort key value longer than DynamoDB's 1024 bytes is refused (it
// names no item, and BatchGetItem would reject it in the middle of the
// copy); a partition key may be longer (up to 2048 bytes, which the keys
// reader checks).
func TestReviewKeysSchemaCheck(t *testing.T) {
	ks := keySchemaInfo{names: []string{"pk", "sk"}, types: map[string]string{"pk": "S", "sk": "B"}}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	b := func(n int) types.AttributeValue { return &types.AttributeValueMemberB{Value: make([]byte, n)} }
	tests := []struct {
		name string
		key  map[string]types.AttributeValue
		want string // "" = accepted
	}{
		{"ok", map[string]types.AttributeValue{"pk": s("a"), "sk": b(1)}, ""},
		{"sort key of 1024 bytes", map[string]types.AttributeValue{"pk": s("a"), "sk": b(1024)}, ""},
		{"partition key of 2048 bytes", map[string]types.AttributeValue{"pk": s(strings.Repeat("p", 2048)), "sk": b(1)}, ""},
		{"sort key of 1025 bytes", map[string]types.AttributeValue{"pk": s("a"), "sk": b(1025)}, `key attribute "sk" (the sort key) is 1025 bytes, DynamoDB allows at most 1024`},
		{"hash key only", map[string]types.AttributeValue{"pk": s("a")}, "the key has 1 attributes, the table's key is pk + sk"},
		{"a non-key attribute for the sort key", map[string]types.AttributeValue{"pk": s("a"), "v": b(1)}, `the key lacks attribute "sk"`},
		{"a non-key attribute more", map[string]types.AttributeValue{"pk": s("a"), "sk": b(1), "v": s("x")}, "the key has 3 attributes"},
		{"S for a B key", map[string]types.AttributeValue{"pk": s("a"), "sk": s("b")}, `key attribute "sk" has type S, the table says B`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ks.check(tt.key)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("check = %v, want accepted", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("check = %v, want %q", err, tt.want)
			}
		})
	}
	// A sort key of 1025 bytes on a table keyed by one S attribute is a
	// partition key: fine.
	one := keySchemaInfo{names: []string{"pk"}, types: map[string]string{"pk": "S"}}
	if err := one.check(map[string]types.AttributeValue{"pk": s(strings.Repeat("p", 1025))}); err != nil {
		t.Errorf("a 1025-byte partition key: %v", err)
	}
}

// TestReviewKeysFileChangedAfterTheCheck: the keys copied are the keys
// checked. A local keys file appended to, or replaced (an editor's save,
// a generator writing the next list) between the check and the copy does
// not change what the copy reads: lines nobody checked never reach
// BatchGetItem, and the checkpoint's digest stays the content's.
func TestReviewKeysFileChangedAfterTheCheck(t *testing.T) {
	var first, more []string
	for i := range 150 {
		first, more = append(first, fmt.Sprintf("k%03d", i)), append(more, fmt.Sprintf("k%03d", 150+i))
	}
	for _, how := range []string{"appended", "replaced"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			keys := filepath.Join(dir, "keys.jsonl")
			writeText(t, keys, keysText(first))
			api := recMain(400)
			p, err := Prepare(context.Background(), api, Options{From: "rec", To: "main", Segments: 1, Writers: 2, Backoff: fastRetries, Selection: Selection{KeysFile: keys}})
			if err != nil {
				t.Fatal(err)
			}
			switch how {
			case "appended":
				f, err := os.OpenFile(keys, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString(keysText(more) + "{\"pk\":{\"N\":\"1\"}}\n"); err != nil {
					t.Fatal(err)
				}
				f.Close()
			case "replaced":
				next := filepath.Join(dir, "next.jsonl")
				writeText(t, next, keysText(more))
				if err := os.Rename(next, keys); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := p.Run(context.Background(), api)
			if err != nil {
				t.Fatal(err)
			}
			if got := api.looked(t); !slices.Equal(got, first) || sum.Counts.Written != 150 {
				t.Errorf("looked up %d keys (%v…), wrote %d; want the 150 checked", len(got), got[:min(3, len(got))], sum.Counts.Written)
			}
		})
	}
}
