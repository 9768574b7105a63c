package copier

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/journalfmt"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
)

// TestJournalResumedAfterTornTail resumes a copy whose journal ends in a
// line torn by kill -9: the resumed copy cuts it, says so, and undo reads
// the whole journal.
func TestJournalResumedAfterTornTail(t *testing.T) {
	ctx := context.Background()
	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	whole := string(journalfmt.EncodeHeader("main", []string{"pk"}, time.Now())) +
		`{"key":{"pk":{"S":"k1"}},"before":null}` + "\n" +
		`{"key":{"pk":{"S":"k2"}},"before":{"pk":{"S":"k2"},"v":{"N":"1"}}}` + "\n"
	torn := `{"key":{"pk":{"S":"k3"}},"before":{"pk":{"S":"k3"},"v":{"N":"12`
	path := filepath.Join(t.TempDir(), "j.jsonl")
	if err := os.WriteFile(path, []byte(whole+torn), 0o600); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	j, err := openJournal(ctx, &statefile.Store{}, path, "main", []string{"pk"}, time.Now(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]map[string]types.AttributeValue{
		`{"pk":{"S":"k3"}}`: {"pk": &types.AttributeValueMemberS{Value: "k3"}, "v": &types.AttributeValueMemberN{Value: "7"}},
	}
	if err := j.record([]map[string]types.AttributeValue{key("k3"), key("k4")}, before, make([]map[string]types.AttributeValue, 2)); err != nil {
		t.Fatal(err)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "cut a torn last line") || !strings.Contains(logs.String(), "bytes="+strconv.Itoa(len(torn))) {
		t.Errorf("no warning about the %d bytes cut:\n%s", len(torn), logs.String())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), whole+`{"key":{"pk":{"S":"k3"}},"before":{"pk":{"S":"k3"},"v":{"N":"7"}},"after":null}`+"\n") {
		t.Errorf("journal after the resumed copy:\n%s", data)
	}

	u, err := PrepareUndo(ctx, newFake(0), UndoOptions{Options: Options{Journal: path, To: "main"}})
	if err != nil {
		t.Fatalf("undo refuses the journal: %v", err)
	}
	defer u.cleanup()
	if u.Records() != 4 {
		t.Errorf("undo reads %d records, want 4", u.Records())
	}
}

// TestUndoIndexesTodaysJournal indexes a journal written by the copier
// before the format moved to internal/journalfmt (composite key, numbers
// spelled two ways, every amendment): undo still resolves each key as
// before — the single record as read, a key journaled twice and amended
// to its first before-image, a write that did not happen to nothing, an
// amendment with an absent item to a delete.
func TestUndoIndexesTodaysJournal(t *testing.T) {
	path := filepath.Join("..", "internal", "journalfmt", "testdata", "journal-v1.jsonl")
	ks := keySchemaInfo{names: []string{"pk", "sk"}, types: map[string]string{"pk": "S", "sk": "N"}}
	jf, err := indexJournal(path, path, ks)
	if err != nil {
		t.Fatal(err)
	}
	if jf.records != 5 || jf.lines != 9 || len(jf.multi) != 3 {
		t.Errorf("%d records, %d lines, %d keys with several lines; want 5, 9, 3", jf.records, jf.lines, len(jf.multi))
	}
	key := func(pk, sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberN{Value: sk}}
	}
	v := func(pk, sk, v string) map[string]types.AttributeValue {
		it := key(pk, sk)
		it["v"] = &types.AttributeValueMemberN{Value: v}
		return it
	}
	want := []undoEntry{
		{key: key("b", "-3"), before: nil, after: nil, afterKnown: true},
		{key: key("a", "7.5"), before: v("a", "7.50", "1"), after: v("a", "7.50", "3"), afterKnown: true},
	}
	got := map[string]undoEntry{}
	for _, e := range jf.resolved {
		got[ddbjson.KeyString(e.key)] = e
	}
	if len(got) != len(want) {
		t.Errorf("resolved %d keys, want %d (the write of c/10 did not happen)", len(got), len(want))
	}
	for _, w := range want {
		e, ok := got[ddbjson.KeyString(w.key)]
		if !ok || !sameState(e.before, w.before) || !sameState(e.after, w.after) || e.afterKnown != w.afterKnown {
			t.Errorf("key %s resolved to %+v, want %+v", ddbjson.KeyString(w.key), e, w)
		}
	}
	var single []string
	if err := jf.scan(ks, jf.lines, func(_ int, l *journalfmt.Line) error {
		if !l.Amend && !jf.multi[keyHash(l.Key)] {
			single = append(single, ddbjson.KeyString(l.Key))
			if l.Before != nil || l.After == nil || !l.AfterKnown {
				t.Errorf("the single record of %s: before %v, after %v", ddbjson.KeyString(l.Key), l.Before, l.After)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(single) != 1 || single[0] != ddbjson.KeyString(key("a", "1")) {
		t.Errorf("keys undone from their single record: %v, want a/1", single)
	}
}
