package copier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// wideItem is an item of key pk with n attributes a000… set to v: from
// about 230 attributes on, the condition that it is still as the window
// left it exceeds DynamoDB's 4 KB expression limit.
func wideItem(pk, v string, n int) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	for i := range n {
		it[fmt.Sprintf("a%03d", i)] = &types.AttributeValueMemberS{Value: v}
	}
	return it
}

// TestDiffWindowNotExpressible: a key whose end image is too wide for a
// condition expression is never overwritten blindly by a rewind without
// --overwrite-conflicts; it is a conflict. The diff of the window says so
// (a conflict, not a key it would rewind or delete), and a dry run and the
// rewind itself count the same: wide (changed in the window), wideNew
// (created in it, deleted only with --delete-extra) are conflicts, ok is
// rewound.
func TestDiffWindowNotExpressible(t *testing.T) {
	const wide = 300
	if _, _, _, ok := stillAsLeft(wideItem("x", "1", wide), memKey); ok {
		t.Fatalf("an item of %d attributes is expressible: the test needs a wider one", wide)
	}
	ch := []window.Change{
		{Keys: pkKey("ok"), Old: confItem("ok", "start"), New: confItem("ok", "end")},
		{Keys: pkKey("wide"), Old: confItem("wide", "start"), New: wideItem("wide", "end", wide)},
		{Keys: pkKey("wideNew"), New: wideItem("wideNew", "end", wide)},
	}
	main := []map[string]types.AttributeValue{confItem("ok", "end"), wideItem("wide", "end", wide), wideItem("wideNew", "end", wide)}
	setup := func(t *testing.T, o Options) (*memAPI, *Plan) {
		t.Helper()
		m := newMemAPI()
		m.create("main")
		for _, it := range main {
			m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
		}
		c := changes(slices.Clone(ch))
		w, err := window.Build(nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		o.From, o.To, o.Segments, o.Writers, o.DeleteExtra = "export", "main", 1, 1, true
		p, err := prepareWindowRewind(context.Background(), m, o, w)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return m, p
	}
	wantConflicts := []string{`{"pk":{"S":"wide"}}`, `{"pk":{"S":"wideNew"}}`}

	t.Run("diff", func(t *testing.T) {
		m, p := setup(t, Options{})
		d, err := p.Diff(context.Background(), m, 10)
		if err != nil {
			t.Fatal(err)
		}
		wd := d.Window
		if wd.WouldRewind != 1 || wd.WouldDelete != 0 || wd.Conflicts != 2 || !slices.Equal(wd.ConflictKeys, wantConflicts) {
			t.Errorf("window %+v; want 1 to rewind, none to delete, conflicts %v", *wd, wantConflicts)
		}
		if d.Different != 2 || d.ExtraInMain != 1 {
			t.Errorf("different %d extra %d; want 2 and 1", d.Different, d.ExtraInMain)
		}
	})
	for _, dry := range []bool{true, false} {
		t.Run(fmt.Sprintf("rewind dry=%v", dry), func(t *testing.T) {
			m, p := setup(t, Options{DryRun: dry})
			sum, err := p.Run(context.Background(), m)
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("err %v; want the conflicts", err)
			}
			got := slices.Sorted(slices.Values(sum.Conflicts))
			if sum.Counts.Conflicts != 2 || !slices.Equal(got, wantConflicts) || sum.Counts.Written != 1 || sum.Counts.Deleted != 0 {
				t.Errorf("conflicts %d %v, written %d, deleted %d; want 2 %v, 1 written, none deleted",
					sum.Counts.Conflicts, got, sum.Counts.Written, sum.Counts.Deleted, wantConflicts)
			}
			for _, it := range main[1:] {
				if got := m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))]; !sameState(got, it) {
					t.Errorf("%v was overwritten", it["pk"])
				}
			}
		})
	}
}
