package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/backoff"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// globalFlags returns fresh instances of the flags every command accepts,
// both before and after the command name.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "region", Usage: "AWS region (default: from AWS_REGION or the shared config)"},
		&cli.StringFlag{Name: "profile", Usage: "shared config profile (default: AWS_PROFILE or default)"},
		&cli.StringFlag{Name: "endpoint-url", Usage: "DynamoDB endpoint, e.g. http://localhost:8000 for a local emulator (default: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or AWS)"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format on stderr: text (logfmt; on a terminal, when not given, short human lines) or json (one object per line)"},
		&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
		&cli.BoolFlag{Name: "no-progress", Usage: "no live progress line; log progress every --progress-interval instead"},
		&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "answer yes to confirmations (needed when stdin is not a terminal)"},
		&cli.StringFlag{Name: "s3-bucket-owner", Usage: "account id that owns the S3 buckets ddbrewind uses (state files, journals, exports): every S3 request names it, so S3 refuses a bucket of another account; export and run --since pass it to DynamoDB for a bucket of another account"},
	}
}

// withGlobals appends the global flags to a command's own flags.
func withGlobals(flags ...cli.Flag) []cli.Flag {
	return append(flags, globalFlags()...)
}

// gString returns a global string flag, set either after the command name
// (preferred) or before it.
func gString(c *cli.Context, name string) string {
	for _, x := range c.Lineage() {
		if slices.Contains(x.LocalFlagNames(), name) {
			return x.String(name)
		}
	}
	return c.String(name)
}

// gSet reports whether a global flag was given, after the command name or
// before it.
func gSet(c *cli.Context, name string) bool {
	for _, x := range c.Lineage() {
		if slices.Contains(x.LocalFlagNames(), name) {
			return true
		}
	}
	return false
}

// gBool is gString for boolean global flags.
func gBool(c *cli.Context, name string) bool {
	for _, x := range c.Lineage() {
		if slices.Contains(x.LocalFlagNames(), name) {
			return x.Bool(name)
		}
	}
	return c.Bool(name)
}

// run builds the app and runs it; it returns the exit code and prints the
// one-line error, if any, on stderr.
func run(ctx context.Context, args []string, env *Env) int {
	if n := len(args); n >= 2 && args[n-1] == completeFlag && args[n-2] == "--" {
		// "ddbrewind copy --<Tab>": the word typed is "--", which the
		// parser would take for the end of the flags; "-" begins every
		// flag as well.
		args = append(append([]string{}, args[:n-2]...), "-", completeFlag)
	}
	env.Args = args
	app := newApp(env)
	err := app.RunContext(ctx, args)
	env.line.end() // a wait's progress line left open: the error goes below it
	code := exitCode(err)
	switch {
	case err == nil:
	case jsonLogs(args):
		// Every stderr line is one JSON object with --log-format json.
		slog.New(slog.NewJSONHandler(env.Err, nil)).With(batchAttrs(env)...).Error(errorLine(err), "exit_code", code)
	default:
		fmt.Fprintf(env.Err, "ddbrewind: %s\n", errorLine(err))
	}
	return code
}

