package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/progress"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// selection reads the selection flags. A keys file read from stdin
// (--keys-file -) is refused when stdin is a terminal: keys are piped or
// redirected, never typed, and the command would wait without a word.
func selection(c *cli.Context, env *Env) (copier.Selection, error) {
	s := copier.Selection{
		KeyCondition: c.String("key-condition-expression"),
		Filter:       c.String("filter-expression"),
		KeysFile:     c.String("keys-file"),
	}
	if s.KeysFile == "-" && env.StdinTTY {
		return s, &usage.Error{Msg: fmt.Sprintf("%s --keys-file -: stdin is a terminal, not a keys file: pipe or redirect the keys into it (--keys-file - < keys.jsonl), or give the file's path", commandPath(c))}
	}
	if err := parseFlag(c, "expression-attribute-names", ddbjson.ParseNames, &s.Names); err != nil {
		return s, err
	}
	return s, parseFlag(c, "expression-attribute-values", ddbjson.ParseValues, &s.Values)
}

// copyFlags are copy's own flags (the table in commands.go adds the global
// ones); run and batch start take most of them.
func copyFlags() []cli.Flag {
	flags := append(fromToFlags("recovery table to read (required, unless --from-export)", "main table to write (required)"),
		&cli.BoolFlag{Name: "overwrite-conflicts", Usage: "with incremental exports: also rewind items written again after the window (by default they are left alone, listed and exit 3)"},
		&cli.StringFlag{Name: "overwrite-conflicts-keys", Usage: "with incremental exports: also rewind the items written again after the window whose keys are in this file (JSON Lines, one key per line, like --keys-file; local or s3://); the other conflicts are left alone"},
		&cli.BoolFlag{Name: "accept-conflicts", Usage: "with incremental exports: leave the items written again after the window alone and succeed (exit 0; they are listed in the report)"},
	)
	return append(append(flags, selectionFlags()...),
		onlyMissingFlag("write an item only where the main table has no item with its key (never clobbers)"),
		deleteExtraFlag("also delete main items of the selection that the recovery table lacks"),
		ifMainFlag("overwrite or delete a main item only while its current version satisfies this condition, e.g. 'lastWriter = :badjob'"),
		skipExpiredFlag("leave out the items whose TTL attribute (the main table's) is already in the past: DynamoDB would delete them again (counted as expired)"),
		maxWCUFlag("cap the write capacity units consumed per second (protects live traffic) (default: no cap)"),
		&cli.StringFlag{Name: "checkpoint", Usage: "record progress in PATH; running the same command again resumes"},
		journalFlag("before overwriting or deleting, append the main table's current version of each item to PATH (JSON Lines) for ddbrewind undo"),
		sseKMSKeyFlag("KMS key id, ARN or alias to encrypt the s3:// checkpoint, journal and report with (SSE-KMS; default SSE-S3)"),
		writersFlag("BatchWriteItem callers"),
		&cli.IntFlag{Name: "worker-index", Usage: "this worker's index with --worker-count (default: AWS_BATCH_JOB_ARRAY_INDEX, else 0)"},
		&cli.IntFlag{Name: "worker-count", Value: 1, Usage: "number of workers splitting the segments (s % count == index), or an export's data files"},
		maxRetryTimeFlag("batch"),
		dryRunFlag("read and count, write nothing"),
		reportFlag("write the summary as JSON to PATH (- for stdout); with --worker-count above 1, each worker to PATH.worker-I-of-K"),
		progressIntervalFlag(),
	)
}

// copyExamples is copy's help DESCRIPTION: command lines for the usual cases.
const copyExamples = "Examples:\n" +
	"   ddbrewind copy --from REC --to orders --dry-run\n" +
	"   ddbrewind copy --from REC --to orders --journal undo.jsonl \\\n" +
	"     --checkpoint copy.ckpt --max-wcu 500\n" +
	"   ddbrewind copy --from REC --to orders \\\n" +
	"     --key-condition-expression 'pk = :p' \\\n" +
	"     --expression-attribute-values '{\":p\":{\"S\":\"customer#42\"}}'\n" +
	"   ddbrewind copy --from REC --to orders --keys-file keys.jsonl\n" +
	"   ddbrewind copy --from REC --to orders --if-main 'lastWriter = :bad' \\\n" +
	"     --expression-attribute-values '{\":bad\":{\"S\":\"job-7\"}}'\n" +
	"   # REC: the recovery table (ddbrewind list); see docs/copy.md"

