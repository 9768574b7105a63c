package main

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/itemsize"
)

// HotPK is the partition key value that holds 1 % of the seeded items
// (item i with i % 100 == hotRem), for the key-range copy.
const HotPK = "tenant#hot"

const (
	hotRem    = 42   // items i with i%100 == hotRem go under HotPK
	tenants   = 5000 // other partition key values
	chunkSize = 10_000
)

// newClient returns the benchmark's own DynamoDB client: ddbtest's (static
// test credentials, enough idle connections for every goroutine) with a
// retryer without a retry quota, so a long seeding or copy cannot abort on
// it.
func newClient(endpoint string) *dynamodb.Client {
	return ddbtest.NewClient(endpoint, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.RateLimiter = ratelimit.None
		})
	})
}

// benchKey returns item i's key: about 5000 tenants (every tenth one with
// non-ASCII characters) plus HotPK for 1 % of the items, and a sort key
// distinct for every i in canonical number form (integers and negative
// fractions).
func benchKey(i int) (pk, sk string) {
	switch t := (i * 7919) % tenants; {
	case i%100 == hotRem:
		pk = HotPK
	case t%10 == 3:
		pk = fmt.Sprintf("tenant#ünï-日本-😀-%04d", t)
	default:
		pk = fmt.Sprintf("tenant#%04d", t)
	}
	if i%2 == 0 {
		return pk, strconv.Itoa(i)
	}
	return pk, "-" + strconv.Itoa(i) + ".5"
}

// isHot reports whether item i is under HotPK.
func isHot(i int) bool { return i%100 == hotRem }

// genItems calls yield with the items [from, to) of the benchmark data set
// for seed: ddbtest.MixedItems' attributes (every type, no large items)
// under benchKey's keys. It generates chunkSize items at a time, so memory
// stays flat however many items there are.
func genItems(from, to int, seed int64, yield func(i int, item map[string]types.AttributeValue) bool) {
	for start := from; start < to; start += chunkSize {
		n := min(chunkSize, to-start)
		for j, it := range ddbtest.MixedItems(n, seed+int64(start), ddbtest.WithLargeEvery(0)) {
			pk, sk := benchKey(start + j)
			it["pk"] = &types.AttributeValueMemberS{Value: pk}
			it["sk"] = &types.AttributeValueMemberN{Value: sk}
			if !yield(start+j, it) {
				return
			}
		}
	}
}

// seedStats describes a seeded table.
type seedStats struct {
	Items   int
	Hot     int   // items under HotPK
	Bytes   int64 // total size as the emulator counts it
	Elapsed time.Duration
}

// Rate returns the seeding rate in items/s.
func (s seedStats) Rate() float64 { return float64(s.Items) / s.Elapsed.Seconds() }

// seed writes n items into table with parallel BatchWriteItem calls of 25,
// resending UnprocessedItems until every item is written.
func seed(ctx context.Context, c *dynamodb.Client, table string, n int, seedVal int64) (seedStats, error) {
	const writers = 8
	start := time.Now()
	st := seedStats{Items: n}
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []types.WriteRequest, writers)
	g.Go(func() error {
		defer close(batches)
		batch := make([]types.WriteRequest, 0, 25)
		send := func() bool {
			select {
			case batches <- batch:
				batch = make([]types.WriteRequest, 0, 25)
				return true
			case <-gctx.Done():
				return false
			}
		}
		ok := true
		genItems(0, n, seedVal, func(i int, it map[string]types.AttributeValue) bool {
			if isHot(i) {
				st.Hot++
			}
			st.Bytes += int64(itemsize.Dynalite(it))
			batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			if len(batch) == 25 {
				ok = send()
			}
			return ok
		})
		if ok && len(batch) > 0 {
			send()
		}
		return nil
	})
	var written atomic.Int64
	goWriters(gctx, g, c, table, batches, writers, &written)
	if err := g.Wait(); err != nil {
		return st, fmt.Errorf("seed %s: %w", table, err)
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("seed %s: %w", table, err)
	}
	if w := written.Load(); w != int64(n) {
		return st, fmt.Errorf("seed %s: wrote %d items of %d", table, w, n)
	}
	st.Elapsed = time.Since(start)
	return st, nil
}
