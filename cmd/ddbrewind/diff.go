package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/rewind"
)

// diffFlags are diff's own flags (the table in commands.go adds the global ones).
func diffFlags() []cli.Flag {
	return append(append(fromToFlags("recovery table (required, unless --from-export)", "main table (required)"), selectionFlags()...),
		&cli.IntFlag{Name: "show", Value: 10, Usage: "list up to N keys of each kind of difference"},
		outputFlag("text", "text or json"),
		progressIntervalFlag(),
		writersFlag("lookups"),
		maxRetryTimeFlag("call"),
		&cli.BoolFlag{Name: "after-copy", Usage: "judge as run's verification of a copy made with the same --only-missing, --if-main and --delete-extra: exit 3 only for what that copy should have fixed (extra items only with --delete-extra); batch start's diff job"},
		onlyMissingFlag("with --after-copy: the copy wrote only absent items (differences are expected)"),
		ifMainFlag("with --after-copy: the copy's --if-main condition (differences are expected)"),
		deleteExtraFlag("with --after-copy: the copy deleted extra items (extras fail)"),
		skipExpiredFlag("leave out the past state's items whose TTL attribute (the main table's) has passed, as copy --skip-expired did"),
	)
}

// diffAction is diff's action: it checks the flags, compares, prints the
// result as text or JSON and returns the verdict (errDifferent: exit 3).
func diffAction(c *cli.Context, env *Env) error {
	ro, log, api, err := readOptions(c, env, c.String("to"))
	if err != nil {
		return err
	}
	stats := ro.Stats
	ro.SkipExpired = c.Bool("skip-expired")
	opts := copier.DiffOptions{Options: ro, Show: c.Int("show")}
	plan, err := copier.PrepareDiff(c.Context, api, opts)
	if err != nil {
		return err
	}
	defer plan.Close()
	r := startProgress(c, env, log, "diff", stats)
	res, err := plan.Diff(c.Context, api, opts.Show)
	r.Stop()
	if err != nil {
		return err
	}
	if c.String("output") == "json" {
		if err := printJSON(env.Out, newDiffJSON(res)); err != nil {
			return err
		}
	} else {
		sel := ro.Selection
		printDiff(env, res, sel.KeyCondition != "" || sel.Filter != "" || sel.KeysFile != "")
	}
	return diffVerdict(c, res)
}

// checkDiffFlags checks diff's own flags before anything is read: a source,
// --output, --show, and the flags that go with --after-copy (positive
// counts are checked for every command: see checkPositive).
func checkDiffFlags(c *cli.Context) error {
	if err := requiredSource(c); err != nil {
		return err
	}
	format := c.String("output")
	if format != "text" && format != "json" {
		return &usage.Error{Msg: fmt.Sprintf("--output %q: use text or json", format)}
	}
	if c.Int("show") < 0 {
		return &usage.Error{Msg: "--show must be 0 or more"}
	}
	for _, f := range []string{"only-missing", "if-main", "delete-extra"} {
		if c.IsSet(f) && !c.Bool("after-copy") {
			return &usage.Error{Msg: fmt.Sprintf("diff --%s says how a copy wrote: it goes with --after-copy", f)}
		}
	}
	if c.Bool("after-copy") && len(c.StringSlice("from-export")) > 0 {
		return &usage.Error{Msg: "diff --after-copy judges a copy from a recovery table (--from): with --from-export, diff the export itself"}
	}
	return nil
}

// diffVerdict returns nil when res passes, or an error wrapping
// errDifferent (or rewind's verdict with --after-copy) that says what
// differs: for an incremental export window what a rewind would do, with
// --after-copy what the copy described by the flags should have fixed,
// otherwise every difference.
func diffVerdict(c *cli.Context, res *copier.DiffResult) error {
	if w := res.Window; w != nil && !res.Equal() {
		return fmt.Errorf("diff %s → %s: %w: a rewind would rewind %s, delete %s, and leave %s", res.From, res.To, errDifferent,
			countNoun(w.WouldRewind, "key"), countOf(w.WouldDelete), countNoun(w.Conflicts, "conflict"))
	}
	if c.Bool("after-copy") {
		afterCopy := copier.Options{OnlyMissing: c.Bool("only-missing"), IfMain: c.String("if-main"), DeleteExtra: c.Bool("delete-extra")}
		if err := rewind.Verdict(afterCopy, res); err != nil {
			return fmt.Errorf("diff %s → %s: %w", res.From, res.To, err)
		}
		return nil
	}
	if !res.Equal() {
		return fmt.Errorf("diff %s → %s: %w: %s different, %s missing in main, %s extra in main",
			res.From, res.To, errDifferent, countOf(res.Different), countOf(res.MissingInMain), countOf(res.ExtraInMain))
	}
	return nil
}

