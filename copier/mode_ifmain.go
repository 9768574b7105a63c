package copier

import (
	"context"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ifMain (--if-main EXPR) overwrites or deletes a target item only while
// its current version satisfies expr, checked atomically by DynamoDB as the
// ConditionExpression of a PutItem or DeleteItem; items whose condition is
// false are counted as skipped (kept).
type ifMain struct{ expr string }

func (m ifMain) put(ctx context.Context, rng *rand.Rand, t *target, items []map[string]types.AttributeValue) error {
	if t.dryRun {
		// The conditions are not evaluated: every item counts as written.
		t.x.wouldWrite(items)
		return nil
	}
	if _, err := t.recordBefore(ctx, rng, keysOf(items, t.keyNames), items); err != nil {
		return err
	}
	names, values := t.sel.placeholders(m.expr)
	return t.eachIf(ctx, rng, items, false, m.expr, names, values)
}

func (m ifMain) del(ctx context.Context, rng *rand.Rand, t *target, keys []map[string]types.AttributeValue) error {
	if t.dryRun {
		t.x.wouldDelete(len(keys))
		return nil
	}
	if _, err := t.recordBefore(ctx, rng, keys, make([]map[string]types.AttributeValue, len(keys))); err != nil {
		return err
	}
	names, values := t.sel.placeholders(m.expr)
	return t.eachIf(ctx, rng, keys, true, m.expr, names, values)
}

// probe sends a conditional put whose condition can never hold: DynamoDB
// parses and checks the expression but never writes. A ValidationException
// means bad input, found before any write.
func (m ifMain) probe(ctx context.Context, api API, t *target, keyTypes map[string]string) error {
	key := map[string]types.AttributeValue{}
	for _, n := range t.keyNames {
		switch keyTypes[n] {
		case "N":
			key[n] = &types.AttributeValueMemberN{Value: "0"}
		case "B":
			key[n] = &types.AttributeValueMemberB{Value: []byte("ddbrewind-probe")}
		default:
			key[n] = &types.AttributeValueMemberS{Value: "ddbrewind-probe"}
		}
	}
	in := t.condPut(key, m.expr)
	in.ConditionExpression = aws.String("(" + m.expr + ") AND attribute_not_exists(#ddbprobe) AND attribute_exists(#ddbprobe)")
	if in.ExpressionAttributeNames == nil {
		in.ExpressionAttributeNames = map[string]string{}
	}
	in.ExpressionAttributeNames["#ddbprobe"] = t.keyNames[0]
	_, err := api.PutItem(ctx, in)
	return err
}
