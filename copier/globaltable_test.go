package copier

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestStatesIgnoreReplicationAttributes: on a global table of version
// 2017.11.29 DynamoDB sets aws:rep:updateregion and aws:rep:updatetime on
// every write, a rewind's, a copy's and undo's own included. The states a
// rewind, undo and a lost answer compare are the same whatever those
// attributes say (otherwise a rewind run again, or undo after a copy, found
// every key "changed by someone else"), and the rewind's condition "still
// what the window left" does not name them.
func TestStatesIgnoreReplicationAttributes(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := func(v string, rep ...string) map[string]types.AttributeValue {
		it := map[string]types.AttributeValue{"pk": s("k"), "v": s(v)}
		if len(rep) > 0 {
			it["aws:rep:updateregion"], it["aws:rep:updatetime"] = s(rep[0]), &types.AttributeValueMemberN{Value: rep[1]}
		}
		return it
	}
	tests := []struct {
		name string
		a, b map[string]types.AttributeValue
		same bool
	}{
		{"as written and as read back", item("x"), item("x", "us-east-1", "1700000000.5"), true},
		{"written in two regions", item("x", "eu-west-1", "1700000000.5"), item("x", "us-east-1", "1700000009.1"), true},
		{"another value", item("x", "us-east-1", "1"), item("y", "us-east-1", "1"), false},
		{"absent and present", nil, item("x", "us-east-1", "1"), false},
		{"both absent", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameState(tt.a, tt.b); got != tt.same {
				t.Errorf("sameState = %v, want %v", got, tt.same)
			}
		})
	}
	// A rewind run again over the items it rewound: DynamoDB gave them new
	// aws:rep:* values; they are done, not conflicts.
	start, end := item("old", "us-east-1", "100"), item("bad", "us-east-1", "200")
	if got := rewindActionOf(item("old", "us-east-1", "300"), start, end, false); got != rewindDone {
		t.Errorf("a rewound item with new aws:rep:* values: action %v, want done", got)
	}
	if got := rewindActionOf(item("bad", "eu-west-1", "250"), start, end, false); got != rewindWrite {
		t.Errorf("the window's end replicated again: action %v, want a write", got)
	}
	cond, names, _, ok := stillAsLeft(end, []string{"pk"})
	if !ok || strings.Contains(aws.ToString(cond), "aws:rep") {
		t.Fatalf("condition %q (ok %v)", aws.ToString(cond), ok)
	}
	for _, n := range names {
		if strings.HasPrefix(n, replicationPrefix) {
			t.Errorf("the condition names %s: %q %v", n, aws.ToString(cond), names)
		}
	}
}
