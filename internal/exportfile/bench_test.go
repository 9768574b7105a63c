package exportfile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// benchItem returns item i of a benchmark export: about 400 bytes of typed
// JSON with strings, a 38-digit number, binary, a set and a nested map.
func benchItem(i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":      &types.AttributeValueMemberS{Value: fmt.Sprintf("tenant#%05d", i%1000)},
		"sk":      &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		"status":  &types.AttributeValueMemberS{Value: "active"},
		"amount":  &types.AttributeValueMemberN{Value: "12345678901234567890.123456789012345678"},
		"payload": &types.AttributeValueMemberB{Value: bytes.Repeat([]byte{byte(i), 0xff, 0x00}, 24)},
		"tags":    &types.AttributeValueMemberSS{Value: []string{"red", "green", "blue"}},
		"nested": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"name":  &types.AttributeValueMemberS{Value: "Ωmega déjà vu 😀"},
			"count": &types.AttributeValueMemberN{Value: "42"},
			"ok":    &types.AttributeValueMemberBOOL{Value: true},
			"none":  &types.AttributeValueMemberNULL{Value: true},
		}},
	}
}

// benchExport writes one data file of n benchmark items into a MemS3.
func benchExport(b *testing.B, n int) (*ddbtest.MemS3, *Export, int) {
	m := ddbtest.NewMemS3()
	items := make([]map[string]types.AttributeValue, n)
	size := 0
	for i := range items {
		items[i] = benchItem(i)
		data, _ := ddbjson.MarshalItem(items[i])
		size += len(data) + len(`{"Item":}`) + 1
	}
	te := ddbtest.WriteExport(b, m, "bkt", "bench", items, ddbtest.ExportOptions{Files: 1})
	e, err := Open(context.Background(), m, te.URL)
	if err != nil {
		b.Fatal(err)
	}
	return m, e, size / n
}

// BenchmarkReadFile measures reading one verified data file end to end, as
// a copy does: the download streamed to a local copy with its MD5 and a
// gunzip'd line count, then gunzip and parse of every line. One goroutine:
// the figure is per core.
func BenchmarkReadFile(b *testing.B) {
	const n = 20000
	m, e, avg := benchExport(b, n)
	b.Logf("%d items of %d bytes of typed JSON on average", n, avg)
	b.ReportAllocs()
	tmp := b.TempDir()
	items := 0
	for b.Loop() {
		r, err := e.OpenFile(context.Background(), m, 0, ReadOptions{TempDir: tmp})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			items++
		}
		r.Close()
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}
