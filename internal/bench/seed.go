package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/ddbtest"
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

// newClient returns the benchmark's own DynamoDB client: static test
// credentials, enough idle connections for every goroutine, and a retryer
// without a retry quota, so a long seeding or copy cannot abort on it.
func newClient(endpoint string) *dynamodb.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Transport: tr},
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.RateLimiter = ratelimit.None
		}),
	})
}

// createTable creates an on-demand table shaped like the source (hash key
// pk S, range key sk N) and waits until it is ACTIVE.
func createTable(ctx context.Context, c *dynamodb.Client, name string) error {
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 500*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return fmt.Errorf("create table %s: wait until active: %w", name, err)
	}
	return nil
}

// deleteTable deletes a table, retrying while it is busy; a missing table
// is not an error.
func deleteTable(ctx context.Context, c *dynamodb.Client, name string) error {
	for {
		_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		var inUse *types.ResourceInUseException
		switch {
		case err == nil || errors.As(err, &notFound):
			return nil
		case errors.As(err, &inUse):
			select {
			case <-ctx.Done():
				return fmt.Errorf("delete table %s: %w", name, err)
			case <-time.After(50 * time.Millisecond):
			}
		default:
			return fmt.Errorf("delete table %s: %w", name, err)
		}
	}
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
	for range writers {
		g.Go(func() error {
			for b := range batches {
				if err := writeBatch(gctx, c, table, b); err != nil {
					return err
				}
				written.Add(int64(len(b)))
			}
			return nil
		})
	}
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

// writeBatch writes one batch with BatchWriteItem, resending its
// UnprocessedItems with exponential backoff (10 ms to 500 ms) until none is
// left. The SDK's retryer handles failed calls.
func writeBatch(ctx context.Context, c *dynamodb.Client, table string, reqs []types.WriteRequest) error {
	delay := 10 * time.Millisecond
	for len(reqs) > 0 {
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: reqs},
		})
		if err != nil {
			return fmt.Errorf("BatchWriteItem into %s: %w", table, err)
		}
		reqs = out.UnprocessedItems[table]
		if len(reqs) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
	return nil
}
