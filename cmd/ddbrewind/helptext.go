package main

import (
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// defaultInUsage matches a "(default: …)" written at the end of a flag's
// usage text.
var defaultInUsage = regexp.MustCompile(`\s*\(default: ([^()]*(?:\([^()]*\))?[^()]*)\)$`)

// tidyHelp makes every flag's help show one default, and a meaningful
// one: a default spelled out in the usage text ("(default: retry
// forever)") becomes the flag's default text instead of being followed by
// urfave/cli's own ("(default: 0s)"); a zero number or duration with no
// meaning reads "none"; false booleans show no default.
func tidyHelp(flags []cli.Flag) {
	for _, f := range flags {
		var usage, defText *string
		zero := false
		switch x := f.(type) {
		case *cli.BoolFlag:
			if !x.Value {
				x.DisableDefaultText = true
			}
			continue
		case *cli.IntFlag:
			usage, defText, zero = &x.Usage, &x.DefaultText, x.Value == 0
		case *cli.Int64Flag:
			usage, defText, zero = &x.Usage, &x.DefaultText, x.Value == 0
		case *cli.Float64Flag:
			usage, defText, zero = &x.Usage, &x.DefaultText, x.Value == 0
		case *cli.DurationFlag:
			usage, defText, zero = &x.Usage, &x.DefaultText, x.Value == 0
		case *cli.StringFlag:
			usage, defText = &x.Usage, &x.DefaultText
		default:
			continue
		}
		if m := defaultInUsage.FindStringSubmatch(*usage); m != nil && *defText == "" {
			*defText = m[1]
			*usage = strings.TrimSpace(defaultInUsage.ReplaceAllString(*usage, ""))
		}
		if zero && *defText == "" {
			*defText = "none"
		}
	}
}
