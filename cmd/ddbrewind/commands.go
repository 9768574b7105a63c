package main

import "github.com/urfave/cli/v2"

// commandSpec is one row of the command table: a command's name, its
// one-line usage and synopsis for help, its own flags and its action.
type commandSpec struct {
	name        string
	usage       string
	synopsis    string
	description string                         // help's DESCRIPTION, if any
	flags       func() []cli.Flag              // the command's own flags; the global ones are added
	action      func(*cli.Context, *Env) error // runs the command
	required    []string                       // flags that must be given, checked before the action
	check       func(*cli.Context) error       // checks of the flags together, after required, before any AWS call
	takesArgs   bool                           // the action checks its arguments itself; others refuse any
	subcommands []commandSpec
}

// commandTable is ddbrewind's table of commands, in the order help lists
// them. A command's file holds its flags (xFlags) and its action (xAction);
// this table names them, and build adds what every command has.
func commandTable() []commandSpec {
	return []commandSpec{
		{
			name:     "restore",
			usage:    "restore a table to a point in time, or from a backup, as a new recovery table, and wait for it",
			synopsis: "ddbrewind restore --table NAME|ARN (--at TIME | --ago DURATION | --latest | --backup ARN | --backup-before TIME) [--recovery-table NAME] [options]",
			flags:    restoreFlags,
			required: []string{"table"},
			action:   restoreAction,
		},
		{
			name:     "export",
			usage:    "export a table to S3 as it was at a time (full export), or what changed in a window (incremental exports), and wait for it",
			synopsis: "ddbrewind export --table NAME|ARN (--at TIME | --since TIME [--until TIME]) --s3-bucket BUCKET [--s3-prefix PREFIX] [options]",
			description: "Prints each export's directory (s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT-ID/) on its own line, in time order. " +
				"Incremental windows last 15 minutes to 24 hours: a longer one is split into consecutive exports. " +
				"Running the same command again adopts the exports it already started instead of starting others.",
			flags:    exportFlags,
			required: []string{"table", "s3-bucket"},
			action:   exportAction,
		},
		{
			name:        "copy",
			usage:       "copy items from a recovery table back into the main table",
			synopsis:    "ddbrewind copy (--from RECOVERY | --from-export URL) --to MAIN [options]",
			description: copyExamples,
			flags:       copyFlags,
			check:       requiredSource,
			action:      copyAction,
		},
		{
			name:     "list",
			usage:    "list the recovery tables ddbrewind made (tables carrying its tags), or a table's backups",
			synopsis: "ddbrewind list [--source TABLE] [--output table|wide|json]\n   ddbrewind list --backups --table TABLE [--output table|wide|json]",
			flags:    listFlags,
			check:    checkListFlags,
			action:   listAction,
		},
		{
			name:     "cleanup",
			usage:    "delete recovery tables, and only those ddbrewind restored",
			synopsis: "ddbrewind cleanup (--recovery-table NAME... | --source TABLE | --older-than DURATION) [--dry-run] [--yes]",
			flags:    cleanupFlags,
			action:   cleanupAction,
		},
		{
			name:     "diff",
			usage:    "compare the same selection in the recovery table and the main table (exit 0 equal, 3 different)",
			synopsis: "ddbrewind diff (--from RECOVERY | --from-export URL) --to MAIN [selection flags] [--show N] [--output text|json]",
			flags:    diffFlags,
			check:    checkDiffFlags,
			action:   diffAction,
		},
		{
			name:     "undo",
			usage:    "put the main table back as it was before a copy, from the copy's --journal",
			synopsis: "ddbrewind undo --journal PATH --table MAIN [--dry-run] [--yes]",
			flags:    undoFlags,
			required: []string{"journal", "table"},
			action:   undoAction,
		},
		{
			name:  "run",
			usage: "restore, copy, verify and clean up in one resumable command",
			synopsis: "ddbrewind run --table T (--at TIME | --ago DURATION | --latest | --backup ARN | --backup-before TIME) [selection and copy flags] [--keep-recovery-table] [--state PATH]\n" +
				"   ddbrewind run --table T --since TIME [--until TIME] --s3-bucket B [--s3-prefix P] [copy flags] [--overwrite-conflicts | --overwrite-conflicts-keys FILE] [--accept-conflicts] [--keep-export] [--state PATH]",
			flags:  runFlags,
			action: runAction,
		},
		{
			name:     "show",
			usage:    "print past items of a recovery table or an export (the selection, exactly; from incremental exports, the changed keys as they were at the window's start) without writing anything",
			synopsis: "ddbrewind show (--from RECOVERY | --from-export URL [--table TABLE]) [selection flags] [-o jsonl|json|csv] [--limit N]",
			flags:    showFlags,
			check:    showSource,
			action:   showAction,
		},
		batchSpec(),
	}
}

// build turns a row of the table into a cli.Command: the global flags after
// the command's own, the checks of the required flags and of the flags
// together, and the one that refuses stray arguments unless the command
// takes some.
func (s commandSpec) build(env *Env) *cli.Command {
	var own []cli.Flag
	if s.flags != nil {
		own = s.flags()
	}
	action, names, check := s.action, s.required, s.check
	c := &cli.Command{
		Name:        s.name,
		Usage:       s.usage,
		UsageText:   s.synopsis,
		Description: s.description,
		Flags:       withGlobals(own...),
		Action: func(c *cli.Context) error {
			if err := required(c, names...); err != nil {
				return err
			}
			if check != nil {
				if err := check(c); err != nil {
					return err
				}
			}
			return action(c, env)
		},
	}
	if !s.takesArgs && len(s.subcommands) == 0 {
		c.Action = noStrayArgs(env, c.Action)
	}
	for _, sub := range s.subcommands {
		c.Subcommands = append(c.Subcommands, sub.build(env))
	}
	return c
}

// batchSpec is the row of batch, whose subcommands start and follow a
// chain of AWS Batch jobs.
func batchSpec() commandSpec {
	return commandSpec{
		name:     "batch",
		usage:    "run a rewind of any size on AWS Batch: submit it as a chain of jobs, follow it",
		synopsis: "ddbrewind batch start --job-queue Q --job-definition D --table T (restore point | --since TIME …) --workers K --state-prefix s3://B/P [flags]\n   ddbrewind batch status s3://B/P",
		action:   batchAction,
		subcommands: []commandSpec{
			{
				name:  "start",
				usage: "submit a rewind to AWS Batch (restore → copy split across K containers → diff → cleanup) and follow it",
				synopsis: "ddbrewind batch start --job-queue Q --job-definition D --table T (--at TIME | --ago DURATION | --latest | --backup ARN | --backup-before TIME) --workers K --state-prefix s3://B/P [selection and copy flags] [--no-wait]\n" +
					"   ddbrewind batch start --job-queue Q --job-definition D --table T --since TIME [--until TIME] --s3-bucket B --state-prefix s3://B/P [copy flags] [--no-wait]",
				flags:  batchStartFlags,
				action: batchStartAction,
			},
			{
				name:      "status",
				usage:     "follow a chain batch start submitted until it ends: each job's state, the copy's children done and the items their reports say written (exit code as run's)",
				synopsis:  "ddbrewind batch status [--no-wait] s3://BUCKET/PREFIX",
				flags:     batchStatusFlags,
				action:    batchStatusAction,
				takesArgs: true,
			},
		},
	}
}
