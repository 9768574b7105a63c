package main

import (
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
)

// flagGroup is the help group of a flag, so that a command's help reads
// by purpose instead of as one list of thirty flags: what is read and
// written (required first), where the past comes from, which items, how they are written, safety, speed, state, and
// the flags every command takes. "" leaves a flag ungrouped (listed
// first).
func flagGroup(name string) string {
	switch name {
	case "job-queue", "job-definition", "state-prefix", "workers", "no-wait", "poll-interval":
		return "AWS Batch"
	case "from", "to", "table":
		return "Tables"
	case "from-export", "allow-other-table", "recovery-table", "source",
		"at", "ago", "latest", "backup", "backup-before", "since", "until", "s3-bucket", "s3-prefix":
		return "Past state"
	case "key-condition-expression", "filter-expression", "expression-attribute-names", "expression-attribute-values", "keys-file":
		return "Selection"
	case "only-missing", "delete-extra", "if-main", "overwrite-conflicts", "overwrite-conflicts-keys", "accept-conflicts":
		return "Write mode"
	case "dry-run", "journal", "max-retry-time", "no-verify", "keep-recovery-table", "keep-export":
		return "Safety"
	case "segments", "page-size", "writers", "max-wcu", "worker-index", "worker-count":
		return "Speed"
	case "checkpoint", "report", "state", "progress-interval":
		return "State and reports"
	case "region", "profile", "endpoint-url", "log-format", "log-level", "no-progress", "yes", "s3-bucket-owner":
		return "Global (any command, before or after its name)"
	}
	return ""
}

// groupOrder is the order of the groups in a command's help.
var groupOrder = [...]string{"AWS Batch", "Tables", "Past state", "Selection", "Write mode", "Safety", "Speed", "State and reports", "Global (any command, before or after its name)"}

// groupedHelpTemplate is the help of a command whose flags are grouped:
// urfave/cli's command help with the groups in groupOrder (it sorts them
// by name), any ungrouped flag, and --help last.
var groupedHelpTemplate = func() string {
	t := `NAME:
   {{template "helpNameTemplate" .}}

USAGE:
   {{template "usageTemplate" .}}{{if .Description}}

DESCRIPTION:
   {{template "descriptionTemplate" .}}{{end}}

OPTIONS:`
	for _, g := range append(groupOrder[:], "") {
		t += `{{range .VisibleFlagCategories}}{{if eq .Name "` + g + `"}}{{if .Name}}
   {{.Name}}:{{end}}{{range .Flags}}{{if ne (index .Names 0) "help"}}
   {{.}}{{end}}{{end}}
{{end}}{{end}}`
	}
	// urfave/cli adds --help after it groups a command's flags (a
	// subcommand's before: left out above): name it here, once.
	return t + `
   --help, -h  show help
`
}()

// groupFlags sets the help group of a command's flags (see flagGroup),
// for commands with enough flags to need groups, and reports whether it
// did.
func groupFlags(flags []cli.Flag) bool {
	own := 0
	for _, f := range flags {
		if flagGroup(f.Names()[0]) != groupOrder[len(groupOrder)-1] {
			own++
		}
	}
	if own < 12 {
		return false
	}
	for _, f := range flags {
		if category := flagString(f, "Category"); category != nil {
			*category = flagGroup(f.Names()[0])
		}
	}
	return true
}

// helpRequested reports whether the command line asks for help (--help,
// -h, or the help command): only then are the flags' usage texts wrapped.
func helpRequested(args []string) bool {
	for i, a := range args {
		if a == "--help" || a == "-h" || (i == 1 && a == "help") {
			return true
		}
	}
	return false
}

// wrapUsages wraps each flag's usage text to the terminal's width, in the
// help's usage column: urfave/cli prints a flag as "   NAMES\tUSAGE
// (default: …)" through a tabwriter (padding 2), so a continuation line
// starting with a tab lands in that column. The column is per group when
// grouped (a group's header line ends the tabwriter's column block), else
// one for all the flags. A usage whose column would be under 30 columns
// is left as it is.
func wrapUsages(flags []cli.Flag, grouped bool, width int) {
	names := func(f cli.Flag) (string, string) {
		n, rest, _ := strings.Cut(f.String(), "\t")
		return n, rest
	}
	col := map[string]int{}
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		g := ""
		if grouped {
			g = flagGroup(f.Names()[0])
		}
		n, _ := names(f)
		col[g] = max(col[g], 3+utf8.RuneCountInString(n)+2)
	}
	for _, f := range flags {
		g := ""
		if grouped {
			g = flagGroup(f.Names()[0])
		}
		avail := width - 1 - col[g]
		if avail < 30 {
			continue
		}
		usage, defText := usageOf(f)
		if usage == nil {
			continue
		}
		_, rest := names(f)
		def, hasDef := strings.CutPrefix(strings.TrimPrefix(rest, strings.TrimSpace(*usage)), " (default: ")
		def = strings.TrimSuffix(def, ")")
		if !hasDef || defText == nil {
			*usage = strings.Join(wrapWords(*usage, avail), "\n\t")
			continue
		}
		// The default is wrapped with the usage: urfave/cli prints
		// USAGE + " (default: " + DEFAULT + ")".
		words := append(strings.Fields(*usage), "(default:")
		nUsage := len(words) - 1
		words = append(words, strings.Fields(def+")")...)
		var u, d strings.Builder
		n := 0 // columns on the current line
		for i, w := range words {
			sep := ""
			if i > 0 {
				sep = " "
				if n+1+utf8.RuneCountInString(w) > avail {
					sep, n = "\n\t", 0
				} else {
					n++
				}
			}
			n += utf8.RuneCountInString(w)
			switch {
			case i < nUsage:
				u.WriteString(sep + w)
			case i == nUsage: // "(default:": urfave/cli writes it with a space
				if sep != " " {
					u.WriteString(sep)
				}
			case i == nUsage+1 && sep == " ":
				d.WriteString(w)
			default:
				d.WriteString(sep + w)
			}
		}
		*usage = u.String()
		*defText = strings.TrimSuffix(d.String(), ")")
	}
}

// usageOf returns pointers to a flag's usage text and default text (nil
// for a boolean, whose default ddbrewind never shows).
func usageOf(f cli.Flag) (usage, defText *string) {
	if _, ok := f.(*cli.BoolFlag); ok {
		return flagString(f, "Usage"), nil
	}
	return flagString(f, "Usage"), flagString(f, "DefaultText")
}

// flagString returns a pointer to the string field name (Usage,
// DefaultText, Category) of one of urfave/cli's flag structs, which all
// have them, or nil for a flag that has no such field.
func flagString(f cli.Flag, name string) *string {
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	field := v.Elem().FieldByName(name)
	if !field.IsValid() || field.Kind() != reflect.String || !field.CanSet() {
		return nil
	}
	return field.Addr().Interface().(*string)
}

// wrapWords splits s into lines of at most width columns, between words
// (a longer word gets a line of its own).
func wrapWords(s string, width int) []string {
	var lines []string
	cur := ""
	for _, w := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = w
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(w) <= width:
			cur += " " + w
		default:
			lines = append(lines, cur)
			cur = w
		}
	}
	return append(lines, cur)
}
