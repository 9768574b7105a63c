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
