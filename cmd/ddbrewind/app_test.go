package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, 0},
		{"aws failure", errors.New("AccessDeniedException: no"), 1},
		{"cli usage", &usage.Error{Msg: "x"}, 2},
		{"restore refusal", fmt.Errorf("wrapped: %w", &usage.Error{Msg: "x"}), 2},
		{"copy refusal", fmt.Errorf("copy: %w", &usage.Error{Msg: "x"}), 2},
		{"bad json", &ddbjson.Error{Source: "--expression-attribute-values", Msg: "x"}, 2},
		{"interrupted copy", fmt.Errorf("copy: %w", copier.ErrInterrupted), 130},
		{"interrupted wait", fmt.Errorf("restore: %w", restore.ErrWaitInterrupted), 130},
		{"interrupted export wait", fmt.Errorf("export: %w", export.ErrWaitInterrupted), 130},
		{"failed export", &export.FailedError{Table: "t", Code: "S3NoSuchBucket"}, 1},
		{"export refusal", fmt.Errorf("export: %w", &usage.Error{Msg: "x"}), 2},
		{"context canceled", context.Canceled, 130},
		{"incomplete", &copier.IncompleteError{Table: "t", Failed: 1}, 3},
		{"conflicts", fmt.Errorf("copy: %w", &copier.ConflictError{Table: "t", Conflicts: 2}), 3},
		{"different", fmt.Errorf("verify: %w", errDifferent), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"rewindify"}, `unknown command "rewindify"`},
		{"no command", nil, "no command given"},
		{"unknown global flag", []string{"--frobnicate", "list"}, "frobnicate"},
		{"unknown command flag", []string{"list", "--frobnicate"}, "frobnicate"},
		{"missing required flag", []string{"restore", "--latest"}, "table"},
		{"bad log format", []string{"list", "--log-format", "xml"}, "--log-format"},
		{"bad log level", []string{"list", "--log-level", "loud"}, "--log-level"},
		{"bad output", []string{"list", "--output", "yaml"}, "--output"},
		{"conflicting time flags", []string{"restore", "--table", "orders", "--latest", "--ago", "1h"}, "exactly one of"},
		{"no time flag", []string{"restore", "--table", "orders"}, "exactly one of"},
		{"bad --at", []string{"restore", "--table", "orders", "--at", "yesterday"}, "--at"},
		{"bad tag", []string{"restore", "--table", "orders", "--latest", "--tag", "novalue"}, "KEY=VALUE"},
		{"cleanup without selection", []string{"cleanup", "--endpoint-url", "http://127.0.0.1:1"}, "--recovery-table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ddb(t, tt.args...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2", r.code)
			}
			last := lastLine(r.stderr)
			if !strings.Contains(last, tt.want) {
				t.Errorf("last stderr line %q does not mention %q", last, tt.want)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, cmd := range []string{"restore", "copy", "list", "cleanup"} {
		t.Run(cmd, func(t *testing.T) {
			r := ddb(t, cmd, "--help")
			if r.code != 0 || !strings.Contains(r.stdout, "ddbrewind "+cmd) || !strings.Contains(r.stdout, "--endpoint-url") {
				t.Errorf("%s --help: exit %d, stdout lacks usage or global flags", cmd, r.code)
			}
		})
	}
	r := ddb(t, "--version")
	if r.code != 0 || !strings.Contains(r.stdout, "ddbrewind version") {
		t.Errorf("--version: exit %d, stdout %q", r.code, r.stdout)
	}
}

// ctrlCReader is a terminal on which the user presses Ctrl-C while the
// prompt waits: the read cancels the context, then blocks, as a terminal
// read does until Enter.
type ctrlCReader struct {
	cancel context.CancelFunc
	block  chan struct{}
}

func (r *ctrlCReader) Read([]byte) (int, error) {
	r.cancel()
	<-r.block
	return 0, nil
}

