package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
)

// The flags that several commands take, one constructor per meaning: the
// name, type and default are written once. Where the commands word a flag
// differently (what --table names, what --writers do), the constructor
// takes the words that differ.

// fromExportFlag is --from-export, of copy and diff.
func fromExportFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "from-export", Usage: "read the past state from a DynamoDB export in S3 instead of a table: " +
		"the export's directory s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/ or its manifest-summary.json (one full export, or incremental exports in time order, repeated; see docs/exports.md)"}
}

// selectionFlags are shared by copy, diff and run.
func selectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "key-condition-expression", Usage: "select a key range with Query (reads only the slice), e.g. 'pk = :p'"},
		&cli.StringFlag{Name: "filter-expression", Usage: "server-side filter on the Scan or Query, e.g. '#s = :s'"},
		&cli.StringFlag{Name: "expression-attribute-names", Usage: "placeholders for attribute names as JSON, e.g. '{\"#s\":\"status\"}', or file://PATH"},
		&cli.StringFlag{Name: "expression-attribute-values", Usage: "placeholders for values as typed DynamoDB JSON, e.g. '{\":p\":{\"S\":\"tenant#42\"}}', or file://PATH"},
		&cli.StringFlag{Name: "keys-file", Usage: "JSON Lines file (local path, s3://bucket/key, or - for stdin), one typed primary key per line: exactly those items (BatchGetItem)"},
		&cli.IntFlag{Name: "segments", Usage: "parallel Scan segments, or with --from-export data files read at once; required with --worker-count, except with --from-export; see docs/tuning.md (default: from the table size and item count, or a resumed checkpoint's; 4 with --from-export)"},
		&cli.IntFlag{Name: "page-size", Value: copier.DefaultPageSize, Usage: "items per Scan or Query page (DynamoDB also ends a page at 1 MB); smaller pages use less memory and make finer checkpoints"},
	}
}

// parseFlag sets *to to the value of flag name parsed by parse (which
// names the flag in its errors), when the flag is given.
func parseFlag[T any](c *cli.Context, name string, parse func(flag, value string) (T, error), to *T) error {
	s := c.String(name)
	if s == "" {
		return nil
	}
	v, err := parse("--"+name, s)
	if err != nil {
		return err
	}
	*to = v
	return nil
}

// tableFlag is --table; usage says which table it names.
func tableFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "table", Usage: usage} }

// fromFlag is --from, the recovery table read.
func fromFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "from", Usage: usage} }

// toFlag is --to, the main table.
func toFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "to", Usage: usage} }

// fromToFlags are the flags of copy and diff that name the past state
// (--from with fromUsage, --from-export) and the main table (--to with
// toUsage), with --allow-other-table.
func fromToFlags(fromUsage, toUsage string) []cli.Flag {
	return []cli.Flag{fromFlag(fromUsage), toFlag(toUsage), fromExportFlag(), allowOtherTableFlag("--to")}
}

// allowOtherTableFlag is --allow-other-table: than names the flag that
// gives the table an export's manifest must name.
func allowOtherTableFlag(than string) cli.Flag {
	return &cli.BoolFlag{Name: "allow-other-table", Usage: "accept a --from-export export whose manifest names another table than " + than}
}

// sourceFlag is --source, a source table whose recovery tables are meant.
func sourceFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "source", Usage: usage} }

// journalFlag is --journal, the undo journal a copy writes and undo reads.
func journalFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "journal", Usage: usage} }

// writersFlag is --writers: the concurrent callers (what they call).
func writersFlag(what string) cli.Flag {
	return &cli.IntFlag{Name: "writers", Value: copier.DefaultWriters, Usage: "concurrent " + what}
}

// maxWCUFlag is --max-wcu.
func maxWCUFlag(usage string) cli.Flag { return &cli.Float64Flag{Name: "max-wcu", Usage: usage} }

// maxRetryTimeFlag is --max-retry-time; unit is what is given up on (a
// batch of writes, a call).
func maxRetryTimeFlag(unit string) cli.Flag {
	return &cli.DurationFlag{Name: "max-retry-time", Usage: "give up on a " + unit + " after retrying it this long (default: retry forever)"}
}

// dryRunFlag is --dry-run; usage says what is still done.
func dryRunFlag(usage string) cli.Flag { return &cli.BoolFlag{Name: "dry-run", Usage: usage} }

// reportFlag is --report, the JSON summary.
func reportFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "report", Usage: usage} }

// progressIntervalFlag is --progress-interval.
func progressIntervalFlag() cli.Flag {
	return &cli.DurationFlag{Name: "progress-interval", Value: 30 * time.Second, Usage: "log progress this often when not on a terminal"}
}

// waitFlag is --wait (on by default): wait until what is awaited is done,
// or with --wait=false do what otherwise says.
func waitFlag(until, otherwise string) cli.Flag {
	return &cli.BoolFlag{Name: "wait", Value: true, Usage: "wait until " + until + " (--wait=false to " + otherwise + ")"}
}

// timeoutFlag is --timeout, how long --wait waits for what.
func timeoutFlag(d time.Duration, what string) cli.Flag {
	return &cli.DurationFlag{Name: "timeout", Value: d, Usage: "how long to wait for " + what}
}

// noWaitFlag and pollIntervalFlag are how batch start and batch status
// follow a chain.
func noWaitFlag(usage string) cli.Flag { return &cli.BoolFlag{Name: "no-wait", Usage: usage} }

func pollIntervalFlag() cli.Flag {
	return &cli.DurationFlag{Name: "poll-interval", Value: 30 * time.Second, Usage: "how often to look at the jobs while following"}
}

// outputFlag is --output (-o), the format of what is printed on stdout.
func outputFlag(value, usage string) cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: value, Usage: usage}
}

// The flags of an export, of export and run --since.

func sinceFlag(usage string) cli.Flag    { return &cli.StringFlag{Name: "since", Usage: usage} }
func untilFlag(usage string) cli.Flag    { return &cli.StringFlag{Name: "until", Usage: usage} }
func s3BucketFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "s3-bucket", Usage: usage} }
func s3PrefixFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "s3-prefix", Usage: usage} }

// sseKMSKeyFlag is --sse-kms-key, the KMS key of what a command creates.
func sseKMSKeyFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "sse-kms-key", Usage: usage} }

// The write mode of a copy, which diff --after-copy is told too.

func onlyMissingFlag(usage string) cli.Flag { return &cli.BoolFlag{Name: "only-missing", Usage: usage} }
func deleteExtraFlag(usage string) cli.Flag { return &cli.BoolFlag{Name: "delete-extra", Usage: usage} }
func ifMainFlag(usage string) cli.Flag      { return &cli.StringFlag{Name: "if-main", Usage: usage} }
func skipExpiredFlag(usage string) cli.Flag { return &cli.BoolFlag{Name: "skip-expired", Usage: usage} }

// atFlag is --at, the point in time a command reads the table as.
func atFlag(usage string) cli.Flag { return &cli.StringFlag{Name: "at", Usage: usage} }
