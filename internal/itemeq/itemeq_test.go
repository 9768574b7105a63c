package itemeq_test

import (
	mrand "math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

type item = map[string]types.AttributeValue

func n(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func TestValues(t *testing.T) {
	tests := []struct {
		name string
		a, b types.AttributeValue
		want bool
	}{
		{"same number", n("10.1"), n("10.1"), true},
		{"trailing zero", n("10.10"), n("10.1"), true},
		{"exponent", n("1E2"), n("100"), true},
		{"lower-case exponent", n("1.5e-2"), n("0.015"), true},
		{"leading zeros", n("007"), n("7"), true},
		{"negative zero", n("-0"), n("0"), true},
		{"38 digits", n("12345678901234567890123456789012345678"), n("1.2345678901234567890123456789012345678E37"), true},
		{"other number", n("10.1"), n("10.01"), false},
		{"38th digit", n("12345678901234567890123456789012345678"), n("12345678901234567890123456789012345679"), false},
		{"number and string", n("1"), s("1"), false},
		{"string case", s("a"), s("A"), false},
		{"string not a number", s("1.0"), s("1"), false},
		{"binary", &types.AttributeValueMemberB{Value: []byte{0, 255}}, &types.AttributeValueMemberB{Value: []byte{0, 255}}, true},
		{"other binary", &types.AttributeValueMemberB{Value: []byte{0, 255}}, &types.AttributeValueMemberB{Value: []byte{0, 254}}, false},
		{"empty binary", &types.AttributeValueMemberB{Value: []byte{}}, &types.AttributeValueMemberB{Value: nil}, true},
		{"bool", &types.AttributeValueMemberBOOL{Value: true}, &types.AttributeValueMemberBOOL{Value: false}, false},
		{"null", &types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberNULL{Value: true}, true},
		{"string set order", &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, &types.AttributeValueMemberSS{Value: []string{"b", "a"}}, true},
		{"string set member", &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, &types.AttributeValueMemberSS{Value: []string{"a", "c"}}, false},
		{"number set spelling and order", &types.AttributeValueMemberNS{Value: []string{"1", "2.50", "1E3"}}, &types.AttributeValueMemberNS{Value: []string{"1000", "1.0", "2.5"}}, true},
		{"number set member", &types.AttributeValueMemberNS{Value: []string{"1", "2"}}, &types.AttributeValueMemberNS{Value: []string{"1", "3"}}, false},
		{"number set size", &types.AttributeValueMemberNS{Value: []string{"1"}}, &types.AttributeValueMemberNS{Value: []string{"1", "2"}}, false},
		{"binary set order", &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}}, &types.AttributeValueMemberBS{Value: [][]byte{{2}, {1}}}, true},
		{"binary set member", &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}}, &types.AttributeValueMemberBS{Value: [][]byte{{1}, {3}}}, false},
		{"string set is not a list", &types.AttributeValueMemberSS{Value: []string{"a"}}, &types.AttributeValueMemberL{Value: []types.AttributeValue{s("a")}}, false},
		{"list in order, numbers by value", &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1.0"), s("x")}}, &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), s("x")}}, true},
		{"list order", &types.AttributeValueMemberL{Value: []types.AttributeValue{n("1"), s("x")}}, &types.AttributeValueMemberL{Value: []types.AttributeValue{s("x"), n("1")}}, false},
		{"map by name, nested number", &types.AttributeValueMemberM{Value: item{"a": n("5E-1"), "b": s("")}}, &types.AttributeValueMemberM{Value: item{"b": s(""), "a": n("0.5")}}, true},
		{"map extra name", &types.AttributeValueMemberM{Value: item{"a": n("1")}}, &types.AttributeValueMemberM{Value: item{"a": n("1"), "b": n("1")}}, false},
		{"unknown type", &types.UnknownUnionMember{Tag: "X"}, &types.UnknownUnionMember{Tag: "X"}, false},
		{"nil", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := itemeq.Values(tt.a, tt.b); got != tt.want {
				t.Errorf("Values(a, b) = %v, want %v", got, tt.want)
			}
			if got := itemeq.Values(tt.b, tt.a); got != tt.want {
				t.Errorf("Values(b, a) = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestItems(t *testing.T) {
	tests := []struct {
		name string
		a, b item
		want bool
	}{
		{"both empty", item{}, nil, true},
		{"same", item{"pk": s("a"), "v": n("1")}, item{"v": n("1.00"), "pk": s("a")}, true},
		{"missing attribute", item{"pk": s("a"), "v": n("1")}, item{"pk": s("a")}, false},
		{"other attribute", item{"pk": s("a"), "v": n("1")}, item{"pk": s("a"), "w": n("1")}, false},
		{"absent vs empty string", item{"pk": s("a"), "v": s("")}, item{"pk": s("a")}, false},
		{"absent vs empty list", item{"pk": s("a"), "v": &types.AttributeValueMemberL{}}, item{"pk": s("a")}, false},
		{"empty string vs NULL", item{"pk": s("a"), "v": s("")}, item{"pk": s("a"), "v": &types.AttributeValueMemberNULL{Value: true}}, false},
		{"1 vs 1.0 vs 1E0", item{"pk": s("a"), "v": n("1"), "w": n("1.0")}, item{"pk": s("a"), "v": n("1E0"), "w": n("10E-1")}, true},
		{"nested number by value", item{"m": &types.AttributeValueMemberM{Value: item{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{n("2.50")}}}}},
			item{"m": &types.AttributeValueMemberM{Value: item{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{n("2.5")}}}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := itemeq.Items(tt.a, tt.b); got != tt.want {
				t.Errorf("Items = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRespelledItemsAreEqual is the property: an item of every attribute
// type, respelled (every number in another form, every set in another
// order), equals the item; changed in any one attribute, it does not.
func TestRespelledItemsAreEqual(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(7, 11))
	for i, it := range ddbtest.MixedItems(500, 3) {
		re := ddbtest.Respell(rng, it)
		if !itemeq.Items(it, re) || !itemeq.Items(re, it) {
			t.Fatalf("item %d: respelled item differs:\n%s\n%s", i, mustJSON(t, it), mustJSON(t, re))
		}
		for name := range it {
			changed := ddbtest.Respell(rng, it)
			changed[name] = &types.AttributeValueMemberS{Value: "changed \x00"}
			if itemeq.Items(it, changed) {
				t.Fatalf("item %d: a change of %q is not seen", i, name)
			}
		}
	}
}

func mustJSON(t *testing.T, it item) string {
	t.Helper()
	b, err := ddbjson.MarshalItem(it)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// BenchmarkItems measures the comparison of two equal items spelled the
// same (the common case: no allocation) and spelled otherwise.
func BenchmarkItems(b *testing.B) {
	it := ddbtest.MixedItems(1, 1)[0]
	re := ddbtest.Respell(mrand.New(mrand.NewPCG(1, 2)), it)
	b.Run("same spelling", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !itemeq.Items(it, it) {
				b.Fatal("not equal")
			}
		}
	})
	b.Run("respelled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !itemeq.Items(it, re) {
				b.Fatal("not equal")
			}
		}
	})
}
