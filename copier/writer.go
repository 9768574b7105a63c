package copier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// writer executes batches: puts (plain, --only-missing, --if-main), checks
// for extra items and deletes. It retries throttling and transient errors
// with backoff until they succeed or MaxRetryTime passes, paces all calls
// together and charges the write-capacity cap. One writer is shared by all
// writer goroutines.
type writer struct {
	api      API
	plan     *Plan
	stats    *Stats
	backoff  Backoff
	maxRetry time.Duration
	pacer    *pacer
	wcu      *wcuLimiter
	now      func() time.Time
	log      *slog.Logger
	tracker  *tracker
	journal  *journal

	mu            sync.Mutex
	unwritten     []string
	notInRecovery []string
	lastErr       error
}

// errGaveUp marks a call given up after MaxRetryTime (or an interrupt
// during its retries).
var errGaveUp = errors.New("gave up")

// do executes one batch and reports its completion to the tracker.
func (w *writer) do(ctx context.Context, b *batch, rng *rand.Rand) error {
	var err error
	switch b.kind {
	case kindPut:
		err = w.putItems(ctx, b.items, rng)
	case kindCheckExtra:
		var missing []map[string]types.AttributeValue
		_, missing, err = w.getItems(ctx, rng, w.plan.opts.From, b.items, true)
		if err == nil {
			err = w.deleteKeys(ctx, missing, rng)
		}
	case kindDelete:
		err = w.deleteKeys(ctx, b.items, rng)
	}
	w.tracker.finished(b.pg, err == nil)
	if errors.Is(err, errGaveUp) {
		return w.giveUp(b.items, err)
	}
	return err
}

// putItems writes items according to the write mode.
func (w *writer) putItems(ctx context.Context, items []map[string]types.AttributeValue, rng *rand.Rand) error {
	o := w.plan.opts
	switch {
	case o.OnlyMissing:
		keys := make([]map[string]types.AttributeValue, len(items))
		for i, it := range items {
			keys[i] = keyOf(it, w.plan.keyNames)
		}
		existing, _, err := w.getItems(ctx, rng, o.To, keys, true)
		if err != nil {
			return err
		}
		present := make(map[string]bool, len(existing))
		for _, e := range existing {
			present[ddbjson.KeyString(keyOf(e, w.plan.keyNames))] = true
		}
		var toPut []map[string]types.AttributeValue
		for _, it := range items {
			if present[ddbjson.KeyString(keyOf(it, w.plan.keyNames))] {
				w.stats.Skipped.Add(1)
				continue
			}
			toPut = append(toPut, it)
		}
		if !o.DryRun {
			if err := w.journalBefore(ctx, rng, w.keysOf(toPut)); err != nil {
				return err
			}
		}
		for i, it := range toPut {
			if o.DryRun {
				w.stats.Written.Add(1)
				continue
			}
			in := w.plan.condPut(it, "attribute_not_exists(#ddbk0)")
			in.ExpressionAttributeNames = map[string]string{"#ddbk0": w.plan.keyNames[0]}
			if err := w.conditional(ctx, rng, func() (*types.ConsumedCapacity, error) {
				out, err := w.api.PutItem(ctx, in)
				return ccOf(out), err
			}, &w.stats.Written); err != nil {
				return w.giveUpRest(toPut[i:], err)
			}
		}
		return nil
	case o.DryRun:
		w.stats.Written.Add(int64(len(items)))
		return nil
	case o.IfMain != "":
		if err := w.journalBefore(ctx, rng, w.keysOf(items)); err != nil {
			return err
		}
		for i, it := range items {
			in := w.plan.condPut(it, o.IfMain)
			if err := w.conditional(ctx, rng, func() (*types.ConsumedCapacity, error) {
				out, err := w.api.PutItem(ctx, in)
				return ccOf(out), err
			}, &w.stats.Written); err != nil {
				return w.giveUpRest(items[i:], err)
			}
		}
		return nil
	}
	if err := w.journalBefore(ctx, rng, w.keysOf(items)); err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	return w.batchWrite(ctx, reqs, rng)
}

