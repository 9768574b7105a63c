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
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// executor runs every DynamoDB data call of a copy, diff or undo: reads
// (Scan, Query, BatchGetItem) and writes (BatchWriteItem, conditional
// PutItem and DeleteItem). It is the one retry layer: the SDK's own retries
// are switched off for these calls (noSDKRetry), and the executor retries
// throttling and transient errors with exponential backoff and full jitter
// until they succeed or MaxRetryTime passes, paces all calls together,
// charges the write-capacity cap, counts retries and throttles once, and
// records what it gives up on. One executor is shared by all goroutines.
type executor struct {
	api      API
	stats    *Stats
	backoff  Backoff
	maxRetry time.Duration
	pacer    *pacer
	wcu      *wcuLimiter // nil: no cap
	capacity types.ReturnConsumedCapacity
	// plan: a dry run asks reads for their consumed capacity and estimates
	// the writes', for its plan (Stats.ReadUnits, WriteUnits).
	plan     bool
	keyNames []string
	now      func() time.Time
	log      *slog.Logger
	target   string // the table writes go to, for messages

	mu            sync.Mutex
	unwritten     []string
	notInRecovery []string
	conflicts     []string // every one: the report lists them all
	clobbered     []string // every one
	lastErr       error
}

// newExecutor builds the executor of a job's calls.
func newExecutor(api API, o Options, keyNames []string, target string) *executor {
	x := &executor{api: api, stats: o.Stats, backoff: o.Backoff, maxRetry: o.MaxRetryTime, pacer: newPacer(),
		wcu: newWCULimiter(o.MaxWCU), capacity: types.ReturnConsumedCapacityNone, keyNames: keyNames,
		now: o.Now, log: o.Logger, target: target, plan: o.DryRun}
	if o.MaxWCU > 0 {
		// Computing the consumed capacity costs the server work on every
		// call: ask for it only when --max-wcu needs it.
		x.capacity = types.ReturnConsumedCapacityTotal
	}
	return x
}

// noSDKRetry turns off the SDK's retries for one call: the executor's loop
// is the only retry layer, so every retry is paced and counted once. It
// also keeps the throttling reasons of the call's error body
// (awserr.CaptureThrottleReasons), which the SDK's model drops for a
// ThrottlingException spelled like the other exceptions.
func noSDKRetry(o *dynamodb.Options) {
	o.Retryer = aws.NopRetryer{}
	o.APIOptions = append(o.APIOptions, awserr.CaptureThrottleReasons)
}

// errGaveUp marks a call given up after MaxRetryTime (or an interrupt
// during its retries).
var errGaveUp = errors.New("gave up")

// call runs fn until it succeeds, fails permanently, or retrying passes
// MaxRetryTime (then the error wraps errGaveUp). Throttles slow the shared
// pacer (but a hot key range's, see throttled), successes speed it up
// again; every retry waits its backoff.
func (x *executor) call(ctx context.Context, rng *rand.Rand, what string, fn func() error) error {
	start := x.now()
	for attempt := 0; ; attempt++ {
		if err := x.pacer.wait(ctx); err != nil {
			return fmt.Errorf("%s: %w: %w", what, errGaveUp, err)
		}
		err := fn()
		if err == nil {
			x.pacer.succeeded()
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
			return fmt.Errorf("%s: %w", what, err)
		}
		if throttle {
			x.throttled(err)
		}
		if x.maxRetry > 0 && x.now().Sub(start) > x.maxRetry {
			return fmt.Errorf("%s: %w after retrying for %s (--max-retry-time): %w", what, errGaveUp, x.maxRetry, err)
		}
		x.log.Debug("retrying", "step", what, "error", err.Error(), "attempt", attempt+1)
		if err := sleep(ctx, x.backoff.Delay(attempt, rng)); err != nil {
			return fmt.Errorf("%s: %w: %w", what, errGaveUp, err)
		}
		x.stats.Retries.Add(1)
	}
}

