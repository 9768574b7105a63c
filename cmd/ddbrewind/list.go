package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/restore"
)

func listCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "list",
		Usage:     "list the recovery tables ddbrewind made (tables carrying its tags)",
		UsageText: "ddbrewind list [--source TABLE] [--output table|json]",
		Flags: withGlobals(
			&cli.StringFlag{Name: "source", Usage: "only recovery tables of this source table"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", Usage: "table or json"},
		),
		Action: func(c *cli.Context) error {
			format := c.String("output")
			if format != "table" && format != "json" {
				return &usageError{Msg: fmt.Sprintf("--output %q: use table or json", format)}
			}
			log, err := newLogger(c, env)
			if err != nil {
				return err
			}
			api, err := dynamoClient(c.Context, c, nil, log)
			if err != nil {
				return err
			}
			tables, err := restore.List(c.Context, api, restore.ListOptions{Source: c.String("source"), Logger: log})
			if err != nil {
				return err
			}
			if format == "json" {
				if tables == nil {
					tables = []restore.RecoveryTable{}
				}
				enc := json.NewEncoder(env.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(tables)
			}
			tw := tabwriter.NewWriter(env.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSOURCE\tRESTORE POINT\tCREATED\tSTATUS\tITEMS\tSIZE")
			for _, t := range tables {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", t.Name, t.SourceTable, fmtTime(t.RestorePoint),
					fmtTime(t.CreatedAt), t.Status, t.ItemCount, fmtBytes(t.SizeBytes))
			}
			return tw.Flush()
		},
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