// copyAction is copy's action.
func copyAction(c *cli.Context, env *Env) error {
	log, err := newLogger(c, env)
	if err != nil {
		return err
	}
	stats := &copier.Stats{}
	opts, err := copyOptions(c, env)
	if err != nil {
		return err
	}
	opts.Stats, opts.Logger = stats, log
	report := reportPath(c, opts)
	paths := []statePath{{"--checkpoint", opts.Checkpoint}, {"--journal", opts.Journal}, {"--report", report}}
	if err := distinctPaths(paths...); err != nil {
		return err
	}
	if err := localDirs(paths...); err != nil {
		return err
	}
	api, err := dynamoClient(c.Context, c, stats, log)
	if err != nil {
		return err
	}
	files, err := stateFilesS3(c.Context, c, env, c.String("sse-kms-key"), len(opts.FromExport) > 0, opts.Checkpoint, opts.Journal, report, opts.Selection.KeysFile, opts.OverwriteConflictsKeys)
	if err != nil {
		return err
	}
	opts.Files = files
	plan, err := copier.Prepare(c.Context, api, opts)
	if err != nil {
		return err
	}
	defer plan.Close() // a refusal below must not leave a downloaded keys file
	if plan.Complete() {
		sayDone(c, env, log, fmt.Sprintf("copy: checkpoint %s is complete: nothing left to copy; delete it to copy again", opts.Checkpoint))
		return nil
	}
	if !opts.DryRun {
		question := copyQuestion(opts, plan)
		if err := confirm(c.Context, env, gBool(c, "yes"), question); err != nil {
			return err
		}
	}
	log.Info("copy starting", append(append([]any{"from", plan.Source(), "to", opts.To}, readWith(opts, plan)...), "writers", opts.Writers,
		"estimated_items", plan.Estimate, "dry_run", opts.DryRun, "resumed", plan.Resumed())...)
	r := startProgress(c, env, log, "copy", stats)
	sum, runErr := plan.Run(c.Context, api)
	r.Stop()
	check := ""
	if !opts.DryRun {
		check = diffCommandLine(c, opts.From, opts.To)
	}
	return finish(c, env, files, log, "copy", report, sum, runErr, check)
}

// requiredSource refuses a copy or diff without --to, or without exactly
// one of --from and --from-export.
func requiredSource(c *cli.Context) error {
	name := c.Command.Name
	if err := required(c, "to"); err != nil {
		return err
	}
	switch from, exports := c.String("from"), c.StringSlice("from-export"); {
	case from == "" && len(exports) == 0:
		return &usage.Error{Msg: fmt.Sprintf("%s: --from RECOVERY_TABLE or --from-export URL is required (see ddbrewind %s --help)", name, name)}
	case from != "" && len(exports) > 0:
		return &usage.Error{Msg: fmt.Sprintf("%s: --from and --from-export both name the past state: give one of them", name)}
	}
	return nil
}

