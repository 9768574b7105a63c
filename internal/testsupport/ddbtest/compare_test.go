package ddbtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Short constructors for test values.
func attrS(v string) types.AttributeValue     { return &types.AttributeValueMemberS{Value: v} }
func attrN(v string) types.AttributeValue     { return &types.AttributeValueMemberN{Value: v} }
func attrB(v ...byte) types.AttributeValue    { return &types.AttributeValueMemberB{Value: v} }
func attrSS(v ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: v} }
func attrNS(v ...string) types.AttributeValue { return &types.AttributeValueMemberNS{Value: v} }
func attrBS(v ...[]byte) types.AttributeValue { return &types.AttributeValueMemberBS{Value: v} }
func attrL(v ...types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberL{Value: v}
}
func attrM(kv ...any) types.AttributeValue {
	mv := make(map[string]types.AttributeValue)
	for i := 0; i < len(kv); i += 2 {
		mv[kv[i].(string)] = kv[i+1].(types.AttributeValue)
	}
	return &types.AttributeValueMemberM{Value: mv}
}

var (
	boolTrue  = &types.AttributeValueMemberBOOL{Value: true}
	boolFalse = &types.AttributeValueMemberBOOL{Value: false}
	null      = &types.AttributeValueMemberNULL{Value: true}
)

func TestEqualValue(t *testing.T) {
	tests := []struct {
		name string
		a, b types.AttributeValue
		want bool
	}{
		{"S equal", attrS("héllo"), attrS("héllo"), true},
		{"S composed vs decomposed", attrS("\u00e9"), attrS("e\u0301"), false},
		{"S empty", attrS(""), attrS(""), true},
		{"N same string", attrN("1.5"), attrN("1.5"), true},
		{"N 1 vs 1.0", attrN("1"), attrN("1.0"), false},
		{"N 1E+2 vs 100", attrN("1E+2"), attrN("100"), false},
		{"S vs N", attrS("1"), attrN("1"), false},
		{"B bytes", attrB(0, 1, 0xff), attrB(0, 1, 0xff), true},
		{"B differ", attrB(0, 1, 0xff), attrB(0, 1, 0xfe), false},
		{"B empty vs nil", attrB(), &types.AttributeValueMemberB{}, true},
		{"B vs S", attrB('a'), attrS("a"), false},
		{"BOOL", boolTrue, boolTrue, true},
		{"BOOL differ", boolTrue, boolFalse, false},
		{"NULL", null, &types.AttributeValueMemberNULL{Value: true}, true},
		{"SS reordered", attrSS("a", "b", "c"), attrSS("c", "a", "b"), true},
		{"SS differ", attrSS("a", "b"), attrSS("a", "c"), false},
		{"SS multiset", attrSS("a", "a", "b"), attrSS("a", "b", "b"), false},
		{"SS shorter", attrSS("a", "b"), attrSS("a"), false},
		{"NS reordered", attrNS("1", "2.5"), attrNS("2.5", "1"), true},
		{"NS not numeric", attrNS("1", "2.5"), attrNS("2.50", "1"), false},
		{"BS reordered", attrBS([]byte{0}, []byte{0xff}), attrBS([]byte{0xff}, []byte{0}), true},
		{"BS differ", attrBS([]byte{0}), attrBS([]byte{1}), false},
		{"SS vs L", attrSS("a"), attrL(attrS("a")), false},
		{"L ordered", attrL(attrS("a"), attrN("1")), attrL(attrS("a"), attrN("1")), true},
		{"L reordered", attrL(attrS("a"), attrN("1")), attrL(attrN("1"), attrS("a")), false},
		{"L length", attrL(attrS("a")), attrL(attrS("a"), attrS("a")), false},
		{"L empty", attrL(), attrL(), true},
		{"M nested", attrM("x", attrM("y", attrL(attrB(1), attrSS("p", "q")))), attrM("x", attrM("y", attrL(attrB(1), attrSS("q", "p")))), true},
		{"M nested differ", attrM("x", attrM("y", attrN("1"))), attrM("x", attrM("y", attrN("1.0"))), false},
		{"M extra key", attrM("x", null), attrM("x", null, "y", null), false},
		{"M empty", attrM(), attrM(), true},
		{"nil nil", nil, nil, true},
		{"nil vs S", nil, attrS(""), false},
		{"S vs nil", attrS(""), nil, false},
		{"unknown", &types.UnknownUnionMember{Tag: "X", Value: []byte("1")}, &types.UnknownUnionMember{Tag: "X", Value: []byte("1")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EqualValue(tt.a, tt.b); got != tt.want {
				t.Errorf("EqualValue(%s, %s) = %v, want %v", FormatValue(tt.a), FormatValue(tt.b), got, tt.want)
			}
			if got := EqualValue(tt.b, tt.a); got != tt.want {
				t.Errorf("EqualValue(%s, %s) = %v, want %v (not symmetric)", FormatValue(tt.b), FormatValue(tt.a), got, tt.want)
			}
		})
	}
}

