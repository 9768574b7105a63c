package ddbtest

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,100}$`)

func TestUniqueName(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		want   string // the name must start with this
	}{
		{name: "plain", prefix: "copy", want: "copy-TestUniqueName_plain-"},
		{name: "no prefix", prefix: "", want: "TestUniqueName_no_prefix-"},
		{name: "bad chars: ü/ ☃", prefix: "a b/c", want: "a_b_c-TestUniqueName_bad_chars"},
		{name: strings.Repeat("long", 40), prefix: "p", want: "p-TestUniqueName_longlong"},
		{name: "long prefix", prefix: strings.Repeat("x", 300), want: strings.Repeat("x", 89)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := UniqueName(t, tt.prefix), UniqueName(t, tt.prefix)
			for _, n := range []string{a, b} {
				if !tableNameRE.MatchString(n) {
					t.Errorf("UniqueName = %q, not a valid table name of at most 100 characters", n)
				}
				if !strings.HasPrefix(n, tt.want) {
					t.Errorf("UniqueName = %q, want prefix %q", n, tt.want)
				}
			}
			if a == b {
				t.Errorf("UniqueName returned %q twice", a)
			}
		})
	}
}

func TestFormatDecimal(t *testing.T) {
	tests := []struct {
		neg    bool
		digits string
		scale  int
		want   string
	}{
		{false, "0", 5, "0"},
		{true, "000", 0, "0"},
		{false, "15", -1, "1.5"},
		{true, "15", -3, "-0.015"},
		{false, "1500", -2, "15"},
		{false, "12", 3, "12000"},
		{false, "1", -130, "0." + strings.Repeat("0", 129) + "1"},
		{false, "0012300", -4, "1.23"},
	}
	for _, tt := range tests {
		if got := formatDecimal(tt.neg, tt.digits, tt.scale); got != tt.want {
			t.Errorf("formatDecimal(%v, %q, %d) = %q, want %q", tt.neg, tt.digits, tt.scale, got, tt.want)
		}
	}
}

// canonicalNumberRE matches DynamoDB's canonical number form.
var canonicalNumberRE = regexp.MustCompile(`^(0|-?[1-9][0-9]*|-?(0|[1-9][0-9]*)\.[0-9]*[1-9])$`)

// walkValues calls f for v and every value nested in it.
func walkValues(v types.AttributeValue, f func(types.AttributeValue)) {
	f(v)
	switch v := v.(type) {
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			walkValues(e, f)
		}
	case *types.AttributeValueMemberM:
		for _, e := range v.Value {
			walkValues(e, f)
		}
	}
}

// significantDigits counts the significant digits of a canonical number.
func significantDigits(n string) int {
	d := strings.Trim(strings.NewReplacer("-", "", ".", "").Replace(n), "0")
	return len(d)
}

func TestMixedItems(t *testing.T) {
	const n = 2000
	items := MixedItems(n, 7)
	if len(items) != n {
		t.Fatalf("len = %d, want %d", len(items), n)
	}
	again := MixedItems(n, 7)
	other := MixedItems(n, 8)
	differs := false
	keys := make(map[string]bool)
	seen := make(map[string]bool)
	for i, it := range items {
		if d := DiffItem(it, again[i]); d != nil {
			t.Fatalf("item %d differs between runs with one seed: %v", i, d)
		}
		differs = differs || DiffItem(it, other[i]) != nil
		k := KeyOf(it, "pk", "sk")
		if keys[k] {
			t.Fatalf("item %d: duplicate key %s", i, k)
		}
		keys[k] = true

		size := ItemSize(it)
		large := i%1000 == 999
		if large && (size < LargeItemSize-1000 || size > LargeItemSize) || !large && size > 20_000 {
			t.Errorf("item %d: size %d (large: %v)", i, size, large)
		}
		for name, v := range it {
			seen[name] = true
			walkValues(v, func(v types.AttributeValue) {
				switch v := v.(type) {
				case *types.AttributeValueMemberN:
					checkNumber(t, i, v.Value)
				case *types.AttributeValueMemberNS:
					for _, e := range v.Value {
						checkNumber(t, i, e)
					}
					checkDistinct(t, i, name, v.Value)
				case *types.AttributeValueMemberSS:
					checkDistinct(t, i, name, v.Value)
				case *types.AttributeValueMemberBS:
					checkDistinct(t, i, name, bytesToStrings(v.Value))
				}
				seen[ddbjson.TypeName(v)] = true
				if s, ok := v.(*types.AttributeValueMemberS); ok {
					for _, feature := range []string{"😀", "日本語", "\u0301", ""} {
						if strings.Contains(s.Value, feature) && (feature != "" || s.Value == "") {
							seen["text:"+feature] = true
						}
					}
				}
				if b, ok := v.(*types.AttributeValueMemberB); ok && len(b.Value) >= 2 && b.Value[0] == 0 && b.Value[len(b.Value)-1] == 0xff {
					seen["bytes:00ff"] = true
				}
			})
		}
	}
	if !differs {
		t.Error("seeds 7 and 8 gave the same items")
	}
	for _, want := range []string{
		"S", "N", "B", "BOOL", "NULL", "L", "M", "SS", "NS", "BS",
		"name", "status", "data", "year", "size", "payload", "nested",
		"text:😀", "text:日本語", "text:\u0301", "text:", "bytes:00ff",
	} {
		if !seen[want] {
			t.Errorf("MixedItems(%d) has no %q", n, want)
		}
	}
	// Item 0 alone has every attribute, and a B three maps deep.
	lvl3 := items[0]["nested"].(*types.AttributeValueMemberM).Value["level1"].(*types.AttributeValueMemberM).Value["level2"].(*types.AttributeValueMemberM).Value["level3"].(*types.AttributeValueMemberM)
	if _, ok := lvl3.Value["blob"].(*types.AttributeValueMemberB); !ok {
		t.Errorf("item 0 has no B in nested.level1.level2.level3: %s", FormatValue(lvl3))
	}
	if got := len(MixedItems(10, 1, WithLargeEvery(0))); got != 10 {
		t.Errorf("len(MixedItems(10)) = %d", got)
	}
	for i, it := range MixedItems(10, 1, WithLargeEvery(5)) {
		if _, large := it["payload"]; large != (i == 4 || i == 9) {
			t.Errorf("WithLargeEvery(5): item %d large = %v", i, large)
		}
	}
}

func checkNumber(t *testing.T, item int, n string) {
	t.Helper()
	if !canonicalNumberRE.MatchString(n) || significantDigits(n) > 38 {
		t.Errorf("item %d: number %q is not canonical or has more than 38 significant digits", item, n)
	}
}

func checkDistinct(t *testing.T, item int, name string, set []string) {
	t.Helper()
	seen := make(map[string]bool)
	for _, e := range set {
		if seen[e] || e == "" {
			t.Errorf("item %d %s: set %q has a duplicate or empty element", item, name, set)
		}
		seen[e] = true
	}
	if len(set) == 0 {
		t.Errorf("item %d %s: empty set", item, name)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, kind := range []Kind{Dynalite, Moto} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			c := pool.Get(t, kind).Client(t)
			table := UniqueName(t, "rt")
			CreateTable(t, c, table, MixedSpec())
			items := MixedItems(300, 42, WithLargeEvery(100))
			PutItems(t, c, table, items)

			want := make(map[string]map[string]types.AttributeValue)
			for _, it := range items {
				want[KeyOf(it, "pk", "sk")] = it
			}
			got := ScanAll(t, c, table)
			if d := DiffItemSets(want, got); d != nil {
				t.Fatalf("%s changed items on the way:\n%s", kind, strings.Join(d, "\n"))
			}
		})
	}
}

func TestCreateTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		kind     Kind
		spec     TableSpec
		wantKeys int
	}{
		{name: "hash only", kind: Dynalite, spec: TableSpec{HashKey: "id", HashType: types.ScalarAttributeTypeB}, wantKeys: 1},
		{name: "PITR", kind: Moto, spec: TableSpec{HashKey: "id", HashType: types.ScalarAttributeTypeS, RangeKey: "n", RangeType: types.ScalarAttributeTypeN, PITR: true}, wantKeys: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := pool.Get(t, tt.kind).Client(t)
			table := UniqueName(t, "ct")
			// The table is deleted by the cleanup of this subtest.
			t.Run("create", func(t *testing.T) {
				CreateTable(t, c, table, tt.spec)
				desc, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
				if err != nil {
					t.Fatal(err)
				}
				if desc.Table.TableStatus != types.TableStatusActive || len(desc.Table.KeySchema) != tt.wantKeys {
					t.Errorf("table %s: status %s, key schema %d elements", table, desc.Table.TableStatus, len(desc.Table.KeySchema))
				}
				if tt.spec.PITR {
					cb, err := c.DescribeContinuousBackups(t.Context(), &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
					if err != nil {
						t.Fatal(err)
					}
					if st := cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus; st != types.PointInTimeRecoveryStatusEnabled {
						t.Errorf("PITR status %s, want ENABLED", st)
					}
				}
			})
			desc, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			var notFound *types.ResourceNotFoundException
			if !errors.As(err, &notFound) && (err != nil || desc.Table.TableStatus != types.TableStatusDeleting) {
				t.Errorf("after the test, DescribeTable(%s) = %v, want ResourceNotFoundException or DELETING", table, err)
			}
		})
	}
}
