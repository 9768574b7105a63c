package copier

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// writer writes batches with BatchWriteItem, resending UnprocessedItems and
// retrying throttling and transient errors until they succeed or
// MaxRetryTime passes. It is shared by all writer goroutines.
type writer struct {
	api      API
	table    string
	stats    *Stats
	backoff  Backoff
	maxRetry time.Duration
	pacer    *pacer
	now      func() time.Time
	log      *slog.Logger
	keyNames []string

	mu        sync.Mutex
	unwritten []string
}

// put writes one batch of puts. A permanent error is returned as is; a
// batch given up after MaxRetryTime is recorded as failed and returned as
// *IncompleteError.
func (w *writer) put(ctx context.Context, b *batch, rng *rand.Rand) error {
	reqs := make([]types.WriteRequest, len(b.items))
	for i, it := range b.items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	start := w.now()
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 0 {
			if w.maxRetry > 0 && w.now().Sub(start) > w.maxRetry {
				return w.giveUp(reqs, fmt.Errorf("gave up after retrying for %s (--max-retry-time)", w.maxRetry))
			}
			if err := sleep(ctx, w.backoff.Delay(attempt-1, rng)); err != nil {
				return w.giveUp(reqs, err)
			}
			w.stats.Retries.Add(1)
		}
		if err := w.pacer.wait(ctx); err != nil {
			return w.giveUp(reqs, err)
		}
		out, err := w.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems:           map[string][]types.WriteRequest{w.table: reqs},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			if ctx.Err() != nil {
				return w.giveUp(reqs, ctx.Err())
			}
			throttle, transient := classify(err)
			if !transient {
				return fmt.Errorf("copy: write batch into %s: %w", w.table, err)
			}
			if throttle {
				w.stats.Throttles.Add(1)
				w.pacer.throttled()
			}
			w.log.Debug("retrying batch", "table", w.table, "error", err.Error(), "attempt", attempt+1)
			continue
		}
		left := out.UnprocessedItems[w.table]
		w.stats.Written.Add(int64(len(reqs) - len(left)))
		if len(left) > 0 {
			w.stats.Throttles.Add(1)
			w.pacer.throttled()
		} else {
			w.pacer.succeeded()
		}
		reqs = left
	}
	return nil
}

// giveUp records the batch's remaining items as failed.
func (w *writer) giveUp(reqs []types.WriteRequest, cause error) error {
	w.stats.Failed.Add(int64(len(reqs)))
	w.mu.Lock()
	for _, r := range reqs {
		if len(w.unwritten) >= MaxReportedKeys {
			break
		}
		var item map[string]types.AttributeValue
		switch {
		case r.PutRequest != nil:
			item = r.PutRequest.Item
		case r.DeleteRequest != nil:
			item = r.DeleteRequest.Key
		}
		w.unwritten = append(w.unwritten, ddbjson.KeyString(keyOf(item, w.keyNames)))
	}
	w.mu.Unlock()
	w.log.Warn("batch could not be written", "table", w.table, "items", len(reqs), "error", cause.Error())
	return &IncompleteError{Table: w.table, Failed: int64(len(reqs)), Cause: cause}
}

func (w *writer) unwrittenKeys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.unwritten...)
}

// keyOf returns the key attributes of an item.
func keyOf(item map[string]types.AttributeValue, names []string) map[string]types.AttributeValue {
	k := make(map[string]types.AttributeValue, len(names))
	for _, n := range names {
		if v, ok := item[n]; ok {
			k[n] = v
		}
	}
	return k
}
