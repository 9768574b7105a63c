package copier

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// phasedAPI answers BatchWriteItem and BatchGetItem by the time since
// start: throttled, then every item or key unprocessed, then throttled
// again for good (the fake clock of a synctest bubble).
type phasedAPI struct {
	*fakeAPI
	start time.Time
	// unprocessedFrom and throttledFrom end the phases.
	unprocessedFrom, throttledFrom time.Duration
}

func (p *phasedAPI) throttling() bool {
	since := time.Since(p.start)
	return since < p.unprocessedFrom || since >= p.throttledFrom
}

func (p *phasedAPI) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if p.throttling() {
		return nil, throttled
	}
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
}

func (p *phasedAPI) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if p.throttling() {
		return nil, throttled
	}
	return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
}

// TestOneRetryClockPerBatch: a batch's throttled calls and its unprocessed
// items (or keys) are retried on one clock, so a batch that is throttled,
// then left unprocessed until just before --max-retry-time, then
// throttled again is given up after --max-retry-time (plus at most one
// backoff and one pacer delay), not after about twice as long (a second
// clock started for the call that follows the unprocessed items).
// Measured on the fake clock of a synctest bubble.
func TestOneRetryClockPerBatch(t *testing.T) {
	const maxRetry = 2 * time.Minute
	bound := maxRetry + DefaultBackoff.Max + maxPace
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
	tests := []struct {
		name string
		run  func(ctx context.Context, x *executor) error
	}{
		{"batch write", func(ctx context.Context, x *executor) error {
			return x.batchWrite(ctx, rand.New(rand.NewPCG(1, 2)), "main", []types.WriteRequest{{PutRequest: &types.PutRequest{Item: key}}})
		}},
		{"batch get", func(ctx context.Context, x *executor) error {
			_, _, err := x.batchGet(ctx, rand.New(rand.NewPCG(1, 2)), "main", []map[string]types.AttributeValue{key}, false, true)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &phasedAPI{fakeAPI: newFake(0), start: time.Now(),
					unprocessedFrom: maxRetry / 4, throttledFrom: maxRetry * 9 / 10}
				stats := &Stats{}
				x := newExecutor(api, Options{Stats: stats, Backoff: DefaultBackoff, MaxRetryTime: maxRetry, Now: time.Now,
					Logger: slog.New(slog.DiscardHandler)}, []string{"pk"}, "main")
				err := tt.run(context.Background(), x)
				took := time.Since(api.start)
				if !errors.Is(err, errGaveUp) {
					t.Fatalf("err = %v, want a give-up", err)
				}
				if took > bound {
					t.Errorf("gave up after %s, want at most %s (--max-retry-time %s, one backoff, one pacer delay)", took, bound, maxRetry)
				}
				if took < maxRetry {
					t.Errorf("gave up after %s, before --max-retry-time %s", took, maxRetry)
				}
				if s := stats.Snapshot(); s.Throttles == 0 || s.Retries == 0 {
					t.Errorf("throttles %d retries %d, want both counted", s.Throttles, s.Retries)
				}
			})
		})
	}
}

// TestUnprocessedItemsSlowThePacer: a BatchWriteItem or BatchGetItem that
// leaves part of its batch unprocessed is a throttle of the table: it
// slows the calls of every writer (the shared pacer), as a throttling
// error does.
func TestUnprocessedItemsSlowThePacer(t *testing.T) {
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
	tests := []struct {
		name string
		run  func(x *executor, f *fakeAPI) error
	}{
		{"batch write", func(x *executor, f *fakeAPI) error {
			f.unprocessed = func(call, n int) int { return map[int]int{1: 1}[call] }
			return x.batchWrite(context.Background(), rand.New(rand.NewPCG(1, 2)), "main", []types.WriteRequest{{PutRequest: &types.PutRequest{Item: key}}})
		}},
		{"batch get", func(x *executor, f *fakeAPI) error {
			api := &phasedAPI{fakeAPI: f, start: time.Now(), throttledFrom: time.Hour}
			x.c.api = &onceUnprocessed{phasedAPI: api}
			_, _, err := x.batchGet(context.Background(), rand.New(rand.NewPCG(1, 2)), "main", []map[string]types.AttributeValue{key}, false, true)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(0)
				x := newExecutor(f, Options{Stats: &Stats{}, Backoff: DefaultBackoff, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}, []string{"pk"}, "main")
				if err := tt.run(x, f); err != nil {
					t.Fatal(err)
				}
				if x.c.pacer.delay == 0 {
					t.Error("unprocessed items left the shared pacer at full speed")
				}
			})
		})
	}
}

// onceUnprocessed answers the first BatchGetItem with every key
// unprocessed, then as the fake does.
type onceUnprocessed struct {
	*phasedAPI
	calls int
}

func (o *onceUnprocessed) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	o.calls++
	if o.calls == 1 {
		return o.phasedAPI.BatchGetItem(ctx, in, optFns...)
	}
	return o.fakeAPI.BatchGetItem(ctx, in, optFns...)
}
