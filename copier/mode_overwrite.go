package copier

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// overwrite is the default write mode: every item overwrites the target's
// (BatchWriteItem PutRequest, 25 a call); deletes are BatchWriteItem
// DeleteRequests.
type overwrite struct{}

func (overwrite) put(ctx context.Context, rng *rand.Rand, t *target, items []map[string]types.AttributeValue) error {
	if t.dryRun {
		// The plan: what would change (a consistent read of the main
		// items), and the write capacity it would take.
		current, err := t.current(ctx, rng, keysOf(items, t.keyNames))
		if err != nil {
			return err
		}
		t.countChanged(items, current)
		t.x.wouldWrite(items)
		return nil
	}
	return t.batchPut(ctx, rng, items)
}

func (overwrite) del(ctx context.Context, rng *rand.Rand, t *target, keys []map[string]types.AttributeValue) error {
	if t.dryRun {
		t.x.wouldDelete(len(keys))
		return nil
	}
	return t.batchDelete(ctx, rng, keys)
}

func (overwrite) name() string { return "overwrite" }

func (overwrite) writes(to, src string) string {
	return fmt.Sprintf("overwrite items of main table %s with their versions in %s", to, src)
}

func (overwrite) fingerprint(deleteExtra bool) string {
	return firstFingerprint(false, deleteExtra, "")
}
func (overwrite) id(deleteExtra bool) string { return firstID(false, deleteExtra, "") }
func (overwrite) keepsDifferences() bool     { return false }
func (overwrite) keepsExtras() bool          { return false }

func (overwrite) check(context.Context, API, string, *target, map[string]string) error { return nil }
