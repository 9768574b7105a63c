package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestHelpShowsOneDefaultAndRequiredFirst: in every command's help each
// flag has at most one "(default: …)", false booleans and meaningless zeros
// show none, and the required flags come first.
func TestHelpShowsOneDefaultAndRequiredFirst(t *testing.T) {
	required := map[string][]string{
		"copy": {"--from", "--to"}, "diff": {"--from", "--to"}, "undo": {"--journal", "--table"},
		"restore": {"--table"}, "run": {"--table"},
	}
	for _, cmd := range []string{"restore", "copy", "run", "diff", "list", "cleanup", "undo"} {
		t.Run(cmd, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := &Env{In: strings.NewReader(""), Out: &out, Err: &errb, Now: time.Now, Getenv: func(string) string { return "" }}
			if code := run(context.Background(), []string{"ddbrewind", cmd, "--help"}, env); code != 0 {
				t.Fatalf("--help: exit %d: %s", code, errb.String())
			}
			help := out.String() + errb.String()
			if i := strings.Index(help, "OPTIONS:"); i >= 0 {
				help = help[i:] // not the examples of the description
			}
			var flags []string
			for _, line := range strings.Split(help, "\n") {
				line = strings.TrimSpace(line)
				if !strings.HasPrefix(line, "--") {
					continue
				}
				flags = append(flags, strings.Fields(line)[0])
				if n := strings.Count(line, "(default:"); n > 1 {
					t.Errorf("%d defaults: %s", n, line)
				}
				if regexp.MustCompile(`\(default: (false|0|0s)\)`).MatchString(line) {
					t.Errorf("a meaningless default: %s", line)
				}
			}
			for i, r := range required[cmd] {
				if i >= len(flags) || flags[i] != r {
					t.Errorf("required flag %s is not among the first (flags: %v)", r, flags)
				}
			}
		})
	}
}

// TestCopyHelpGroupsAndExamples: copy --help lists its thirty-odd flags in
// groups, in a reading order, with examples first (issue 22 row 8).
func TestCopyHelpGroupsAndExamples(t *testing.T) {
	r := ddb(t, "copy", "--help")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	last := -1
	for _, g := range []string{"Examples:", "Tables:", "Past state:", "Selection:", "Write mode:", "Safety:", "Speed:", "State and reports:", "Global (any command, before or after its name):", "--help, -h"} {
		i := strings.Index(r.stdout, g)
		if i < 0 || i < last {
			t.Errorf("%q missing or out of order in copy --help:\n%s", g, r.stdout)
		}
		last = i
	}
	// Wrapped to 80 columns (the width when it is unknown), between words:
	// only a single word longer than the column may stick out.
	for _, l := range strings.Split(r.stdout, "\n") {
		if utf8.RuneCountInString(l) > 80 && len(strings.Fields(l)) > 1 {
			t.Errorf("a help line of %d columns: %q", utf8.RuneCountInString(l), l)
		}
	}
	sel := r.stdout[strings.Index(r.stdout, "Selection:"):strings.Index(r.stdout, "Write mode:")]
	if !strings.Contains(sel, "--keys-file") || strings.Contains(sel, "--max-wcu") {
		t.Errorf("the Selection group holds other flags:\n%s", sel)
	}
}

// TestHelpOfSubcommands: ddbrewind help takes a command and a subcommand,
// as gh and kubectl do (help batch start is batch start --help); help of a
// command with subcommands lists them; and batch start's thirty-odd flags
// are grouped and wrapped like run's, with --help once.
func TestHelpOfSubcommands(t *testing.T) {
	t.Parallel()
	want := ddb(t, "batch", "start", "--help")
	if want.code != 0 {
		t.Fatalf("batch start --help: exit %d: %s", want.code, want.stderr)
	}
	got := ddb(t, "help", "batch", "start")
	if got.code != 0 || got.stdout != want.stdout {
		t.Errorf("help batch start: exit %d, stdout differs from batch start --help:\n%s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	if r := ddb(t, "help", "batch"); r.code != 0 || !strings.Contains(r.stdout, "COMMANDS:") || !strings.Contains(r.stdout, "status") {
		t.Errorf("help batch: exit %d, want the subcommands listed:\n%s", r.code, r.stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help", "batch", "nosuch"}, `batch has no subcommand "nosuch": use start or status`},
		{[]string{"help", "copy", "x"}, `unexpected argument "x": copy has no subcommands`},
		{[]string{"help", "nosuch", "x"}, `unknown command "nosuch"`},
		{[]string{"help", "batch", "start", "x"}, `unexpected argument "x"`},
	} {
		r := ddb(t, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}

	opts := want.stdout[strings.Index(want.stdout, "OPTIONS:"):]
	last := -1
	for _, g := range []string{"AWS Batch:", "Tables:", "Past state:", "Selection:", "Write mode:", "Speed:", "Global (any command, before or after its name):", "--help, -h"} {
		i := strings.Index(opts, g)
		if i < 0 || i < last {
			t.Errorf("%q missing or out of order in batch start --help:\n%s", g, opts)
		}
		last = i
	}
	if n := strings.Count(opts, "--help, -h"); n != 1 {
		t.Errorf("--help listed %d times in batch start --help", n)
	}
	for _, l := range strings.Split(opts, "\n") {
		if utf8.RuneCountInString(l) > 80 && len(strings.Fields(l)) > 1 {
			t.Errorf("a batch start --help line of %d columns: %q", utf8.RuneCountInString(l), l)
		}
	}
}

// TestAppHelpTidy: ddbrewind --help lists the global flags as a command's
// help does: no "(default: false)" for a boolean, wrapped to 80 columns.
func TestAppHelpTidy(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"help"}} {
		r := ddb(t, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d", args, r.code)
		}
		if strings.Contains(r.stdout, "(default: false)") {
			t.Errorf("%v shows (default: false):\n%s", args, r.stdout)
		}
		global := r.stdout[strings.Index(r.stdout, "GLOBAL OPTIONS:"):]
		for _, l := range strings.Split(global, "\n") {
			if utf8.RuneCountInString(l) > 80 && len(strings.Fields(l)) > 1 {
				t.Errorf("%v: a help line of %d columns: %q", args, utf8.RuneCountInString(l), l)
			}
		}
	}
}
