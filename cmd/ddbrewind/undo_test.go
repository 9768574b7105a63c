package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// brokenMain fills the main table with a state that differs from the
// recovery items: changed items, missing items and extra items.
func brokenMain(t *testing.T, c *dynamodb.Client, to string, items []map[string]types.AttributeValue) {
	t.Helper()
	var main []map[string]types.AttributeValue
	for i, it := range items {
		switch {
		case i%5 == 0: // missing in main
		case i%5 == 1: // changed
			m := map[string]types.AttributeValue{}
			for k, v := range it {
				m[k] = v
			}
			m["status"] = &types.AttributeValueMemberS{Value: "broken"}
			main = append(main, m)
		default:
			main = append(main, it)
		}
	}
	for i := 0; i < 50; i++ { // extra in main
		main = append(main, map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("extra#%d", i)}, "sk": &types.AttributeValueMemberN{Value: "1"},
		})
	}
	ddbtest.PutItems(t, c, to, main)
}

func TestCopyThenUndoRestoresMainExactly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		kill bool // kill -9 the first copy and resume it, so the journal has duplicates
	}{
		{"overwrite and delete-extra", []string{"--delete-extra"}, false},
		{"only-missing", []string{"--only-missing"}, false},
		{"if-main", []string{"--if-main", "#s = :b OR attribute_not_exists(pk)", "--expression-attribute-names", `{"#s":"status"}`, "--expression-attribute-values", `{":b":{"S":"broken"}}`, "--delete-extra"}, false},
		{"resumed after kill -9", []string{"--delete-extra", "--page-size", "50", "--writers", "2"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			items := ddbtest.MixedItems(800, 17, ddbtest.WithLargeEvery(0))
			srv, c, from, to := copyPair(t, mixedSpec, items)
			brokenMain(t, c, to, items)
			before := ddbtest.ScanAll(t, c, to)
			dir := t.TempDir()
			journal := filepath.Join(dir, "journal.jsonl")
			args := append([]string{"--from", from, "--to", to, "--yes", "--journal", journal, "--checkpoint", filepath.Join(dir, "cp")}, tt.args...)
			if tt.kill {
				proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, Latency: 80 * time.Millisecond})
				cmd, _ := startCopy(t, proxy.URL(), args...)
				waitForFile(t, filepath.Join(dir, "cp"))
				_ = cmd.Process.Signal(syscall.SIGKILL)
				_ = cmd.Wait()
			}
			r := ddb(t, append([]string{"copy", "--endpoint-url", srv.Endpoint}, args...)...)
			if r.code != 0 {
				t.Fatalf("copy: exit %d", r.code)
			}
			if d := ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, c, to)); len(d) == 0 {
				t.Fatalf("the copy changed nothing: the test proves nothing")
			}
			fi, err := os.Stat(journal)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("journal %v mode %v, want 0600", err, fi.Mode())
			}
			r = ddb(t, "undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to, "--dry-run")
			if r.code != 0 || len(ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, c, to))) == 0 {
				t.Fatalf("undo --dry-run: exit %d or it wrote", r.code)
			}
			r = ddb(t, "undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to, "--yes")
			if r.code != 0 {
				t.Fatalf("undo: exit %d", r.code)
			}
			if d := ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, c, to)); len(d) > 0 {
				t.Fatalf("after undo the main table differs from before the copy:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestUndoRefusals(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(30, 2, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	dir := t.TempDir()
	journal := filepath.Join(dir, "j.jsonl")
	if r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--journal", journal); r.code != 0 {
		t.Fatalf("copy: exit %d", r.code)
	}
	notJournal := filepath.Join(dir, "notjournal.jsonl")
	os.WriteFile(notJournal, []byte(`{"pk":{"S":"a"}}`+"\n"), 0o600)
	data, _ := os.ReadFile(journal)
	broken := filepath.Join(dir, "broken.jsonl")
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(broken, []byte(lines[0]+lines[1]+`{"key":{"pk":{"Z":"a"}},"before":null}`+"\n"+strings.Join(lines[2:], "")), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"journal for another table", []string{"--journal", journal, "--table", from}, "records table " + to},
		{"not a journal", []string{"--journal", notJournal, "--table", to}, "not a ddbrewind journal"},
		{"broken record", []string{"--journal", broken, "--table", to}, "broken.jsonl:3"},
		{"missing journal", []string{"--journal", filepath.Join(dir, "nope"), "--table", to}, "no such file"},
		{"no --yes off a terminal", []string{"--journal", journal, "--table", to}, "--yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ddbtest.ScanAll(t, c, to)
			args := append([]string{"undo", "--endpoint-url", srv.Endpoint}, tt.args...)
			if tt.name != "no --yes off a terminal" {
				args = append(args, "--yes")
			}
			r := ddb(t, args...)
			if r.code != 2 || !strings.Contains(lastLine(r.stderr), tt.want) {
				t.Fatalf("exit %d, want 2 with %q", r.code, tt.want)
			}
			if d := ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, c, to)); len(d) > 0 {
				t.Fatalf("a refused undo changed the table")
			}
		})
	}
}
