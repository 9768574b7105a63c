package copier

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// TestUndoJournalAmendments undoes a hand-made journal, on the fake and on
// dynalite: a key journaled twice (a rerun with --overwrite-conflicts)
// gets its FIRST before-image back, on condition that the item is what
// the LAST record wrote; a record whose write did not happen (amended:
// written false) puts nothing back; a record amended with the item the
// write actually replaced puts that item back; a record of an older
// journal (no after image) is undone unconditionally; an item changed
// since ddbrewind wrote it is an undo conflict: left alone, listed, exit 3.
func TestUndoJournalAmendments(t *testing.T) {
	backends := []struct {
		name string
		get  func(t *testing.T) backend
	}{
		{"fake", func(*testing.T) backend { return memBackend() }},
		{"dynalite", dynaliteBackend},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			be := b.get(t)
			to := be.create(t, "undo")
			img := func(pk, v string) string {
				data, err := ddbjson.MarshalItem(confItem(pk, v))
				if err != nil {
					t.Fatal(err)
				}
				return string(data)
			}
			key := func(pk string) string { return `{"pk":{"S":"` + pk + `"}}` }
			lines := []string{
				`{"journal":"ddbrewind","version":1,"table":"` + to + `","keys":["pk"],"created":"2026-01-01T00:00:00Z"}`,
				`{"key":` + key("k1") + `,"before":` + img("k1", "B1") + `,"after":` + img("k1", "A1") + `}`,
				`{"key":` + key("k2") + `,"before":` + img("k2", "B2") + `,"after":` + img("k2", "A2") + `}`,
				`{"amend":` + key("k2") + `,"written":false}`,
				`{"key":` + key("k3") + `,"before":` + img("k3", "B3") + `,"after":` + img("k3", "A3") + `}`,
				`{"amend":` + key("k3") + `,"before":` + img("k3", "O3") + `}`,
				`{"key":` + key("k4") + `,"before":` + img("k4", "B4") + `}`,
				`{"key":` + key("k5") + `,"before":` + img("k5", "B5") + `,"after":` + img("k5", "A5") + `}`,
				`{"key":` + key("k6") + `,"before":null,"after":` + img("k6", "A6") + `}`,
				// The rerun journals k1 again: what it found, what it wrote.
				`{"key":` + key("k1") + `,"before":` + img("k1", "C1") + `,"after":` + img("k1", "A1b") + `}`,
			}
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			if err := os.WriteFile(journal, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			be.put(t, to, []map[string]types.AttributeValue{confItem("k1", "A1b"), confItem("k2", "C2"), confItem("k3", "A3"),
				confItem("k4", "X4"), confItem("k5", "C5"), confItem("k6", "A6")})
			u, err := PrepareUndo(context.Background(), be.api, UndoOptions{Options{To: to, Journal: journal}})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := u.Run(context.Background(), be.api)
			var ce *ConflictError
			if !errors.As(err, &ce) || !ce.Undo || ce.Conflicts != 1 || len(sum.Conflicts) != 1 || sum.Conflicts[0] != key("k5") {
				t.Fatalf("undo: %v (conflicts %v); want exit 3 with the undo conflict k5", err, sum.Conflicts)
			}
			want := map[string]map[string]types.AttributeValue{}
			for _, it := range []map[string]types.AttributeValue{confItem("k1", "B1"), confItem("k2", "C2"), confItem("k3", "O3"),
				confItem("k4", "B4"), confItem("k5", "C5")} {
				want[ddbjson.KeyString(keyOf(it, memKey))] = it
			}
			assertItems(t, "after undo", want, be.scan(t, to))
		})
	}
}
