package main

import "github.com/urfave/cli/v2"

// flagGroup is the help group of a flag, so that a command's help reads
// by purpose instead of as one list of thirty flags: what is read and
// written (required first), where the past comes from, which items, how they are written, safety, speed, state, and
// the flags every command takes. "" leaves a flag ungrouped (listed
// first).
func flagGroup(name string) string {
	switch name {
	case "from", "to", "table":
		return "Tables"
	case "from-export", "allow-other-table", "recovery-table", "source",
		"at", "ago", "latest", "backup", "backup-before", "since", "until", "s3-bucket", "s3-prefix":
		return "Past state"
	case "key-condition-expression", "filter-expression", "expression-attribute-names", "expression-attribute-values", "keys-file":
		return "Selection"
	case "only-missing", "delete-extra", "if-main", "overwrite-conflicts":
		return "Write mode"
	case "dry-run", "journal", "max-retry-time", "no-verify", "keep-recovery-table", "keep-export":
		return "Safety"
	case "segments", "page-size", "writers", "max-wcu", "worker-index", "worker-count":
		return "Speed"
	case "checkpoint", "report", "state", "progress-interval":
		return "State and reports"
	case "region", "profile", "endpoint-url", "log-format", "log-level", "no-progress", "yes":
		return "Global (any command, before or after its name)"
	}
	return ""
}

// groupOrder is the order of the groups in a command's help.
var groupOrder = [...]string{"Tables", "Past state", "Selection", "Write mode", "Safety", "Speed", "State and reports", "Global (any command, before or after its name)"}

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
   {{.Name}}:{{end}}{{range .Flags}}
   {{.}}{{end}}
{{end}}{{end}}`
	}
	// urfave/cli adds --help after it groups the flags: name it here.
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
		g := flagGroup(f.Names()[0])
		switch x := f.(type) {
		case *cli.StringFlag:
			x.Category = g
		case *cli.BoolFlag:
			x.Category = g
		case *cli.IntFlag:
			x.Category = g
		case *cli.Int64Flag:
			x.Category = g
		case *cli.Float64Flag:
			x.Category = g
		case *cli.DurationFlag:
			x.Category = g
		case *cli.StringSliceFlag:
			x.Category = g
		case *cli.TimestampFlag:
			x.Category = g
		}
	}
	return true
}
