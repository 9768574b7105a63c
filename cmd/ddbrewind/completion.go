package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// completeFlag is urfave/cli's hidden shell-completion flag: given as the
// last argument (App.EnableBashCompletion), the app prints the words that
// may come next, one per line, instead of running anything. The bash and
// zsh scripts below call it; the fish script is static
// (App.ToFishCompletion).
const completeFlag = "--generate-bash-completion"

// bashCompletion is the bash script of `ddbrewind completion bash`,
// adapted from urfave/cli's autocomplete/bash_autocomplete.
const bashCompletion = `# bash completion for ddbrewind: source <(ddbrewind completion bash)
_ddbrewind_complete() {
  local cur words i
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  for i in "${words[@]}"; do
    [[ "$i" == "--" ]] && return 0   # after --, arguments only
  done
  local opts
  opts=$("${words[@]}" "$cur" ` + completeFlag + ` 2>/dev/null) || return 0
  COMPREPLY=($(compgen -W "${opts}" -- "${cur}"))
  return 0
}
complete -o bashdefault -o default -F _ddbrewind_complete ddbrewind
`

// zshCompletion is the zsh script of `ddbrewind completion zsh`, adapted
// from urfave/cli's autocomplete/zsh_autocomplete.
const zshCompletion = `#compdef ddbrewind
# zsh completion for ddbrewind: source <(ddbrewind completion zsh)
# (after compinit), or save it as _ddbrewind in a directory of $fpath.
_ddbrewind() {
  local -a opts
  local cur=${words[CURRENT]}
  local -a prev=("${(@)words[1,CURRENT-1]}")
  (( ${prev[(I)--]} )) && { _files; return }
  opts=("${(@f)$("${prev[@]}" "$cur" ` + completeFlag + ` 2>/dev/null)}")
  if [[ -n "${opts[1]}" ]]; then
    compadd -- "${opts[@]}"
  else
    _files
  fi
}
if (( $+functions[compdef] )); then
  compdef _ddbrewind ddbrewind
fi
`

// completionCommand is `ddbrewind completion bash|zsh|fish`.
func completionCommand() *cli.Command {
	cmd := printingCommand("completion", "print a shell completion script for bash, zsh or fish", "ddbrewind completion bash|zsh|fish")
	cmd.Description = "bash: source <(ddbrewind completion bash), e.g. in ~/.bashrc. " +
		"zsh: source <(ddbrewind completion zsh) after compinit in ~/.zshrc, or save it as _ddbrewind in a directory of $fpath. " +
		"fish: ddbrewind completion fish > ~/.config/fish/completions/ddbrewind.fish"
	cmd.Action = func(c *cli.Context) error {
		const use = "use bash, zsh or fish"
		switch {
		case c.NArg() == 0:
			return &usage.Error{Msg: "completion: name the shell: " + use + " (see ddbrewind completion --help)"}
		case c.NArg() > 1:
			return &usage.Error{Msg: fmt.Sprintf("completion: unexpected argument %q: give one shell (see ddbrewind completion --help)", c.Args().Get(1))}
		}
		var script string
		switch shell := c.Args().First(); shell {
		case "bash":
			script = bashCompletion
		case "zsh":
			script = zshCompletion
		case "fish":
			s, err := c.App.ToFishCompletion()
			if err != nil {
				return fmt.Errorf("completion fish: %w", err)
			}
			script = dedupeLines(s)
		default:
			return &usage.Error{Msg: fmt.Sprintf("completion: unknown shell %q: %s (see ddbrewind completion --help)", shell, use)}
		}
		_, err := fmt.Fprint(c.App.Writer, script)
		return err
	}
	return cmd
}

// printingCommand is a command that only prints (completion, help,
// version): it accepts the global flags, like every command, and ignores
// them.
func printingCommand(name, usage, usageText string) *cli.Command {
	return &cli.Command{Name: name, Usage: usage, UsageText: usageText, Flags: withGlobals()}
}

