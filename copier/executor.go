package copier

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// executor is what sources and sinks use for every DynamoDB data call of a
// copy, diff or undo: the typed operations (ops.go: pages, batch get,
// batch write, conditional writes), sent by the caller (caller.go: the one
// retry loop with one clock per batch, the shared pacer, --max-wcu), and
// the ledger (ledger.go) that counts what happened to each item once. One
// executor is shared by all goroutines of a run.
type executor struct {
	*ops
	*ledger
}

// newExecutor builds the executor of a job's calls into target.
func newExecutor(api API, o Options, keyNames []string, target string) *executor {
	l := newLedger(o, keyNames, target)
	return &executor{ops: &ops{c: newCaller(api, o), led: l, plan: o.DryRun}, ledger: l}
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
