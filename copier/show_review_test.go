package copier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// showTable is a memAPI whose table rec holds k0..k4, k2 with aws:rep:*
// attributes (show prints items exactly as read) and a string a CSV must
// quote.
func showTable(t *testing.T) *memAPI {
	t.Helper()
	m := newMemAPI()
	m.create("rec")
	for i := range 5 {
		it := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%d", i)},
			"n":  &types.AttributeValueMemberN{Value: "1.50"},
		}
		if i == 2 {
			it["aws:rep:updatetime"] = &types.AttributeValueMemberN{Value: "1700000000.5"}
			it["s"] = &types.AttributeValueMemberS{Value: "=a,\"b\"\nc"}
		}
		m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	return m
}

// runShow prepares and runs a show of rec.
func runShow(t *testing.T, m *memAPI, o ShowOptions) (string, int64) {
	t.Helper()
	o.From, o.Segments, o.Writers = "rec", 2, 2
	p, err := PrepareShow(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	n, err := p.Show(context.Background(), m, &out, o.Format, o.Limit)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), n
}

// TestShowFormats: jsonl prints each item exactly (numbers as spelled,
// aws:rep:* kept), its key first; --limit stops at N items; json is one
// array; csv has a sorted header of every name seen and quotes what it
// must; a keys file selects its keys, an absent one printing nothing.
func TestShowFormats(t *testing.T) {
	m := showTable(t)
	out, n := runShow(t, m, ShowOptions{Format: ShowJSONL})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if n != 5 || len(lines) != 5 {
		t.Fatalf("jsonl: %d items, %d lines: %q", n, len(lines), out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"pk":{"S":"k`) || !strings.Contains(l, `"n":{"N":"1.50"}`) {
			t.Errorf("jsonl line %s: want the key first and the number as spelled", l)
		}
	}
	if !strings.Contains(out, `"aws:rep:updatetime":{"N":"1700000000.5"}`) {
		t.Errorf("show must print the item as read, aws:rep:* included: %s", out)
	}

	for _, limit := range []int64{1, 2, 5} {
		out, n := runShow(t, m, ShowOptions{Format: ShowJSONL, Limit: limit})
		if got := int64(strings.Count(out, "\n")); n != limit || got != limit {
			t.Errorf("--limit %d: %d items, %d lines", limit, n, got)
		}
	}

	out, _ = runShow(t, m, ShowOptions{Format: ShowJSON, Limit: 3})
	var arr []json.RawMessage
	if err := json.Unmarshal([]byte(out), &arr); err != nil || len(arr) != 3 {
		t.Errorf("json --limit 3: %d items, %v: %s", len(arr), err, out)
	}
	for _, l := range arr {
		if !strings.Contains(out, "\n"+string(l)+",\n") && !strings.HasSuffix(out, "\n"+string(l)+"\n]\n") {
			t.Errorf("json: want one item a line, %s in %q", l, out)
		}
	}
	if !strings.HasPrefix(out, "[\n{") || strings.Count(out, "\n") != 5 {
		t.Errorf("json layout: %q", out)
	}
	out, _ = runShow(t, newMemAPIWith(t, "rec"), ShowOptions{Format: ShowJSON})
	if out != "[]\n" {
		t.Errorf("json of nothing: %q", out)
	}

	out, _ = runShow(t, m, ShowOptions{Format: ShowCSV})
	header, _, _ := strings.Cut(out, "\n")
	if header != "aws:rep:updatetime,n,pk,s" {
		t.Errorf("csv header %q", header)
	}
	if !strings.Contains(out, "1700000000.5,1.50,k2,\"=a,\"\"b\"\"\nc\"\n") || !strings.Contains(out, "\n,1.50,k0,\n") {
		t.Errorf("csv rows: %q", out)
	}

	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(keys, []byte(`{"pk":{"S":"k3"}}`+"\n"+`{"pk":{"S":"nope"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, n = runShow(t, m, ShowOptions{Options: Options{Selection: Selection{KeysFile: keys}}, Format: ShowJSONL})
	if n != 1 || out != `{"pk":{"S":"k3"},"n":{"N":"1.50"}}`+"\n" {
		t.Errorf("keys file: %d items %q", n, out)
	}
}

// newMemAPIWith is a memAPI with the empty tables named.
func newMemAPIWith(t *testing.T, names ...string) *memAPI {
	t.Helper()
	m := newMemAPI()
	for _, name := range names {
		m.create(name)
	}
	return m
}

// TestShowBadInput: an unknown format or a negative --limit is refused
// as bad input before anything is read.
func TestShowBadInput(t *testing.T) {
	m := showTable(t)
	for _, o := range []ShowOptions{{Format: "xml"}, {Format: ShowJSONL, Limit: -1}, {Format: ShowCSV, Limit: -5}} {
		o.From = "rec"
		_, err := PrepareShow(context.Background(), m, o)
		var ue *usage.Error
		if !errors.As(err, &ue) {
			t.Errorf("%+v: err = %v, want a usage error", o, err)
		}
	}
}
