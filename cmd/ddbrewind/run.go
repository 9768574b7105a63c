package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/progress"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
	"github.com/ddbrewind/ddbrewind/rewind"
)

// runFlags are restore's and copy's flags (without the tables copy takes
// from run itself) plus run's own.
func runFlags() []cli.Flag {
	var flags []cli.Flag
	for _, f := range restoreRunFlags() {
		if !slices.Contains(f.Names(), "wait") {
			flags = append(flags, f)
		}
	}
	for _, f := range copyFlags() {
		if n := f.Names()[0]; !slices.Contains([]string{"from", "from-export", "allow-other-table", "to", "dry-run", "report", "sse-kms-key"}, n) {
			flags = append(flags, f)
		}
	}
	return append(flags,
		&cli.StringFlag{Name: "state", Usage: "state file that makes the run resumable (default ddbrewind-run-<table>.json)"},
		&cli.BoolFlag{Name: "keep-recovery-table", Usage: "do not delete the recovery table at the end"},
		&cli.BoolFlag{Name: "no-verify", Usage: "skip the verification (diff of the selection) after the copy"},
		reportFlag("write the copy summary as JSON to PATH (- for stdout)"),
		sinceFlag("rewind from incremental exports instead of a restore: undo what changed from TIME (RFC 3339 or Unix seconds); needs --s3-bucket"),
		untilFlag("with --since: end of the window (default: the latest time DynamoDB allows)"),
		s3BucketFlag("with --since: S3 bucket the export files go to"),
		s3PrefixFlag("with --since: path in the bucket, without leading or trailing '/' (each rewind's files go to a directory of its own, PREFIX/ddbrewind-rewind-STARTED-RANDOM/AWSDynamoDB/EXPORT-ID/)"),
		&cli.BoolFlag{Name: "keep-export", Usage: "with --since: do not delete the export files at the end"},
	)
}

// runAction is run's action: it reads and checks the flags, opens the
// clients and the state files, runs the rewind with its progress lines and
// says how it ended.
func runAction(c *cli.Context, env *Env) error {
	in, err := readRunInputs(c, env)
	if err != nil {
		return err
	}
	ro, co := in.restore, in.copy
	if co.WorkerCount > 1 {
		return &usage.Error{Msg: "run --worker-count: a split copy restores once and copies from several workers: run restore, then copy --worker-count K in each worker, then cleanup (see docs/batch.md)"}
	}
	stats := &copier.Stats{}
	co.Stats = stats
	log, api, err := dynamoSession(c, env, stats)
	if err != nil {
		return err
	}
	if ro.Backup, err = backupClientFor(c.Context, c, env, ro.Point, log); err != nil {
		return err
	}
	if r, here := tables.Region(ro.Table), api.Options().Region; r != "" && r != here {
		return &usage.Error{Msg: fmt.Sprintf("run --table %s: the table is in %s but this run works in %s, where it would copy back into another table named %s: pass --region %s (restoring into another region is ddbrewind restore's job; copy works within one region)", ro.Table, r, here, tables.Name(ro.Table), r)}
	}
	state, err := runStatePath(c, ro.Table, co)
	if err != nil {
		return err
	}
	files, objects, err := runFiles(c, env, in, state)
	if err != nil {
		return err
	}
	res, err := rewindWithProgress(c, env, log, api, stats, rewind.Options{
		Restore:           ro,
		Copy:              co,
		State:             state,
		Files:             files,
		KeepRecoveryTable: c.Bool("keep-recovery-table"),
		Export:            in.export,
		KeepExport:        c.Bool("keep-export"),
		S3:                objects,
		NoVerify:          c.Bool("no-verify"),
		ResumeCommand:     resumeCommand(env.Args, gBool(c, "yes")),
		WaitForLease:      leaseWait(env),
		Logger:            log,
		Now:               env.Now,
	})
	return runEnded(c, env, log, files, state, co, res, err)
}

// runStatePath returns the state file of run (--state, or the default
// ddbrewind-run-TABLE.json) after checking that no two of the files run
// writes name the same path, and that each local one's directory exists.
func runStatePath(c *cli.Context, table string, co copier.Options) (string, error) {
	state := c.String("state")
	if state == "" {
		state = fmt.Sprintf("ddbrewind-run-%s.json", tables.Name(table))
	}
	statePaths := []statePath{{"--state", state}, {"--checkpoint", co.Checkpoint}, {"--journal", co.Journal}, {"--report", c.String("report")}}
	if !c.IsSet("state") {
		statePaths[0].flag = "--state (default)"
	}
	if co.Checkpoint == "" {
		statePaths[1] = statePath{"--checkpoint (default)", rewind.DefaultCheckpoint(state)}
	}
	if err := distinctPaths(statePaths...); err != nil {
		return state, err
	}
	return state, localDirs(statePaths...)
}