// copyOptions fills copier.Options from the flags.
func copyOptions(c *cli.Context, env *Env) (copier.Options, error) {
	sel, err := selection(c, env)
	if err != nil {
		return copier.Options{}, err
	}
	opts := copier.Options{
		From:                   c.String("from"),
		FromExport:             c.StringSlice("from-export"),
		AllowOtherTable:        c.Bool("allow-other-table"),
		OverwriteConflicts:     c.Bool("overwrite-conflicts"),
		OverwriteConflictsKeys: c.String("overwrite-conflicts-keys"),
		AcceptConflicts:        c.Bool("accept-conflicts"),
		To:                     c.String("to"),
		Selection:              sel,
		OnlyMissing:            c.Bool("only-missing"),
		DeleteExtra:            c.Bool("delete-extra"),
		IfMain:                 c.String("if-main"),
		MaxWCU:                 c.Float64("max-wcu"),
		Checkpoint:             c.String("checkpoint"),
		Journal:                c.String("journal"),
		Segments:               c.Int("segments"),
		PageSize:               c.Int("page-size"),
		Writers:                c.Int("writers"),
		WorkerIndex:            c.Int("worker-index"),
		WorkerCount:            c.Int("worker-count"),
		MaxRetryTime:           c.Duration("max-retry-time"),
		DryRun:                 c.Bool("dry-run"),
		SkipExpired:            c.Bool("skip-expired"),
		Stdin:                  env.In,
		MemoryLimit:            env.MemoryLimit,
		Now:                    env.Now,
	}
	if !c.IsSet("worker-index") && c.IsSet("worker-count") {
		if s := env.Getenv("AWS_BATCH_JOB_ARRAY_INDEX"); s != "" {
			i, err := strconv.Atoi(s)
			if err != nil {
				return opts, &usage.Error{Msg: fmt.Sprintf("AWS_BATCH_JOB_ARRAY_INDEX=%q is not a number", s)}
			}
			opts.WorkerIndex = i
		}
	}
	// Each worker of a split copy keeps its own checkpoint and journal
	// (and report: reportPath), so every child of an array job can be
	// given the same paths.
	if suffix := workerSuffix(opts.WorkerIndex, opts.WorkerCount); suffix != "" {
		if opts.Checkpoint != "" {
			opts.Checkpoint += suffix
		}
		if opts.Journal != "" {
			opts.Journal += suffix
		}
	}
	return opts, nil
}

// workerSuffix is what worker index of a copy split across count workers
// appends to its checkpoint, journal and report paths: "" for one worker.
func workerSuffix(index, count int) string {
	if count <= 1 {
		return ""
	}
	return fmt.Sprintf(".worker-%d-of-%d", index, count)
}

// reportPath is where copy writes its --report: with --worker-count above
// 1 each worker its own, PATH.worker-I-of-K, as its checkpoint and journal
// ("-", stdout, stays stdout). batch start's follower reads the children's
// reports there (chainReports).
func reportPath(c *cli.Context, o copier.Options) string {
	p := c.String("report")
	if p == "" || p == "-" {
		return p
	}
	return p + workerSuffix(o.WorkerIndex, o.WorkerCount)
}

// changedKnown reports whether a copy counted the items whose main
// version it changed: a dry run compares, --journal reads the before
// images, --only-missing writes only absent items, a rewind from
// incremental exports compares. A plain copy does not read the main table:
// its summary leaves "changed" out rather than say 0 (issue 22 row 7).
func changedKnown(c *cli.Context, step string, sum *copier.Summary) bool {
	switch {
	case step == "undo":
		return false
	case sum.DryRun, c.String("journal") != "", c.Bool("only-missing"):
		return true
	}
	return c.String("since") != "" || len(c.StringSlice("from-export")) > 1
}

// readWith is how a copy reads its source, for its starting log line:
// segments only where it scans in parallel (or reads an export's files
// at once); a key range is one Query, a keys file BatchGetItem.
func readWith(o copier.Options, plan *copier.Plan) []any {
	switch {
	case len(o.FromExport) > 0:
		return []any{"read", "export files", "segments", plan.Segments()}
	case o.Selection.KeysFile != "":
		return []any{"read", "BatchGetItem of the keys file"}
	case o.Selection.KeyCondition != "":
		return []any{"read", "Query"}
	}
	return []any{"read", "Scan", "segments", plan.Segments()}
}

// keptReason says why a copy keeps (does not write) items, from its write
// mode's flags.
func keptReason(c *cli.Context) string {
	switch {
	case c.Bool("only-missing"):
		return "already present"
	case c.String("if-main") != "":
		return "their --if-main condition was false"
	case c.String("since") != "" || len(c.StringSlice("from-export")) > 1:
		return "already in their state at the restore point"
	}
	return ""
}

