package copier

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// ops are the typed DynamoDB data operations of a copy, diff or undo —
// Scan and Query pages, BatchGetItem, BatchWriteItem and conditional
// PutItem/DeleteItem — each one batch sent through the caller (one retry
// loop, one clock) and counted in the ledger.
type ops struct {
	c   *caller
	led *ledger
	// plan: a dry run asks reads for their consumed capacity and estimates
	// the writes', for its plan (Stats.ReadUnits, WriteUnits).
	plan bool
}

// scan reads one page of a Scan.
func (o *ops) scan(ctx context.Context, rng *rand.Rand, what string, in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
	if o.plan {
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	}
	return readPage(ctx, o, rng, what, func() (*dynamodb.ScanOutput, error) { return o.c.api.Scan(ctx, in, noSDKRetry) },
		func(out *dynamodb.ScanOutput) *types.ConsumedCapacity { return out.ConsumedCapacity })
}

// query reads one page of a Query.
func (o *ops) query(ctx context.Context, rng *rand.Rand, what string, in *dynamodb.QueryInput) (*dynamodb.QueryOutput, error) {
	if o.plan {
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	}
	return readPage(ctx, o, rng, what, func() (*dynamodb.QueryOutput, error) { return o.c.api.Query(ctx, in, noSDKRetry) },
		func(out *dynamodb.QueryOutput) *types.ConsumedCapacity { return out.ConsumedCapacity })
}

// readPage reads one page with call, charging the capacity it consumed
// (cc) to a dry run's plan.
func readPage[O any](ctx context.Context, o *ops, rng *rand.Rand, what string, call func() (O, error), cc func(O) *types.ConsumedCapacity) (O, error) {
	var out O
	err := o.c.once(ctx, rng, what, func() error {
		var err error
		out, err = call()
		return err
	})
	if err == nil && cc(out) != nil {
		o.chargeRead(*cc(out))
	}
	return out, err
}

// chargeRead adds read capacity a dry run consumed to its plan.
func (o *ops) chargeRead(cc ...types.ConsumedCapacity) {
	if o.plan {
		o.led.readUnits(consumed(cc))
	}
}

// batchWrite sends put or delete requests into table with BatchWriteItem,
// resending UnprocessedItems in the caller's one retry loop; the requests
// processed are counted (written, deleted), what it gives up on is
// recorded as failed (*IncompleteError).
func (o *ops) batchWrite(ctx context.Context, rng *rand.Rand, table string, reqs []types.WriteRequest) error {
	if len(reqs) == 0 {
		return nil
	}
	c := o.c
	err := c.run(ctx, rng, batchCall{what: "write batch into " + table, reason: ReasonUnprocessedItems, resource: table,
		send: func() (int, error) {
			out, err := c.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems:           map[string][]types.WriteRequest{table: reqs},
				ReturnConsumedCapacity: c.capacity,
			}, noSDKRetry)
			if err != nil {
				return 0, err
			}
			left := out.UnprocessedItems[table]
			o.led.countDone(reqs, left)
			if c.wcu != nil {
				units := consumed(out.ConsumedCapacity)
				if units == 0 {
					units = estimateWCU(itemsOf(reqs))
				}
				if err := c.chargeWCU(ctx, units); err != nil && ctx.Err() == nil {
					return 0, err
				}
			}
			reqs = left
			return len(left), nil
		},
		stuck: func(_ int, cause error) error {
			if cause == nil {
				return fmt.Errorf("%w: unprocessed items still throttled after %s (--max-retry-time)", errGaveUp, c.maxRetry)
			}
			return fmt.Errorf("%w: %w", errGaveUp, cause)
		}})
	if errors.Is(err, errGaveUp) {
		return o.led.giveUp(itemsOf(reqs), err)
	}
	return err
}

// keysPerGet is the BatchGetItem limit.
const keysPerGet = 100

// batchGet fetches keys (at most 100, distinct) from table with
// BatchGetItem, resending UnprocessedKeys in the caller's one retry loop;
// it returns the items found and the keys not found. keysOnly projects the
// key attributes; consistent asks for strongly consistent reads.
func (o *ops) batchGet(ctx context.Context, rng *rand.Rand, table string, keys []map[string]types.AttributeValue, keysOnly, consistent bool) (found, missing []map[string]types.AttributeValue, err error) {
	return o.batchGetSince(ctx, rng, time.Time{}, table, keys, keysOnly, consistent)
}

