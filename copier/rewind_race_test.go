package copier

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// interposer is the fake with a write of someone else's slipped in just
// before ddbrewind's first PutItem of some keys: between the rewind's read
// and its write.
type interposer struct {
	*memAPI
	mu     sync.Mutex
	before map[string]func() // by KeyString, run once
}

func (p *interposer) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	ks := ddbjson.KeyString(keyOf(in.Item, memKey))
	p.mu.Lock()
	f := p.before[ks]
	delete(p.before, ks)
	p.mu.Unlock()
	if f != nil {
		f()
	}
	return p.memAPI.PutItem(ctx, in, optFns...)
}

// TestRewindInterposedWritesAndUndo: a write that changes an attribute
// between the rewind's read and its write fails the condition — a
// conflict, its journal record amended as not written — and one that only
// adds an attribute passes it but is caught by the item the put returns:
// clobbered, journaled, exit 3. A rerun with --overwrite-conflicts
// journals the conflict's key a second time. Undo then puts back the
// writer's item for both (the first written record's before-image, or the
// amended one), and never the window's end over the writer's write.
func TestRewindInterposedWritesAndUndo(t *testing.T) {
	m := newMemAPI()
	m.create("main")
	k := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	var chs changes
	for _, pk := range []string{"a", "b", "c"} {
		chs = append(chs, window.Change{Keys: k(pk), Old: confItem(pk, "start"), New: confItem(pk, "end")})
	}
	newWindow := func() *window.Window {
		c := append(changes(nil), chs...)
		w, err := window.Build(nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	put := func(it map[string]types.AttributeValue) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	for _, pk := range []string{"a", "b", "c"} {
		put(confItem(pk, "end"))
	}
	written := confItem("a", "424242")
	added := confItem("b", "end")
	added["extra"] = &types.AttributeValueMemberS{Value: "added"}
	api := &interposer{memAPI: m, before: map[string]func(){
		ddbjson.KeyString(k("a")): func() { put(written) },
		ddbjson.KeyString(k("b")): func() { put(added) },
	}}
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	run := func(overwrite bool) (*Summary, error) {
		p, err := prepareWindowRewind(context.Background(), api, Options{To: "main", From: "export", Journal: journal, OverwriteConflicts: overwrite}, newWindow())
		if err != nil {
			t.Fatal(err)
		}
		return p.Run(context.Background(), api)
	}
	sum, err := run(false)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Conflicts != 1 || ce.Clobbered != 1 || len(sum.Clobbered) != 1 || sum.Clobbered[0] != ddbjson.KeyString(k("b")) ||
		len(sum.Conflicts) != 1 || sum.Conflicts[0] != ddbjson.KeyString(k("a")) {
		t.Fatalf("rewind: %v (conflicts %v, clobbered %v); want a a conflict and b clobbered", err, sum.Conflicts, sum.Clobbered)
	}
	byKey := func(items ...map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
		out := map[string]map[string]types.AttributeValue{}
		for _, it := range items {
			out[ddbjson.KeyString(keyOf(it, memKey))] = it
		}
		return out
	}
	scan := func() map[string]map[string]types.AttributeValue {
		m.mu.Lock()
		defer m.mu.Unlock()
		out := map[string]map[string]types.AttributeValue{}
		for ks, it := range m.tables["main"] {
			out[ks] = it
		}
		return out
	}
	assertItems(t, "after the rewind", byKey(written, confItem("b", "start"), confItem("c", "start")), scan())

	// The rerun overwrites a: it journals a a second time.
	if _, err := run(true); err != nil {
		t.Fatalf("--overwrite-conflicts: %v", err)
	}
	assertItems(t, "after --overwrite-conflicts", byKey(confItem("a", "start"), confItem("b", "start"), confItem("c", "start")), scan())

	u, err := PrepareUndo(context.Background(), api, UndoOptions{Options{To: "main", Journal: journal}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Run(context.Background(), api); err != nil {
		t.Fatalf("undo: %v", err)
	}
	assertItems(t, "after undo", byKey(written, added, confItem("c", "end")), scan())
}

// TestRewindCheckpointKeepsConflicts: a rewind with a checkpoint that ended
// with a conflict leaves a complete checkpoint that records it. The same
// rewind again is not "complete": it reports the conflict again (exit 3);
// with AcceptConflicts it succeeds, the conflict listed; with
// OverwriteConflicts it rewinds the window again from its start and
// overwrites the conflict.
func TestRewindCheckpointKeepsConflicts(t *testing.T) {
	m := newMemAPI()
	m.create("main")
	k := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	var chs changes
	var now []map[string]types.AttributeValue
	for i := range 250 {
		pk := fmt.Sprintf("k%03d", i)
		chs = append(chs, window.Change{Keys: k(pk), Old: confItem(pk, "start"), New: confItem(pk, "end")})
		now = append(now, confItem(pk, "end"))
	}
	now[3] = confItem("k003", "later")
	m.mu.Lock()
	for _, it := range now {
		m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	m.mu.Unlock()
	cp := filepath.Join(t.TempDir(), "cp.json")
	plan := func(o Options) *Plan {
		c := append(changes(nil), chs...)
		w, err := window.Build(nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		o.To, o.From, o.Checkpoint = "main", "export", cp
		p, err := prepareWindowRewind(context.Background(), m, o, w)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	conflict := ddbjson.KeyString(k("k003"))
	for i, tc := range []struct {
		name      string
		opts      Options
		complete  bool
		wantErr   bool
		conflicts int
	}{
		{"first run", Options{}, false, true, 1},
		{"the same again", Options{}, false, true, 1},
		{"--accept-conflicts", Options{AcceptConflicts: true}, false, false, 1},
		{"--overwrite-conflicts", Options{OverwriteConflicts: true}, false, false, 0},
		{"after the overwrite", Options{}, true, false, 0},
	} {
		p := plan(tc.opts)
		if got := p.Complete(); got != tc.complete {
			t.Fatalf("%s: Complete() = %v, want %v", tc.name, got, tc.complete)
		}
		if tc.complete {
			p.Close()
			continue
		}
		sum, err := p.Run(context.Background(), m)
		var ce *ConflictError
		if tc.wantErr != errors.As(err, &ce) || !tc.wantErr && err != nil || len(sum.Conflicts) != tc.conflicts || tc.conflicts == 1 && sum.Conflicts[0] != conflict {
			t.Fatalf("%d %s: %v, conflicts %v; want error %v and %d conflicts", i, tc.name, err, sum.Conflicts, tc.wantErr, tc.conflicts)
		}
	}
	m.mu.Lock()
	got := m.tables["main"][conflict]
	m.mu.Unlock()
	if !itemeq.Items(got, confItem("k003", "start")) {
		t.Errorf("k003 after --overwrite-conflicts: %v", got)
	}
}