// scan reads one page of a Scan.
func (x *executor) scan(ctx context.Context, rng *rand.Rand, what string, in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
	if x.plan {
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	}
	var out *dynamodb.ScanOutput
	err := x.call(ctx, rng, what, func() error {
		var err error
		out, err = x.api.Scan(ctx, in, noSDKRetry)
		return err
	})
	if err == nil && out.ConsumedCapacity != nil {
		x.chargeRead(*out.ConsumedCapacity)
	}
	return out, err
}

// chargeRead adds read capacity a dry run consumed to its plan.
func (x *executor) chargeRead(cc ...types.ConsumedCapacity) {
	if x.plan {
		x.stats.ReadUnits.Add(int64(consumed(cc) * 1000))
	}
}

// chargeWrite adds the write capacity a dry run would consume writing
// items (deleting keys: one unit each) to its plan.
func (x *executor) chargeWrite(items []map[string]types.AttributeValue, deletes int) {
	x.stats.WriteUnits.Add(int64((estimateWCU(items) + float64(deletes)) * 1000))
}

// query reads one page of a Query.
func (x *executor) query(ctx context.Context, rng *rand.Rand, what string, in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
	if x.plan {
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	}
	var out *dynamodb.QueryOutput
	err := x.call(ctx, rng, what, func() error {
		var err error
		out, err = x.api.Query(ctx, in, noSDKRetry)
		return err
	})
	if err == nil && out.ConsumedCapacity != nil {
		x.chargeRead(*out.ConsumedCapacity)
	}
	return out, err
}

// throttled counts a throttling error, by each reason DynamoDB gave
// (awserr.ThrottleReasons; by its error code when it gave none), and slows
// the shared pacer — unless every reason is a hot key range: a few
// partition keys are over their limit, not the table, so only the writer
// that met it slows down (its own backoff), not the others.
func (x *executor) throttled(err error) {
	x.stats.Throttles.Add(1)
	reasons := awserr.ThrottleReasons(err)
	if len(reasons) == 0 {
		x.countThrottle(awserr.Code(err), "")
		x.pacer.throttled()
		return
	}
	hot := true
	for _, r := range reasons {
		x.countThrottle(r.Reason, r.Resource)
		hot = hot && awserr.IsHotKeyRange(r.Reason)
	}
	if !hot {
		x.pacer.throttled()
	}
}

// countThrottle counts one throttle for reason on resource, and logs the
// first of each pair (the summary counts them all).
func (x *executor) countThrottle(reason, resource string) {
	if x.stats.CountThrottle(reason, resource) == 1 {
		x.log.Info("throttled", "reason", reason, "resource", resource)
	}
}

// batchWrite sends put or delete requests into table with BatchWriteItem,
// resending UnprocessedItems with backoff until all are done; what it gives
// up on is recorded as failed (*IncompleteError).
func (x *executor) batchWrite(ctx context.Context, rng *rand.Rand, table string, reqs []types.WriteRequest) error {
	start := x.now()
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt > 0 {
			if x.maxRetry > 0 && x.now().Sub(start) > x.maxRetry {
				return x.giveUp(itemsOf(reqs), fmt.Errorf("%w: unprocessed items still throttled after %s (--max-retry-time)", errGaveUp, x.maxRetry))
			}
			if err := sleep(ctx, x.backoff.Delay(attempt-1, rng)); err != nil {
				return x.giveUp(itemsOf(reqs), fmt.Errorf("%w: %w", errGaveUp, err))
			}
			x.stats.Retries.Add(1)
		}
		var out *dynamodb.BatchWriteItemOutput
		err := x.call(ctx, rng, "write batch into "+table, func() error {
			var err error
			out, err = x.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems:           map[string][]types.WriteRequest{table: reqs},
				ReturnConsumedCapacity: x.capacity,
			}, noSDKRetry)
			return err
		})
		if errors.Is(err, errGaveUp) {
			return x.giveUp(itemsOf(reqs), err)
		}
		if err != nil {
			return err
		}
		left := out.UnprocessedItems[table]
		x.countDone(reqs, left)
		if x.wcu != nil {
			units := consumed(out.ConsumedCapacity)
			if units == 0 {
				units = estimateWCU(itemsOf(reqs))
			}
			if err := x.wcu.charge(ctx, units); err != nil && ctx.Err() == nil {
				return err
			}
		}
		if len(left) > 0 {
			x.stats.Throttles.Add(1)
			x.countThrottle(ReasonUnprocessedItems, table)
			x.pacer.throttled()
		}
		reqs = left
	}
	return nil
}

