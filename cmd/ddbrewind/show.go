package main

import (
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
)

func showCommand(env *Env) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "print past items of a recovery table (the selection, exactly) without writing anything",
		UsageText: "ddbrewind show --from RECOVERY [selection flags] [-o jsonl|json|csv] [--limit N]",
		Flags: withGlobals(append([]cli.Flag{
			&cli.StringFlag{Name: "from", Usage: "recovery table to read (required)"},
		}, append(selectionFlags(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: copier.ShowJSONL, Usage: "jsonl (typed DynamoDB JSON, one item a line), json (one array) or csv (a column per attribute name)"},
			&cli.Int64Flag{Name: "limit", Usage: "print at most N items (default: all)"},
			&cli.IntFlag{Name: "writers", Value: copier.DefaultWriters, Usage: "concurrent readers"},
			&cli.DurationFlag{Name: "max-retry-time", Usage: "give up on a call after retrying it this long (default: retry forever)"},
		)...)...),
		Action: func(c *cli.Context) error {
			if err := required(c, "from"); err != nil {
				return err
			}
			if err := positive(c, "writers", "page-size"); err != nil {
				return err
			}
			log, err := newLogger(c, env)
			if err != nil {
				return err
			}
			sel, err := selection(c)
			if err != nil {
				return err
			}
			stats := &copier.Stats{}
			api, err := dynamoClient(c.Context, c, stats, log)
			if err != nil {
				return err
			}
			files, err := stateFiles(c.Context, c, env, "", sel.KeysFile)
			if err != nil {
				return err
			}
			opts := copier.ShowOptions{Options: copier.Options{
				From: c.String("from"), Selection: sel, Files: files,
				Segments: c.Int("segments"), PageSize: c.Int("page-size"), Writers: c.Int("writers"),
				MaxRetryTime: c.Duration("max-retry-time"), Stats: stats, Logger: log, Now: env.Now,
			}, Format: c.String("output"), Limit: c.Int64("limit")}
			plan, err := copier.PrepareShow(c.Context, api, opts)
			if err != nil {
				return err
			}
			defer plan.Close()
			n, err := plan.Show(c.Context, api, env.Out, opts.Format, opts.Limit)
			if err != nil {
				return err
			}
			log.Info("show", "from", opts.From, "items", n, "read", stats.Read.Load())
			return nil
		},
	}
}