// batchGetSince is batchGet on a clock that started at start (zero: now;
// see batchCall.start).
func (o *ops) batchGetSince(ctx context.Context, rng *rand.Rand, start time.Time, table string, keys []map[string]types.AttributeValue, keysOnly, consistent bool) (found, missing []map[string]types.AttributeValue, err error) {
	if len(keys) == 0 {
		return nil, nil, nil
	}
	c, keyNames := o.c, o.led.keyNames
	ka := types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(consistent)}
	if keysOnly {
		ka.ProjectionExpression, ka.ExpressionAttributeNames = keyProjection(keyNames, nil)
	}
	pending := map[string]types.KeysAndAttributes{table: ka}
	err = c.run(ctx, rng, batchCall{what: "read keys of " + table, reason: ReasonUnprocessedKeys, resource: table, start: start,
		send: func() (int, error) {
			in := &dynamodb.BatchGetItemInput{RequestItems: pending}
			if o.plan {
				in.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
			}
			out, err := c.api.BatchGetItem(ctx, in, noSDKRetry)
			if err != nil {
				return 0, err
			}
			o.chargeRead(out.ConsumedCapacity...)
			found = append(found, out.Responses[table]...)
			pending = out.UnprocessedKeys
			return len(pending[table].Keys), nil
		},
		stuck: func(left int, cause error) error {
			if cause == nil {
				return fmt.Errorf("read keys of %s: %w: %d keys still unprocessed after %s (--max-retry-time)", table, errGaveUp, left, c.maxRetry)
			}
			return fmt.Errorf("read %s: %w: %w", table, errGaveUp, cause)
		}})
	if err != nil {
		return nil, nil, err
	}
	have := make(map[string]bool, len(found))
	for _, it := range found {
		have[ddbjson.KeyString(keyOf(it, keyNames))] = true
	}
	for _, k := range keys {
		if !have[ddbjson.KeyString(keyOf(k, keyNames))] {
			missing = append(missing, k)
		}
	}
	return found, missing, nil
}

// condWrite is one conditional write: a PutItem of item or, when item is
// nil, a DeleteItem of key, on the condition cond with its placeholders.
type condWrite struct {
	what      string // names the write in messages
	table     string
	key, item map[string]types.AttributeValue
	cond      *string
	names     map[string]string
	values    map[string]types.AttributeValue
	// old asks DynamoDB for the item the write replaced (ReturnValues
	// ALL_OLD).
	old bool
}

// condResult is what one conditional write did.
type condResult struct {
	// held: the write was done (its condition held).
	held bool
	// old is the item the write replaced (condWrite.old; nil: there was
	// none, or earlier).
	old map[string]types.AttributeValue
	// earlier: the write was done by an earlier attempt whose answer was
	// lost (a 5xx, a timeout, a dropped connection), and the retry met it
	// — its condition failed, or it replaced the item the earlier attempt
	// wrote. The item that attempt replaced is unknown: old is nil.
	earlier bool
	// failed: DynamoDB found the condition false (not held, no error).
	// failedOn is the item it met, as DynamoDB returned it
	// (ReturnValuesOnConditionCheckFailure ALL_OLD); nil when it returned
	// none: there was no item — or the endpoint (an emulator) does not
	// return it (see itemNow).
	failed   bool
	failedOn map[string]types.AttributeValue
	// start is when the write's retry clock started: a read that follows
	// the write (itemNow) retries on the same clock (--max-retry-time
	// bounds the write and its read together).
	start time.Time
}

