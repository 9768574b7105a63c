package itemsize

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestItem(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	tests := []struct {
		name           string
		item           map[string]types.AttributeValue
		dynamo, dynaln int
	}{
		{"ascii string", map[string]types.AttributeValue{"pk": s("abc")}, 5, 5},
		{"accented: 2 UTF-8 bytes, 1 UTF-16 unit", map[string]types.AttributeValue{"é": s("é")}, 4, 2},
		{"emoji: 4 UTF-8 bytes, 2 UTF-16 units", map[string]types.AttributeValue{"e": s("😀")}, 5, 3},
		{"U+10000, the first rune of 2 UTF-16 units", map[string]types.AttributeValue{"e": s("\U00010000")}, 5, 3},
		{"U+FFFF, the last rune of 1 UTF-16 unit", map[string]types.AttributeValue{"e": s("\uffff")}, 4, 2},
		{"number", map[string]types.AttributeValue{"n": n("12345")}, 5, 5},
		{"binary, bool, null", map[string]types.AttributeValue{
			"b": &types.AttributeValueMemberB{Value: []byte{0, 1, 2}},
			"t": &types.AttributeValueMemberBOOL{Value: true},
			"z": &types.AttributeValueMemberNULL{Value: true},
		}, (1 + 3) + (1 + 1) + (1 + 1), 8},
		{"sets", map[string]types.AttributeValue{
			"ss": &types.AttributeValueMemberSS{Value: []string{"a", "bc"}},
			"ns": &types.AttributeValueMemberNS{Value: []string{"1", "-1"}},
			"bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		}, 2 + 3 + 2 + (2 + 3) + 2 + 3, 17},
		{"list: 3 plus 1 an element", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("ab"), n("1")}}}, 1 + 3 + (1 + 2) + (1 + 2), 10},
		{"map: 3 plus 1 an element, names counted", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("v")}}}, 1 + 3 + 1 + 1 + 1, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Item(tt.item); got != tt.dynamo {
				t.Errorf("Item = %d, want %d", got, tt.dynamo)
			}
			if got := Dynalite(tt.item); got != tt.dynaln {
				t.Errorf("Dynalite = %d, want %d", got, tt.dynaln)
			}
		})
	}
}

func TestWriteUnits(t *testing.T) {
	for _, tc := range []struct {
		size int
		want int64
	}{{0, 1}, {1, 1}, {1024, 1}, {1025, 2}, {400 * 1024, 400}} {
		if got := WriteUnits(tc.size); got != tc.want {
			t.Errorf("WriteUnits(%d) = %d, want %d", tc.size, got, tc.want)
		}
	}
}

// TestNumber pins Number to dynalite's results (db/index.js).
func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		n    string
		want int
	}{
		// Checked against dynalite 4.0.0: require("dynalite/db").itemSize({a: {N: n}}) - 1.
		{"0", 1},
		{"1", 2},
		{"10", 2},
		{"100", 2},
		{"12", 2},  // even digit count, odd exponent
		{"120", 3}, // even digit count, even exponent: one more
		{"123", 3},
		{"1234", 3},
		{"1200", 2},
		{"0.12", 2},
		{"0.012", 3},
		{"-1", 3},
		{"-12.5", 4},
		{"1.2e3", 2},
		{"-0.000000000000000000000000000000000000001", 3},
	} {
		if got := Number(tc.n); got != tc.want {
			t.Errorf("Number(%q) = %d, want %d", tc.n, got, tc.want)
		}
	}
}
