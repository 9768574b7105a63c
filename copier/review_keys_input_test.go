package copier

import (
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