// jsonLogs reports whether the command line asks for JSON logs; it is
// read from args so that even a flag-parsing error is logged as JSON.
func jsonLogs(args []string) bool {
	for i, a := range args {
		a = "--" + strings.TrimLeft(a, "-")
		if a == "--log-format=json" || (a == "--log-format" && i+1 < len(args) && args[i+1] == "json") {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// positiveFlags are the numeric and duration flags that, wherever a command
// has them, must be above zero when given: left unset, 0 stands for the
// default (the table's size, no cap, retry forever, 12 h, …), so a 0 given
// on purpose would otherwise be silently replaced by it. rule is what the
// refusal says after the flag and its value; empty, "must be at least 1"
// for a count and "must be positive" for a rate or a duration.
var positiveFlags = []struct{ name, rule string }{
	{"segments", "use 1 to 1000000 (or omit it to choose from the table size and item count)"},
	{"writers", ""},
	{"worker-count", ""},
	{"workers", ""},
	{"page-size", ""},
	{"max-wcu", "must be positive (or omit it for no cap)"},
	{"max-retry-time", "must be positive (or omit it to retry forever)"},
	{"progress-interval", ""},
	{"poll-interval", ""},
	{"timeout", ""},
	{"older-than", "must be positive, e.g. --older-than 72h"},
	{"ago", "must be positive, e.g. --ago 90m"},
}

// checkPositive wraps a command's action: it first refuses any of
// positiveFlags that the user set to 0 or below (exit 2, before anything
// is read or written).
func checkPositive(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		for _, f := range positiveFlags {
			if err := positive(c, f.name, f.rule); err != nil {
				return err
			}
		}
		return action(c)
	}
}

// positive refuses the flag name when the user set it to 0 or below: 0
// means "the default" only when unset. rule is as in positiveFlags.
func positive(c *cli.Context, name, rule string) error {
	if !c.IsSet(name) {
		return nil
	}
	v := c.Value(name)
	var above bool
	switch v := v.(type) {
	case int:
		above = v > 0
	case int64:
		above = v > 0
	case float64:
		above = v > 0
	case time.Duration:
		above = v > 0
	default:
		return nil
	}
	if above {
		return nil
	}
	if rule == "" {
		rule = "must be positive"
		if _, count := v.(int); count {
			rule = "must be at least 1"
		}
	}
	return &usage.Error{Msg: fmt.Sprintf("--%s %v: %s", name, v, rule)}
}

// helpWidth is the width help is wrapped to: the terminal's, else 80.
func helpWidth(env *Env) int {
	if env.Width != nil && env.Width() > 0 {
		return env.Width()
	}
	return 80
}

// newApp builds the CLI. It never calls os.Exit.
func newApp(env *Env) *cli.App {
	var cmds []*cli.Command
	for _, spec := range commandTable() {
		cmds = append(cmds, spec.build(env))
	}
	version := versionCommand()
	version.Action = noStrayArgs(env, version.Action) // help and completion take arguments
	cmds = append(cmds, completionCommand(), helpCommand(), version)
	onUsage := usageErrorHandler(env)
	for _, c := range cmds {
		c.BashComplete = completer(env, c)
		dress(env, c, onUsage)
		for _, s := range c.Subcommands {
			dress(env, s, onUsage) // batch start's help is grouped and wrapped like run's
		}
	}
	// The app's own help (ddbrewind --help) as tidy as a command's: no
	// "(default: false)", wrapped to the terminal.
	appFlags := append(globalFlags(), cli.HelpFlag)
	tidyHelp(appFlags)
	if helpRequested(env.Args) {
		wrapUsages(appFlags, false, helpWidth(env))
	}
	app := &cli.App{
		Name:    "ddbrewind",
		Usage:   "rewind a DynamoDB table, or a slice of it, to a point in time",
		Version: appVersion(),
		// A help command of its own (unknown topics exit 2) means
		// urfave/cli adds no --help flag to the app: declare it.
		Flags:                appFlags,
		Reader:               env.In,
		Writer:               env.Out,
		ErrWriter:            env.Err,
		Commands:             cmds,
		EnableBashCompletion: true, // the hidden --generate-bash-completion of the completion scripts
		BashComplete:         completer(env, nil),
		HideHelpCommand:      true,
		ExitErrHandler:       func(*cli.Context, error) {},
		OnUsageError:         onUsage,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return unknownCommand(c.App, c.Args().First())
			}
			_ = cli.ShowAppHelp(c)
			return &usage.Error{Msg: "no command given (see ddbrewind --help)"}
		},
	}
	return app
}

