package window

import (
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// jsonChanges is a ChangeReader that decodes each change from typed JSON
// when it is read, as the export reader does: what a window keeps of a
// change is all that stays alive of it.
type jsonChanges struct {
	t     *testing.T
	lines [][3][]byte // key, old, new
}

func (c *jsonChanges) Next() (Change, error) {
	if len(c.lines) == 0 {
		return Change{}, io.EOF
	}
	l := c.lines[0]
	c.lines = c.lines[1:]
	var ch Change
	for i, dst := range []*map[string]types.AttributeValue{&ch.Keys, &ch.Old, &ch.New} {
		it, err := ddbjson.ParseItem(l[i])
		if err != nil {
			c.t.Fatal(err)
		}
		*dst = it
	}
	return ch, nil
}

// TestWindowMemoryFollowsJSON: a window holds each changed key's images
// in about the size of their typed JSON, not as decoded items (which took
// 9,098 bytes a key here, for 2,097 bytes of JSON), and gives them back
// exactly.
func TestWindowMemoryFollowsJSON(t *testing.T) {
	const n = 2000
	olds, news := ddbtest.MixedItems(n, 1, ddbtest.WithLargeEvery(0)), ddbtest.MixedItems(n, 1, ddbtest.WithLargeEvery(0))
	lines := make([][3][]byte, n)
	jsonBytes := 0
	for i := range olds {
		news[i]["v"] = &types.AttributeValueMemberS{Value: "changed"}
		for j, it := range []map[string]types.AttributeValue{keyOfMixed(olds[i]), olds[i], news[i]} {
			data, err := ddbjson.MarshalItem(it)
			if err != nil {
				t.Fatal(err)
			}
			lines[i][j] = data
			jsonBytes += len(data)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	w, err := Build(nil, &jsonChanges{t: t, lines: lines})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(lines) // counted in before: kept alive to the end of the measure
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	perKey, jsonPerKey := held/n, int64(jsonBytes/n)
	t.Logf("window of %d keys: %d bytes a key held, %d bytes of typed JSON a key", n, perKey, jsonPerKey)
	if perKey > 2*jsonPerKey+512 {
		t.Errorf("the window holds %d bytes a key, more than twice its typed JSON (%d bytes) and some bookkeeping", perKey, jsonPerKey)
	}
	for i := range w.Len() {
		key, start, end, err := w.Images(i)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what      string
			got, want map[string]types.AttributeValue
		}{{"key", key, keyOfMixed(olds[i])}, {"start", start, olds[i]}, {"end", end, news[i]}} {
			if g, w := ddbtest.FormatValue(&types.AttributeValueMemberM{Value: c.got}), ddbtest.FormatValue(&types.AttributeValueMemberM{Value: c.want}); g != w {
				t.Fatalf("key %d %s: got %s, want %s", i, c.what, g, w)
			}
		}
	}
	runtime.KeepAlive(w)
}

// changes is a ChangeReader over a slice.
type changes []Change

func (c *changes) Next() (Change, error) {
	if len(*c) == 0 {
		return Change{}, io.EOF
	}
	ch := (*c)[0]
	*c = (*c)[1:]
	return ch, nil
}

// TestBuildWindowKeepsFirstOldAndLastNew: a key's start state is the Old
// image of the earliest export that has it, its end state the New image of
// the latest; a key created and deleted in the window has neither.
func TestBuildWindowKeepsFirstOldAndLastNew(t *testing.T) {
	k := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	a, b, c := item("a", "1"), item("a", "2"), item("a", "3")
	e1 := changes{{Keys: k("a"), Old: a, New: b}, {Keys: k("n"), Old: nil, New: item("n", "x")}}
	e2 := changes{{Keys: k("a"), Old: b, New: c}, {Keys: k("n"), Old: item("n", "x"), New: nil}}
	w, err := Build(nil, &e1, &e2)
	if err != nil {
		t.Fatal(err)
	}
	imagesOf := func(pk string) (key, start, end map[string]types.AttributeValue) {
		t.Helper()
		key, start, end, err := w.Images(slices.Index(w.order, ddbjson.KeyString(k(pk))))
		if err != nil {
			t.Fatal(err)
		}
		if left, err := w.Expected(k(pk)); err != nil || !itemeq.Items(left, end) {
			t.Errorf("expected(%s) = %v, %v; want the end image %v", pk, left, err, end)
		}
		return key, start, end
	}
	if key, start, end := imagesOf("a"); w.Len() != 2 || !itemeq.Items(key, k("a")) || !itemeq.Items(start, a) || !itemeq.Items(end, c) {
		t.Errorf("window of a: key %v start %v end %v", key, start, end)
	}
	if _, start, end := imagesOf("n"); start != nil || end != nil {
		t.Errorf("created and deleted in the window: no net change expected, got start %v end %v", start, end)
	}
	dup := changes{{Keys: k("a"), New: a}, {Keys: k("a"), New: b, Where: "s3://b/p/AWSDynamoDB/data/f.json.gz:7"}}
	if _, err := Build(nil, &dup); !usage.Is(err) || !strings.Contains(err.Error(), "twice (at s3://b/p/AWSDynamoDB/data/f.json.gz:7)") {
		t.Errorf("an export listing a key twice: %v; want a usage error (exit 2) naming the second place", err)
	}
}

// item is an item of key pk with a 38-digit number and a binary set
// besides its attribute v.
func item(pk, v string) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: v}}
	it["n"] = &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"}
	it["b"] = &types.AttributeValueMemberBS{Value: [][]byte{{0, 1}, {0xff}}}
	return it
}