func TestKeyOf(t *testing.T) {
	item := map[string]types.AttributeValue{"pk": attrS("a b"), "sk": attrN("1.5"), "bin": attrB(0, 0xff), "x y": boolTrue}
	tests := []struct {
		names []string
		want  string
	}{
		{[]string{"pk", "sk"}, `pk=S"a b" sk=N1.5`},
		{[]string{"sk", "pk"}, `sk=N1.5 pk=S"a b"`},
		{[]string{"bin"}, `bin=B<AP8=>`},
		{[]string{"pk", "missing"}, `pk=S"a b" missing=<missing>`},
		{nil, `bin=B<AP8=> pk=S"a b" sk=N1.5 "x y"=BOOL true`},
	}
	for _, tt := range tests {
		if got := KeyOf(item, tt.names...); got != tt.want {
			t.Errorf("KeyOf(%q) = %s, want %s", tt.names, got, tt.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	v := attrM("l", attrL(attrS("x"), null, attrNS("2", "10")), "bs", attrBS([]byte{1}), "ok", boolFalse)
	want := `M{bs:BS[AQ==],l:L[S"x",NULL,NS[10,2]],ok:BOOL false}`
	if got := FormatValue(v); got != want {
		t.Errorf("FormatValue = %s, want %s", got, want)
	}
}

func TestDiffItem(t *testing.T) {
	want := map[string]types.AttributeValue{
		"a":      attrN("1"),
		"nested": attrM("l", attrL(attrS("x"), attrM("deep", attrB(1))), "set", attrSS("p", "q")),
		"gone":   null,
	}
	got := map[string]types.AttributeValue{
		"a":      attrN("1.0"),
		"nested": attrM("l", attrL(attrS("x"), attrM("deep", attrB(2))), "set", attrSS("q", "p")),
		"new":    attrS(strings.Repeat("long ", 40)),
	}
	d := DiffItem(want, got)
	wantLines := []string{
		`a: want N1, got N1.0`,
		`gone: missing, want NULL`,
		`nested.l[1].deep: want B<AQ==>, got B<Ag==>`,
		`new: unexpected S"long long long long long long long long long long long long long long long lon…(203 bytes)`,
	}
	if strings.Join(d, "\n") != strings.Join(wantLines, "\n") {
		t.Errorf("DiffItem:\n%s\nwant:\n%s", strings.Join(d, "\n"), strings.Join(wantLines, "\n"))
	}
	if d := DiffItem(want, want); d != nil {
		t.Errorf("DiffItem of an item with itself = %q", d)
	}
}

func TestDiffItemSets(t *testing.T) {
	item := func(i int, v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": attrS(fmt.Sprint(i)), "v": attrS(v)}
	}
	set := func(items ...map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
		out := make(map[string]map[string]types.AttributeValue)
		for _, it := range items {
			out[KeyOf(it, "pk")] = it
		}
		return out
	}
	many := func(from, to int, v string) map[string]map[string]types.AttributeValue {
		out := make(map[string]map[string]types.AttributeValue)
		for i := from; i < to; i++ {
			it := item(i, v)
			out[KeyOf(it, "pk")] = it
		}
		return out
	}
	tests := []struct {
		name      string
		want, got map[string]map[string]types.AttributeValue
		lines     []string // nil: equal
	}{
		{name: "equal", want: set(item(1, "a"), item(2, "b")), got: set(item(2, "b"), item(1, "a"))},
		{name: "both empty", want: set(), got: nil},
		{
			name:  "missing, extra, differing",
			want:  set(item(1, "a"), item(2, "b"), item(3, "c")),
			got:   set(item(1, "a"), item(3, "C"), item(4, "d")),
			lines: []string{`missing item pk=S"2"`, `item pk=S"3": v: want S"c", got S"C"`, `unexpected item pk=S"4"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DiffItemSets(tt.want, tt.got); strings.Join(got, "\n") != strings.Join(tt.lines, "\n") {
				t.Errorf("DiffItemSets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.lines, "\n"))
			}
		})
	}
	t.Run("capped", func(t *testing.T) {
		got := DiffItemSets(many(0, 100, "x"), many(50, 150, "y"))
		if len(got) != maxDiffLines+1 || !strings.Contains(got[maxDiffLines], "and 130 more differences") {
			t.Errorf("DiffItemSets of 150 differences gave %d lines, last %q", len(got), got[len(got)-1])
		}
	})
}
