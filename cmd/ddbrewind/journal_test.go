package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestCopiesShareOneJournal runs two copy processes at once into one main
// table with the same --journal, local and in S3: the journal keeps one
// header and the before-image of every item either copy wrote, so undo
// puts the main table back as it was (empty).
func TestCopiesShareOneJournal(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	s3c, bucket := s3Bucket(t, srv)
	s3URL := ddbtest.SerializeConditionalPuts(t, srv.Endpoint)
	tests := []struct{ name, journal string }{
		{"local", filepath.Join(t.TempDir(), "journal.jsonl")},
		{"s3", "s3://" + bucket + "/shared/journal.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := ddbtest.UniqueName(t, "main")
			ddbtest.CreateTable(t, c, to, mixedSpec)
			want := map[string]map[string]types.AttributeValue{}
			var cmds []*exec.Cmd
			var stderrs []*bytes.Buffer
			for _, name := range []string{"a", "b"} {
				from := ddbtest.UniqueName(t, "rec-"+name)
				ddbtest.CreateTable(t, c, from, mixedSpec)
				items := tenantItems(150, 3, "good", name)
				for _, it := range items {
					it["pk"] = &types.AttributeValueMemberS{Value: name + "#" + it["pk"].(*types.AttributeValueMemberS).Value}
					want[ddbtest.KeyOf(it, "pk", "sk")] = it
				}
				ddbtest.PutItems(t, c, from, items)
				cmd := binaryCommand(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes",
					"--journal", tt.journal, "--page-size", "5", "--writers", "2")
				cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL_S3="+s3URL)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				cmds, stderrs = append(cmds, cmd), append(stderrs, &stderr)
			}
			for _, cmd := range cmds {
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
			}
			for i, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Fatalf("copy %d: %v\n%s", i, err, stderrs[i])
				}
			}
			assertSame(t, "main after both copies", want, ddbtest.ScanAll(t, c, to))

			path, cleanup, err := (&statefile.Store{S3: s3c}).Fetch(context.Background(), tt.journal)
			if err != nil {
				t.Fatal(err)
			}
			defer cleanup()
			data, _ := os.ReadFile(path)
			headers, journaled := 0, map[string]bool{}
			for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
				var rec struct {
					Journal string          `json:"journal"`
					Key     json.RawMessage `json:"key"`
				}
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("journal line %d: %v: %.100q", i+1, err, line)
				}
				if rec.Journal != "" {
					headers++
					continue
				}
				key, err := ddbjson.ParseItem(rec.Key)
				if err != nil {
					t.Fatalf("journal line %d: %v", i+1, err)
				}
				journaled[ddbtest.KeyOf(key, "pk", "sk")] = true
			}
			if headers != 1 {
				t.Errorf("%d journal headers, want 1", headers)
			}
			for k := range want {
				if !journaled[k] {
					t.Errorf("no before-image of %s in the journal", k)
				}
			}
			if t.Failed() {
				t.FailNow()
			}
			r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}},
				"undo", "--endpoint-url", srv.Endpoint, "--journal", tt.journal, "--table", to, "--yes")
			if r.code != 0 {
				t.Fatalf("undo: exit %d", r.code)
			}
			if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
				t.Errorf("undo left %d items in main, want the empty table it was", n)
			}
		})
	}
}

// TestCopyAfterTornJournalLineThenUndo resumes a copy into a journal whose
// last line was torn by a kill -9 (written on disk as such a kill leaves
// it): the torn line is cut with a warning, and undo restores main exactly.
func TestCopyAfterTornJournalLineThenUndo(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(200, 23, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	brokenMain(t, c, to, items)
	before := ddbtest.ScanAll(t, c, to)
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	args := []string{"copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--journal", journal, "--page-size", "50"}
	if r := ddb(t, args...); r.code != 0 {
		t.Fatalf("copy: exit %d", r.code)
	}
	f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := `{"key":{"pk":{"S":"torn"},"sk":{"N":"1"}},"before":{"pk":{"S":"torn"},"sk":{"N":"1"},"status":{"S":"br`
	if _, err := f.WriteString(torn); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := ddb(t, args...)
	if r.code != 0 {
		t.Fatalf("copy after the torn line: exit %d", r.code)
	}
	if !strings.Contains(r.stderr, "cut a torn last line off the journal") {
		t.Errorf("no warning about the torn line")
	}
	data, _ := os.ReadFile(journal)
	if bytes.Contains(data, []byte(`"torn"`)) {
		t.Errorf("the torn line is still in the journal")
	}
	r = ddb(t, "undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to, "--yes")
	if r.code != 0 {
		t.Fatalf("undo: exit %d", r.code)
	}
	assertSame(t, "main after undo", before, ddbtest.ScanAll(t, c, to))
}

// TestCopyJournalOfAnotherTableLogsNoSummary: a copy refused because its
// --journal records another table writes nothing, exits 2 with the one
// error line, and logs no summary of a copy that never started (it used
// to log "summary … outcome=\"\" read=0 …" before the error).
func TestCopyJournalOfAnotherTableLogsNoSummary(t *testing.T) {
	t.Parallel()
	items := tenantItems(5, 2, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	other := ddbtest.UniqueName(t, "other")
	ddbtest.CreateTable(t, c, other, mixedSpec)
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	if r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", other, "--yes", "--journal", journal); r.code != 0 {
		t.Fatalf("first copy: exit %d", r.code)
	}
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--journal", journal)
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "records table "+other+", not "+to) {
		t.Fatalf("copy with the journal of %s: exit %d, last line %q", other, r.code, lastLine(r.stderr))
	}
	if strings.Contains(r.stderr, "msg=summary") {
		t.Errorf("a summary was logged for a copy that did not start:\n%s", r.stderr)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Errorf("%s holds %d items, want 0", to, n)
	}
	// The journal is checked while the copy is prepared: before the
	// confirmation (which, off a terminal without --yes, would refuse
	// with another reason) and before the "copy starting" line, and run
	// refuses it before it restores anything.
	r = runCLI(t, cliOpts{stdinTTY: true, stdin: "yes\n"}, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--journal", journal)
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "records table "+other+", not "+to) || strings.Contains(r.stderr, "About to") || strings.Contains(r.stderr, "copy starting") {
		t.Errorf("copy on a terminal with the journal of %s: exit %d, stderr:\n%s", other, r.code, r.stderr)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Errorf("%s holds %d items, want 0", to, n)
	}
}