// keyOfMixed is the primary key of a MixedItems item.
func keyOfMixed(it map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}
}

// TestWindowHoldsOnlySelectedKeys: with a selection, a window holds only
// the keys it picks and counts the others once, however many exports list
// them; an export listing a key twice is refused, selected or not.
func TestWindowHoldsOnlySelectedKeys(t *testing.T) {
	k := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	pick := func(key map[string]types.AttributeValue) bool {
		return key["pk"].(*types.AttributeValueMemberS).Value < "m"
	}
	e1 := changes{{Keys: k("a"), Old: item("a", "1"), New: item("a", "2")}, {Keys: k("x"), Old: item("x", "1"), New: item("x", "2")},
		{Keys: k("y"), New: item("y", "1")}}
	e2 := changes{{Keys: k("x"), Old: item("x", "2"), New: item("x", "3")}, {Keys: k("b"), Old: item("b", "1")}}
	w, err := Build(pick, &e1, &e2)
	if err != nil {
		t.Fatal(err)
	}
	if w.Len() != 2 || w.unselected != 2 || w.Changed() != 4 {
		t.Errorf("held %d keys, %d unselected, %d changed; want 2 (a, b), 2 (x, y), 4", w.Len(), w.unselected, w.Changed())
	}
	for _, pk := range []string{"x", "y"} {
		if _, held := w.changes[ddbjson.KeyString(k(pk))]; held {
			t.Errorf("the unselected key %s is held", pk)
		}
	}
	dup := changes{{Keys: k("z"), New: item("z", "1")}, {Keys: k("z"), New: item("z", "2")}}
	if _, err := Build(pick, &dup); !usage.Is(err) {
		t.Errorf("an export listing an unselected key twice: %v; want a usage error (exit 2)", err)
	}
}

// TestWindowExportsMustChain: a key's OldImage in an export must be the
// NewImage the previous export left it with (numbers by value): exports
// that do not follow each other are refused (exit 2), naming the key.
func TestWindowExportsMustChain(t *testing.T) {
	k := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	num := func(pk, n string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "n": &types.AttributeValueMemberN{Value: n}}
	}
	first := changes{{Keys: k("a"), Old: num("a", "1"), New: num("a", "10.5")}, {Keys: k("c"), Old: num("c", "1")}}
	tests := []struct {
		name   string
		second changes
		ok     bool
	}{
		{"chains", changes{{Keys: k("a"), Old: num("a", "10.5"), New: num("a", "3")}, {Keys: k("c"), New: num("c", "2")}}, true},
		{"chains, spelled otherwise", changes{{Keys: k("a"), Old: num("a", "1.050E1"), New: num("a", "3")}}, true},
		{"another old image", changes{{Keys: k("a"), Old: num("a", "2"), New: num("a", "3")}}, false},
		{"an old image where none was left", changes{{Keys: k("c"), Old: num("c", "1"), New: num("c", "2")}}, false},
		{"no old image where one was left", changes{{Keys: k("a"), New: num("a", "3")}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e1, e2 := append(changes(nil), first...), append(changes(nil), tt.second...)
			_, err := Build(nil, &e1, &e2)
			var ue *usage.Error
			switch {
			case tt.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tt.ok && (!errors.As(err, &ue) || !strings.Contains(err.Error(), "do not chain")):
				t.Fatalf("err = %v, want a usage error saying the exports do not chain", err)
			}
		})
	}
}