// countDone counts the requests that were processed (not in left).
func (x *executor) countDone(reqs, left []types.WriteRequest) {
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
	x.stats.Written.Add(int64(puts))
	x.stats.Deleted.Add(int64(dels))
}

// conditional runs one conditional write: success adds to counter, a false
// condition counts the item as skipped (kept). Both are charged to the
// write-capacity cap (DynamoDB charges a failed condition too).
// It reports whether the condition held.
func (x *executor) conditional(ctx context.Context, rng *rand.Rand, what string, fn func() (*types.ConsumedCapacity, error), counter interface{ Add(int64) int64 }) (bool, error) {
	held, err := x.condWrite(ctx, rng, what, fn)
	switch {
	case err != nil:
		return false, err
	case held:
		counter.Add(1)
	default:
		x.stats.Skipped.Add(1)
	}
	return held, nil
}

// condWrite runs one conditional write and reports whether its condition
// held, charging the write-capacity cap either way and counting nothing:
// the caller decides what a false condition means.
func (x *executor) condWrite(ctx context.Context, rng *rand.Rand, what string, fn func() (*types.ConsumedCapacity, error)) (bool, error) {
	err := x.call(ctx, rng, what, func() error {
		cc, err := fn()
		if err == nil || awserr.Code(err) == "ConditionalCheckFailedException" {
			units := 1.0
			if cc != nil && cc.CapacityUnits != nil {
				units = *cc.CapacityUnits
			}
			if werr := x.wcu.charge(ctx, units); werr != nil {
				return werr
			}
		}
		return err
	})
	switch {
	case err == nil:
		return true, nil
	case awserr.Code(err) == "ConditionalCheckFailedException":
		return false, nil
	}
	return false, err
}

// replace puts item into table (a nil item deletes key instead) on the
// condition expr with its placeholders, asking DynamoDB for the item it
// replaced (ReturnValues ALL_OLD). It reports whether the condition held
// and the replaced item (nil: there was none), charging the write-capacity
// cap either way and counting nothing: the caller decides what each
// outcome means. what names the write in retry messages.
func (x *executor) replace(ctx context.Context, rng *rand.Rand, what, table string, key, item map[string]types.AttributeValue,
	expr *string, names map[string]string, values map[string]types.AttributeValue) (bool, map[string]types.AttributeValue, error) {
	var old map[string]types.AttributeValue
	var fn func() (*types.ConsumedCapacity, error)
	if item == nil {
		in := &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key, ConditionExpression: expr,
			ExpressionAttributeNames: names, ExpressionAttributeValues: values, ReturnConsumedCapacity: x.capacity,
			ReturnValues: types.ReturnValueAllOld}
		fn = func() (*types.ConsumedCapacity, error) {
			out, err := x.api.DeleteItem(ctx, in, noSDKRetry)
			if out == nil {
				return nil, err
			}
			old = out.Attributes
			return out.ConsumedCapacity, err
		}
	} else {
		in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ConditionExpression: expr,
			ExpressionAttributeNames: names, ExpressionAttributeValues: values, ReturnConsumedCapacity: x.capacity,
			ReturnValues: types.ReturnValueAllOld}
		fn = func() (*types.ConsumedCapacity, error) {
			out, err := x.api.PutItem(ctx, in, noSDKRetry)
			if out == nil {
				return nil, err
			}
			old = out.Attributes
			return out.ConsumedCapacity, err
		}
	}
	held, err := x.condWrite(ctx, rng, what, fn)
	if len(old) == 0 {
		old = nil
	}
	return held, old, err
}

