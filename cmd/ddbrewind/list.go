package main

import (
	"fmt"
	"math"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// listFlags are list's own flags (the table in commands.go adds the global ones).
func listFlags() []cli.Flag {
	return []cli.Flag{
		sourceFlag("only recovery tables of this source table"),
		&cli.BoolFlag{Name: "backups", Usage: "list the on-demand backups of --table instead (newest first), to pick one for restore --backup"},
		tableFlag("the table whose backups --backups lists (name or ARN)"),
		outputFlag("table", "table (fits 80 columns for usual names), wide (every column) or json"),
	}
}

// listAction is list's action: it checks the flags, then lists the
// table's backups (--backups) or the recovery tables.
func listAction(c *cli.Context, env *Env) error {
	log, api, err := dynamoSession(c, env, nil)
	if err != nil {
		return err
	}
	format := c.String("output")
	if c.Bool("backups") {
		return listBackups(c, env, api, format)
	}
	tables, err := restore.List(c.Context, api, restore.ListOptions{Source: c.String("source"), Logger: log})
	if err != nil {
		return err
	}
	if format == "json" {
		return printJSONList(env.Out, tables)
	}
	if len(tables) == 0 {
		if src := c.String("source"); src != "" {
			fmt.Fprintf(env.Out, "no recovery tables of %s\n", src)
		} else {
			fmt.Fprintln(env.Out, "no recovery tables (tables ddbrewind restored and tagged) in this region")
		}
		return nil
	}
	return printRecoveryTables(env, tables, format == "wide")
}

// checkListFlags checks list's flags before any AWS call: --output, and
// --table with --backups only.
func checkListFlags(c *cli.Context) error {
	format := c.String("output")
	if format != "table" && format != "wide" && format != "json" {
		return &usage.Error{Msg: fmt.Sprintf("--output %q: use table, wide or json", format)}
	}
	switch {
	case c.Bool("backups") && c.String("table") == "":
		return &usage.Error{Msg: "list --backups: --table is required (the table whose backups to list)"}
	case c.Bool("backups") && c.String("source") != "":
		return &usage.Error{Msg: "list --backups lists the backups of --table; --source filters recovery tables: use one or the other"}
	case !c.Bool("backups") && c.String("table") != "":
		return &usage.Error{Msg: "list --table needs --backups (to list the recovery tables of a table, use --source TABLE)"}
	}
	return nil
}

// printRecoveryTables prints the recovery tables as a table: by default
// one that fits 80 columns for usual names, with the source and creation
// time too when wide. Counts DynamoDB has not made yet show as "-", with a
// line that says why.
func printRecoveryTables(env *Env, tables []restore.RecoveryTable, wide bool) error {
	tw := tabwriter.NewWriter(env.Out, 0, 4, 2, ' ', 0)
	if wide {
		fmt.Fprintln(tw, "NAME\tSOURCE\tRESTORE POINT\tCREATED\tSTATUS\tITEMS\tSIZE")
	} else {
		fmt.Fprintln(tw, "NAME\tRESTORE POINT\tSTATUS\tITEMS\tSIZE")
	}
	lagging := false
	for _, t := range tables {
		source, created := "", ""
		if wide {
			// The default name starts with the source's:
			// the source and creation time are in wide only.
			source, created = t.SourceTable+"\t", fmtTime(t.CreatedAt)+"\t"
		}
		items, size := countOf(t.ItemCount), fmtBytes(t.SizeBytes)
		if t.ItemCount == 0 && t.SizeBytes == 0 && (t.CreatedAt.IsZero() || env.Now().Sub(t.CreatedAt) < countLag) {
			// Not counted yet, rather than empty.
			items, size, lagging = "-", "-", true
		}
		fmt.Fprintf(tw, "%s\t%s%s\t%s%s\t%s\t%s\n", t.Name, source, fmtTime(t.RestorePoint),
			created, t.Status, items, size)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if lagging {
		fmt.Fprintln(env.Out, "-: not counted yet: DynamoDB updates a table's item count and size about every 6 hours")
	}
	return nil
}

// countLag is how often DynamoDB refreshes a table's ItemCount and
// TableSizeBytes: a younger table's zeros may mean "not counted yet".
const countLag = 6 * time.Hour

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// fmtBytes writes a size in bytes in binary units with one decimal
// ("1.2 GiB"), in the unit whose rounded value stays below 1024: a size
// just under 1 MiB is "1.0 MiB", never "1024.0 KiB".
func fmtBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, exp := float64(n)/unit, 0
	for exp < len("KMGTPE")-1 && math.Round(v*10)/10 >= unit {
		v /= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}

// listBackups prints the backups of --table, newest first.
func listBackups(c *cli.Context, env *Env, api restore.API, format string) error {
	backups, err := restore.ListBackups(c.Context, api, c.String("table"))
	if err != nil {
		return err
	}
	if format == "json" {
		return printJSONList(env.Out, backups)
	}
	if len(backups) == 0 {
		fmt.Fprintf(env.Out, "no backups of %s\n", c.String("table"))
		return nil
	}
	// The ARN (about 100 columns) goes last: the rest stays readable on
	// an 80-column terminal. The type is shown too (the contract's
	// columns: ARN, name, created, size, type), in wide as by default:
	// AWS_BACKUP is restored through AWS Backup, with --backup-role-arn.
	tw := tabwriter.NewWriter(env.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tSIZE\tTYPE\tSTATUS\tARN")
	for _, b := range backups {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", b.Name, fmtTime(b.Created), fmtBytes(b.SizeBytes), b.Type, b.Status, b.ARN)
	}
	return tw.Flush()
}
