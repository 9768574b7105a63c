package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/restore"
)

// cleanupAction is cleanup's action.
func cleanupAction(c *cli.Context, env *Env) error {
	log, api, err := dynamoSession(c, env, nil)
	if err != nil {
		return err
	}
	plan, err := restore.PlanCleanup(c.Context, api, restore.CleanupOptions{
		Tables:                    c.StringSlice("recovery-table"),
		Source:                    c.String("source"),
		OlderThan:                 c.Duration("older-than"),
		DisableDeletionProtection: c.Bool("disable-deletion-protection"),
		Wait:                      c.Bool("wait"),
		Timeout:                   c.Duration("timeout"),
		Now:                       env.Now,
		Logger:                    log,
	})
	if err != nil {
		return err
	}
	if len(plan.Tables) == 0 && len(plan.Skipped) == 0 {
		log.Info("no recovery table matches; nothing to delete")
		return nil
	}
	names := make([]string, len(plan.Tables))
	for i, t := range plan.Tables {
		names[i] = t.Name
	}
	if c.Bool("dry-run") {
		for _, n := range names {
			fmt.Fprintf(env.Out, "would delete %s\n", n)
		}
		printSkipped(env, plan, "would skip")
		return nil
	}
	if len(names) == 0 {
		printSkipped(env, plan, "skipped")
		return nil
	}
	if err := confirm(c.Context, env, gBool(c, "yes"), fmt.Sprintf("delete %s: %s", countNoun(int64(len(names)), "recovery table"), strings.Join(names, ", "))); err != nil {
		return err
	}
	deleted, err := plan.Execute(c.Context, api)
	for _, n := range deleted {
		fmt.Fprintf(env.Out, "deleted %s\n", n)
	}
	printSkipped(env, plan, "skipped")
	return err
}

// printSkipped prints a line for each table --source/--older-than picked
// but left alone because it is still being created: "would skip R (still
// being created)" in a dry run, "skipped R (…)" after a cleanup, so that
// the output of both names every table the selection matched.
func printSkipped(env *Env, plan *restore.CleanupPlan, verb string) {
	for _, t := range plan.Skipped {
		fmt.Fprintf(env.Out, "%s %s (still being created)\n", verb, t.Name)
	}
}

// cleanupFlags are cleanup's own flags (the table in commands.go adds the global ones).
func cleanupFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "recovery-table", Usage: "recovery table to delete (repeatable)"},
		sourceFlag("delete the recovery tables of this source table"),
		&cli.DurationFlag{Name: "older-than", Usage: "delete recovery tables created more than this long ago, e.g. 72h"},
		dryRunFlag("show what would be deleted, delete nothing"),
		&cli.BoolFlag{Name: "disable-deletion-protection", Usage: "turn off deletion protection on a recovery table so it can be deleted"},
		waitFlag("the tables are gone", "return at once"),
		timeoutFlag(time.Hour, "the deletion"),
	}
}
