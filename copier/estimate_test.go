package copier

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// freshTable is memAPI as a fresh recovery table looks to DynamoDB's
// clients: DescribeTable's ItemCount is 0 (DynamoDB refreshes it about
// every six hours). With sampleMisses, a scan of a segment finds nothing,
// as when the items sit under a few partition keys that the sampled
// segments do not cover; a whole-table scan finds them. scans counts the
// whole-table Select=COUNT pages.
type freshTable struct {
	*memAPI
	sampleMisses bool
	scans        int
}

func (f *freshTable) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	out, err := f.memAPI.DescribeTable(ctx, in, o...)
	if err == nil {
		out.Table.ItemCount = aws.Int64(0)
	}
	return out, err
}

func (f *freshTable) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if in.TotalSegments != nil && f.sampleMisses {
		return &dynamodb.ScanOutput{}, nil
	}
	if in.TotalSegments == nil && in.Select == types.SelectCount {
		f.scans++
	}
	return f.memAPI.Scan(ctx, in, o...)
}

// TestEstimateNeverUnknown: where DynamoDB's item count is 0 and the
// sample of 16 of 1000 segments finds nothing, the table is counted from
// its start, at most countPages pages: an exact count of a small table,
// "more than" what 16 pages held of a larger one — never "few items if
// any" for a table of thousands of items (the contract: the estimate is
// never unknown).
func TestEstimateNeverUnknown(t *testing.T) {
	tests := []struct {
		name         string
		items        int
		sampleMisses bool
		want         int64
		atLeast      bool
		from         string
		scans        int
	}{
		{"sample finds items", 3000, false, -1, false, "a count of 16 of 1000 scan segments of rec, extrapolated", 0},
		{"sample misses, small table", 5000, true, 5000, false, "a count of rec", 5},
		{"sample misses, large table", 17000, true, 16000, true, "a count of the first 16 pages of rec, stopped there", 16},
		{"empty table", 0, false, 0, false, "a count of rec", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemAPI()
			m.create("rec")
			m.create("main")
			for i := range tt.items {
				it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%05d", i)}}
				m.tables["rec"][ddbjson.KeyString(it)] = it
			}
			api := &freshTable{memAPI: m, sampleMisses: tt.sampleMisses}
			p, err := Prepare(context.Background(), api, Options{From: "rec", To: "main", Segments: 1, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if tt.want >= 0 && p.Estimate != tt.want {
				t.Errorf("estimate %d, want %d", p.Estimate, tt.want)
			}
			if tt.want < 0 && (p.Estimate < int64(tt.items)/2 || p.Estimate > int64(tt.items)*2) {
				t.Errorf("extrapolated estimate %d, far from %d", p.Estimate, tt.items)
			}
			if p.EstimateAtLeast != tt.atLeast || p.EstimateFrom != tt.from {
				t.Errorf("estimate from %q (at least: %v), want %q (%v)", p.EstimateFrom, p.EstimateAtLeast, tt.from, tt.atLeast)
			}
			if api.scans != tt.scans {
				t.Errorf("%d whole-table count pages, want %d (bounded by countPages)", api.scans, tt.scans)
			}
		})
	}
}

// pages is a pager of n pages of 10 items; page failAt (from 1) fails.
type pages struct {
	n, failAt, served int
}

func (p *pages) HasMorePages() bool { return p.served < p.n }

func (p *pages) NextPage(context.Context, ...func(*dynamodb.Options)) (int32, error) {
	p.served++
	if p.served == p.failAt {
		return 0, errBoom
	}
	return 10, nil
}

var errBoom = errors.New("boom")

// TestCountPaged: a count adds up its pages until the last one, or stops
// after maxPages and says it did not reach the end; an error stops it.
func TestCountPaged(t *testing.T) {
	tests := []struct {
		name     string
		pages    int // pages the query has, 10 items each
		maxPages int
		failAt   int // page that fails (0: none)
		want     int64
		served   int
		complete bool
		err      error
	}{
		{"one page", 1, 16, 0, 10, 1, true, nil},
		{"all pages", 16, 16, 0, 160, 16, true, nil},
		{"stopped", 17, 16, 0, 160, 16, false, nil},
		{"unbounded", 40, 0, 0, 400, 40, true, nil},
		{"error", 5, 16, 3, 20, 3, false, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &pages{n: tt.pages, failAt: tt.failAt}
			n, complete, err := countPaged(context.Background(), p, func(c int32) int32 { return c }, tt.maxPages)
			if n != tt.want || complete != tt.complete || !errors.Is(err, tt.err) || p.served != tt.served {
				t.Errorf("count %d complete %v err %v after %d pages, want %d %v %v after %d", n, complete, err, p.served, tt.want, tt.complete, tt.err, tt.served)
			}
		})
	}
}
