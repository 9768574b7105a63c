package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// showAction is show's action.
func showAction(c *cli.Context, env *Env) error {
	ro, log, api, err := readOptions(c, env, c.String("table"))
	if err != nil {
		return err
	}
	stats, exports := ro.Stats, ro.FromExport
	opts := copier.ShowOptions{Options: ro, Format: c.String("output"), Limit: c.Int64("limit")}
	plan, err := copier.PrepareShow(c.Context, api, opts)
	if err != nil {
		return err
	}
	defer plan.Close()
	n, err := plan.Show(c.Context, api, env.Out, opts.Format, opts.Limit)
	if err != nil {
		return err
	}
	from := opts.From
	if from == "" {
		from = strings.Join(exports, ",")
	}
	log.Info("show", "from", from, "items", n, "read", stats.Read.Load())
	return nil
}

// showFlags are show's own flags (the table in commands.go adds the global ones).
func showFlags() []cli.Flag {
	return append([]cli.Flag{
		fromFlag("recovery table to read (required, unless --from-export)"),
		fromExportFlag(),
		tableFlag("with --from-export: the table whose key schema selects the export's items (an export manifest does not record the key schema); default: the table the manifest names (tableArn); needed only when that table is gone; it is described, never read"),
		allowOtherTableFlag("--table (same key schema)"),
	}, append(selectionFlags(),
		outputFlag(copier.ShowJSONL, "jsonl (typed DynamoDB JSON, one item a line), json (one array) or csv (a column per attribute name)"),
		&cli.Int64Flag{Name: "limit", Usage: "print at most N items (default: all)"},
		writersFlag("readers"),
		maxRetryTimeFlag("call"),
	)...)
}

// showSource refuses a show without exactly one of --from and
// --from-export, or --table without --from-export.
func showSource(c *cli.Context) error {
	from, exports, table := c.String("from"), c.StringSlice("from-export"), c.String("table")
	switch {
	case from == "" && len(exports) == 0:
		return &usage.Error{Msg: "show: --from RECOVERY_TABLE or --from-export URL is required (see ddbrewind show --help)"}
	case from != "" && len(exports) > 0:
		return &usage.Error{Msg: "show: --from and --from-export both name the past state: give one of them"}
	case from != "" && table != "":
		return &usage.Error{Msg: fmt.Sprintf("show: --table %s is only for --from-export: --from %s has its own key schema", table, from)}
	}
	return nil
}
