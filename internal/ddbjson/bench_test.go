package ddbjson

import (
	"testing"
)

// benchItemJSON is a typical item: string keys, numbers, a flag, binary, a
// set, a list of maps and a null.
const benchItemJSON = `{"pk":{"S":"tenant#42"},"sk":{"S":"order#2024-01-01T00:00:00Z#000123"},` +
	`"amount":{"N":"12345.6789"},"qty":{"N":"3"},"paid":{"BOOL":true},"blob":{"B":"AAECAwQFBgcICQ=="},` +
	`"tags":{"SS":["a","b","c"]},"lines":{"L":[{"M":{"sku":{"S":"X-1"},"n":{"N":"2"}}},{"M":{"sku":{"S":"Y-2"},"n":{"N":"1"}}}]},` +
	`"note":{"NULL":true}}`

func BenchmarkParseItem(b *testing.B) {
	data := []byte(benchItemJSON)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseItem(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkMarshalItem(b *testing.B) {
	x, err := ParseItem([]byte(benchItemJSON))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MarshalItem(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkKeyString(b *testing.B) {
	key := item{"pk": vS("tenant#42"), "sk": vS("order#2024-01-01T00:00:00Z#000123")}
	b.ReportAllocs()
	for b.Loop() {
		if KeyString(key) == "" {
			b.Fatal("empty key string")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}