// dress gives a command (or a subcommand) what every one has: the usage
// error handler, the refusal of 0-valued flags, tidy help (grouped and
// wrapped to the terminal when help is asked for) and day durations.
func dress(env *Env, c *cli.Command, onUsage cli.OnUsageErrorFunc) {
	c.OnUsageError = onUsage
	if c.Action != nil {
		c.Action = checkPositive(c.Action)
	}
	tidyHelp(c.Flags)
	grouped := groupFlags(c.Flags)
	if grouped {
		c.CustomHelpTemplate = groupedHelpTemplate
	}
	if helpRequested(env.Args) {
		wrapUsages(c.Flags, grouped, helpWidth(env))
	}
	acceptDays(c.Flags)
}

// dynamoSession opens what a command that works on DynamoDB starts with:
// its logger and its DynamoDB client, which counts the SDK's retries and
// throttles into stats when stats is not nil.
func dynamoSession(c *cli.Context, env *Env, stats *copier.Stats) (*slog.Logger, *dynamodb.Client, error) {
	log, err := newLogger(c, env)
	if err != nil {
		return nil, nil, err
	}
	api, err := dynamoClient(c.Context, c, stats, log)
	if err != nil {
		return nil, nil, err
	}
	return log, api, nil
}

// optionsSession reads a command's options with read, then opens the
// logger and the DynamoDB client (restore's and export's start): a flag
// error is said before the logger's or the client's.
func optionsSession[O any](c *cli.Context, env *Env, read func(*cli.Context, *Env) (O, error)) (O, *slog.Logger, *dynamodb.Client, error) {
	opts, err := read(c, env)
	if err != nil {
		return opts, nil, nil, err
	}
	log, api, err := dynamoSession(c, env, nil)
	return opts, log, api, err
}

// newLogger builds the one logger of a command: text or JSON on stderr.
func newLogger(c *cli.Context, env *Env) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(gString(c, "log-level"))); err != nil {
		return nil, &usage.Error{Msg: fmt.Sprintf("--log-level %q: use debug, info, warn or error", gString(c, "log-level"))}
	}
	hopts := &slog.HandlerOptions{Level: level}
	var w io.Writer = env.Err
	if env.StderrTTY {
		w = clearLine{env.Err}
	}
	var h slog.Handler
	switch gString(c, "log-format") {
	case "text":
		if env.StderrTTY && !gSet(c, "log-format") {
			// A person at a terminal: short lines (see ttyHandler).
			if env.line == nil {
				env.line = &partialLine{}
			}
			return slog.New(newTTYHandler(w, level, env.line, env.Width)), nil
		}
		h = slog.NewTextHandler(w, hopts)
	case "json":
		h = slog.NewJSONHandler(w, hopts)
	default:
		return nil, &usage.Error{Msg: fmt.Sprintf("--log-format %q: use text or json", gString(c, "log-format"))}
	}
	return slog.New(h).With(batchAttrs(env)...), nil
}

// clearLine erases the terminal's current line (a live progress line)
// before each log line, so logs never run into the progress text; the
// progress line is redrawn below on its next tick.
type clearLine struct{ w io.Writer }

func (c clearLine) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, "\r\033[K"); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// batchAttrs returns the AWS Batch job id and attempt as log attributes,
// when the process runs as a Batch job.
func batchAttrs(env *Env) []any {
	if id := env.Getenv("AWS_BATCH_JOB_ID"); id != "" {
		return []any{"batch_job_id", id, "batch_job_attempt", env.Getenv("AWS_BATCH_JOB_ATTEMPT")}
	}
	return nil
}

// countingRetryer counts every retry the SDK makes, and the throttles
// among them, for the summary.
type countingRetryer struct {
	aws.RetryerV2
	stats *copier.Stats
	log   *slog.Logger
}

var sdkThrottles = retry.IsErrorThrottles(retry.DefaultThrottles)

// IsErrorRetryable does not retry a request that found nothing at an
// endpoint that never answered (see reachClient); the rest is the SDK's.
func (r countingRetryer) IsErrorRetryable(err error) bool {
	var ue *unreachableError
	if errors.As(err, &ue) {
		return false
	}
	return r.RetryerV2.IsErrorRetryable(err)
}

