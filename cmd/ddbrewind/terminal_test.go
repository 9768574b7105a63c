package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// lockedBuffer is a bytes.Buffer safe for the renderer's goroutine and the
// test at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// slowAnswer answers the confirmation after a while, noting what stderr
// held when the prompt was up and when the answer came.
type slowAnswer struct {
	err          *lockedBuffer
	wait         time.Duration
	atPrompt     string
	beforeAnswer string
	done         bool
}

func (s *slowAnswer) Read(p []byte) (int, error) {
	if s.done {
		return 0, nil
	}
	s.done = true
	s.atPrompt = s.err.String()
	time.Sleep(s.wait)
	s.beforeAnswer = s.err.String()
	return copy(p, "yes\n"), nil
}

// TestRunPromptStaysVisible: run on a terminal asks before its first write;
// while the prompt waits nothing is drawn over it (row 1 of the terminal
// issue), and the progress lines never exceed the terminal's width (80
// columns here), each redraw in place.
func TestRunPromptStaysVisible(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 400)
	errb := &lockedBuffer{}
	in := &slowAnswer{err: errb, wait: 1600 * time.Millisecond}
	var out bytes.Buffer
	env := &Env{In: in, Out: &out, Err: errb, StdinTTY: true, StderrTTY: true, Now: time.Now,
		Getenv: func(string) string { return "" }, Width: func() int { return 80 }}
	state := filepath.Join(t.TempDir(), "state.json")
	code := run(context.Background(), []string{"ddbrewind", "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest",
		"--state", state, "--log-level", "warn"}, env)
	stderr := errb.String()
	t.Logf("stderr:\n%q", stderr)
	if code != 0 {
		t.Fatalf("run: exit %d", code)
	}
	if !strings.HasSuffix(in.atPrompt, "Type yes to continue: ") {
		t.Fatalf("the prompt is not the last thing on stderr while it waits: %q", in.atPrompt)
	}
	if in.beforeAnswer != in.atPrompt {
		t.Errorf("drawn over the prompt while it waited: %q", strings.TrimPrefix(in.beforeAnswer, in.atPrompt))
	}
	after := strings.TrimPrefix(stderr, in.atPrompt)
	for _, line := range strings.Split(after, "\n") {
		for _, state := range strings.Split(line, "\r") {
			if !strings.HasPrefix(state, "\033[K") {
				continue // not a progress state: a sentence, wrapped by the terminal
			}
			state = strings.TrimPrefix(state, "\033[K")
			if n := utf8.RuneCountInString(state); n > 79 {
				t.Errorf("a progress state of %d columns on an 80-column terminal: %q", n, state)
			}
		}
	}
	for _, step := range []string{"copy ", "verify "} {
		if !strings.Contains(after, "\r\033[K"+step) {
			t.Errorf("no %q progress line", step)
		}
	}
}

// TestCopyProgressFollowsTheWrites: under --max-wcu the reads run ahead of
// the writes; every state of the progress line counts the items written,
// never more (issue 22 row 2: "85% 1,700/2,000 · written 850"), labels
// its rate, and the finished copy's last state says 100%.
func TestCopyProgressFollowsTheWrites(t *testing.T) {
	t.Parallel()
	items := tenantItems(300, 3, "good", "app")
	srv, _, from, to := copyPair(t, mixedSpec, items)
	// A keys file gives a known total (an emulator's item count is 0).
	var lines []string
	for _, it := range items {
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":%q},"sk":{"N":%q}}`, it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberN).Value))
	}
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, cliOpts{stderrTTY: true}, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes",
		"--keys-file", keys, "--max-wcu", "150", "--writers", "2", "--log-level", "warn")
	if r.code != 0 {
		t.Fatalf("copy: exit %d", r.code)
	}
	state := regexp.MustCompile(`(\d+)% ([\d,]+)/[\d,]+ · written ([\d,]+)`)
	num := func(s string) int { n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", "")); return n }
	var last string
	states := 0
	for _, s := range strings.Split(r.stderr, "\r") {
		m := state.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		states++
		last = s
		if done, written := num(m[2]), num(m[3]); done > written {
			t.Errorf("a state counts %d done with %d written: %q", done, written, s)
		}
		if strings.Contains(s, "/s") && !strings.Contains(s, " items/s") {
			t.Errorf("an unlabelled rate: %q", s)
		}
	}
	if states < 2 || !strings.Contains(last, "100% 300/300") {
		t.Errorf("%d states, last %q: want several and the last at 100%% 300/300", states, last)
	}
}

