package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// pipeKeys returns a /dev/fd path reading text from a pipe, as bash's
// <(cat keys.jsonl) does: a stream that can be read once.
func pipeKeys(t *testing.T, text string) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() {
		io.WriteString(w, text)
		w.Close()
	}()
	return fmt.Sprintf("/dev/fd/%d", r.Fd())
}

// TestKeysFileFromPipe: a keys file that can be read only once (a pipe
// from <(...) or /dev/stdin, or --keys-file - for stdin) selects exactly
// its keys in copy, show, diff and run, as a regular file does; it is
// never read as empty after the check consumed it (issue 22 row 1: the
// copy read 0 keys and said "0 items written", exit 0). No spooled copy
// is left in the temp directory.
func TestKeysFileFromPipe(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	items := tenantItems(30, 3, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	var lines []string
	for _, it := range items[:7] {
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":%q},"sk":{"N":%q}}`, it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberN).Value))
	}
	keys := strings.Join(lines, "\n") + "\n"
	common := []string{"--endpoint-url", srv.Endpoint, "--from", from}

	// show: exactly the 7 items, from a pipe and from stdin.
	for _, how := range []string{"pipe", "stdin"} {
		args, o := append([]string{"show"}, common...), cliOpts{}
		if how == "pipe" {
			args = append(args, "--keys-file", pipeKeys(t, keys))
		} else {
			args, o.stdin = append(args, "--keys-file", "-"), keys
		}
		r := runCLI(t, o, args...)
		if got := strings.Count(r.stdout, `"pk"`); r.code != 0 || got != 7 {
			t.Errorf("show --keys-file (%s): exit %d, %d items, want 0 and 7", how, r.code, got)
		}
	}

	// copy from a pipe writes the 7 items; diff from stdin then finds them
	// identical.
	r := ddb(t, append(append([]string{"copy"}, common...), "--to", to, "--yes", "--keys-file", pipeKeys(t, keys))...)
	if got := ddbtest.ScanAll(t, c, to); r.code != 0 || len(got) != 7 {
		t.Fatalf("copy --keys-file <(pipe): exit %d, %d items in the main table, want 0 and 7", r.code, len(got))
	}
	r = runCLI(t, cliOpts{stdin: keys}, append(append([]string{"diff"}, common...), "--to", to, "--keys-file", "-")...)
	if r.code != 0 || !strings.Contains(r.stdout, "identical:        7") {
		t.Errorf("diff --keys-file -: exit %d, %q; want 0 and 7 identical", r.code, r.stdout)
	}
	// An empty pipe is refused, not a copy of nothing.
	r = ddb(t, append(append([]string{"copy"}, common...), "--to", to, "--yes", "--keys-file", pipeKeys(t, ""))...)
	if r.code != 2 || !strings.Contains(r.stderr, "holds no keys") {
		t.Errorf("copy --keys-file <(empty): exit %d, want 2 saying it holds no keys", r.code)
	}
	left, err := filepath.Glob(filepath.Join(tmp, "ddbrewind-*"))
	if err != nil || len(left) > 0 {
		t.Errorf("spooled keys files left behind: %v %v", left, err)
	}
}

// TestRunKeysFileFromStdin: run --keys-file - copies exactly the keys
// read from stdin (and verifies them).
func TestRunKeysFileFromStdin(t *testing.T) {
	t.Parallel()
	srv, table, items := runTable(t, 40)
	var lines []string
	for _, it := range items[:4] {
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":%q},"sk":{"N":%q}}`, it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberN).Value))
	}
	state := filepath.Join(t.TempDir(), "state.json")
	r := runCLI(t, cliOpts{stdin: strings.Join(lines, "\n") + "\n"}, "run", "--endpoint-url", srv.Endpoint, "--table", table,
		"--latest", "--state", state, "--yes", "--keys-file", "-")
	if r.code != 0 {
		t.Fatalf("run --keys-file -: exit %d", r.code)
	}
	if n := summaryCount(t, r.stderr, "written"); n != 4 {
		t.Errorf("run --keys-file -: written=%d, want 4", n)
	}
}

// TestKeysFileThatSelectsNothing: keys piped on stdin that the recovery
// table lacks write nothing and exit 0 (they are not a failure: they are
// counted, listed and warned about), and the closing sentence, which shows
// whatever --log-level, says so and what became of them; its check
// command reads the keys from stdin again rather than naming a pipe that
// is gone. With --delete-extra the sentence says they were deleted.
func TestKeysFileThatSelectsNothing(t *testing.T) {
	t.Parallel()
	items := tenantItems(10, 2, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	extra := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "nobody"}, "sk": &types.AttributeValueMemberN{Value: "2"}}
	ddbtest.PutItems(t, c, to, []map[string]types.AttributeValue{extra})
	keys := `{"pk":{"S":"nobody"},"sk":{"N":"1"}}` + "\n" + `{"pk":{"S":"nobody"},"sk":{"N":"2"}}` + "\n"
	common := []string{"copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--log-level", "error"}

	r := runCLI(t, cliOpts{stdin: keys}, append(common, "--keys-file", "-", "--report", "-")...)
	if r.code != 0 {
		t.Fatalf("copy of keys the recovery table lacks: exit %d, want 0: %s", r.code, r.stderr)
	}
	got := lastLine(r.stderr)
	for _, want := range []string{"copy: 0 items written", "2 keys of the keys file are not in the recovery table: left alone in the main table",
		"check with: ddbrewind diff --endpoint-url " + srv.Endpoint + " --from " + from + " --to " + to + " --keys-file - (with the same keys on stdin)"} {
		if !strings.Contains(got, want) {
			t.Errorf("closing sentence %q lacks %q", got, want)
		}
	}
	if !strings.Contains(r.stdout, `"not_in_recovery": 2`) || !strings.Contains(r.stdout, "not_in_recovery_keys") {
		t.Errorf("report does not list the 2 keys:\n%s", r.stdout)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 1 {
		t.Errorf("main table holds %d items, want its 1 untouched", n)
	}

	// From a pipe, the check command does not name /dev/fd/N.
	r = ddb(t, append(common, "--keys-file", pipeKeys(t, keys))...)
	if got := lastLine(r.stderr); r.code != 0 || strings.Contains(got, "/dev/fd/") || !strings.Contains(got, "--keys-file - (with the same keys on stdin)") {
		t.Errorf("copy from a pipe: exit %d, closing sentence %q", r.code, got)
	}

	r = runCLI(t, cliOpts{stdin: keys}, append(common, "--keys-file", "-", "--delete-extra")...)
	if got := lastLine(r.stderr); r.code != 0 || !strings.Contains(got, "2 keys of the keys file are not in the recovery table: deleted from the main table where present (--delete-extra)") {
		t.Errorf("copy --delete-extra: exit %d, closing sentence %q", r.code, got)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Errorf("main table holds %d items after --delete-extra, want 0", n)
	}
}