func (r countingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	d, e := r.RetryerV2.RetryDelay(attempt, err)
	if e == nil && r.stats != nil {
		r.stats.Retries.Add(1)
		if sdkThrottles.IsErrorThrottle(err).Bool() {
			r.stats.Throttles.Add(1)
			countThrottle(r.stats, r.log, err)
		}
	}
	if e == nil && r.log != nil {
		r.log.Debug("retrying AWS call", "attempt", attempt, "delay", d.String(), "error", err.Error())
	}
	return d, e
}

// dynamoBackoff is full-jitter exponential backoff from a 50 ms base, as
// DynamoDB recommends (backoff.Default); the SDK's default starts at up to
// 1 s, far too slow. The SDK counts attempts from 1.
type dynamoBackoff struct{ backoff.Backoff }

func (b dynamoBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	return b.Delay(attempt-1, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))), nil
}

// awsConfig loads the AWS configuration from the standard chain plus the
// global flags. stats, if not nil, counts the SDK's retries and throttles.
func awsConfig(ctx context.Context, c *cli.Context, stats *copier.Stats, log *slog.Logger) (aws.Config, error) {
	if err := checkEndpoint("--endpoint-url", gString(c, "endpoint-url")); err != nil {
		return aws.Config{}, err
	}
	var opts []func(*config.LoadOptions) error
	if r := gString(c, "region"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := gString(c, "profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	opts = append(opts,
		config.WithRetryer(func() aws.Retryer {
			std := retry.NewStandard(func(o *retry.StandardOptions) {
				// Long unattended runs: more attempts, capped backoff, and no
				// client-side retry quota that could abort a long copy.
				o.MaxAttempts = 8
				o.MaxBackoff = 20 * time.Second
				o.Backoff = dynamoBackoff{backoff.Default}
				o.RateLimiter = ratelimit.None
			})
			return countingRetryer{RetryerV2: std, stats: stats, log: log}
		}),
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = 256
		})),
		// The SDK's warnings (IMDSv1 fallback, …) at debug level, not on
		// stderr around ddbrewind's own one-line error.
		config.WithLogger(sdkLogger{log}),
	)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			src := "--profile " + gString(c, "profile")
			if gString(c, "profile") == "" {
				src = "AWS_PROFILE=" + pe.Profile
			}
			return cfg, &usage.Error{Msg: fmt.Sprintf("%s: %v (aws configure list-profiles lists the profiles)", src, err)}
		}
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if gString(c, "endpoint-url") == "" && cfg.BaseEndpoint == nil && os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
			return cfg, &usage.Error{Msg: "no AWS region: pass --region, or set AWS_REGION or a region in your profile"}
		}
		cfg.Region = "us-east-1" // a local emulator does not care
	}
	if err := checkCredentials(ctx, cfg, gString(c, "endpoint-url") != ""); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// dynamoClient builds a DynamoDB client (see awsConfig).
func dynamoClient(ctx context.Context, c *cli.Context, stats *copier.Stats, log *slog.Logger) (*dynamodb.Client, error) {
	cfg, err := awsConfig(ctx, c, stats, log)
	if err != nil {
		return nil, err
	}
	endpoint := gString(c, "endpoint-url")
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.HTTPClient = newReachClient(o.HTTPClient, endpointHint(endpoint, "AWS_ENDPOINT_URL_DYNAMODB"))
		// Throttles the SDK retries (control-plane calls) are counted
		// by reason too (countingRetryer).
		o.APIOptions = append(o.APIOptions, awserr.CaptureThrottleReasons)
	}), nil
}

// backupClientFor returns an AWS Backup client when the restore point is an
// AWS Backup recovery point (the only restore that goes through AWS
// Backup), else nil; its endpoint as serviceConfig says.
func backupClientFor(ctx context.Context, c *cli.Context, env *Env, point restore.Point, log *slog.Logger) (restore.BackupAPI, error) {
	if !restore.IsRecoveryPointARN(point.Backup) {
		return nil, nil
	}
	cfg, err := serviceConfig(ctx, c, env, log, "AWS_ENDPOINT_URL_BACKUP")
	if err != nil {
		return nil, err
	}
	return backup.NewFromConfig(cfg), nil
}

