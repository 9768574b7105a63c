package copier

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// onlyMissing (--only-missing) writes an item only where the target has no
// item with its key: a consistent BatchGetItem skips present keys (counted
// as skipped), then each absent one is put with attribute_not_exists, so
// an item created meanwhile is never clobbered. Deletes are plain.
type onlyMissing struct{}

func (onlyMissing) put(ctx context.Context, rng *rand.Rand, t *target, items []map[string]types.AttributeValue) error {
	existing, _, err := t.x.batchGet(ctx, rng, t.table, keysOf(items, t.keyNames), true, true)
	if err != nil {
		return err
	}
	present := make(map[string]bool, len(existing))
	for _, e := range existing {
		present[ddbjson.KeyString(keyOf(e, t.keyNames))] = true
	}
	var toPut []map[string]types.AttributeValue
	for _, it := range items {
		if present[ddbjson.KeyString(keyOf(it, t.keyNames))] {
			t.x.kept(1)
			continue
		}
		toPut = append(toPut, it)
	}
	if t.dryRun {
		t.x.wouldWrite(toPut)
		t.x.changed(int64(len(toPut))) // absent items: each one changes
		return nil
	}
	before, err := t.recordBefore(ctx, rng, keysOf(toPut, t.keyNames), toPut)
	if err != nil {
		return err
	}
	return t.eachIf(ctx, rng, toPut, false, before, "attribute_not_exists(#ddbk0)", map[string]string{"#ddbk0": t.keyNames[0]}, nil)
}

func (onlyMissing) del(ctx context.Context, rng *rand.Rand, t *target, keys []map[string]types.AttributeValue) error {
	return overwrite{}.del(ctx, rng, t, keys)
}

func (onlyMissing) name() string { return "only-missing" }

func (onlyMissing) writes(to, src string) string {
	return fmt.Sprintf("write into main table %s the items of %s it lacks (never overwriting)", to, src)
}

func (onlyMissing) fingerprint(deleteExtra bool) string {
	return firstFingerprint(true, deleteExtra, "")
}
func (onlyMissing) id(deleteExtra bool) string { return firstID(true, deleteExtra, "") }
func (onlyMissing) keepsDifferences() bool     { return true }
func (onlyMissing) keepsExtras() bool          { return false }

func (onlyMissing) check(context.Context, API, string, *target, map[string]string) error { return nil }