// keysOf returns the keys of items.
func (w *writer) keysOf(items []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	keys := make([]map[string]types.AttributeValue, len(items))
	for i, it := range items {
		keys[i] = keyOf(it, w.plan.keyNames)
	}
	return keys
}

// journalBefore records the main table's current version of keys in the
// journal (if any), durably, before they are overwritten or deleted.
func (w *writer) journalBefore(ctx context.Context, rng *rand.Rand, keys []map[string]types.AttributeValue) error {
	if w.journal == nil || len(keys) == 0 {
		return nil
	}
	found, _, err := w.getItems(ctx, rng, w.plan.opts.To, keys, false)
	if err != nil {
		return err
	}
	before := make(map[string]map[string]types.AttributeValue, len(found))
	for _, it := range found {
		before[ddbjson.KeyString(keyOf(it, w.plan.keyNames))] = it
	}
	return w.journal.record(keys, before)
}

// deleteKeys deletes keys from the main table according to the write mode.
func (w *writer) deleteKeys(ctx context.Context, keys []map[string]types.AttributeValue, rng *rand.Rand) error {
	o := w.plan.opts
	if len(keys) == 0 {
		return nil
	}
	if o.DryRun {
		w.stats.Deleted.Add(int64(len(keys)))
		return nil
	}
	if err := w.journalBefore(ctx, rng, keys); err != nil {
		return err
	}
	if o.IfMain != "" {
		for i, k := range keys {
			names, values := o.Selection.placeholders(o.IfMain)
			in := &dynamodb.DeleteItemInput{TableName: aws.String(o.To), Key: k,
				ConditionExpression: aws.String(o.IfMain), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
				ReturnConsumedCapacity: w.plan.capacity()}
			if err := w.conditional(ctx, rng, func() (*types.ConsumedCapacity, error) {
				out, err := w.api.DeleteItem(ctx, in)
				if out != nil {
					return out.ConsumedCapacity, err
				}
				return nil, err
			}, &w.stats.Deleted); err != nil {
				return w.giveUpRest(keys[i:], err)
			}
		}
		return nil
	}
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	}
	return w.batchWrite(ctx, reqs, rng)
}

// capacity asks DynamoDB for the consumed capacity only when --max-wcu
// needs it: computing it costs the server work on every call.
func (p *Plan) capacity() types.ReturnConsumedCapacity {
	if p.opts.MaxWCU > 0 {
		return types.ReturnConsumedCapacityTotal
	}
	return types.ReturnConsumedCapacityNone
}

func ccOf(out *dynamodb.PutItemOutput) *types.ConsumedCapacity {
	if out == nil {
		return nil
	}
	return out.ConsumedCapacity
}

// condPut builds a conditional put into the main table with only the
// placeholders expr uses.
func (p *Plan) condPut(item map[string]types.AttributeValue, expr string) *dynamodb.PutItemInput {
	names, values := p.opts.Selection.placeholders(expr)
	return &dynamodb.PutItemInput{TableName: aws.String(p.opts.To), Item: item,
		ConditionExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		ReturnConsumedCapacity: p.capacity()}
}

// conditional runs one conditional write: success adds to counter, a false
// condition counts the item as skipped (kept).
func (w *writer) conditional(ctx context.Context, rng *rand.Rand, call func() (*types.ConsumedCapacity, error), counter interface{ Add(int64) int64 }) error {
	err := w.retry(ctx, rng, "conditional write into "+w.plan.opts.To, func() error {
		if err := w.pacer.wait(ctx); err != nil {
			return err
		}
		cc, err := call()
		if err == nil || awserr.Code(err) == "ConditionalCheckFailedException" {
			units := 1.0
			if cc != nil && cc.CapacityUnits != nil {
				units = *cc.CapacityUnits
			}
			if werr := w.wcu.charge(ctx, units); werr != nil {
				return werr
			}
		}
		return err
	})
	switch {
	case err == nil:
		counter.Add(1)
		return nil
	case awserr.Code(err) == "ConditionalCheckFailedException":
		w.stats.Skipped.Add(1)
		return nil
	}
	return err
}

