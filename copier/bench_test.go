package copier

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
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

// BenchmarkExportRead measures reading a full export's data files (verify,
// parse, check each record) as a copy does, its pages dropped.
func BenchmarkExportRead(b *testing.B) {
	const n = 20000
	m := newMemAPI()
	m.create("main")
	s3 := ddbtest.NewMemS3()
	arn := tableArn(b, m, "main")
	te := ddbtest.WriteExport(b, s3, "bkt", "exp", confItems(n), ddbtest.ExportOptions{Files: 4, TableArn: arn})
	p, err := Prepare(context.Background(), m, Options{To: "main", FromExport: []string{te.URL}, Files: &statefile.Store{S3: s3}, Segments: 1, DryRun: true})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	src := p.source(nil).(*exportSource)
	defer src.runs.close()
	drop := func(_, _ []map[string]types.AttributeValue, _ checkpoint.Unit) error { return nil }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, u := range src.units(phaseCopy) {
			if err := src.read(context.Background(), u, checkpoint.Unit{}, drop); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkFileKeysAdd measures the per-record cost of the check for a key
// twice in a data file (fileKeys.add), to set against BenchmarkExportRead's
// cost per item.
func BenchmarkFileKeysAdd(b *testing.B) {
	const n = 20000
	items := confItems(n)
	seeds := newDupSeeds()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := newFileKeys(seeds, memKey, n)
		for l, it := range items {
			if f.add(it, l+1) != 0 {
				b.Fatal("a key twice")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/record")
}