// startProgress starts the progress renderer for stats.
func startProgress(c *cli.Context, env *Env, log *slog.Logger, label string, stats *copier.Stats) *progress.Renderer {
	return progress.Start(progress.Config{
		TTY:      env.StderrTTY && !gBool(c, "no-progress"),
		Out:      env.Err,
		Logger:   log,
		Interval: c.Duration("progress-interval"),
		Label:    label,
		Now:      env.Now,
		Width:    env.Width,
		// Ctrl-C or SIGTERM cancels the command's context.
		Interrupted: func() bool { return c.Context.Err() != nil },
	}, func() progress.Counters {
		s := stats.Snapshot()
		c := progress.Counters{Read: s.Read, Written: s.Written, Skipped: s.Skipped, Deleted: s.Deleted,
			Failed: s.Failed, Retries: s.Retries, Throttles: s.Throttles, Total: s.Estimated,
			Identical: s.Identical, Different: s.Different, Missing: s.MissingInMain, Extra: s.ExtraInMain,
			Throttled: topThrottle(s.ThrottlesByReason)}
		if label == "copy" || label == "undo" {
			// A copy's progress is the items written (what bounds it
			// under --max-wcu), and its delete phase's keys checked.
			c.Pending, c.DeletePhase, c.Checked = s.Pending(), s.DeletePhase, s.Checked
		}
		return c
	})
}

// finish logs the summary, writes the report and returns the run's error.
// On success it ends with the closing sentence (check: the command that
// checks the result, if any). The report goes to report, the --report
// PATH as resolved (reportPath); - writes it on stdout.
func finish(c *cli.Context, env *Env, files *statefile.Store, log *slog.Logger, step, report string, sum *copier.Summary, runErr error, check string) error {
	if sum == nil || (sum.Outcome == "" && runErr != nil) {
		// Refused before anything was read (a journal of another
		// table): no summary of a copy that did not start.
		return runErr
	}
	n := sum.Counts
	args := []any{"step", step, "outcome", sum.Outcome, "dry_run", sum.DryRun, "resumed", sum.Resumed, "from", sum.Source, "to", sum.Target,
		"read", n.Read, "matched", n.Matched, "written", n.Written, "skipped", n.Skipped, "deleted", n.Deleted, "failed", n.Failed}
	if changedKnown(c, step, sum) {
		args = append(args, "changed", n.Changed)
	}
	if m := sum.MainTable; m != nil && m.TTLAttribute != "" {
		args = append(args, "expired", n.Expired)
	}
	args = append(args, "not_in_recovery", n.NotInRecovery, "conflicts", n.Conflicts, "clobbered", n.Clobbered, "retries", n.Retries, "throttles", n.Throttles,
		"elapsed", time.Duration(sum.Elapsed*float64(time.Second)).Round(time.Millisecond).String(),
		"items_per_second", int64(sum.Rate))
	log.Info("summary", args...)
	logThrottles(log, step, n, c.Float64("max-wcu"))
	switch path := report; path {
	case "":
	case "-":
		if err := printJSON(env.Out, sum); err != nil {
			return fmt.Errorf("write report on stdout: %w (the %s itself: %v)", err, step, runErr)
		}
	default:
		if err := writeJSON(c.Context, files, path, sum); err != nil {
			return fmt.Errorf("write report %s: %w (the %s itself: %v)", path, err, step, runErr)
		}
	}
	if len(sum.Conflicts) > 0 {
		shown := sum.Conflicts[:min(len(sum.Conflicts), 20)]
		log.Warn("conflicts: items written again after the export's window were left alone", "conflicts", sum.Counts.Conflicts,
			"keys", strings.Join(shown, " "))
	}
	if len(sum.Clobbered) > 0 {
		shown := sum.Clobbered[:min(len(sum.Clobbered), 20)]
		log.Warn("clobbered: items written by someone else between the rewind's read and its write were overwritten (the journal holds them)", "clobbered", sum.Counts.Clobbered,
			"keys", strings.Join(shown, " "))
	}
	if runErr == nil {
		sayDone(c, env, log, closingSentence(step, sum, check, c.Float64("max-wcu"), keptReason(c), c.Bool("delete-extra")))
	}
	return withThrottleFix(runErr, n, c.Float64("max-wcu"))
}