// write runs one conditional write. It reports whether the condition held
// and, with w.old, the item it replaced, charging the write-capacity cap
// either way (DynamoDB charges a failed condition too) and counting
// nothing: the caller decides what each outcome means (ledger.wroteIf,
// noteConflict, noteClobbered).
//
// An attempt that fails with a 5xx or a timeout may have been done all the
// same: its retry then meets the attempt's own write. A retry whose
// condition fails, after such an attempt, reads the item (consistently):
// when it is what the write puts (absent, for a delete), the earlier
// attempt did the write (earlier), and it is not mistaken for an item
// someone else changed — kept, a conflict — which would also tell undo to
// leave it. A retry that replaces the very item the write puts is the
// same.
func (o *ops) write(ctx context.Context, rng *rand.Rand, w condWrite) (condResult, error) {
	c := o.c
	var rv types.ReturnValue
	if w.old {
		rv = types.ReturnValueAllOld
	}
	var put *dynamodb.PutItemInput
	var del *dynamodb.DeleteItemInput
	// A failed condition returns the item it met, at no cost.
	onFail := types.ReturnValuesOnConditionCheckFailureAllOld
	if w.item == nil {
		del = &dynamodb.DeleteItemInput{TableName: aws.String(w.table), Key: w.key, ConditionExpression: w.cond,
			ExpressionAttributeNames: w.names, ExpressionAttributeValues: w.values, ReturnConsumedCapacity: c.capacity, ReturnValues: rv,
			ReturnValuesOnConditionCheckFailure: onFail}
	} else {
		put = &dynamodb.PutItemInput{TableName: aws.String(w.table), Item: w.item, ConditionExpression: w.cond,
			ExpressionAttributeNames: w.names, ExpressionAttributeValues: w.values, ReturnConsumedCapacity: c.capacity, ReturnValues: rv,
			ReturnValuesOnConditionCheckFailure: onFail}
	}
	var old, failedOn map[string]types.AttributeValue
	lost := false // an attempt failed in a way that may have written
	attempt := func() error {
		var cc *types.ConsumedCapacity
		var err error
		old, failedOn = nil, nil
		if del != nil {
			var out *dynamodb.DeleteItemOutput
			if out, err = c.api.DeleteItem(ctx, del, noSDKRetry); out != nil {
				cc, old = out.ConsumedCapacity, out.Attributes
			}
		} else {
			var out *dynamodb.PutItemOutput
			if out, err = c.api.PutItem(ctx, put, noSDKRetry); out != nil {
				cc, old = out.ConsumedCapacity, out.Attributes
			}
		}
		if err != nil && mayHaveWritten(err) {
			lost = true
		}
		if ccf := (*types.ConditionalCheckFailedException)(nil); errors.As(err, &ccf) && len(ccf.Item) > 0 {
			failedOn = ccf.Item
		}
		if err == nil || awserr.Code(err) == "ConditionalCheckFailedException" {
			units := condWriteWCU(w.item, failedOn)
			if cc != nil && cc.CapacityUnits != nil {
				units = *cc.CapacityUnits
			}
			if werr := c.chargeWCU(ctx, units); werr != nil {
				return werr
			}
		}
		return err
	}
	start := c.now()
	err := c.run(ctx, rng, batchCall{what: w.what, start: start, send: func() (int, error) { return 0, attempt() }})
	if len(old) == 0 {
		old = nil
	}
	switch {
	case err == nil:
		if lost && w.old && sameState(old, w.item) {
			return condResult{held: true, earlier: true}, nil
		}
		return condResult{held: true, old: old}, nil
	case awserr.Code(err) == "ConditionalCheckFailedException":
		res := condResult{failed: true, failedOn: failedOn, start: start}
		if lost {
			done, err := o.isNow(ctx, rng, w.table, w.keyOf(o.led.keyNames), w.item, res)
			if err != nil {
				return condResult{}, err
			}
			if done {
				return condResult{held: true, earlier: true}, nil
			}
		}
		return res, nil
	}
	return condResult{}, err
}

// mayHaveWritten reports whether a failed attempt of a write may have been
// done all the same: a transient error that is not a throttle (a 5xx, a
// timeout, a dropped connection) can come after DynamoDB wrote; a throttle
// or a refusal cannot.
func mayHaveWritten(err error) bool {
	throttle, transient := classify(err)
	return transient && !throttle
}

// keyOf returns the key the write is about.
func (w condWrite) keyOf(keyNames []string) map[string]types.AttributeValue {
	if w.key != nil {
		return w.key
	}
	return keyOf(w.item, keyNames)
}

// isNow reports whether the item of key in table is now want (nil:
// absent), after a write whose condition failed (res): see itemNow.
func (o *ops) isNow(ctx context.Context, rng *rand.Rand, table string, key, want map[string]types.AttributeValue, res condResult) (bool, error) {
	cur, err := o.itemNow(ctx, rng, table, key, res)
	if err != nil {
		return false, err
	}
	return sameState(cur, want), nil
}

// itemNow returns the item of key in table (nil: absent) after a write
// whose condition failed (res): the item the failure returned, else a
// consistent read — DynamoDB returns the item when there is one, but an
// emulator may return none. A read refused for want of
// dynamodb:BatchGetItem (undo's least-privilege policy has none: only
// DynamoDB enforces IAM, and it returns the item) takes the failure's
// answer: no item.
func (o *ops) itemNow(ctx context.Context, rng *rand.Rand, table string, key map[string]types.AttributeValue, res condResult) (map[string]types.AttributeValue, error) {
	if res.failedOn != nil {
		return res.failedOn, nil
	}
	found, _, err := o.batchGetSince(ctx, rng, res.start, table, []map[string]types.AttributeValue{key}, false, true)
	switch {
	case awserr.Code(err) == "AccessDeniedException" && res.failed:
		return nil, nil
	case err != nil:
		return nil, err
	case len(found) > 0:
		return found[0], nil
	}
	return nil, nil
}

// writeWhat names a conditional write of verb (rewind, undo) in table, or
// its delete, in messages.
func writeWhat(verb, table string, del bool) string {
	if del {
		return verb + " (delete) in " + table
	}
	return verb + " in " + table
}

// parallel runs write(n) for n in [0, count), rewindWriters at a time,
// each with its own Rand (one conditional write a key: the gap between a
// batch's read and each write stays one write long). The keys (key(n))
// whose write was given up are recorded as failed (giveUp); another error
// ends the batch.
func (o *ops) parallel(rng *rand.Rand, count int, key func(n int) map[string]types.AttributeValue, write func(n int, rng *rand.Rand) error) error {
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
		return o.led.giveUp(gaveUp, cause)
	}
	return nil
}