// dedupeLines drops repeated lines: ToFishCompletion lists --help twice
// when the app declares it among its own flags, as newApp does.
func dedupeLines(s string) string {
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(l, "complete ") {
			if seen[l] {
				continue
			}
			seen[l] = true
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
}

// completer returns the BashComplete of the app (cmd nil) or of a
// command. The scripts pass the words before the cursor and the word
// being typed (maybe empty), then completeFlag. For a word starting with
// "-" it prints the flags it may begin (not those already given, unless
// repeatable); otherwise, at the top level, the command names, and in a
// command nothing (the shell completes file names). It reads the words
// from env.Args, the arguments run was given, rather than os.Args as
// urfave/cli's default does.
func completer(env *Env, cmd *cli.Command) cli.BashCompleteFunc {
	return func(c *cli.Context) {
		args := env.Args
		if len(args) > 0 && args[len(args)-1] == completeFlag {
			args = args[:len(args)-1]
		}
		last := ""
		if len(args) > 1 {
			last = args[len(args)-1]
		}
		w := c.App.Writer
		if !strings.HasPrefix(last, "-") {
			for _, n := range wordsToComplete(c.App, cmd, args) {
				fmt.Fprintln(w, n)
			}
			return
		}
		flags := c.App.Flags
		if cmd != nil {
			flags = cmd.Flags
		}
		typed := strings.TrimLeft(last, "-")
		given := args[:len(args)-1]
		for _, f := range flags {
			if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
				continue
			}
			_, repeatable := f.(*cli.StringSliceFlag)
			for _, n := range f.Names() {
				if len(n) == 1 || !strings.HasPrefix(n, typed) {
					continue
				}
				if !repeatable && slices.ContainsFunc(given, func(a string) bool {
					tok, _, _ := strings.Cut(a, "=")
					return tok == "--"+n
				}) {
					continue
				}
				fmt.Fprintln(w, "--"+n)
			}
		}
	}
}

// wordsToComplete returns the words that may come at the end of args
// (a word, not a flag): the commands after ddbrewind or help, a command's
// subcommands after it (batch start, help batch start), the shells after
// completion, else none.
func wordsToComplete(app *cli.App, cmd *cli.Command, args []string) []string {
	if cmd == nil {
		return commandNames(app)
	}
	if subs := subcommandList(cmd); len(subs) > 0 {
		return subs
	}
	if cmd.Name == "completion" {
		return []string{"bash", "zsh", "fish"}
	}
	if cmd.Name != "help" {
		return nil
	}
	// The words typed between help and the one being completed.
	var before []string
	if i := slices.Index(args, "help"); i >= 0 && len(args) > 0 {
		for _, a := range args[i+1 : len(args)-1] {
			if !strings.HasPrefix(a, "-") {
				before = append(before, a)
			}
		}
	}
	switch len(before) {
	case 0:
		return commandNames(app)
	case 1:
		if sub := app.Command(before[0]); sub != nil {
			return subcommandList(sub)
		}
	}
	return nil
}

// subcommandList returns the names of cmd's subcommands, without the help
// subcommand urfave/cli adds.
func subcommandList(cmd *cli.Command) []string {
	var names []string
	for _, s := range cmd.Subcommands {
		if s.Name != "help" && !s.Hidden {
			names = append(names, s.Name)
		}
	}
	return names
}

// helpCommand is `ddbrewind help [COMMAND]`, the same as --help.
func helpCommand() *cli.Command {
	cmd := printingCommand("help", "show help for ddbrewind or one of its commands", "ddbrewind help [COMMAND [SUBCOMMAND]]")
	cmd.HideHelpCommand = true
	cmd.Action = func(c *cli.Context) error {
		switch c.NArg() {
		case 0:
			return cli.ShowAppHelp(c)
		case 1:
			name := c.Args().First()
			cmd := c.App.Command(name)
			if cmd == nil {
				return unknownCommand(c.App, name)
			}
			if len(subcommandList(cmd)) > 0 {
				// The same as ddbrewind batch --help: with its
				// subcommands, which ShowCommandHelp leaves out.
				return c.App.RunContext(c.Context, []string{c.App.Name, name, "--help"})
			}
			return cli.ShowCommandHelp(c, name)
		case 2:
			// help batch start: a subcommand's help, as gh and kubectl
			// give it (the same as ddbrewind batch start --help).
			name, sub := c.Args().Get(0), c.Args().Get(1)
			cmd := c.App.Command(name)
			if cmd == nil {
				return unknownCommand(c.App, name)
			}
			if len(subcommandList(cmd)) == 0 {
				return &usage.Error{Msg: fmt.Sprintf("help: unexpected argument %q: %s has no subcommands (see ddbrewind help %s)", sub, name, name)}
			}
			if !slices.Contains(subcommandList(cmd), sub) {
				return &usage.Error{Msg: fmt.Sprintf("help: %s has no subcommand %q: use %s (see ddbrewind help %s)", name, sub, subcommandNames(cmd), name)}
			}
			return c.App.RunContext(c.Context, []string{c.App.Name, name, sub, "--help"})
		default:
			return &usage.Error{Msg: fmt.Sprintf("help: unexpected argument %q: give a command, and a subcommand of it (see ddbrewind help)", c.Args().Get(2))}
		}
	}
	return cmd
}

// subcommandNames lists cmd's subcommands: "start or status".
func subcommandNames(cmd *cli.Command) string {
	names := subcommandList(cmd)
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