// serviceConfig is the AWS configuration of a client of a service other
// than DynamoDB (S3, AWS Batch, AWS Backup). Its endpoint follows the SDK's
// settings (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
// services section), not --endpoint-url, which is DynamoDB's; endpointVar
// (AWS_ENDPOINT_URL_S3, …) is also read from env, so that tests can point
// each service at an emulator or a fake per run, and checked like
// --endpoint-url.
func serviceConfig(ctx context.Context, c *cli.Context, env *Env, log *slog.Logger, endpointVar string) (aws.Config, error) {
	cfg, err := awsConfig(ctx, c, nil, log)
	if err != nil {
		return cfg, err
	}
	if endpoint := env.Getenv(endpointVar); endpoint != "" {
		if err := checkEndpoint(endpointVar, endpoint); err != nil {
			return cfg, err
		}
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return cfg, nil
}

// stateFiles returns the store for --checkpoint, --state, --journal,
// --report and --keys-file locations: with an S3 client when one of them is
// s3://. S3's endpoint follows the SDK's settings (AWS_ENDPOINT_URL_S3, …),
// not --endpoint-url, which is DynamoDB's.
func stateFiles(ctx context.Context, c *cli.Context, env *Env, kmsKey string, locs ...string) (*statefile.Store, error) {
	return stateFilesS3(ctx, c, env, kmsKey, false, locs...)
}

// stateFilesS3 is stateFiles with an S3 client also when needS3 (an
// export to read).
func stateFilesS3(ctx context.Context, c *cli.Context, env *Env, kmsKey string, needS3 bool, locs ...string) (*statefile.Store, error) {
	st := &statefile.Store{KMSKey: kmsKey}
	need := needS3
	for _, l := range locs {
		if statefile.IsS3(l) {
			if _, _, err := statefile.ParseS3(l); err != nil {
				return nil, &usage.Error{Msg: err.Error()}
			}
			need = true
		}
	}
	if !need {
		return st, nil
	}
	s3c, err := s3Client(ctx, c, env)
	if err != nil {
		return nil, err
	}
	st.S3 = s3c
	return st, nil
}

// s3Client is the S3 client of state files and exports
// (AWS_ENDPOINT_URL_S3 selects another endpoint, path-style). With
// --s3-bucket-owner, every request it makes names the bucket's expected
// owner.
func s3Client(ctx context.Context, c *cli.Context, env *Env) (*s3.Client, error) {
	owner := gString(c, "s3-bucket-owner")
	if err := export.ValidateBucketOwner(owner); err != nil {
		return nil, err
	}
	cfg, err := serviceConfig(ctx, c, env, nil, "AWS_ENDPOINT_URL_S3")
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if owner != "" {
			o.APIOptions = append(o.APIOptions, expectedBucketOwner(owner))
		}
		o.UsePathStyle = env.Getenv("AWS_ENDPOINT_URL_S3") != "" // emulators want path-style
		getenv := func(k string) string {
			if v := env.Getenv(k); v != "" {
				return v
			}
			return os.Getenv(k) // what the SDK's configuration read
		}
		o.HTTPClient = newReachClient(o.HTTPClient, s3EndpointHint(gString(c, "endpoint-url"), getenv))
	}), nil
}

// statePath is a file a command writes (or, for undo's journal, reads
// while writing another), named by a flag.
type statePath struct{ flag, loc string }

