package copier

import (
	"context"
	"maps"
	mrand "math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// TestRespelledPast is the property the contract states for
// exports: a past spelled otherwise than DynamoDB stores it (numbers as
// "10.10", "1E2", "007"; sets in another order) is the same past. Random
// items of every type are stored in the emulator; each one respelled equals
// what the emulator returns for it, and a
// rewind from a window whose images are all respelled rewinds every key,
// with no conflict and nothing kept.
func TestRespelledPast(t *testing.T) {
	for _, tt := range []struct {
		kind ddbtest.Kind
		// noDocuments leaves lists and maps out of the rewind: dynalite
		// compares them by reference in a condition's "=", so no condition
		// on one ever holds there (DynamoDB and moto compare them by
		// value).
		noDocuments bool
	}{
		{ddbtest.Dynalite, true},
		{ddbtest.Moto, false},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			srv := pool.Get(t, tt.kind)
			runRespelledPast(t, srv.Client(t), tt.noDocuments)
		})
	}
}

func runRespelledPast(t *testing.T, c *dynamodb.Client, noDocuments bool) {
	ctx := context.Background()
	table := ddbtest.UniqueName(t, "respell")
	ddbtest.CreateTable(t, c, table, ddbtest.MixedSpec())
	rng := mrand.New(mrand.NewPCG(17, 4))

	// The window's end, as it is in the table now; the start differs in
	// two attributes of every item.
	end := ddbtest.MixedItems(150, 9)
	start := make([]map[string]types.AttributeValue, len(end))
	for i, it := range end {
		if noDocuments {
			for a, v := range it {
				switch v.(type) {
				case *types.AttributeValueMemberL, *types.AttributeValueMemberM:
					delete(it, a)
				}
			}
		}
		start[i] = maps.Clone(it)
		start[i]["text"] = &types.AttributeValueMemberS{Value: "before the migration"}
		start[i]["year"] = &types.AttributeValueMemberN{Value: "1999"}
	}
	ddbtest.PutItems(t, c, table, end)
	stored := scanByKeyString(t, c, table)
	keyNames := []string{"pk", "sk"}
	if len(stored) != len(end) {
		t.Fatalf("the table holds %d items, want %d", len(stored), len(end))
	}
	for _, it := range end {
		got, ok := stored[ddbjson.KeyString(keyOf(it, keyNames))]
		re := ddbtest.Respell(rng, it)
		if !ok || !itemeq.Items(re, got) {
			t.Fatalf("respelled item %s differs from what the table stores for it", ddbjson.KeyString(keyOf(it, keyNames)))
		}
	}

	var ch changes
	for i := range end {
		ch = append(ch, window.Change{
			Keys: ddbtest.Respell(rng, keyOf(end[i], keyNames)),
			Old:  ddbtest.Respell(rng, start[i]),
			New:  ddbtest.Respell(rng, end[i]),
		})
	}
	w, err := window.Build(nil, &ch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := prepareWindowRewind(ctx, c, Options{To: table, From: "export", Writers: 2}, w)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := p.Run(ctx, c)
	if err != nil {
		t.Fatalf("rewind of a respelled window: %v (%d conflicts listed)", err, len(sum.Conflicts))
	}
	if cnt := sum.Counts; cnt.Written != int64(len(end)) || cnt.Skipped != 0 {
		t.Errorf("written %d, skipped %d; want every one of %d keys rewound", cnt.Written, cnt.Skipped, len(end))
	}
	after := scanByKeyString(t, c, table)
	for _, it := range start {
		k := ddbjson.KeyString(keyOf(it, keyNames))
		if !itemeq.Items(after[k], it) {
			t.Fatalf("key %s is not back in its start state", k)
		}
	}
}

// scanByKeyString scans a MixedSpec table into its items by KeyString.
func scanByKeyString(t *testing.T, c *dynamodb.Client, table string) map[string]map[string]types.AttributeValue {
	out := map[string]map[string]types.AttributeValue{}
	for _, it := range ddbtest.ScanAll(t, c, table) {
		out[ddbjson.KeyString(keyOf(it, []string{"pk", "sk"}))] = it
	}
	return out
}
