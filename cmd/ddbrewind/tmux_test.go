package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// tmuxTerm is a real terminal (a tmux pane of a fixed size running sh)
// for tests of what the user sees and types: prompts, Ctrl-C, widths.
type tmuxTerm struct {
	t      *testing.T
	socket string
}

// newTmux starts a tmux server of its own with one pane of width columns,
// or skips the test when tmux is not installed.
func newTmux(t *testing.T, width int) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	m := &tmuxTerm{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	m.tmux("-f", os.DevNull, "new-session", "-d", "-x", fmt.Sprint(width), "-y", "40", "sh")
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", m.socket, "kill-server").Run() })
	return m
}

func (m *tmuxTerm) tmux(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", m.socket}, args...)...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// run types a command line and Enter; the shell then prints EXIT=code
// (typed as EXIT""= so that the echoed command line does not match).
func (m *tmuxTerm) run(line string) {
	m.t.Helper()
	m.tmux("send-keys", "-l", line+`; echo EXIT""=$?`)
	m.tmux("send-keys", "Enter")
}

// keys sends tmux key names (C-c, Enter).
func (m *tmuxTerm) keys(keys ...string) {
	m.t.Helper()
	m.tmux(append([]string{"send-keys"}, keys...)...)
}

// screen returns the pane's text.
func (m *tmuxTerm) screen() string { m.t.Helper(); return m.tmux("capture-pane", "-p", "-J") }

// waitFor waits up to within for text on the screen and returns the
// screen; it fails the test with the screen otherwise.
func (m *tmuxTerm) waitFor(text string, within time.Duration) string {
	m.t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := m.screen()
		if strings.Contains(s, text) {
			return s
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("%q not on the screen after %s:\n%s", text, within, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTmuxCtrlCAtThePrompt: on a real terminal, Ctrl-C at "Type yes to
// continue:" ends the copy at once with exit 130, writing nothing (issue
// 22 row 6: it waited for Enter, then exited 2).
func TestTmuxCtrlCAtThePrompt(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	items := tenantItems(20, 2, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	m := newTmux(t, 80)
	m.run(fmt.Sprintf("%s copy --endpoint-url %s --from %s --to %s", bin, srv.Endpoint, from, to))
	m.waitFor("Type yes to continue:", 30*time.Second)
	m.keys("C-c")
	s := m.waitFor("EXIT=", 5*time.Second)
	if !strings.Contains(s, "EXIT=130") || !strings.Contains(s, "nothing was changed") {
		t.Errorf("Ctrl-C at the prompt: want exit 130 saying nothing was changed:\n%s", s)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Errorf("%d items written after Ctrl-C at the prompt", n)
	}
}

// TestTmuxBashCompletionListsEveryFlag: in bash, "ddbrewind copy
// --<Tab><Tab>" lists the command's flags (issue 22 row 9: it listed
// nothing).
func TestTmuxBashCompletionListsEveryFlag(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	bin := binary(t)
	m := newTmux(t, 130)
	m.tmux("send-keys", "-l", "exec bash --norc --noprofile")
	m.keys("Enter")
	m.tmux("send-keys", "-l", fmt.Sprintf("PATH=%s:$PATH; source <(ddbrewind completion bash); echo RE\"\"ADY", filepath.Dir(bin)))
	m.keys("Enter")
	m.waitFor("READY", 10*time.Second)
	m.tmux("send-keys", "-l", "ddbrewind copy --")
	m.keys("Tab", "Tab")
	s := m.waitFor("--max-wcu", 10*time.Second)
	for _, f := range []string{"--from", "--to", "--keys-file", "--delete-extra", "--endpoint-url"} {
		if !strings.Contains(s, f) {
			t.Errorf("completion lacks %s:\n%s", f, s)
		}
	}
}
