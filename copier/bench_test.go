package copier

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// BenchmarkPipeline measures the copier's own overhead per item (read
// pages → batches → BatchWriteItem) against an in-memory fake.
func BenchmarkPipeline(b *testing.B) {
	const n = 20000
	f := newFake(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.written = map[string]map[string]types.AttributeValue{}
		p, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Segments: 1, Writers: 8})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Run(context.Background(), f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkKeyString measures the canonical key used for dedup and lookups.
func BenchmarkKeyString(b *testing.B) {
	item := newFake(1).source[0]
	names := []string{"pk"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = ddbjson.KeyString(keyOf(item, names))
	}
}

// BenchmarkEqualItems measures the exact comparison used by diff.
func BenchmarkEqualItems(b *testing.B) {
	a := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "tenant#1"},
		"n":  &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
		"ss": &types.AttributeValueMemberSS{Value: []string{"c", "a", "b"}},
		"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"b": &types.AttributeValueMemberB{Value: []byte{0, 1, 255}}}},
	}
	c := map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "tenant#1"},
		"n":  &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
		"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b", "c"}},
		"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"b": &types.AttributeValueMemberB{Value: []byte{0, 1, 255}}}},
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !EqualItems(a, c) {
			b.Fatal("not equal")
		}
	}
}

func TestEqualItems(t *testing.T) {
	base := func() map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"n":  &types.AttributeValueMemberN{Value: "1"},
			"ss": &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
			"bs": &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2}}},
			"l":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberNULL{Value: true}}},
			"m":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"b": &types.AttributeValueMemberB{Value: []byte{0, 255}}}},
		}
	}
	tests := []struct {
		name   string
		change func(map[string]types.AttributeValue)
		equal  bool
	}{
		{"same", func(map[string]types.AttributeValue) {}, true},
		{"set order", func(m map[string]types.AttributeValue) {
			m["ss"] = &types.AttributeValueMemberSS{Value: []string{"b", "a"}}
			m["bs"] = &types.AttributeValueMemberBS{Value: [][]byte{{2}, {1}}}
		}, true},
		{"number text", func(m map[string]types.AttributeValue) { m["n"] = &types.AttributeValueMemberN{Value: "1.0"} }, false},
		{"number as string", func(m map[string]types.AttributeValue) { m["n"] = &types.AttributeValueMemberS{Value: "1"} }, false},
		{"list order", func(m map[string]types.AttributeValue) {
			m["l"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberNULL{Value: true}, &types.AttributeValueMemberS{Value: "x"}}}
		}, false},
		{"nested byte", func(m map[string]types.AttributeValue) {
			m["m"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"b": &types.AttributeValueMemberB{Value: []byte{0, 254}}}}
		}, false},
		{"extra attribute", func(m map[string]types.AttributeValue) { m["x"] = &types.AttributeValueMemberBOOL{Value: false} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.change(b)
			if got := EqualItems(base(), b); got != tt.equal {
				t.Errorf("EqualItems = %v, want %v", got, tt.equal)
			}
		})
	}
}
