package copier

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// TestDiffWindowKinds: a diff of an incremental window counts each changed
// key by what main holds against the window's start, and says what a
// rewind would do: put back (a), delete (b, created in the window), nothing
// (f: main already as at the start; c, changed back, is not compared), or leave alone as a
// conflict (d: written again after the window). An item whose start image
// has expired (e, deleted by TTL in the window) is missing in main, and
// left out with SkipExpired, as the rewind it verifies left it out.
func TestDiffWindowKinds(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := func(k, v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(k), "v": s(v)}
	}
	expiredStart := item("e", "0")
	expiredStart["exp"] = &types.AttributeValueMemberN{Value: fmt.Sprint(ttlNow.Unix() - 60)}
	ch := []window.Change{
		{Keys: keyOf(item("a", ""), memKey), Old: item("a", "0"), New: item("a", "1")},
		{Keys: keyOf(item("b", ""), memKey), New: item("b", "1")},
		{Keys: keyOf(item("c", ""), memKey), Old: item("c", "0"), New: item("c", "0")},
		{Keys: keyOf(item("d", ""), memKey), Old: item("d", "0"), New: item("d", "1")},
		{Keys: keyOf(item("e", ""), memKey), Old: expiredStart},
		{Keys: keyOf(item("f", ""), memKey), Old: item("f", "0"), New: item("f", "1")},
	}
	main := []map[string]types.AttributeValue{item("a", "1"), item("b", "1"), item("c", "0"), item("d", "2"), item("f", "0")}
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("skip=%v", skip), func(t *testing.T) {
			m := newMemAPI()
			m.ttl = "exp"
			m.create("main")
			for _, it := range main {
				m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
			}
			c := changes(slices.Clone(ch))
			w, err := window.Build(nil, &c)
			if err != nil {
				t.Fatal(err)
			}
			p, err := prepareWindowRewind(context.Background(), m, Options{From: "export", To: "main", SkipExpired: skip,
				Now: func() time.Time { return ttlNow }, Segments: 1, Writers: 1}, w)
			if err != nil {
				t.Fatal(err)
			}
			d, err := p.Diff(context.Background(), m, 10)
			if err != nil {
				t.Fatal(err)
			}
			wd := d.Window
			if wd == nil {
				t.Fatal("no window result")
			}
			missing := int64(1)
			if skip {
				missing = 0
			}
			if d.Identical != 1 || d.Different != 2 || d.MissingInMain != missing || d.ExtraInMain != 1 {
				t.Errorf("identical %d different %d missing %d extra %d; want 1 2 %d 1", d.Identical, d.Different, d.MissingInMain, d.ExtraInMain, missing)
			}
			if wd.ChangedKeys != 6 || wd.NoNetChange != 1 || wd.WouldRewind != 1+missing || wd.WouldDelete != 1 || wd.Conflicts != 1 {
				t.Errorf("window %+v; want changed 6, no net change 1, rewind %d, delete 1, conflicts 1", *wd, 1+missing)
			}
			if len(wd.ConflictKeys) != 1 || wd.ConflictKeys[0] != `{"pk":{"S":"d"}}` {
				t.Errorf("conflict keys %v", wd.ConflictKeys)
			}
		})
	}
}

// TestDiffWindowGlobalTable2017: on a 2017 global table DynamoDB sets
// aws:rep:* on every item written, the rewind's included; a copy never
// writes them. The verification of a rewind (the window's diff) must find
// the items put back identical to their start state — not conflicts for
// their fresh aws:rep:* values — and an item written again after the
// window only in its aws:rep:* is what the window left.
func TestDiffWindowGlobalTable2017(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	rep := func(it map[string]types.AttributeValue, when string) map[string]types.AttributeValue {
		out := maps.Clone(it)
		out["aws:rep:updatetime"] = &types.AttributeValueMemberN{Value: when}
		out["aws:rep:updateregion"] = s("us-east-1")
		out["aws:rep:deleting"] = &types.AttributeValueMemberBOOL{Value: false}
		return out
	}
	item := func(k, v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": s(k), "v": s(v)}
	}
	ch := []window.Change{
		// a: rewound already (main holds its start state, with the
		// aws:rep:* DynamoDB set when the rewind wrote it).
		{Keys: keyOf(item("a", ""), memKey), Old: rep(item("a", "0"), "100"), New: rep(item("a", "1"), "200")},
		// b: not rewound yet; main holds the window's end state,
		// replicated again since (aws:rep:updatetime only).
		{Keys: keyOf(item("b", ""), memKey), Old: rep(item("b", "0"), "100"), New: rep(item("b", "1"), "200")},
	}
	m := newMemAPI()
	m.create("main")
	for _, it := range []map[string]types.AttributeValue{rep(item("a", "0"), "300"), rep(item("b", "1"), "250")} {
		m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	c := changes(ch)
	w, err := window.Build(nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := prepareWindowRewind(context.Background(), m, Options{From: "export", To: "main", Segments: 1, Writers: 1}, w)
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Diff(context.Background(), m, 10)
	if err != nil {
		t.Fatal(err)
	}
	if d.Identical != 1 || d.Different != 1 || d.Window.Conflicts != 0 || d.Window.WouldRewind != 1 {
		t.Errorf("identical %d different %d conflicts %d (%v) would rewind %d; want 1 1 0 1",
			d.Identical, d.Different, d.Window.Conflicts, d.Window.ConflictKeys, d.Window.WouldRewind)
	}
}
