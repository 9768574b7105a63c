package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyConfirmationSaysWhatHappens: the confirmation of a copy is one
// plain sentence naming the main table, what is overwritten and what is
// deleted, with what, and the selection's estimate with where it comes
// from; a resumed copy says how far its checkpoint got (issue 22 row 3:
// "About to write items of main table orders (about 3 items, from
// DynamoDB's item count of R selected from R)", "an unknown number"). The
// sentence is read from the refusal without a terminal, which repeats it.
func TestCopyConfirmationSaysWhatHappens(t *testing.T) {
	t.Parallel()
	items := tenantItems(40, 4, "good", "app")
	srv, _, from, to := copyPair(t, mixedSpec, items)
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.jsonl")
	if err := os.WriteFile(keys, []byte(`{"pk":{"S":"tenant#1"},"sk":{"N":"1"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to}
	kce := []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`}
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantNot []string
	}{
		{"whole table", nil, []string{"overwrite items of main table " + to + " with their versions in recovery table " + from,
			", deleting nothing; the whole table, "}, []string{"selected from", "an unknown number", "about 0 items"}},
		{"delete extra", []string{"--delete-extra"}, []string{"and delete the items of " + to + " that it lacks (--delete-extra)"}, []string{"deleting nothing"}},
		// The estimate is never unknown: a key range is counted (10 of
		// the 40 items are tenant#1's), with a filter too.
		{"key range", kce, []string{"selected: the key range pk = :p, about 10 items (a count of the key range)"}, []string{"about 40", "unknown"}},
		{"key range and filter", append(kce[:2:2], "--filter-expression", "#s = :s", "--expression-attribute-names", `{"#s":"status"}`,
			"--expression-attribute-values", `{":p":{"S":"tenant#1"},":s":{"S":"good"}}`),
			[]string{"selected: what the filter keeps of the key range pk = :p, about 10 items (a count of the key range)"}, []string{"unknown"}},
		{"empty key range", []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"nobody"}}`},
			[]string{"selected: the key range pk = :p, no items (a count of the key range)"}, []string{"unknown", "about 0"}},
		{"keys file", []string{"--keys-file", keys}, []string{"selected: the 1 key of --keys-file " + keys}, []string{"1 keys"}},
		{"only missing", []string{"--only-missing"}, []string{"write into main table " + to + " the items of recovery table " + from + " it lacks (never overwriting)"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ddb(t, append(append([]string{}, base...), tc.args...)...)
			line := lastLine(r.stderr)
			if r.code != 2 || !strings.Contains(line, "refusing to ") {
				t.Fatalf("exit %d, %q: want the refusal without a terminal", r.code, line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("confirmation %q does not say %q", line, w)
				}
			}
			for _, n := range tc.wantNot {
				if strings.Contains(line, n) {
					t.Errorf("confirmation %q says %q", line, n)
				}
			}
		})
	}

	// A resumed copy says where from and how far it got: a finished
	// checkpoint with one of its 4 segments marked undone.
	ckpt := filepath.Join(dir, "ckpt.json")
	if r := ddb(t, append(append([]string{}, base...), "--yes", "--segments", "4", "--checkpoint", ckpt)...); r.code != 0 {
		t.Fatalf("copy: exit %d", r.code)
	}
	data, err := os.ReadFile(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	delete(st["units"].(map[string]any), "copy/2")
	data, _ = json.Marshal(st)
	if err := os.WriteFile(ckpt, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := ddb(t, append(append([]string{}, base...), "--segments", "4", "--checkpoint", ckpt)...)
	if line := lastLine(r.stderr); r.code != 2 || !strings.Contains(line, "; resuming from "+ckpt+" (3 of 4 scan segments done)") || strings.Contains(line, "unknown") {
		t.Errorf("resumed: exit %d, %q; want it to say resuming from %s (3 of 4 scan segments done)", r.code, line, ckpt)
	}
}

// TestRunConfirmationNamesDeleteExtra: run's confirmation says it deletes
// with --delete-extra (issue 22 row 3).
func TestRunConfirmationNamesDeleteExtra(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 5)
	state := filepath.Join(t.TempDir(), "state.json")
	r := ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--delete-extra")
	line := lastLine(r.stderr)
	if r.code != 2 || !strings.Contains(line, "refusing to rewind "+table) || !strings.Contains(line, "delete the selected items of "+table+" that it lacks (--delete-extra)") {
		t.Errorf("run --delete-extra: exit %d, %q; want the refusal naming the deletes", r.code, line)
	}
}