// parallel runs write(n) for n in [0, count), rewindWriters at a time,
// each with its own Rand (one conditional write a key: the gap between a
// batch's read and each write stays one write long). The keys (key(n))
// whose write was given up are recorded as failed (giveUp); another error
// ends the batch.
func (x *executor) parallel(rng *rand.Rand, count int, key func(n int) map[string]types.AttributeValue, write func(n int, rng *rand.Rand) error) error {
	errs := make([]error, count)
	var g errgroup.Group
	g.SetLimit(rewindWriters)
	for n := range count {
		r := rand.New(rand.NewPCG(rng.Uint64(), uint64(n))) // a Rand per goroutine
		g.Go(func() error {
			errs[n] = write(n, r)
			return nil
		})
	}
	_ = g.Wait()
	var gaveUp []map[string]types.AttributeValue
	var cause error
	for n, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, errGaveUp):
			gaveUp, cause = append(gaveUp, key(n)), err
		default:
			return err
		}
	}
	if len(gaveUp) > 0 {
		return x.giveUp(gaveUp, cause)
	}
	return nil
}

// noteConflict records a key written again after an export's window, on
// page pg (nil: none): it is left alone, counted and reported (every key:
// logs show a few, the report all), and the checkpoint keeps it once it
// moves past pg.
func (x *executor) noteConflict(pg *page, k map[string]types.AttributeValue) {
	ks := ddbjson.KeyString(k)
	x.stats.Conflicts.Add(1)
	pg.noteConflict(ks)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.conflicts = append(x.conflicts, ks)
}

// noteClobbered records a key whose write overwrote a concurrent write
// that its condition could not see (an attribute added after the read):
// the overwritten item is journaled, the key counted and reported like a
// conflict.
func (x *executor) noteClobbered(pg *page, k map[string]types.AttributeValue) {
	ks := ddbjson.KeyString(k)
	x.stats.Clobbered.Add(1)
	pg.noteClobbered(ks)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.clobbered = append(x.clobbered, ks)
}

// putItem is one conditional PutItem; it reports whether the condition
// held.
func (x *executor) putItem(ctx context.Context, rng *rand.Rand, in *dynamodb.PutItemInput) (bool, error) {
	in.ReturnConsumedCapacity = x.capacity
	return x.conditional(ctx, rng, "conditional write into "+aws.ToString(in.TableName), func() (*types.ConsumedCapacity, error) {
		out, err := x.api.PutItem(ctx, in, noSDKRetry)
		if out != nil {
			return out.ConsumedCapacity, err
		}
		return nil, err
	}, &x.stats.Written)
}

// deleteItem is one conditional DeleteItem; it reports whether the
// condition held.
func (x *executor) deleteItem(ctx context.Context, rng *rand.Rand, in *dynamodb.DeleteItemInput) (bool, error) {
	in.ReturnConsumedCapacity = x.capacity
	return x.conditional(ctx, rng, "conditional delete from "+aws.ToString(in.TableName), func() (*types.ConsumedCapacity, error) {
		out, err := x.api.DeleteItem(ctx, in, noSDKRetry)
		if out != nil {
			return out.ConsumedCapacity, err
		}
		return nil, err
	}, &x.stats.Deleted)
}

// keysPerGet is the BatchGetItem limit.
const keysPerGet = 100