// distinctPaths refuses two of --journal, --checkpoint, --state and
// --report naming the same file, before anything is written: each is
// saved by replacing the whole file (temp file and rename, or a new S3
// object), so one would silently replace the other — a report replacing
// the journal loses every before-image. Local paths are compared cleaned
// and absolute, s3:// URLs as strings (surrounding spaces trimmed); empty
// locations are skipped.
func distinctPaths(paths ...statePath) error {
	seen := map[string]statePath{}
	for _, p := range paths {
		if p.loc == "" {
			continue
		}
		k := pathKey(p.loc)
		if q, ok := seen[k]; ok {
			if q.loc == p.loc {
				return &usage.Error{Msg: fmt.Sprintf("%s and %s both name %s: give each its own path (saving one would replace the other)", q.flag, p.flag, p.loc)}
			}
			return &usage.Error{Msg: fmt.Sprintf("%s %s and %s %s name the same file: give each its own path (saving one would replace the other)", q.flag, q.loc, p.flag, p.loc)}
		}
		seen[k] = p
	}
	return nil
}

// localDirs refuses a local file ddbrewind is to write (a checkpoint,
// journal, report or state file) whose directory does not exist, or that
// is a directory itself: bad input, found before anything is written
// rather than after the copy (its report or first checkpoint) or after
// the hours of a restore (run's journal). s3:// locations and "-" (stdout)
// are not local files; empty locations are skipped.
func localDirs(paths ...statePath) error {
	for _, p := range paths {
		loc := strings.TrimSpace(p.loc)
		if loc == "" || loc == "-" || statefile.IsS3(loc) {
			continue
		}
		if fi, err := os.Stat(loc); err == nil && fi.IsDir() {
			return &usage.Error{Msg: fmt.Sprintf("%s %s is a directory: give the path of a file", p.flag, p.loc)}
		}
		dir := filepath.Dir(loc)
		fi, err := os.Stat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return &usage.Error{Msg: fmt.Sprintf("%s %s: directory %s does not exist: create it, or give a path in an existing directory", p.flag, p.loc, dir)}
		case err != nil:
			return &usage.Error{Msg: fmt.Sprintf("%s %s: %v", p.flag, p.loc, err)}
		case !fi.IsDir():
			return &usage.Error{Msg: fmt.Sprintf("%s %s: %s is not a directory", p.flag, p.loc, dir)}
		}
	}
	return nil
}

// pathKey is the form of a location that distinctPaths compares.
func pathKey(loc string) string {
	if s := strings.TrimSpace(loc); statefile.IsS3(s) {
		return s
	}
	if abs, err := filepath.Abs(loc); err == nil {
		return abs // Abs cleans the path
	}
	return filepath.Clean(loc)
}

// required returns a usage error naming the first missing flag.
func required(c *cli.Context, names ...string) error {
	for _, n := range names {
		if c.String(n) == "" {
			return &usage.Error{Msg: fmt.Sprintf("%s: --%s is required (see ddbrewind %s --help)", commandPath(c), n, commandPath(c))}
		}
	}
	return nil
}

// commandPath is the command's name as typed after ddbrewind: "run", or
// "batch start" for a subcommand.
func commandPath(c *cli.Context) string {
	var names []string
	for _, x := range c.Lineage() {
		if x.Command == nil || x.Command.Name == "" || (x.App != nil && x.Command.Name == x.App.Name) {
			continue
		}
		if len(names) == 0 || names[0] != x.Command.Name {
			names = append([]string{x.Command.Name}, names...)
		}
	}
	if len(names) == 0 {
		return c.Command.Name
	}
	return strings.Join(names, " ")
}

// expectedBucketOwner sets the x-amz-expected-bucket-owner header on every
// S3 request that has none (GetObject, PutObject, DeleteObject,
// ListObjectsV2…: every operation ddbrewind calls takes it), so that S3
// refuses the request (403 AccessDenied) when the bucket belongs to another
// account than owner — a bucket deleted and re-created by someone else
// under the same name, say.
func expectedBucketOwner(owner string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Build.Add(middleware.BuildMiddlewareFunc("ddbrewindExpectedBucketOwner",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok && req.Header.Get(expectedOwnerHeader) == "" {
					req.Header.Set(expectedOwnerHeader, owner)
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	}
}

// expectedOwnerHeader is the header of S3's ExpectedBucketOwner.
const expectedOwnerHeader = "X-Amz-Expected-Bucket-Owner"