// retry calls fn until it succeeds, fails permanently, or retrying passes
// MaxRetryTime (then the error wraps errGaveUp). Throttles slow the pacer.
func (w *writer) retry(ctx context.Context, rng *rand.Rand, what string, fn func() error) error {
	start := w.now()
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			w.pacer.succeeded()
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w: %w", what, errGaveUp, ctx.Err())
		}
		throttle, transient := classify(err)
		if !transient {
			if awserr.Code(err) == "ConditionalCheckFailedException" {
				return err
			}
			return fmt.Errorf("copy: %s: %w", what, err)
		}
		if throttle {
			w.stats.Throttles.Add(1)
			w.pacer.throttled()
		}
		if w.maxRetry > 0 && w.now().Sub(start) > w.maxRetry {
			return fmt.Errorf("%s: %w after retrying for %s (--max-retry-time): %w", what, errGaveUp, w.maxRetry, err)
		}
		w.log.Debug("retrying", "step", what, "error", err.Error(), "attempt", attempt+1)
		if err := sleep(ctx, w.backoff.Delay(attempt, rng)); err != nil {
			return fmt.Errorf("%s: %w: %w", what, errGaveUp, err)
		}
		w.stats.Retries.Add(1)
	}
}

// batchWrite sends put or delete requests with BatchWriteItem, resending
// UnprocessedItems with backoff until all are done.
func (w *writer) batchWrite(ctx context.Context, reqs []types.WriteRequest, rng *rand.Rand) error {
	table := w.plan.opts.To
	start := w.now()
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 0 {
			if w.maxRetry > 0 && w.now().Sub(start) > w.maxRetry {
				return w.giveUpRequests(reqs, fmt.Errorf("%w: unprocessed items still throttled after %s (--max-retry-time)", errGaveUp, w.maxRetry))
			}
			if err := sleep(ctx, w.backoff.Delay(attempt-1, rng)); err != nil {
				return w.giveUpRequests(reqs, fmt.Errorf("%w: %w", errGaveUp, err))
			}
			w.stats.Retries.Add(1)
		}
		var out *dynamodb.BatchWriteItemOutput
		err := w.retry(ctx, rng, "write batch into "+table, func() error {
			if err := w.pacer.wait(ctx); err != nil {
				return err
			}
			var err error
			out, err = w.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems:           map[string][]types.WriteRequest{table: reqs},
				ReturnConsumedCapacity: w.plan.capacity(),
			})
			return err
		})
		if errors.Is(err, errGaveUp) {
			return w.giveUpRequests(reqs, err)
		}
		if err != nil {
			return err
		}
		left := out.UnprocessedItems[table]
		w.countDone(reqs, left)
		if w.wcu != nil {
			units := consumed(out.ConsumedCapacity)
			if units == 0 {
				units = estimateWCU(itemsOf(reqs))
			}
			if err := w.wcu.charge(ctx, units); err != nil && ctx.Err() == nil {
				return err
			}
		}
		if len(left) > 0 {
			w.stats.Throttles.Add(1)
			w.pacer.throttled()
		}
		reqs = left
	}
	return nil
}

// countDone counts the requests that were processed (not in left).
func (w *writer) countDone(reqs, left []types.WriteRequest) {
	puts, dels := 0, 0
	for _, r := range reqs {
		if r.PutRequest != nil {
			puts++
		} else {
			dels++
		}
	}
	for _, r := range left {
		if r.PutRequest != nil {
			puts--
		} else {
			dels--
		}
	}
	w.stats.Written.Add(int64(puts))
	w.stats.Deleted.Add(int64(dels))
}

func itemsOf(reqs []types.WriteRequest) []map[string]types.AttributeValue {
	items := make([]map[string]types.AttributeValue, len(reqs))
	for i, r := range reqs {
		if r.PutRequest != nil {
			items[i] = r.PutRequest.Item
		} else {
			items[i] = r.DeleteRequest.Key
		}
	}
	return items
}