// TestConfirmationCtrlC: Ctrl-C at "Type yes to continue:" ends the
// command at once, exit 130, without waiting for Enter (issue 22 row 6:
// it waited for Enter, then exited 2).
func TestConfirmationCtrlC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	in := &ctrlCReader{cancel: cancel, block: make(chan struct{})}
	defer close(in.block)
	var errb strings.Builder
	done := make(chan error, 1)
	go func() { done <- confirm(ctx, &Env{StdinTTY: true, In: in, Err: &errb}, false, "delete x") }()
	select {
	case err := <-done:
		if exitCode(err) != 130 || !strings.Contains(err.Error(), "nothing was changed") {
			t.Errorf("Ctrl-C at the prompt: %v (exit %d), want exit 130 saying nothing was changed", err, exitCode(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl-C at the prompt: still waiting for Enter after 10 s")
	}
}

func TestNonInteractiveConfirmationRefused(t *testing.T) {
	env := &Env{StdinTTY: false}
	err := confirm(context.Background(), env, false, "delete x")
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("confirm without tty = %v, want exit 2 naming --yes", err)
	}
	if err := confirm(context.Background(), env, true, "delete x"); err != nil {
		t.Fatalf("confirm with --yes = %v", err)
	}
	tty := &Env{StdinTTY: true, In: strings.NewReader("no\n"), Err: &strings.Builder{}}
	if err := confirm(context.Background(), tty, false, "delete x"); exitCode(err) != 2 {
		t.Fatalf("answer no: %v, want exit 2", err)
	}
	tty = &Env{StdinTTY: true, In: strings.NewReader("yes\n"), Err: &strings.Builder{}}
	if err := confirm(context.Background(), tty, false, "delete x"); err != nil {
		t.Fatalf("answer yes: %v", err)
	}
}

func TestSetGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tests := []struct {
		name string
		gogc string
		want int
	}{
		{"GOGC unset: ddbrewind's default", "", gcPercent},
		{"GOGC set: left to the runtime", "50", 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			debug.SetGCPercent(100)
			setGC(func(k string) string {
				if k == "GOGC" {
					return tt.gogc
				}
				return ""
			})
			if got := debug.SetGCPercent(100); got != tt.want {
				t.Errorf("GC percent %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDistinctPaths(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		paths []statePath
		want  string // "" = accepted; else a substring of the refusal
	}{
		{"all different", []statePath{{"--checkpoint", dir + "/c"}, {"--journal", dir + "/j"}, {"--report", dir + "/r"}}, ""},
		{"unset ones are skipped", []statePath{{"--checkpoint", ""}, {"--journal", ""}, {"--report", dir + "/r"}}, ""},
		{"journal is report", []statePath{{"--journal", dir + "/x"}, {"--report", dir + "/x"}}, "--journal and --report both name " + dir + "/x"},
		{"journal is checkpoint", []statePath{{"--checkpoint", dir + "/x"}, {"--journal", dir + "/x"}}, "--checkpoint and --journal"},
		{"journal is state", []statePath{{"--state", dir + "/x"}, {"--journal", dir + "/x"}}, "--state and --journal"},
		{"spelled differently", []statePath{{"--checkpoint", dir + "/sub/../x"}, {"--report", dir + "/./x"}}, "--checkpoint " + dir + "/sub/../x and --report " + dir + "/./x name the same file"},
		{"relative and absolute", []statePath{{"--state", "x.json"}, {"--journal", mustAbs(t, "x.json")}}, "--state x.json and --journal"},
		{"same S3 object", []statePath{{"--checkpoint", "s3://b/k"}, {"--report", "s3://b/k"}}, "--checkpoint and --report both name s3://b/k"},
		{"same S3 object, spaces", []statePath{{"--journal", "s3://b/k"}, {"--report", " s3://b/k "}}, "name the same file"},
		{"other S3 keys", []statePath{{"--checkpoint", "s3://b/k"}, {"--journal", "s3://b/k2"}, {"--report", "s3://c/k"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := distinctPaths(tt.paths...)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("err = %v (exit %d), want a usage error saying %q", err, exitCode(err), tt.want)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
