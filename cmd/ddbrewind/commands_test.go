package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestCommandTableIsConsistent checks every row of the command table: a
// unique name, a usage and a synopsis naming the command, required flags
// the command has, and the global flags added once.
func TestCommandTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	var walk func(prefix string, specs []commandSpec)
	walk = func(prefix string, specs []commandSpec) {
		for _, s := range specs {
			path := strings.TrimSpace(prefix + " " + s.name)
			if seen[path] {
				t.Errorf("%s: two rows of the command table", path)
			}
			seen[path] = true
			if s.usage == "" || !strings.HasPrefix(s.synopsis, "ddbrewind "+path) {
				t.Errorf("%s: usage %q, synopsis %q: want a usage and a synopsis starting with \"ddbrewind %s\"", path, s.usage, s.synopsis, path)
			}
			if s.action == nil {
				t.Errorf("%s: no action", path)
			}
			cmd := s.build(&Env{Getenv: func(string) string { return "" }})
			names := map[string]int{}
			for _, f := range cmd.Flags {
				for _, n := range f.Names() {
					names[n]++
				}
			}
			for n, k := range names {
				if k > 1 {
					t.Errorf("%s: flag --%s defined %d times", path, n, k)
				}
			}
			for _, g := range globalFlags() {
				if names[g.Names()[0]] != 1 {
					t.Errorf("%s: global flag --%s missing", path, g.Names()[0])
				}
			}
			for _, r := range s.required {
				if names[r] != 1 {
					t.Errorf("%s: required flag --%s is not one of its flags", path, r)
				}
			}
			walk(path, s.subcommands)
		}
	}
	walk("", commandTable())
	for _, want := range []string{"restore", "export", "copy", "list", "cleanup", "diff", "undo", "run", "show", "batch", "batch start", "batch status"} {
		if !seen[want] {
			t.Errorf("command %q is not in the table", want)
		}
	}
}

// TestCommandTableChecksBeforeTheAction runs each command of the table
// with what the table says it refuses — a required flag missing, a stray
// argument, the check of its flags together failing — and asserts the
// usage error (exit 2) comes from the table, before the action runs (no
// AWS call is possible: no endpoint is reachable).
func TestCommandTableChecksBeforeTheAction(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"restore without --table", []string{"restore", "--latest"}, "restore: --table is required"},
		{"export without --s3-bucket", []string{"export", "--table", "T", "--at", "1"}, "export: --s3-bucket is required"},
		{"undo without --journal", []string{"undo", "--table", "T"}, "undo: --journal is required"},
		{"undo without --table", []string{"undo", "--journal", "j.jsonl"}, "undo: --table is required"},
		{"copy without a source", []string{"copy", "--to", "T"}, "--from"},
		{"diff without a source", []string{"diff", "--to", "T"}, "--from"},
		{"show without a source", []string{"show"}, "--from"},
		{"show with --from and --table", []string{"show", "--from", "REC", "--table", "T"}, "show: --table T is only for --from-export"},
		{"show with two sources", []string{"show", "--from", "REC", "--from-export", "s3://b/p/AWSDynamoDB/01700000000000-abcdef12/"}, "show: --from and --from-export both name the past state"},
		{"list's check", []string{"list", "--output", "yaml"}, `--output "yaml": use table, wide or json`},
		{"diff's check", []string{"diff", "--from", "REC", "--to", "T", "--only-missing"}, "diff --only-missing says how a copy wrote: it goes with --after-copy"},
		{"list with a stray argument", []string{"list", "extra"}, "extra"},
		{"cleanup with a stray argument", []string{"cleanup", "extra"}, "extra"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, cliOpts{env: map[string]string{}}, append(tc.args, "--endpoint-url", "http://127.0.0.1:1")...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q: want exit 2 and %q", r.code, r.stderr, tc.want)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("stderr has more than one line: %q", r.stderr)
			}
		})
	}
}

// TestBatchStatusTakesItsPrefix checks the one row that takes an argument:
// batch status's prefix is not refused as a stray argument.
func TestBatchStatusTakesItsPrefix(t *testing.T) {
	var status *cli.Command
	for _, s := range commandTable() {
		if s.name == "batch" {
			for _, sub := range s.subcommands {
				if sub.name == "status" {
					if !sub.takesArgs {
						t.Fatal("batch status: takesArgs is false, its prefix would be refused")
					}
					status = sub.build(&Env{Getenv: func(string) string { return "" }})
				}
			}
		}
	}
	if status == nil || !slices.ContainsFunc(status.Flags, func(f cli.Flag) bool { return f.Names()[0] == "no-wait" }) {
		t.Fatalf("batch status not built with its --no-wait flag: %+v", status)
	}
}

// TestKeysFromATerminal: --keys-file - with stdin on a terminal is refused
// at once (exit 2, one line saying to pipe or redirect the keys), in every
// command that takes a keys file, instead of waiting for keys typed by hand.
func TestKeysFromATerminal(t *testing.T) {
	for _, args := range [][]string{
		{"copy", "--from", "R", "--to", "T", "--yes"},
		{"diff", "--from", "R", "--to", "T"},
		{"show", "--from", "R"},
		{"run", "--table", "T", "--latest", "--yes"},
	} {
		t.Run(args[0], func(t *testing.T) {
			r := runCLI(t, cliOpts{stdinTTY: true, env: map[string]string{}}, append(args, "--keys-file", "-", "--endpoint-url", "http://127.0.0.1:1")...)
			want := args[0] + " --keys-file -: stdin is a terminal, not a keys file: pipe or redirect the keys into it (--keys-file - < keys.jsonl), or give the file's path"
			if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Fatalf("exit %d, stderr %q: want exit 2 and one line %q", r.code, r.stderr, want)
			}
		})
	}
}