// getItems fetches keys from table with BatchGetItem (100 at most),
// resending UnprocessedKeys; it returns the items found and the keys not
// found. keysOnly projects the key attributes.
func (w *writer) getItems(ctx context.Context, rng *rand.Rand, table string, keys []map[string]types.AttributeValue, keysOnly bool) (found, missing []map[string]types.AttributeValue, err error) {
	if len(keys) == 0 {
		return nil, nil, nil
	}
	ka := types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(table == w.plan.opts.To)}
	if keysOnly {
		ka.ProjectionExpression, ka.ExpressionAttributeNames = w.plan.keyProjection(nil)
	}
	pending := map[string]types.KeysAndAttributes{table: ka}
	start := w.now()
	for attempt := 0; len(pending) > 0 && len(pending[table].Keys) > 0; attempt++ {
		if attempt > 0 {
			if w.maxRetry > 0 && w.now().Sub(start) > w.maxRetry {
				return nil, nil, fmt.Errorf("read keys of %s: %w: %d keys still unprocessed after %s (--max-retry-time)", table, errGaveUp, len(pending[table].Keys), w.maxRetry)
			}
			if err := sleep(ctx, w.backoff.Delay(attempt-1, rng)); err != nil {
				return nil, nil, fmt.Errorf("read %s: %w: %w", table, errGaveUp, err)
			}
			w.stats.Retries.Add(1)
		}
		var out *dynamodb.BatchGetItemOutput
		err := w.retry(ctx, rng, "read keys of "+table, func() error {
			var err error
			out, err = w.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		found = append(found, out.Responses[table]...)
		pending = out.UnprocessedKeys
		if len(pending[table].Keys) > 0 {
			w.stats.Throttles.Add(1)
		}
	}
	have := make(map[string]bool, len(found))
	for _, it := range found {
		have[ddbjson.KeyString(keyOf(it, w.plan.keyNames))] = true
	}
	for _, k := range keys {
		if !have[ddbjson.KeyString(keyOf(k, w.plan.keyNames))] {
			missing = append(missing, k)
		}
	}
	return found, missing, nil
}

// giveUpRequests records the remaining requests as failed.
func (w *writer) giveUpRequests(reqs []types.WriteRequest, cause error) error {
	return w.giveUp(itemsOf(reqs), cause)
}

// giveUpRest records, when err is a give-up, the items a per-item loop had
// not written yet (items[0] is the one that failed; those before it are
// written or kept and counted as such), so the report lists exactly the
// keys left undone. Other errors pass through.
func (w *writer) giveUpRest(items []map[string]types.AttributeValue, err error) error {
	if errors.Is(err, errGaveUp) {
		return w.giveUp(items, err)
	}
	return err
}

// giveUp records items (or keys) as failed and returns *IncompleteError.
func (w *writer) giveUp(items []map[string]types.AttributeValue, cause error) error {
	var inc *IncompleteError
	if errors.As(cause, &inc) {
		return cause // already recorded
	}
	w.stats.Failed.Add(int64(len(items)))
	w.mu.Lock()
	for _, it := range items {
		if len(w.unwritten) >= MaxReportedKeys {
			break
		}
		w.unwritten = append(w.unwritten, ddbjson.KeyString(keyOf(it, w.plan.keyNames)))
	}
	w.lastErr = cause
	w.mu.Unlock()
	w.log.Warn("items could not be written", "table", w.plan.opts.To, "items", len(items), "error", cause.Error())
	return &IncompleteError{Table: w.plan.opts.To, Failed: int64(len(items)), Cause: cause}
}

// noteNotInRecovery records keys of a keys file that the recovery table
// lacks.
func (w *writer) noteNotInRecovery(keys []map[string]types.AttributeValue) {
	if len(keys) == 0 {
		return
	}
	w.stats.NotInRecovery.Add(int64(len(keys)))
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range keys {
		if len(w.notInRecovery) >= MaxReportedKeys {
			break
		}
		w.notInRecovery = append(w.notInRecovery, ddbjson.KeyString(k))
	}
	w.log.Warn("keys not in recovery table", "table", w.plan.opts.From, "keys", len(keys))
}

func (w *writer) unwrittenKeys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.unwritten...)
}

func (w *writer) notInRecoveryKeys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.notInRecovery...)
}

func (w *writer) lastFailure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.lastErr
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
