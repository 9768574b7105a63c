package keycond_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/keycond"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

func vS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func vN(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
func vB(b ...byte) types.AttributeValue {
	return &types.AttributeValueMemberB{Value: b}
}

// schema is a table's key schema: its key attributes (the partition key
// first) and their types.
type schema struct {
	names []string
	types map[string]string
}

// TestKeyCondition compiles key conditions against key schemas and
// evaluates them as DynamoDB would: numbers by value, binaries and strings
// by bytes; what DynamoDB rejects is a usage error.
func TestKeyCondition(t *testing.T) {
	numSK := schema{names: []string{"pk", "sk"}, types: map[string]string{"pk": "S", "sk": "N"}}
	strSK := schema{names: []string{"pk", "sk"}, types: map[string]string{"pk": "S", "sk": "S"}}
	binSK := schema{names: []string{"pk", "sk"}, types: map[string]string{"pk": "N", "sk": "B"}}
	hashOnly := schema{names: []string{"pk"}, types: map[string]string{"pk": "S"}}
	item := func(pk, sk types.AttributeValue) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": pk, "sk": sk, "x": vS("other")}
	}
	numItems := []map[string]types.AttributeValue{
		item(vS("a"), vN("-1.5")), item(vS("a"), vN("7")), item(vS("a"), vN("7.0000000000000000000000000000000000001")),
		item(vS("a"), vN("10")), item(vS("a"), vN("1E+100")), item(vS("b"), vN("7")),
	}
	strItems := []map[string]types.AttributeValue{
		item(vS("a"), vS("")), item(vS("a"), vS("order#1")), item(vS("a"), vS("order#10")), item(vS("a"), vS("order#2")),
		item(vS("a"), vS("Z")), item(vS("a"), vS("é")), item(vS("a"), vS("😀")),
	}
	binItems := []map[string]types.AttributeValue{
		item(vN("7"), vB(0x00)), item(vN("7.0"), vB(0x01, 0x02)), item(vN("7"), vB(0x7f)), item(vN("7"), vB(0x80)), item(vN("7"), vB(0xff, 0x00)), item(vN("8"), vB(0x01)),
	}
	tests := []struct {
		name   string
		ks     schema
		expr   string
		names  map[string]string
		values map[string]types.AttributeValue
		items  []map[string]types.AttributeValue
		want   []int  // indexes of the matching items
		bad    string // a usage error saying this
	}{
		{name: "partition only", ks: numSK, expr: "pk = :p", values: map[string]types.AttributeValue{":p": vS("a")}, items: numItems, want: []int{0, 1, 2, 3, 4}},
		{name: "sort = by value", ks: numSK, expr: "pk = :p AND sk = :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("7.00")}, items: numItems, want: []int{1}},
		{name: "sort < number", ks: numSK, expr: "pk = :p and sk < :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("10")}, items: numItems, want: []int{0, 1, 2}},
		{name: "sort <= number", ks: numSK, expr: "pk = :p AND sk <= :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("1E1")}, items: numItems, want: []int{0, 1, 2, 3}},
		{name: "sort > 38 digits", ks: numSK, expr: "pk = :p AND sk > :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("7")}, items: numItems, want: []int{2, 3, 4}},
		{name: "sort >= with names, reversed order, parentheses", ks: numSK, expr: "(#s >= :s) AND (#p = :p)", names: map[string]string{"#s": "sk", "#p": "pk"},
			values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("7.0000000000000000000000000000000000001")}, items: numItems, want: []int{2, 3, 4}},
		{name: "between numbers", ks: numSK, expr: "pk = :p AND sk BETWEEN :lo AND :hi", values: map[string]types.AttributeValue{":p": vS("a"), ":lo": vN("-2"), ":hi": vN("7")}, items: numItems, want: []int{0, 1}},
		{name: "strings by UTF-8 bytes", ks: strSK, expr: "pk = :p AND sk > :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vS("order#1")}, items: strItems, want: []int{2, 3, 5, 6}},
		{name: "begins_with string", ks: strSK, expr: "pk = :p AND begins_with(sk, :s)", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vS("order#1")}, items: strItems, want: []int{1, 2}},
		{name: "begins_with empty matches all", ks: strSK, expr: "pk = :p AND begins_with ( sk , :s )", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vS("")}, items: strItems, want: []int{0, 1, 2, 3, 4, 5, 6}},
		{name: "binary unsigned, number partition by value", ks: binSK, expr: "pk = :p AND sk BETWEEN :lo AND :hi", values: map[string]types.AttributeValue{":p": vN("7"), ":lo": vB(0x01), ":hi": vB(0x80)}, items: binItems, want: []int{1, 2, 3}},
		{name: "begins_with binary", ks: binSK, expr: "pk = :p AND begins_with(sk, :b)", values: map[string]types.AttributeValue{":p": vN("7"), ":b": vB(0xff)}, items: binItems, want: []int{4}},
		{name: "no partition key", ks: numSK, expr: "sk = :s", values: map[string]types.AttributeValue{":s": vN("1")}, bad: "no condition on the partition key pk"},
		{name: "partition not =", ks: numSK, expr: "pk > :p", values: map[string]types.AttributeValue{":p": vS("a")}, bad: "can only be compared with ="},
		{name: "non-key attribute", ks: numSK, expr: "pk = :p AND x = :x", values: map[string]types.AttributeValue{":p": vS("a"), ":x": vS("b")}, bad: "x is not a key attribute"},
		{name: "sort key of a hash-only table", ks: hashOnly, expr: "pk = :p AND sk = :x", values: map[string]types.AttributeValue{":p": vS("a"), ":x": vS("b")}, bad: "sk is not a key attribute"},
		{name: "type mismatch", ks: numSK, expr: "pk = :p AND sk = :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vS("7")}, bad: "sk is of type N but is compared with a value of type S"},
		{name: "begins_with on a number", ks: numSK, expr: "pk = :p AND begins_with(sk, :s)", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("7")}, bad: "begins_with needs a string or binary"},
		{name: "between reversed", ks: numSK, expr: "pk = :p AND sk BETWEEN :hi AND :lo", values: map[string]types.AttributeValue{":p": vS("a"), ":lo": vN("1"), ":hi": vN("10")}, bad: "lower bound is greater"},
		{name: "or", ks: numSK, expr: "pk = :p OR sk = :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("1")}, bad: `unexpected "OR"`},
		{name: "not equal", ks: numSK, expr: "pk = :p AND sk <> :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("1")}, bad: `"<>" is not a key condition operator`},
		{name: "two sort conditions", ks: numSK, expr: "pk = :p AND sk > :s AND sk < :s", values: map[string]types.AttributeValue{":p": vS("a"), ":s": vN("1")}, bad: "two conditions"},
		{name: "literal", ks: numSK, expr: "pk = 'a'", bad: "unexpected character"},
		{name: "value of a set type", ks: numSK, expr: "pk = :p", values: map[string]types.AttributeValue{":p": &types.AttributeValueMemberSS{Value: []string{"a"}}}, bad: "key values are S, N or B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kc, err := keycond.Compile(tt.expr, tt.names, tt.values, tt.ks.names, tt.ks.types)
			if tt.bad != "" {
				if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.bad) {
					t.Fatalf("compile = %v; want a usage error saying %q", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for i, it := range tt.items {
				if kc.Match(it) {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("matches %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCompileErrorText pins the whole text of the usage errors: the user
// reads them on stderr and docs quote them.
func TestCompileErrorText(t *testing.T) {
	ks := schema{names: []string{"pk", "sk"}, types: map[string]string{"pk": "S", "sk": "N"}}
	values := map[string]types.AttributeValue{":p": vS("a"), ":s": vN("1"), ":x": vS("b")}
	tests := []struct {
		expr  string
		names map[string]string
		want  string
	}{
		{"sk = :s", nil, "--key-condition-expression \"sk = :s\": no condition on the partition key pk (a key condition must have `pk = :value`)"},
		{"pk = :p AND x = :x", nil, `--key-condition-expression "pk = :p AND x = :x": x is not a key attribute of the table (its key is pk + sk): a key condition names key attributes only; use --keys-file for other selections`},
		{"pk = :p OR sk = :s", nil, "--key-condition-expression \"pk = :p OR sk = :s\": unexpected \"OR\" (a key condition is `pk = :v`, optionally `AND` one of `sk = :v`, `<`, `<=`, `>`, `>=`, `sk BETWEEN :a AND :b`, `begins_with(sk, :v)`)"},
		{"#k = :p", map[string]string{}, "--key-condition-expression \"#k = :p\": placeholder #k is not in --expression-attribute-names (a key condition is `pk = :v`, optionally `AND` one of `sk = :v`, `<`, `<=`, `>`, `>=`, `sk BETWEEN :a AND :b`, `begins_with(sk, :v)`)"},
		{"pk = :q", nil, "--key-condition-expression \"pk = :q\": placeholder :q is not in --expression-attribute-values (a key condition is `pk = :v`, optionally `AND` one of `sk = :v`, `<`, `<=`, `>`, `>=`, `sk BETWEEN :a AND :b`, `begins_with(sk, :v)`)"},
		{"pk = :p AND sk = :x", nil, `--key-condition-expression "pk = :p AND sk = :x": sk is of type N but is compared with a value of type S`},
		{"pk = 'a'", nil, `--key-condition-expression "pk = 'a'": unexpected character "'"`},
		{"", nil, `--key-condition-expression "": empty expression`},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := keycond.Compile(tt.expr, tt.names, values, ks.names, ks.types)
			if err == nil || !usage.Is(err) || err.Error() != tt.want {
				t.Fatalf("compile = %v\nwant the usage error %s", err, tt.want)
			}
		})
	}
}

// TestMatchKeyOnly evaluates a condition on a key alone, as a window's
// selection does on the keys it changed.
func TestMatchKeyOnly(t *testing.T) {
	kc, err := keycond.Compile("pk = :p AND sk BETWEEN :lo AND :hi", nil,
		map[string]types.AttributeValue{":p": vS("a"), ":lo": vN("1"), ":hi": vN("5")},
		[]string{"pk", "sk"}, map[string]string{"pk": "S", "sk": "N"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		key  map[string]types.AttributeValue
		want bool
	}{
		{map[string]types.AttributeValue{"pk": vS("a"), "sk": vN("5.0")}, true},
		{map[string]types.AttributeValue{"pk": vS("a"), "sk": vN("6")}, false},
		{map[string]types.AttributeValue{"pk": vS("a")}, false},
		{map[string]types.AttributeValue{"pk": vS("b"), "sk": vN("1")}, false},
		{map[string]types.AttributeValue{"pk": vS("a"), "sk": vS("1")}, false},
	} {
		if got := kc.Match(tt.key); got != tt.want {
			t.Errorf("Match(%v) = %v, want %v", tt.key, got, tt.want)
		}
	}
}
