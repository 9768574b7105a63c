package main

import (
	"strings"
	"testing"
)

// TestDiffAgreesWithCopyOnPlaceholders: diff refuses a placeholder no
// expression uses, as copy does (issue 22 row 14), while the check
// command a copy with --if-main prints still runs: it carries only the
// selection's placeholders. A diff whose selection matches nothing says so.
func TestDiffAgreesWithCopyOnPlaceholders(t *testing.T) {
	t.Parallel()
	items := tenantItems(20, 2, "good", "app")
	srv, _, from, to := copyPair(t, mixedSpec, items)
	base := []string{"--endpoint-url", srv.Endpoint, "--from", from, "--to", to}
	unused := []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"},":x":{"S":"a"}}`}
	for _, verb := range []string{"copy", "diff"} {
		r := ddb(t, append(append([]string{verb, "--yes"}, base...), unused...)...)
		if verb == "diff" {
			r = ddb(t, append(append([]string{verb}, base...), unused...)...)
		}
		if r.code != 2 || !strings.Contains(lastLine(r.stderr), "defines :x but no expression uses it") {
			t.Errorf("%s with an unused placeholder: exit %d, %q; want 2", verb, r.code, lastLine(r.stderr))
		}
	}

	// A copy with --if-main: its check command leaves out --if-main's
	// placeholder, and runs.
	r := ddb(t, append(append([]string{"copy", "--yes"}, base...), "--key-condition-expression", "pk = :p",
		"--if-main", "lastWriter = :w", "--expression-attribute-values", `{":p":{"S":"tenant#1"},":w":{"S":"app"}}`)...)
	if r.code != 0 {
		t.Fatalf("copy --if-main: exit %d", r.code)
	}
	check := r.stderr[strings.Index(r.stderr, "check with: ")+len("check with: "):]
	check = strings.TrimSpace(strings.SplitN(check, "\n", 2)[0])
	if strings.Contains(check, ":w") || !strings.Contains(check, ":p") {
		t.Fatalf("check command %q: want the key condition's placeholder only", check)
	}
	args := shellSplit(t, check)
	r = ddb(t, args[1:]...)
	if r.code == 2 || r.code == 1 {
		t.Errorf("the printed check %q: exit %d, want it to run (0 or 3)", check, r.code)
	}

	r = ddb(t, append(append([]string{"diff"}, base...), "--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"nope"}}`)...)
	if r.code != 0 || !strings.Contains(r.stdout, "the selection matched no item in either table") {
		t.Errorf("diff of an empty selection: exit %d, %q; want 0 saying the selection matched nothing", r.code, r.stdout)
	}
}

// shellSplit splits a command line printed by shellJoin.
func shellSplit(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	inQuote, any := false, false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case inQuote && ch == '\'':
			inQuote = false
		case inQuote:
			cur.WriteByte(ch)
		case ch == '\'':
			inQuote, any = true, true
		case ch == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			any = true
		case ch == ' ':
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteByte(ch)
			any = true
		}
	}
	if inQuote {
		t.Fatalf("unbalanced quote in %q", s)
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

// TestDiffShowSaysHowManyMore: diff --show N lists N keys of a kind and
// says how many more there are (issue 22 row 18); a key-range copy logs
// that it reads with a Query, not a segment count it does not use.
func TestDiffShowSaysHowManyMore(t *testing.T) {
	t.Parallel()
	items := tenantItems(30, 3, "good", "app")
	srv, _, from, to := copyPair(t, mixedSpec, items)
	r := ddb(t, "diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--show", "5")
	if r.code != 3 || !strings.Contains(r.stdout, "  … and 25 more (--show N lists more)") {
		t.Errorf("diff --show 5 of 30 missing: exit %d, %q; want it to say 25 more", r.code, r.stdout)
	}
	r = ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes",
		"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`)
	start := ""
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, `msg="copy starting"`) {
			start = l
		}
	}
	if r.code != 0 || !strings.Contains(start, "read=Query") || strings.Contains(start, "segments=") {
		t.Errorf("key-range copy: exit %d, starting line %q; want read=Query and no segments", r.code, start)
	}
}

// TestShowPrintsTheKeyFirst: show prints each item with its key
// attributes first, hash then range (issue 22 row 18).
func TestShowPrintsTheKeyFirst(t *testing.T) {
	t.Parallel()
	items := tenantItems(3, 1, "good", "app")
	srv, _, from, _ := copyPair(t, mixedSpec, items)
	r := ddb(t, "show", "--endpoint-url", srv.Endpoint, "--from", from)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 {
		t.Fatalf("show: exit %d, %d lines", r.code, len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"pk":{"S":"tenant#0"},"sk":{"N":"`) {
			t.Errorf("an item without its key first: %s", l)
		}
	}
}
