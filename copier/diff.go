package copier

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// DiffOptions configures Diff: the tables, the selection and the reading
// options of Options (write options are ignored); Show bounds the keys
// listed per kind.
type DiffOptions struct {
	Options
	Show int
}

// DiffResult counts the items of the selection by kind and lists up to
// Show keys of each kind.
type DiffResult struct {
	From          string   `json:"from_table"`
	To            string   `json:"to_table"`
	Identical     int64    `json:"identical"`
	Different     int64    `json:"different"`
	MissingInMain int64    `json:"missing_in_main"`
	ExtraInMain   int64    `json:"extra_in_main"`
	DifferentKeys []string `json:"different_keys,omitempty"`
	MissingKeys   []string `json:"missing_in_main_keys,omitempty"`
	ExtraKeys     []string `json:"extra_in_main_keys,omitempty"`
}

// Equal reports whether the selection is the same in both tables.
func (r *DiffResult) Equal() bool {
	return r.Different == 0 && r.MissingInMain == 0 && r.ExtraInMain == 0
}

// PrepareDiff checks a diff like Prepare checks a copy (the target may be
// any table; nothing is written).
func PrepareDiff(ctx context.Context, api API, opts DiffOptions) (*Plan, error) {
	o := opts.Options
	o.DryRun, o.Checkpoint, o.Journal, o.OnlyMissing, o.DeleteExtra, o.IfMain = true, "", "", false, false, ""
	// Placeholders used only by a copy's --if-main are not the diff's.
	o.Selection.Names, o.Selection.Values = o.Selection.placeholders(o.Selection.KeyCondition, o.Selection.Filter)
	return prepare(ctx, api, o, modeDiff)
}

// Diff compares the selection of the recovery table (From) with the main
// table (To): each recovery item is looked up in the main table, then each
// main item of the selection is looked up in the recovery table. Reading
// is parallel like a copy; memory does not grow with the tables.
func (p *Plan) Diff(ctx context.Context, api API, show int) (*DiffResult, error) {
	defer p.release()
	o := p.opts
	res := &DiffResult{From: o.From, To: o.To}
	tr := newTracker(&checkpoint.State{Units: map[string]checkpoint.Unit{}})
	w := &writer{api: api, plan: p, stats: o.Stats, backoff: o.Backoff, maxRetry: o.MaxRetryTime,
		pacer: newPacer(), now: o.Now, log: o.Logger, tracker: tr}
	var mu sync.Mutex
	note := func(n *int64, keys *[]string, k map[string]types.AttributeValue) {
		mu.Lock()
		defer mu.Unlock()
		*n++
		if len(*keys) < show {
			*keys = append(*keys, ddbjson.KeyString(k))
		}
	}
	exec := func(ctx context.Context, b *batch, rng *rand.Rand) error {
		err := p.diffBatch(ctx, w, b, rng, res, note, &mu)
		tr.finished(b.pg, err == nil)
		return err
	}
	if err := p.runPhase(ctx, api, phaseCopy, w, tr, exec); err != nil {
		return res, err
	}
	if ctx.Err() == nil {
		if err := p.runPhase(ctx, api, phaseDelete, w, tr, exec); err != nil {
			return res, err
		}
	}
	if ctx.Err() != nil {
		return res, ErrInterrupted
	}
	slices.Sort(res.DifferentKeys)
	slices.Sort(res.MissingKeys)
	slices.Sort(res.ExtraKeys)
	return res, nil
}

func (p *Plan) diffBatch(ctx context.Context, w *writer, b *batch, rng *rand.Rand, res *DiffResult,
	note func(*int64, *[]string, map[string]types.AttributeValue), mu *sync.Mutex) error {
	switch b.kind {
	case kindPut: // recovery items: look them up in main
		keys := make([]map[string]types.AttributeValue, len(b.items))
		for i, it := range b.items {
			keys[i] = keyOf(it, p.keyNames)
		}
		found, missing, err := w.getItems(ctx, rng, p.opts.To, keys, false)
		if err != nil {
			return err
		}
		byKey := make(map[string]map[string]types.AttributeValue, len(found))
		for _, it := range found {
			byKey[ddbjson.KeyString(keyOf(it, p.keyNames))] = it
		}
		for _, k := range missing {
			note(&res.MissingInMain, &res.MissingKeys, k)
		}
		for _, it := range b.items {
			k := keyOf(it, p.keyNames)
			m, ok := byKey[ddbjson.KeyString(k)]
			if !ok {
				continue
			}
			if EqualItems(it, m) {
				mu.Lock()
				res.Identical++
				mu.Unlock()
			} else {
				note(&res.Different, &res.DifferentKeys, k)
			}
		}
	case kindCheckExtra: // main keys: look them up in recovery
		_, missing, err := w.getItems(ctx, rng, p.opts.From, b.items, true)
		if err != nil {
			return err
		}
		for _, k := range missing {
			note(&res.ExtraInMain, &res.ExtraKeys, k)
		}
	case kindDelete: // keys-file keys the recovery table lacks: extra if in main
		found, _, err := w.getItems(ctx, rng, p.opts.To, b.items, true)
		if err != nil {
			return err
		}
		for _, it := range found {
			note(&res.ExtraInMain, &res.ExtraKeys, keyOf(it, p.keyNames))
		}
	}
	return nil
}

// EqualItems compares two items exactly: numbers as their exact strings,
// binaries as bytes, sets as unordered sets, lists in order.
func EqualItems(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !EqualValues(av, bv) {
			return false
		}
	}
	return true
}

// EqualValues compares two attribute values exactly (see EqualItems).
func EqualValues(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		y, ok := b.(*types.AttributeValueMemberNULL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(x.Value, y.Value)
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameSet(x.Value, y.Value)
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberBS)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		xs, ys := make([]string, len(x.Value)), make([]string, len(y.Value))
		for i := range x.Value {
			xs[i], ys[i] = string(x.Value[i]), string(y.Value[i])
		}
		return sameSet(xs, ys)
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		if !ok || len(x.Value) != len(y.Value) {
			return false
		}
		for i := range x.Value {
			if !EqualValues(x.Value[i], y.Value[i]) {
				return false
			}
		}
		return true
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		return ok && EqualItems(x.Value, y.Value)
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