// batchGet fetches keys (at most 100, distinct) from table with
// BatchGetItem, resending UnprocessedKeys with backoff until MaxRetryTime;
// it returns the items found and the keys not found. keysOnly projects the
// key attributes; consistent asks for strongly consistent reads.
func (x *executor) batchGet(ctx context.Context, rng *rand.Rand, table string, keys []map[string]types.AttributeValue, keysOnly, consistent bool) (found, missing []map[string]types.AttributeValue, err error) {
	if len(keys) == 0 {
		return nil, nil, nil
	}
	ka := types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(consistent)}
	if keysOnly {
		ka.ProjectionExpression, ka.ExpressionAttributeNames = keyProjection(x.keyNames, nil)
	}
	pending := map[string]types.KeysAndAttributes{table: ka}
	start := x.now()
	for attempt := 0; len(pending[table].Keys) > 0; attempt++ {
		if attempt > 0 {
			if x.maxRetry > 0 && x.now().Sub(start) > x.maxRetry {
				return nil, nil, fmt.Errorf("read keys of %s: %w: %d keys still unprocessed after %s (--max-retry-time)", table, errGaveUp, len(pending[table].Keys), x.maxRetry)
			}
			if err := sleep(ctx, x.backoff.Delay(attempt-1, rng)); err != nil {
				return nil, nil, fmt.Errorf("read %s: %w: %w", table, errGaveUp, err)
			}
			x.stats.Retries.Add(1)
		}
		var out *dynamodb.BatchGetItemOutput
		in := &dynamodb.BatchGetItemInput{RequestItems: pending}
		if x.plan {
			in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
		}
		err := x.call(ctx, rng, "read keys of "+table, func() error {
			var err error
			out, err = x.api.BatchGetItem(ctx, in, noSDKRetry)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		x.chargeRead(out.ConsumedCapacity...)
		found = append(found, out.Responses[table]...)
		pending = out.UnprocessedKeys
		if len(pending[table].Keys) > 0 {
			x.stats.Throttles.Add(1)
			x.countThrottle(ReasonUnprocessedKeys, table)
			x.pacer.throttled()
		}
	}
	have := make(map[string]bool, len(found))
	for _, it := range found {
		have[ddbjson.KeyString(keyOf(it, x.keyNames))] = true
	}
	for _, k := range keys {
		if !have[ddbjson.KeyString(keyOf(k, x.keyNames))] {
			missing = append(missing, k)
		}
	}
	return found, missing, nil
}

// giveUp records items (or keys) as failed and returns *IncompleteError;
// an error already recorded is returned as it is.
func (x *executor) giveUp(items []map[string]types.AttributeValue, cause error) error {
	var inc *IncompleteError
	if errors.As(cause, &inc) {
		return cause
	}
	x.stats.Failed.Add(int64(len(items)))
	x.mu.Lock()
	for _, it := range items {
		if len(x.unwritten) >= MaxReportedKeys {
			break
		}
		x.unwritten = append(x.unwritten, ddbjson.KeyString(keyOf(it, x.keyNames)))
	}
	x.lastErr = cause
	x.mu.Unlock()
	x.log.Warn("items could not be written", "table", x.target, "items", len(items), "error", cause.Error())
	return &IncompleteError{Table: x.target, Failed: int64(len(items)), Cause: cause}
}

// giveUpRest records, when err is a give-up, the items a per-item loop had
// not written yet (items[0] is the one that failed; those before it are
// written or kept and counted as such), so the report lists exactly the
// keys left undone. Other errors pass through.
func (x *executor) giveUpRest(items []map[string]types.AttributeValue, err error) error {
	if errors.Is(err, errGaveUp) {
		return x.giveUp(items, err)
	}
	return err
}

// noteNotInSource records keys of a keys file that the source lacks.
func (x *executor) noteNotInSource(table string, keys []map[string]types.AttributeValue) {
	if len(keys) == 0 {
		return
	}
	x.stats.NotInRecovery.Add(int64(len(keys)))
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, k := range keys {
		if len(x.notInRecovery) >= MaxReportedKeys {
			break
		}
		x.notInRecovery = append(x.notInRecovery, ddbjson.KeyString(k))
	}
	x.log.Warn("keys not in recovery table", "table", table, "keys", len(keys))
}

// report returns what the executor recorded: unwritten keys, keys not in
// the source, conflicts, clobbered keys, and the last give-up's cause.
func (x *executor) report() (unwritten, notInSource, conflicts, clobbered []string, last error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.unwritten...), append([]string(nil), x.notInRecovery...), append([]string(nil), x.conflicts...),
		append([]string(nil), x.clobbered...), x.lastErr
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

// keysOf returns the keys of items.
func keysOf(items []map[string]types.AttributeValue, names []string) []map[string]types.AttributeValue {
	keys := make([]map[string]types.AttributeValue, len(items))
	for i, it := range items {
		keys[i] = keyOf(it, names)
	}
	return keys
}
