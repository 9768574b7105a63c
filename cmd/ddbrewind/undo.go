package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
)

// undoAction is undo's action.
func undoAction(c *cli.Context, env *Env) error {
	if err := distinctPaths(statePath{"--journal", c.String("journal")}, statePath{"--report", c.String("report")}); err != nil {
		return err
	}
	if err := localDirs(statePath{"--report", c.String("report")}); err != nil {
		return err
	}
	stats := &copier.Stats{}
	log, api, err := dynamoSession(c, env, stats)
	if err != nil {
		return err
	}
	files, err := stateFiles(c.Context, c, env, "", c.String("journal"), c.String("report"))
	if err != nil {
		return err
	}
	opts := copier.UndoOptions{Options: copier.Options{Files: files,
		To: c.String("table"), Journal: c.String("journal"), Writers: c.Int("writers"),
		MaxWCU: c.Float64("max-wcu"), MaxRetryTime: c.Duration("max-retry-time"), DryRun: c.Bool("dry-run"),
		Stats: stats, Logger: log, Now: env.Now,
	}}
	plan, err := copier.PrepareUndo(c.Context, api, opts)
	if err != nil {
		return err
	}
	defer plan.Close() // a refusal below must not leave a downloaded journal
	if !opts.DryRun {
		if err := confirm(c.Context, env, gBool(c, "yes"), fmt.Sprintf("put back %s of main table %s (overwrite or delete)", countNoun(int64(plan.Records()), "journaled item"), opts.To)); err != nil {
			return err
		}
	}
	log.Info("undo starting", "table", opts.To, "journal", opts.Journal, "records", plan.Records(), "dry_run", opts.DryRun)
	r := startProgress(c, env, log, "undo", stats)
	sum, runErr := plan.Run(c.Context, api)
	r.Stop()
	return finish(c, env, files, log, "undo", c.String("report"), sum, runErr, "")
}

// undoFlags are undo's own flags (the table in commands.go adds the global ones).
func undoFlags() []cli.Flag {
	return []cli.Flag{
		journalFlag("journal written by copy --journal (required)"),
		tableFlag("main table the journal records (required)"),
		writersFlag("BatchWriteItem callers"),
		maxWCUFlag("cap the write capacity units consumed per second"),
		maxRetryTimeFlag("batch"),
		dryRunFlag("read the journal and count, write nothing"),
		reportFlag("write the summary as JSON to PATH (- for stdout)"),
		progressIntervalFlag(),
	}
}
