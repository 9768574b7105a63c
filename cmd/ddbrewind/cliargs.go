package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// This file holds the command-line conventions urfave/cli does not have:
// usage errors that quote the flag as typed, "did you mean" suggestions,
// and stray positional arguments refused (urfave/cli stops parsing flags
// at the first argument that is not one and passes the rest on silently).

// goFlagName finds the flag name in the errors of Go's flag package,
// which always spell it with one dash: "flag provided but not defined:
// -o", "invalid value "x" for flag -ago: …", "flag needs an argument:
// -table", "invalid boolean value "x" for -wait: …".
var goFlagName = regexp.MustCompile(`(not defined: |needs an argument: |for flag |for )-([^\s:=]+)`)

// usageErrorHandler returns the OnUsageError of the app and of every
// command: one line, the command's name once, the flag as the user typed
// it (-o, not --o), a suggestion for an unknown flag, and where to look.
func usageErrorHandler(env *Env) cli.OnUsageErrorFunc {
	return func(c *cli.Context, err error, _ bool) error {
		help, prefix := "ddbrewind", ""
		var flags []cli.Flag
		if c.App != nil {
			flags = c.App.Flags
		}
		sub := c.Command != nil && c.Command.Name != "" && c.App != nil && c.Command.Name != c.App.Name
		if sub {
			path := commandPath(c) // "batch start" for a subcommand
			help += " " + path
			prefix = path + ": "
			flags = c.Command.Flags
		}
		msg := err.Error()
		var unknown string
		if m := goFlagName.FindStringSubmatchIndex(msg); m != nil {
			name := msg[m[4]:m[5]]
			msg = msg[:m[4]-1] + typedFlag(env.Args, name) + msg[m[5]:]
			if strings.Contains(msg, "not defined: ") {
				unknown = name
			}
		}
		if unknown != "" {
			if s := suggestFlag(flags, unknown); s != "" {
				msg += "; did you mean " + s + "?"
			} else if !sub && c.App != nil {
				if cmds := commandsWithFlag(c.App, unknown); len(cmds) > 0 {
					msg += fmt.Sprintf("; it is a flag of %s: put it after the command name", strings.Join(cmds, ", "))
				}
			}
		}
		return &usage.Error{Msg: fmt.Sprintf("%s%s (see %s --help)", prefix, msg, help)}
	}
}

// typedFlag returns name as the user typed it on the command line (-o,
// --o or -output), or with the usual dashes if it is not found there.
func typedFlag(args []string, name string) string {
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		tok, _, _ := strings.Cut(a, "=")
		if strings.TrimLeft(tok, "-") == name && len(tok)-len(name) <= 2 {
			return tok
		}
	}
	return dashed(name)
}

// dashed writes a flag name as help does: -y, --yes.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// commandsWithFlag lists the commands that have a flag named name.
func commandsWithFlag(app *cli.App, name string) []string {
	var cmds []string
	for _, c := range app.Commands {
		for _, f := range c.Flags {
			if slices.Contains(f.Names(), name) {
				cmds = append(cmds, c.Name)
				break
			}
		}
	}
	return cmds
}

// suggestFlag returns the flag (with its dashes) that the user most
// likely meant by the unknown flag name, or "".
func suggestFlag(flags []cli.Flag, name string) string {
	global := map[string]bool{}
	for _, f := range globalFlags() {
		for _, n := range f.Names() {
			global[n] = true
		}
	}
	// The command's own flags first: "-s" of list is --source, though the
	// global --s3-bucket-owner starts with s too.
	var own, all []string
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		for _, n := range f.Names() {
			if !global[n] {
				own = append(own, n)
			}
			all = append(all, n)
		}
	}
	for _, names := range [][]string{own, all} {
		if s := suggest(names, name); s != "" {
			return dashed(s)
		}
	}
	return ""
}

// suggest returns the candidate closest to typed: within an edit distance
// of 1 (2 for words of 5 letters or more, transpositions counting once),
// or else the only candidate that typed is a prefix of; "" when none is.
// A single letter (-o) is only ever a prefix: every letter is one edit
// from every other. Ties go to the first candidate.
func suggest(candidates []string, typed string) string {
	if typed == "" {
		return ""
	}
	limit := 1
	if len(typed) >= 5 {
		limit = 2
	}
	best, bestD := "", limit+1
	var prefixed []string
	for _, c := range candidates {
		if c == typed {
			continue
		}
		if d := editDistance(typed, c); len(typed) > 1 && d < bestD {
			best, bestD = c, d
		}
		if strings.HasPrefix(c, typed) && !slices.Contains(prefixed, c) {
			prefixed = append(prefixed, c)
		}
	}
	if best == "" && len(prefixed) == 1 {
		best = prefixed[0]
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// letters ("lsit" is 1 from "list") each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// commandNames lists the app's visible commands, in help's order.
func commandNames(app *cli.App) []string {
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return names
}

// unknownCommand is the error for a command name the app does not have,
// with the closest command as a suggestion, else the list of commands.
func unknownCommand(app *cli.App, name string) error {
	names := commandNames(app)
	if s := suggest(names, name); s != "" {
		return &usage.Error{Msg: fmt.Sprintf("unknown command %q: did you mean %s? (see ddbrewind --help)", name, s)}
	}
	return &usage.Error{Msg: fmt.Sprintf("unknown command %q: use one of %s (see ddbrewind --help)", name, strings.Join(names, ", "))}
}

// noStrayArgs wraps the action of a command that takes flags only: an
// argument left over after the flags is refused, naming it, before the
// action runs. urfave/cli stops parsing at the first such argument, so
// the flags after it were not read either (list extra --output json would
// otherwise print a table).
func noStrayArgs(env *Env, action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			return strayArg(env, c, c.Args().First())
		}
		return action(c)
	}
}

// strayArg is the error for an unexpected positional argument of c's
// command, with a hint when it follows a boolean flag (--wait false).
func strayArg(env *Env, c *cli.Context, arg string) error {
	name, path := c.Command.Name, commandPath(c)
	hint := path + " takes flags only"
	if prev := tokenBefore(env.Args, name, arg); strings.HasPrefix(prev, "-") && !strings.Contains(prev, "=") {
		for _, f := range c.Command.Flags {
			if _, ok := f.(*cli.BoolFlag); ok && slices.Contains(f.Names(), strings.TrimLeft(prev, "-")) {
				hint = fmt.Sprintf("%s takes no value: write %s=%s", prev, prev, arg)
			}
		}
	}
	return &usage.Error{Msg: fmt.Sprintf("%s: unexpected argument %q: %s (see ddbrewind %s --help)", path, arg, hint, path)}
}

// tokenBefore returns the token before the first arg after the command
// name cmd in args, or "".
func tokenBefore(args []string, cmd, arg string) string {
	i := slices.Index(args, cmd)
	if i < 0 {
		return ""
	}
	for j := i + 1; j < len(args); j++ {
		if args[j] == arg {
			return args[j-1]
		}
	}
	return ""
}
