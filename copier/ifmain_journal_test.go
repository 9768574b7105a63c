package copier

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// TestIfMainJournalsTheItemItReplaced: with --if-main and --journal, an
// item written by someone else between the journal's read and the
// conditional write, its condition still true, is overwritten (as
// --if-main promises) — and the journal holds that item, not the older
// one it read, so that undo puts back what the copy replaced, not a
// version that was already gone. The same for a conditional delete
// (--delete-extra).
func TestIfMainJournalsTheItemItReplaced(t *testing.T) {
	m := newMemAPI()
	m.create("rec")
	m.create("main")
	put := func(table string, it map[string]types.AttributeValue) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.tables[table][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	// The recovery table holds k000-k029; the main table k000-k009
	// equal, k010-k019 changed, not k020-k029, and extras x00-x04.
	src, main := confTables(30, 10, 10, 5)
	for _, it := range src {
		put("rec", it)
	}
	for _, it := range main {
		put("main", it)
	}
	// Someone writes k010 and x01 again after the journal read them,
	// just before ddbrewind's conditional put and delete.
	later, laterExtra := confItem("k010", "later"), confItem("x01", "later")
	key := func(it map[string]types.AttributeValue) string { return ddbjson.KeyString(keyOf(it, memKey)) }
	api := &interposer{memAPI: m, before: map[string]func(){key(later): func() { put("main", later) }}}
	del := &deleteInterposer{interposer: api, before: map[string]func(){key(laterExtra): func() { put("main", laterExtra) }}}
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	sum, err := runCopy(t, del, Options{From: "rec", To: "main", Journal: journal, IfMain: "attribute_exists(pk)", DeleteExtra: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := sum.Counts; c.Written != 20 || c.Skipped != 10 || c.Deleted != 5 {
		t.Errorf("written %d skipped %d deleted %d, want 20 10 5", c.Written, c.Skipped, c.Deleted)
	}
	u, err := PrepareUndo(context.Background(), m, UndoOptions{Options{To: "main", Journal: journal}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Run(context.Background(), m); err != nil {
		t.Fatalf("undo: %v", err)
	}
	want := confByKey(main)
	want[key(later)], want[key(laterExtra)] = later, laterExtra
	m.mu.Lock()
	got := map[string]map[string]types.AttributeValue{}
	for ks, it := range m.tables["main"] {
		got[ks] = it
	}
	m.mu.Unlock()
	assertItems(t, "after undo", want, got)
}

// deleteInterposer is interposer for DeleteItem too: a write of someone
// else's slipped in just before ddbrewind's first DeleteItem of some keys.
type deleteInterposer struct {
	*interposer
	before map[string]func() // by KeyString, run once
}

func (p *deleteInterposer) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	ks := ddbjson.KeyString(in.Key)
	p.mu.Lock()
	f := p.before[ks]
	delete(p.before, ks)
	p.mu.Unlock()
	if f != nil {
		f()
	}
	return p.interposer.DeleteItem(ctx, in, optFns...)
}