// runFiles opens the store of run's files (state, checkpoint, journal,
// report, keys files) and, for --since, the S3 client that reads and
// deletes the exports: the client of the state files.
func runFiles(c *cli.Context, env *Env, in runInputs, state string) (*statefile.Store, rewind.ObjectDeleter, error) {
	co := in.copy
	files, err := stateFiles(c.Context, c, env, in.restore.SSEKMSKey, state, co.Checkpoint, co.Journal, c.String("report"), co.Selection.KeysFile, co.OverwriteConflictsKeys)
	if err != nil {
		return nil, nil, err
	}
	if !in.since {
		return files, nil, nil
	}
	s3c, err := s3Client(c.Context, c, env)
	if err != nil {
		return nil, nil, err
	}
	files.S3 = s3c
	return files, s3c, nil
}

// rewindWithProgress runs rewind.Run with one progress line per step: the
// copy's (counting stats), then the verification's, each drawn only while
// its step runs (not during the restore or export wait before the copy);
// none while a confirmation is asked. It fills opts' Confirm, VerifyStats
// and OnStep.
func rewindWithProgress(c *cli.Context, env *Env, log *slog.Logger, api *dynamodb.Client, stats *copier.Stats, opts rewind.Options) (*rewind.Result, error) {
	var line *progress.Renderer
	verifyStats := &copier.Stats{}
	opts.VerifyStats = verifyStats
	current := ""
	opts.OnStep = func(step string) {
		if step == current {
			return
		}
		current = step
		// The previous step's line ends with its final state before
		// this step's log lines.
		line.Stop()
		line = nil
		switch {
		case step == rewind.StepCopy:
			line = startProgress(c, env, log, "copy", stats)
		case step == rewind.StepVerify && !c.Bool("no-verify"):
			line = startProgress(c, env, log, "verify", verifyStats)
		}
	}
	yes := gBool(c, "yes")
	opts.Confirm = func(what string) error {
		line.Pause()
		defer line.Resume()
		return confirm(c.Context, env, yes, what)
	}
	res, err := rewind.Run(c.Context, api, opts)
	line.Stop()
	return res, err
}

// runEnded finishes a run whose rewind returned res and err: the copy's
// summary and report, then the one line that says what was rewound (or
// that it already was) and what is left to do. It returns err, or the
// error of finishing when err is nil.
func runEnded(c *cli.Context, env *Env, log *slog.Logger, files *statefile.Store, state string, co copier.Options, res *rewind.Result, err error) error {
	if res != nil && res.Copy != nil {
		if ferr := finish(c, env, files, log, "copy", c.String("report"), res.Copy, err, ""); ferr != nil && err == nil {
			err = ferr
		}
	}
	if err != nil || res == nil {
		return err
	}
	from := ""
	if res.State.BackupARN != "" {
		from = " from backup " + res.State.BackupARN
	}
	if st := res.State; st.Since != nil && st.ExportUntil != nil {
		from = fmt.Sprintf(" (undid what changed until %s, from %s)", tables.MessageTime(*st.ExportUntil), countNoun(int64(len(st.ExportDirs)), "incremental export"))
	}
	if res.AlreadyDone {
		fmt.Fprintf(env.Out, "already done: %s was rewound to %s%s (state %s)\n", res.State.Table, tables.MessageTime(res.State.RestorePoint), from, state)
	} else {
		fmt.Fprintf(env.Out, "rewound %s to %s%s\n", res.State.Table, tables.MessageTime(res.State.RestorePoint), from)
		sayDone(c, env, log, runLeftovers(state, co, res.State.Table))
	}
	return nil
}

// runInputs are run's options as its flags give them, read and checked
// before any AWS call.
type runInputs struct {
	since   bool // --since: a rewind from incremental exports
	restore restore.Options
	export  export.Options
	copy    copier.Options
}

