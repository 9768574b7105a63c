package copier

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// lostThenStuck is a DynamoDB where a conditional delete is done but its
// answer lost (an HTTP 500), its retries fail with 500s (not done) until
// okFrom, and every BatchGetItem fails with a 500 (on the fake clock of a
// synctest bubble).
type lostThenStuck struct {
	*memAPI
	start        time.Time
	okFrom       time.Duration
	deletes      int
	reads        int
	firstReadAt  time.Duration
	firstReadSet bool
}

func (l *lostThenStuck) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	l.deletes++
	if l.deletes > 1 && time.Since(l.start) >= l.okFrom {
		return l.memAPI.DeleteItem(ctx, in, optFns...)
	}
	if l.deletes == 1 {
		if _, err := l.memAPI.DeleteItem(ctx, in, optFns...); err != nil {
			return nil, err
		}
	}
	return nil, errAnswerLost
}

func (l *lostThenStuck) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if !l.firstReadSet {
		l.firstReadAt, l.firstReadSet = time.Since(l.start), true
	}
	l.reads++
	return nil, errAnswerLost
}

// TestLostAnswerReadSharesTheWritesClock: a conditional write whose answer
// was lost, retried until just before --max-retry-time and then meeting
// its own write (the condition fails, and DynamoDB returns no item: the
// delete was done), reads the item to learn whether the write was its own.
// That read is part of the write's batch: when it keeps failing it is
// given up at --max-retry-time from the write's first call (plus one
// backoff and one pacer delay), not after a clock of its own (about twice
// as long). Measured on the fake clock of a synctest bubble.
func TestLostAnswerReadSharesTheWritesClock(t *testing.T) {
	const maxRetry = 2 * time.Minute
	bound := maxRetry + DefaultBackoff.Max + maxPace
	synctest.Test(t, func(t *testing.T) {
		m := newMemAPI()
		m.create("main")
		key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
		m.tables["main"][`{"pk":{"S":"k"}}`] = map[string]types.AttributeValue{"pk": key["pk"], "v": &types.AttributeValueMemberS{Value: "end"}}
		api := &lostThenStuck{memAPI: m, start: time.Now(), okFrom: maxRetry * 9 / 10}
		x := newExecutor(api, Options{Stats: &Stats{}, Backoff: DefaultBackoff, MaxRetryTime: maxRetry, Now: time.Now,
			Logger: slog.New(slog.DiscardHandler)}, []string{"pk"}, "main")
		_, err := x.write(context.Background(), rand.New(rand.NewPCG(1, 2)), condWrite{what: "rewind (delete) in main", table: "main",
			key: key, cond: aws.String("attribute_exists(#rk)"), names: map[string]string{"#rk": "pk"}, old: true})
		took := time.Since(api.start)
		if !errors.Is(err, errGaveUp) {
			t.Fatalf("err = %v, want a give-up", err)
		}
		if api.reads == 0 || api.firstReadAt < maxRetry*9/10 {
			t.Fatalf("%d reads, the first after %s: the test did not reach the read after the lost answer", api.reads, api.firstReadAt)
		}
		if took > bound {
			t.Errorf("gave up after %s (%d deletes, %d reads), want at most %s (--max-retry-time %s, one backoff, one pacer delay)",
				took, api.deletes, api.reads, bound, maxRetry)
		}
	})
}
