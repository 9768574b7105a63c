package copier

import (
	"context"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// A writeMode says how a copy writes the source's items into the target and
// how it deletes keys from it (--delete-extra), with its own conditions.
// Each mode is one file: mode_overwrite.go, mode_onlymissing.go,
// mode_ifmain.go; --delete-extra (mode_deleteextra.go) combines with any.
type writeMode interface {
	// put writes items (at most 25, distinct keys).
	put(ctx context.Context, rng *rand.Rand, t *target, items []map[string]types.AttributeValue) error
	// del deletes keys (at most 25, distinct).
	del(ctx context.Context, rng *rand.Rand, t *target, keys []map[string]types.AttributeValue) error
}

// target is the main table as the write modes see it: where to write, the
// executor that writes, the journal of before-images, and whether the run
// is a dry run.
type target struct {
	x        *executor
	table    string
	keyNames []string
	sel      Selection // placeholders of conditions
	journal  *journal  // nil: none
	dryRun   bool
}

// recordBefore records the main table's current version of keys in the
// journal (if any), durably, before they are overwritten or deleted. It
// returns those versions by KeyString (nil without a journal).
// after[i] is what the copy writes for keys[i] (nil: a delete).
func (t *target) recordBefore(ctx context.Context, rng *rand.Rand, keys, after []map[string]types.AttributeValue) (map[string]map[string]types.AttributeValue, error) {
	if t.journal == nil || len(keys) == 0 {
		return nil, nil
	}
	before, err := t.current(ctx, rng, keys)
	if err != nil {
		return nil, err
	}
	return before, t.journal.record(keys, before, after)
}

// notWritten amends the journal (if any) when the conditional write of
// key did not happen, so that undo leaves its item alone.
func (t *target) notWritten(key map[string]types.AttributeValue) error {
	if t.journal == nil {
		return nil
	}
	return t.journal.notWritten(key)
}

// current reads the main table's current version of keys (consistent),
// by KeyString.
func (t *target) current(ctx context.Context, rng *rand.Rand, keys []map[string]types.AttributeValue) (map[string]map[string]types.AttributeValue, error) {
	found, _, err := t.x.batchGet(ctx, rng, t.table, keys, false, true)
	if err != nil {
		return nil, err
	}
	byKey := make(map[string]map[string]types.AttributeValue, len(found))
	for _, it := range found {
		byKey[ddbjson.KeyString(keyOf(it, t.keyNames))] = it
	}
	return byKey, nil
}

// countChanged counts the items whose current version (by KeyString)
// differs or is absent.
func (t *target) countChanged(items []map[string]types.AttributeValue, current map[string]map[string]types.AttributeValue) {
	n := 0
	for _, it := range items {
		if cur, ok := current[ddbjson.KeyString(keyOf(it, t.keyNames))]; !ok || !sameCopied(cur, it) {
			n++
		}
	}
	t.x.changed(int64(n))
}

// batchPut journals and puts items with BatchWriteItem; with a journal it
// counts the items that change.
func (t *target) batchPut(ctx context.Context, rng *rand.Rand, items []map[string]types.AttributeValue) error {
	before, err := t.recordBefore(ctx, rng, keysOf(items, t.keyNames), items)
	if err != nil {
		return err
	}
	if before != nil {
		t.countChanged(items, before)
	}
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	return t.x.batchWrite(ctx, rng, t.table, reqs)
}

// batchDelete journals and deletes keys with BatchWriteItem.
func (t *target) batchDelete(ctx context.Context, rng *rand.Rand, keys []map[string]types.AttributeValue) error {
	if _, err := t.recordBefore(ctx, rng, keys, make([]map[string]types.AttributeValue, len(keys))); err != nil {
		return err
	}
	reqs := make([]types.WriteRequest, len(keys))
	for i, k := range keys {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
	}
	return t.x.batchWrite(ctx, rng, t.table, reqs)
}

// eachIf writes items (keys, when del) one at a time, each on the
// condition expr with its placeholders names and values: a write counts as
// written (deleted) when the condition held, as kept otherwise, and the
// journal's record of a key not written is amended. With a journal, each
// write asks for the item it replaced: one that is not the item journaled
// (before, by KeyString, as recordBefore read it) was written by someone
// else in between, its condition still true, and the journal is amended
// with it, so that undo puts back what the write replaced. When a write is
// given up, the items not written yet are recorded as failed.
func (t *target) eachIf(ctx context.Context, rng *rand.Rand, items []map[string]types.AttributeValue, del bool,
	before map[string]map[string]types.AttributeValue, expr string, names map[string]string, values map[string]types.AttributeValue) error {
	for i, it := range items {
		w := condWrite{what: "conditional write into " + t.table, table: t.table, item: it,
			cond: aws.String(expr), names: names, values: values, old: t.journal != nil}
		if del {
			w.what, w.key, w.item = "conditional delete from "+t.table, it, nil
		}
		res, err := t.x.write(ctx, rng, w)
		if err != nil {
			return t.x.giveUpRest(items[i:], err)
		}
		t.x.wroteIf(res.held, del)
		k := keyOf(it, t.keyNames)
		switch {
		case !res.held:
			if err := t.notWritten(k); err != nil {
				return err
			}
		case t.journal != nil && !res.earlier && !sameState(res.old, before[ddbjson.KeyString(k)]):
			if err := t.journal.overwrote(k, res.old); err != nil {
				return err
			}
		}
	}
	return nil
}

// condPut builds a conditional put into the target with only the
// placeholders expr uses.
func (t *target) condPut(item map[string]types.AttributeValue, expr string) *dynamodb.PutItemInput {
	names, values := t.sel.placeholders(expr)
	return &dynamodb.PutItemInput{TableName: aws.String(t.table), Item: item,
		ConditionExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values}
}
