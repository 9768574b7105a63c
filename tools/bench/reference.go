package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// referenceCopy is the simplest correct copier, the yardstick for ddbrewind:
// one goroutine per Scan segment cuts each page into batches of 25 and
// hands them over a channel to `writers` goroutines calling BatchWriteItem,
// which resend UnprocessedItems (goWriters) until none is left. No pacing,
// no counters beyond the total, no checkpoint. It returns the items written.
func referenceCopy(ctx context.Context, c *dynamodb.Client, from, to string, segments, writers int) (int64, error) {
	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan []types.WriteRequest, writers)
	var readers sync.WaitGroup
	for seg := range segments {
		readers.Add(1)
		g.Go(func() error {
			defer readers.Done()
			p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{
				TableName:     aws.String(from),
				Segment:       aws.Int32(int32(seg)),
				TotalSegments: aws.Int32(int32(segments)),
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return fmt.Errorf("scan %s segment %d: %w", from, seg, err)
				}
				for i := 0; i < len(page.Items); i += 25 {
					b := make([]types.WriteRequest, 0, 25)
					for _, it := range page.Items[i:min(i+25, len(page.Items))] {
						b = append(b, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
					}
					select {
					case batches <- b:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
			return nil
		})
	}
	go func() { readers.Wait(); close(batches) }()
	var written atomic.Int64
	goWriters(ctx, g, c, to, batches, writers, &written)
	err := g.Wait()
	return written.Load(), err
}

// goWriters starts n goroutines in g that write the batches received on
// batches into table with ddbtest.WriteBatch (UnprocessedItems resent until
// none is left), adding the items written to written, until batches is
// closed or a write fails.
func goWriters(ctx context.Context, g *errgroup.Group, c *dynamodb.Client, table string, batches <-chan []types.WriteRequest, n int, written *atomic.Int64) {
	for range n {
		g.Go(func() error {
			for b := range batches {
				if err := ddbtest.WriteBatch(ctx, c, table, b); err != nil {
					return err
				}
				written.Add(int64(len(b)))
			}
			return nil
		})
	}
}
