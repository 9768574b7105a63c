package copier

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestExpiredFollowsDynamoDBTTL: an item counts as expired (and
// --skip-expired leaves it out) only when DynamoDB's TTL would delete it:
// a top-level Number of epoch seconds before now and not more than five
// years before it. DynamoDB ignores older values (0 or 1 as "never
// expires" among them) and keeps those items: leaving them out of a rewind
// would lose them.
func TestExpiredFollowsDynamoDBTTL(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	sec := func(t time.Time) string { return fmt.Sprint(t.Unix()) }
	n := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
	tests := []struct {
		name string
		v    types.AttributeValue // nil: no TTL attribute
		want bool
	}{
		{"a second ago", n(sec(now.Add(-time.Second))), true},
		{"now", n(sec(now)), false},
		{"in an hour", n(sec(now.Add(time.Hour))), false},
		{"half a second ago", n(fmt.Sprint(now.Unix()-1) + ".5"), true},
		{"exponent form", n("1.7965e9"), true},
		{"four years ago", n(sec(now.AddDate(-4, 0, 0))), true},
		{"just within five years", n(sec(now.AddDate(-5, 0, 1))), true},
		{"more than five years ago", n(sec(now.AddDate(-5, 0, -1))), false},
		{"zero: never", n("0"), false},
		{"one", n("1"), false},
		{"negative", n("-1700000000"), false},
		{"milliseconds (far future)", n(fmt.Sprint(now.UnixMilli())), false},
		{"38 digits", n("99999999999999999999999999999999999999"), false},
		{"huge exponent", n("1E+125"), false},
		{"tiny", n("1E-130"), false},
		{"a string", &types.AttributeValueMemberS{Value: sec(now.Add(-time.Hour))}, false},
		{"a number set", &types.AttributeValueMemberNS{Value: []string{sec(now.Add(-time.Hour))}}, false},
		{"missing", nil, false},
	}
	for _, tt := range tests {
		item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
		if tt.v != nil {
			item["exp"] = tt.v
		}
		if got := expired(item, "exp", now); got != tt.want {
			t.Errorf("%s: expired = %v, want %v", tt.name, got, tt.want)
		}
		if expired(item, "", now) {
			t.Errorf("%s: expired with TTL off", tt.name)
		}
	}
}
