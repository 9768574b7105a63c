package copier

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/usage"
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
	before, err := t.recordBefore(ctx, rng, keysOf(items, t.keyNames), items)
	if err != nil {
		return err
	}
	names, values := t.sel.placeholders(m.expr)
	return t.eachIf(ctx, rng, items, false, before, m.expr, names, values)
}

func (m ifMain) del(ctx context.Context, rng *rand.Rand, t *target, keys []map[string]types.AttributeValue) error {
	if t.dryRun {
		t.x.wouldDelete(len(keys))
		return nil
	}
	before, err := t.recordBefore(ctx, rng, keys, make([]map[string]types.AttributeValue, len(keys)))
	if err != nil {
		return err
	}
	names, values := t.sel.placeholders(m.expr)
	return t.eachIf(ctx, rng, keys, true, before, m.expr, names, values)
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

func (ifMain) name() string { return "if-main" }

func (ifMain) writes(to, src string) string {
	return fmt.Sprintf("overwrite items of main table %s with their versions in %s where --if-main holds", to, src)
}

func (m ifMain) fingerprint(deleteExtra bool) string {
	return firstFingerprint(false, deleteExtra, m.expr)
}
func (m ifMain) id(deleteExtra bool) string { return firstID(false, deleteExtra, m.expr) }
func (ifMain) keepsDifferences() bool       { return true }

// keepsExtras: --if-main may keep some extras (its condition did not hold).
func (ifMain) keepsExtras() bool { return true }

// check sends the probe (see probe): DynamoDB's refusal of the condition
// is bad input; its ConditionalCheckFailed means it was accepted.
func (m ifMain) check(ctx context.Context, api API, verb string, t *target, keyTypes map[string]string) error {
	err := m.probe(ctx, api, t, keyTypes)
	switch {
	case err == nil:
		return fmt.Errorf("%s: the --if-main probe unexpectedly wrote a probe item into %s", verb, t.table)
	case awserr.Code(err) == "ConditionalCheckFailedException":
		return nil
	case awserr.Code(err) == "ValidationException":
		return usage.Errorf("%s: DynamoDB rejects --if-main %q on %s: %s", verb, m.expr, t.table, awserr.Message(err))
	}
	return fmt.Errorf("%s: check --if-main on %s: %w", verb, t.table, err)
}
