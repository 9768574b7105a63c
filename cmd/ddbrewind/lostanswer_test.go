package main

import (
	"path/filepath"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestConditionalWritesWithLostAnswers: DynamoDB may do a write and its
// answer be lost (a 5xx or a timeout after the write); the retry then
// meets the write it made itself. Through a proxy that forwards PutItem
// and DeleteItem and answers 500 instead a third of the time, a copy
// --only-missing --journal counts every item written and none kept, and
// an undo of that journal through the same proxy deletes every item the
// copy created: the main table is empty again, with exit 0 (before the
// lost answers were understood, the copy counted them as kept and marked
// them not written in its journal, so undo left them behind).
func TestConditionalWritesWithLostAnswers(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(60, 11)
	srv, c, from, to := copyPair(t, mixedSpec, items)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Seed: 3, Ops: []string{"PutItem", "DeleteItem"}, LoseAnswer: 0.3})
	journal := filepath.Join(t.TempDir(), "undo.jsonl")

	r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--only-missing", "--journal", journal)
	if r.code != 0 {
		t.Fatalf("copy --only-missing: exit %d\n%s", r.code, r.stderr)
	}
	lost := proxy.Stats().Ops["PutItem"].Lost
	if lost == 0 {
		t.Fatal("the proxy lost no answer")
	}
	assertSameTables(t, c, from, to)
	if w, k := summaryCount(t, r.stderr, "written"), summaryCount(t, r.stderr, "skipped"); w != int64(len(items)) || k != 0 {
		t.Errorf("copy: written=%d skipped=%d with %d answers lost, want %d and 0", w, k, lost, len(items))
	}

	r = ddb(t, "undo", "--endpoint-url", proxy.URL(), "--journal", journal, "--table", to, "--yes")
	if r.code != 0 {
		t.Fatalf("undo: exit %d\n%s", r.code, r.stderr)
	}
	if proxy.Stats().Ops["DeleteItem"].Lost == 0 {
		t.Fatal("the proxy lost no answer of undo's deletes")
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Errorf("after undo the main table holds %d items, want none (every item was created by the copy)", n)
	}
}