func printDiff(env *Env, r *copier.DiffResult, selected bool) {
	fmt.Fprintf(env.Out, "identical:        %d\ndifferent:        %d\nmissing in main:  %d\nextra in main:    %d\n",
		r.Identical, r.Different, r.MissingInMain, r.ExtraInMain)
	if selected && r.Identical+r.Different+r.MissingInMain+r.ExtraInMain == 0 && r.Window == nil {
		// Equal, but on nothing: most often a key or value mistyped.
		fmt.Fprintln(env.Out, "the selection matched no item in either table: check the key condition, filter or keys file")
	}
	if w := r.Window; w != nil {
		fmt.Fprintf(env.Out, "window: %s changed (%s changed back); a rewind (--delete-extra) would rewind %s, delete %s, and leave %s\n",
			countNoun(w.ChangedKeys, "key"), countOf(w.NoNetChange), countOf(w.WouldRewind), countOf(w.WouldDelete), countNoun(w.Conflicts, "conflict"))
	}
	var conflicts []string
	if r.Window != nil {
		conflicts = r.Window.ConflictKeys
	}
	var nConflicts int64
	if r.Window != nil {
		nConflicts = r.Window.Conflicts
	}
	for _, kind := range []struct {
		name string
		keys []string
		n    int64
	}{{"different", r.DifferentKeys, r.Different}, {"missing in main", r.MissingKeys, r.MissingInMain}, {"extra in main", r.ExtraKeys, r.ExtraInMain},
		{"conflicts (written after the window)", conflicts, nConflicts}} {
		if len(kind.keys) > 0 {
			fmt.Fprintf(env.Out, "%s:\n  %s\n", kind.name, strings.Join(kind.keys, "\n  "))
			if more := kind.n - int64(len(kind.keys)); more > 0 {
				fmt.Fprintf(env.Out, "  … and %s more (--show N lists more)\n", countOf(more))
			}
		}
	}
}

// diffJSON is diff --output json: the result with each key as the typed
// DynamoDB JSON object it is ({"pk":{"S":"a"}}), not a JSON string
// holding it. The key fields hide the embedded result's (same JSON names,
// shallower), so the counts keep the copier's names and tags. Every key
// list is always there, [] when empty, so that scripts can rely on the
// fields (docs/copy.md lists them); window only for incremental exports.
type diffJSON struct {
	*copier.DiffResult
	DifferentKeys []json.RawMessage `json:"different_keys"`
	MissingKeys   []json.RawMessage `json:"missing_in_main_keys"`
	ExtraKeys     []json.RawMessage `json:"extra_in_main_keys"`
	Window        *windowJSON       `json:"window,omitempty"`
}

// windowJSON is the window part of diff --output json, its conflict keys
// as typed DynamoDB JSON objects ([] when none).
type windowJSON struct {
	*copier.WindowDiff
	ConflictKeys []json.RawMessage `json:"conflict_keys"`
}

func newDiffJSON(r *copier.DiffResult) diffJSON {
	d := diffJSON{DiffResult: r, DifferentKeys: rawKeys(r.DifferentKeys), MissingKeys: rawKeys(r.MissingKeys), ExtraKeys: rawKeys(r.ExtraKeys)}
	if r.Window != nil {
		d.Window = &windowJSON{WindowDiff: r.Window, ConflictKeys: rawKeys(r.Window.ConflictKeys)}
	}
	return d
}

// rawKeys turns keys written by ddbjson.KeyString into JSON objects
// (none: an empty list, never null); a key that is not valid JSON (which
// KeyString does not write) stays a string rather than breaking the
// output.
func rawKeys(keys []string) []json.RawMessage {
	out := make([]json.RawMessage, len(keys))
	for i, k := range keys {
		if json.Valid([]byte(k)) {
			out[i] = json.RawMessage(k)
		} else {
			out[i], _ = json.Marshal(k)
		}
	}
	return out
}

// readOptions builds what the read-only commands (diff, show) share: the
// logger, the selection, the DynamoDB client counting into new Stats, the
// state files (S3 for --from-export or an s3:// keys file) and the
// reading options; to is the main table (diff) or the table whose key
// schema an export is read with (show).
func readOptions(c *cli.Context, env *Env, to string) (copier.Options, *slog.Logger, *dynamodb.Client, error) {
	log, err := newLogger(c, env)
	if err != nil {
		return copier.Options{}, nil, nil, err
	}
	sel, err := selection(c, env)
	if err != nil {
		return copier.Options{}, nil, nil, err
	}
	stats := &copier.Stats{}
	api, err := dynamoClient(c.Context, c, stats, log)
	if err != nil {
		return copier.Options{}, nil, nil, err
	}
	exports := c.StringSlice("from-export")
	files, err := stateFilesS3(c.Context, c, env, "", len(exports) > 0, sel.KeysFile)
	if err != nil {
		return copier.Options{}, nil, nil, err
	}
	return copier.Options{
		From: c.String("from"), FromExport: exports, AllowOtherTable: c.Bool("allow-other-table"),
		To: to, Selection: sel, Files: files,
		Segments: c.Int("segments"), PageSize: c.Int("page-size"), Writers: c.Int("writers"),
		MaxRetryTime: c.Duration("max-retry-time"), Stats: stats, Logger: log, Now: env.Now, Stdin: env.In, MemoryLimit: env.MemoryLimit,
	}, log, api, nil
}