// readRunInputs reads and checks run's flags without calling AWS: the one
// validation of run's flags, shared with batch start.
func readRunInputs(c *cli.Context, env *Env) (runInputs, error) {
	var in runInputs
	if err := required(c, "table"); err != nil {
		return in, err
	}
	in.since = c.String("since") != ""
	if err := sinceFlags(c, in.since); err != nil {
		return in, err
	}
	var err error
	if in.since {
		in.restore = restore.Options{Table: c.String("table"), SSEKMSKey: c.String("sse-kms-key")}
		if in.export, err = exportOptions(c, env); err != nil {
			return in, err
		}
		in.export.Wait, in.export.Timeout = true, c.Duration("timeout")
	} else if in.restore, err = restoreOptions(c, env); err != nil {
		return in, err
	}
	// run has no --if-exists: its own restore is taken over by resuming
	// its --state; another table is copied from by hand.
	table := tables.Name(in.restore.Table)
	in.restore.ExistsHint = func(recovery string) string {
		return fmt.Sprintf("copy from it yourself (ddbrewind copy --from %s --to %s, then ddbrewind cleanup); a run whose state file names it resumes with that --state", recovery, table)
	}
	in.restore.RetryHint = "run the same run command again: it resumes from its --state and takes the restore over (tags the table and waits for it)"
	if in.copy, err = copyOptions(c, env); err != nil {
		return in, err
	}
	if err := tables.ValidateName("--table", tables.Name(in.restore.Table)); err != nil {
		return in, err
	}
	return in, nil
}

// leaseWait is how long run waits for the lease of its s3:// state file to
// expire when another run holds it: in a retried AWS Batch attempt
// (AWS_BATCH_JOB_ATTEMPT above 1) the previous attempt's lease, when its
// host was lost, lives on until it expires (statefile.DefaultLeaseTTL),
// and a refusal (exit 2) is not retried; elsewhere none (refused at once).
func leaseWait(env *Env) time.Duration {
	if n, err := strconv.Atoi(env.Getenv("AWS_BATCH_JOB_ATTEMPT")); err == nil && n > 1 {
		return statefile.DefaultLeaseTTL + 30*time.Second
	}
	return 0
}

// runLeftovers is the last sentence of a finished run: the files it leaves
// (the state file, whose rerun says "already done"; the checkpoint; the
// journal, with the command that undoes the rewind).
func runLeftovers(state string, co copier.Options, table string) string {
	files := []string{state + " (state)"}
	cp := co.Checkpoint
	if cp == "" {
		cp = rewind.DefaultCheckpoint(state)
	}
	if _, err := os.Stat(cp); err == nil || statefile.IsS3(cp) {
		files = append(files, cp+" (checkpoint)")
	}
	msg := "run: files kept: " + strings.Join(files, ", ")
	if co.Journal != "" {
		msg += ", " + co.Journal + " (journal); to undo the rewind: " + shellJoin([]string{"ddbrewind", "undo", "--journal", co.Journal, "--table", table})
	}
	return msg + "; remove them once you no longer need them (the same command with this state says already done)"
}

// sinceFlags refuses --since with a restore's flags, and --since's own
// flags without it.
func sinceFlags(c *cli.Context, since bool) error {
	if since {
		for _, f := range []string{"at", "ago", "latest", "backup", "backup-before", "recovery-table", "keep-recovery-table", "backup-role-arn", "billing-mode", "indexes"} {
			if c.IsSet(f) {
				return &usage.Error{Msg: fmt.Sprintf("%s --since rewinds from incremental exports, with no restore: --%s does not go with it (give either --since or a restore point)", commandPath(c), f)}
			}
		}
		return required(c, "s3-bucket")
	}
	for _, f := range []string{"until", "s3-bucket", "s3-prefix", "keep-export", "overwrite-conflicts", "overwrite-conflicts-keys", "accept-conflicts"} {
		if c.IsSet(f) {
			return &usage.Error{Msg: fmt.Sprintf("%s --%s goes with --since (a rewind from incremental exports)", commandPath(c), f)}
		}
	}
	return nil
}

// resumeCommand quotes the command line for a shell, adding --yes so that
// the resume does not stop at the confirmation again.
func resumeCommand(args []string, yes bool) string {
	if len(args) == 0 {
		return "the same command"
	}
	parts := []string{filepath.Base(args[0])}
	for _, a := range args[1:] {
		if a == "" || strings.ContainsAny(a, " \t'\"$#&|;<>(){}*?![]`~\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	if !yes {
		parts = append(parts, "--yes")
	}
	return strings.Join(parts, " ")
}
