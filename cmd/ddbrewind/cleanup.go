package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// cleanupAction is cleanup's action.
func cleanupAction(c *cli.Context, env *Env) error {
	if c.Bool("missing-ok") && len(c.StringSlice("recovery-table")) == 0 {
		return &usage.Error{Msg: "cleanup --missing-ok goes with --recovery-table NAME: it lets a named table that is gone already count as deleted"}
	}
	log, api, err := dynamoSession(c, env, nil)
	if err != nil {
		return err
	}
	names := c.StringSlice("recovery-table")
	if c.Bool("missing-ok") {
		if names, err = presentTables(c.Context, api, log, names); err != nil {
			return err
		}
		if len(names) == 0 {
			return nil
		}
	}
	plan, err := restore.PlanCleanup(c.Context, api, restore.CleanupOptions{
		Tables:                    names,
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
	names = make([]string, len(plan.Tables))
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

// presentTables returns the names of those tables that exist (DescribeTable),
// logging each one that is gone already: for cleanup --missing-ok, the
// cleanup job of a batch start chain, whose retry after its first attempt
// deleted the table (killed while it waited) has nothing left to do.
func presentTables(ctx context.Context, api *dynamodb.Client, log *slog.Logger, names []string) ([]string, error) {
	var present []string
	for _, name := range names {
		if err := tables.ValidateName("--recovery-table", name); err != nil {
			return nil, err
		}
		_, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		switch {
		case awserr.IsNotFound(err):
			log.Info("recovery table is gone already: nothing to delete", "table", name)
		case err != nil:
			return nil, fmt.Errorf("cleanup %s: describe table: %w", name, err)
		default:
			present = append(present, name)
		}
	}
	return present, nil
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
		&cli.BoolFlag{Name: "missing-ok", Usage: "with --recovery-table: a table that is gone already counts as deleted (exit 0; batch start's cleanup job, retried after deleting it)"},
		&cli.BoolFlag{Name: "disable-deletion-protection", Usage: "turn off deletion protection on a recovery table so it can be deleted"},
		waitFlag("the tables are gone", "return at once"),
		timeoutFlag(time.Hour, "the deletion"),
	}
}