// printJSON writes v to w as indented JSON (stdout results: list, diff,
// --report -).
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printJSONList writes items to w as a JSON array: [] rather than null
// when there are none.
func printJSONList[T any](w io.Writer, items []T) error {
	if items == nil {
		items = []T{}
	}
	return printJSON(w, items)
}

// writeJSON writes v as indented JSON to a local file (0600, atomic) or
// an S3 object (encrypted).
func writeJSON(ctx context.Context, files *statefile.Store, loc string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return files.Write(context.WithoutCancel(ctx), loc, append(data, '\n'))
}

// copyQuestion is the confirmation of a copy, one sentence: which main
// table, what is overwritten and what deleted, with what, and the
// selection with its estimate and where that comes from (or how far the
// resumed checkpoint got).
func copyQuestion(o copier.Options, plan *copier.Plan) string {
	src := "recovery table " + plan.Source()
	if len(o.FromExport) > 0 {
		src = "export " + plan.Source()
	}
	var b strings.Builder
	b.WriteString(o.Mode().Writes(o.To, src))
	sel := o.Selection
	est := estimate(plan)
	b.WriteString("; ")
	switch {
	case sel.KeysFile != "":
		n := int64(plan.KeysInFile())
		fmt.Fprintf(&b, "selected: the %s %s of --keys-file %s", progress.Count(n), plural(n, "key", "keys"), sel.KeysFile)
	case sel.KeyCondition != "" && len(o.FromExport) > 0 && !plan.Resumed():
		fmt.Fprintf(&b, "selected: the key range %s among the export's %s", sel.KeyCondition, est)
	case sel.KeyCondition != "" && sel.Filter != "" && !plan.Resumed():
		fmt.Fprintf(&b, "selected: what the filter keeps of the key range %s, %s", sel.KeyCondition, est)
	case sel.KeyCondition != "" && !plan.Resumed():
		fmt.Fprintf(&b, "selected: the key range %s, %s", sel.KeyCondition, est)
	case sel.KeyCondition != "":
		fmt.Fprintf(&b, "selected: the key range %s", sel.KeyCondition)
	case sel.Filter != "" && !plan.Resumed():
		fmt.Fprintf(&b, "selected: what the filter keeps of %s", est)
	case sel.Filter != "":
		b.WriteString("selected: what the filter keeps")
	case plan.Resumed():
		b.WriteString("the whole table")
	default:
		fmt.Fprintf(&b, "the whole table, %s", est)
	}
	if plan.Resumed() {
		fmt.Fprintf(&b, "; resuming from %s (%s)", o.Checkpoint, plan.ResumeProgress())
	}
	if notes := plan.MainTable().Notes(o.To, plan.Estimate); notes != "" {
		b.WriteString("; " + notes)
	}
	return b.String()
}

// countNoun formats n with a noun that takes an s in the plural ("1 item",
// "1,650 items"); countOf formats n alone (1,650).
func countNoun(n int64, singular string) string { return progress.CountNoun(n, singular) }

func countOf(n int64) string { return progress.Count(n) }

// plural picks the singular or the plural form for n.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// estimate words the plan's estimate of the items it reads and where it
// comes from: "about 1,650 items (DynamoDB's item count of T)", "more
// than 40,000 items (a count of …, stopped there)", "no items (a count of
// the key range)".
func estimate(plan *copier.Plan) string {
	n, from := plan.Estimate, plan.EstimateFrom
	switch {
	case n <= 0 && from == "":
		return "an unknown number of items"
	case plan.EstimateAtLeast:
		return fmt.Sprintf("more than %s %s (%s)", progress.Count(n), plural(n, "item", "items"), from)
	case n <= 0:
		return fmt.Sprintf("no items (%s)", from)
	case from == "":
		return fmt.Sprintf("about %s %s", progress.Count(n), plural(n, "item", "items"))
	}
	return fmt.Sprintf("about %s %s (%s)", progress.Count(n), plural(n, "item", "items"), from)
}