// TestRunStepLogAfterTheBar: on a terminal, run ends the copy's progress
// line (its final state) before it logs the verify step (issue 22 row 17:
// the next step's log line came before the previous bar's final state),
// and the verification's before the cleanup step; the copy's line starts
// with the copy, not during the restore.
func TestRunStepLogAfterTheBar(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 50)
	state := filepath.Join(t.TempDir(), "state.json")
	r := runCLI(t, cliOpts{stderrTTY: true}, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--yes")
	if r.code != 0 {
		t.Fatalf("run: exit %d", r.code)
	}
	verify := strings.Index(r.stderr, "step=verify")
	lastCopy := strings.LastIndex(r.stderr, "\r\033[Kcopy ")
	if verify < 0 || lastCopy < 0 || lastCopy > verify {
		t.Errorf("the copy's last progress state (at %d) comes after the verify step's log line (at %d):\n%q", lastCopy, verify, r.stderr)
	}
	// The copy's line is drawn from the copy step on, not during the
	// restore before it (it showed "copy 0 read" and an elapsed time that
	// counted the restore's wait).
	active := strings.Index(r.stderr, "recovery table is ACTIVE")
	firstCopy := strings.Index(r.stderr, "\r\033[Kcopy ")
	if active < 0 || firstCopy < active {
		t.Errorf("a copy progress line (at %d) is drawn before the restore ended (at %d):\n%q", firstCopy, active, r.stderr)
	}
	// The same for the verification's line and the cleanup step: its
	// final state came at the very end, after the cleanup's log lines.
	cleanup := strings.Index(r.stderr, "step=cleanup")
	lastVerify := strings.LastIndex(r.stderr, "\r\033[Kverify ")
	if cleanup < 0 || lastVerify < 0 || lastVerify > cleanup {
		t.Errorf("the verification's last progress state (at %d) comes after the cleanup step's log line (at %d):\n%q", lastVerify, cleanup, r.stderr)
	}
}

// TestTerminalLogsAreShort: on a terminal, without --log-format, log lines
// are short and human (no timestamp, no level=INFO, no zero counters)
// instead of logfmt lines that wrap over 2–4 lines at 80 columns (issue 22
// row 12); --log-format text keeps logfmt for scripts.
func TestTerminalLogsAreShort(t *testing.T) {
	t.Parallel()
	items := tenantItems(20, 2, "good", "app")
	srv, _, from, to := copyPair(t, mixedSpec, items)
	args := []string{"copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--no-progress"}
	r := runCLI(t, cliOpts{stderrTTY: true}, args...)
	if r.code != 0 {
		t.Fatalf("copy: exit %d", r.code)
	}
	var starting string
	for _, l := range strings.Split(strings.ReplaceAll(r.stderr, "\r\033[K", ""), "\n") {
		if strings.HasPrefix(l, "copy starting: ") {
			starting = l
		}
		if strings.Contains(l, "time=") || strings.Contains(l, "level=") {
			t.Errorf("a logfmt line on a terminal: %q", l)
		}
		if strings.Contains(l, "failed=0") || strings.Contains(l, "dry_run=false") {
			t.Errorf("zero values on a terminal log line: %q", l)
		}
	}
	if starting == "" || !strings.Contains(starting, "from="+from) {
		t.Errorf("no short 'copy starting: from=…' line:\n%s", r.stderr)
	}
	r = runCLI(t, cliOpts{stderrTTY: true}, append(args, "--log-format", "text")...)
	if r.code != 0 || !strings.Contains(r.stderr, "level=INFO msg=\"copy starting\"") {
		t.Errorf("--log-format text on a terminal: exit %d, want logfmt:\n%s", r.code, r.stderr)
	}
}

// TestWaitProgressRedrawsInPlace: on a terminal, a restore's (or an
// export's) wait, polled every 30 s for hours, redraws one line in place,
// fitted to the width, instead of printing a line per poll; the next log
// line replaces it, and an error or a name printed after it starts on a
// line of its own (line.end).
func TestWaitProgressRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	line := &partialLine{}
	log := slog.New(newTTYHandler(clearLine{&buf}, slog.LevelInfo, line, func() int { return 60 }))
	for _, elapsed := range []string{"30s", "1m0s", "1m30s"} {
		log.Info("waiting for recovery table", "table", "orders-rewind-20261125T083000Z", "status", "CREATING", "elapsed", elapsed)
	}
	if out := buf.String(); strings.Contains(out, "\n") || strings.Count(out, "\r\033[K") != 3 {
		t.Errorf("three polls printed %q: want one line redrawn in place (no newline)", out)
	}
	for _, seg := range strings.Split(buf.String(), "\r\033[K") {
		if n := utf8.RuneCountInString(seg); n > 59 {
			t.Errorf("a wait line of %d columns on a 60-column terminal: %q", n, seg)
		}
	}
	log.Info("recovery table is ACTIVE", "table", "orders-rewind-20261125T083000Z", "elapsed", "2m0s")
	if out := buf.String(); !strings.HasSuffix(out, "\r\033[Krecovery table is ACTIVE: table=orders-rewind-20261125T083000Z elapsed=2m0s\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("the line after the wait does not replace it: %q", out)
	}
	buf.Reset()
	log.Info("waiting for export", "table", "orders", "status", "IN_PROGRESS")
	line.end()
	line.end() // once
	if out := buf.String(); !strings.HasSuffix(out, "IN_PROGRESS\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("end after a wait line: %q, want it ended by one newline", out)
	}
}
