package main

// These tests keep deploy/ (AWS Batch job definitions, job submissions and
// the CloudFormation template) in step with the CLI and with docs/iam:
//
//   - every JSON file under deploy/ parses;
//   - every ddbrewind invocation found in a "command" array — directly, or
//     inside an `sh -c` script — uses only commands and flags the CLI
//     defines, and parses with the real CLI (required flags included);
//   - each command fits the image's ENTRYPOINT (see ../../Dockerfile);
//   - every child of the array job runs as its own worker, with its own
//     checkpoint and journal (simulated through the real CLI);
//   - the retry strategies retry exit codes 1 and 130 and host terminations,
//     and stop on 2, 3 and everything else, evaluated as AWS Batch does;
//   - the CloudFormation job role grants exactly docs/iam/run.json;
//   - every s3:ListBucket grant of the template is limited by an s3:prefix
//     condition to the prefix of the objects it may read and write, as
//     docs/iam.md recommends.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
)

const (
	deployDir         = "../../deploy"
	deployRunPolicy   = "../../docs/iam/run.json"
	deployArrayIndex  = "AWS_BATCH_JOB_ARRAY_INDEX"
	deployCFNTemplate = "batch/cloudformation.json"
)

// deployFile is one parsed JSON file of deploy/.
type deployFile struct {
	rel string // path relative to deploy/
	doc any
}

// deployFiles parses every JSON file under deploy/.
func deployFiles(t *testing.T) []deployFile {
	t.Helper()
	var files []deployFile
	err := filepath.WalkDir(deployDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		rel, _ := filepath.Rel(deployDir, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var doc any
		dec := json.NewDecoder(strings.NewReader(string(data)))
		if err := dec.Decode(&doc); err != nil {
			t.Errorf("deploy/%s does not parse: %v", rel, err)
			return nil
		}
		if dec.More() {
			t.Errorf("deploy/%s: data after the JSON document", rel)
			return nil
		}
		files = append(files, deployFile{rel: filepath.ToSlash(rel), doc: doc})
		return nil
	})
	if err != nil {
		t.Fatalf("read deploy/: %v", err)
	}
	if len(files) == 0 {
		t.Fatal("no JSON file under deploy/")
	}
	return files
}

// deployFileNamed returns the parsed file rel of deploy/.
func deployFileNamed(t *testing.T, files []deployFile, rel string) any {
	t.Helper()
	for _, f := range files {
		if f.rel == rel {
			return f.doc
		}
	}
	t.Fatalf("deploy/%s missing", rel)
	return nil
}

// deployGet returns obj[key], matching the key case-insensitively so that
// the Batch API's camelCase and CloudFormation's PascalCase both work.
func deployGet(obj any, key string) (any, bool) {
	m, ok := obj.(map[string]any)
	if !ok {
		return nil, false
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// deployPath follows keys from obj.
func deployPath(obj any, keys ...string) (any, bool) {
	for _, k := range keys {
		var ok bool
		if obj, ok = deployGet(obj, k); !ok {
			return nil, false
		}
	}
	return obj, true
}

// deployCommand is one "command" array found in a file.
type deployCommand struct {
	where string // file and JSON path, for messages
	argv  []any
}

// deployCommands returns every array stored under a key named "command"
// (any case): job definitions, SubmitJob overrides, CloudFormation.
func deployCommands(f deployFile) []deployCommand {
	var out []deployCommand
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if arr, ok := v[k].([]any); ok && strings.EqualFold(k, "command") {
					out = append(out, deployCommand{where: f.rel + ":" + path + "." + k, argv: arr})
					continue
				}
				walk(v[k], path+"."+k)
			}
		case []any:
			for i, x := range v {
				walk(x, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
	walk(f.doc, "")
	return out
}

// deployArgString turns one element of a command array into a string:
// CloudFormation intrinsics ({"Ref": "TableName"}, …) become a plausible
// value, since only the shape of the command is checked.
func deployArgString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case map[string]any:
		if r, ok := v["Ref"].(string); ok {
			if r == "TableName" {
				return "orders", nil
			}
			return "cfn-" + r, nil
		}
		if _, ok := v["Fn::Sub"]; ok {
			return "cfn-sub", nil
		}
	}
	return "", fmt.Errorf("unexpected command element %v", v)
}

// deployInvocation is one ddbrewind command line: argv[0] is "ddbrewind".
type deployInvocation struct {
	where string
	argv  []string
}

// deployInvocations extracts the ddbrewind invocations of a command array:
// the array itself, or the commands of an `sh -c SCRIPT`.
func deployInvocations(t *testing.T, c deployCommand) []deployInvocation {
	t.Helper()
	args := make([]string, len(c.argv))
	for i, v := range c.argv {
		s, err := deployArgString(v)
		if err != nil {
			t.Errorf("%s: %v", c.where, err)
			return nil
		}
		args[i] = s
	}
	if len(args) == 0 {
		t.Errorf("%s: empty command", c.where)
		return nil
	}
	switch {
	case filepath.Base(args[0]) == "ddbrewind":
		return []deployInvocation{{where: c.where, argv: args}}
	case slices.Contains([]string{"sh", "bash"}, filepath.Base(args[0])) && len(args) == 3 && args[1] == "-c":
		cmds, err := deploySplitShell(args[2])
		if err != nil {
			t.Errorf("%s: script: %v", c.where, err)
			return nil
		}
		var out []deployInvocation
		for _, words := range cmds {
			// Skip assignments (VAR=value) and exec.
			for len(words) > 0 && (words[0] == "exec" || deployIsAssignment(words[0])) {
				words = words[1:]
			}
			if len(words) > 0 && filepath.Base(words[0]) == "ddbrewind" {
				out = append(out, deployInvocation{where: c.where + " (sh -c)", argv: words})
			}
		}
		if len(out) == 0 {
			t.Errorf("%s: the script runs no ddbrewind command", c.where)
		}
		return out
	}
	// An image whose ENTRYPOINT is ddbrewind takes the command alone.
	for _, cmd := range newApp(deployEnv()).Commands {
		if args[0] == cmd.Name {
			return []deployInvocation{{where: c.where, argv: append([]string{"ddbrewind"}, args...)}}
		}
	}
	t.Errorf("%s: %q does not run ddbrewind", c.where, args)
	return nil
}

func deployIsAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// deploySplitShell splits a POSIX sh script into simple commands (split at
// ;, &&, || and newlines) of words, removing quotes. Parameter expansions
// are kept as written ("${X}" stays "${X}"), which is all the checks need.
func deploySplitShell(s string) ([][]string, error) {
	var (
		cmds  [][]string
		words []string
		word  strings.Builder
		inW   bool
	)
	endWord := func() {
		if inW {
			words = append(words, word.String())
			word.Reset()
			inW = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			endWord()
		case c == '\n' || c == ';':
			endCmd()
		case (c == '&' || c == '|') && i+1 < len(s) && s[i+1] == c:
			endCmd()
			i++
		case c == '|' || c == '&':
			return nil, fmt.Errorf("pipes and background jobs are not supported: %q", s)
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			word.WriteString(s[i+1 : i+1+j])
			inW = true
			i += j + 1
		case c == '"':
			inW = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				word.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote")
			}
		case c == '\\' && i+1 < len(s):
			i++
			word.WriteByte(s[i])
			inW = true
		case c == '$' && i+1 < len(s) && s[i+1] == '{':
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ${")
			}
			word.WriteString(s[i : i+j+1])
			inW = true
			i += j
		default:
			word.WriteByte(c)
			inW = true
		}
	}
	endCmd()
	return cmds, nil
}

func deployEnv() *Env {
	return &Env{
		In:     strings.NewReader(""),
		Out:    io.Discard,
		Err:    io.Discard,
		Now:    time.Now,
		Getenv: func(string) string { return "" },
	}
}

// deployFlagIndex maps each name and alias of flags to its flag.
func deployFlagIndex(flags []cli.Flag) map[string]cli.Flag {
	idx := map[string]cli.Flag{}
	for _, f := range flags {
		for _, n := range f.Names() {
			idx[n] = f
		}
	}
	return idx
}

func deployIsBool(f cli.Flag) bool {
	_, ok := f.(*cli.BoolFlag)
	return ok
}

// deployParsed is an invocation split into its command and flag values.
type deployParsed struct {
	command string
	flags   map[string][]string // name as written → values ("" for a bool)
}

// deployCheckFlags walks the CLI's own definitions (newApp(...).Commands and
// their Flags' Names()) and checks that inv uses only what they define:
// global flags before the command, the command, then its flags as
// `--name value`, `--name=value` or a boolean `--name`.
func deployCheckFlags(t *testing.T, inv deployInvocation) *deployParsed {
	t.Helper()
	app := newApp(deployEnv())
	global := deployFlagIndex(app.Flags)
	args := inv.argv[1:]
	p := &deployParsed{flags: map[string][]string{}}
	// flag consumes args[i] (a flag) and its value, if any, from idx.
	flag := func(i int, idx map[string]cli.Flag, ctx string) (int, bool) {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f, ok := idx[name]
		if !ok || !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			t.Errorf("%s: %s: unknown flag %s in %q", inv.where, ctx, a, inv.argv)
			return i + 1, false
		}
		switch {
		case deployIsBool(f):
			if hasValue && value != "true" && value != "false" {
				t.Errorf("%s: %s: boolean flag %s takes no value other than true or false", inv.where, ctx, a)
			}
		case !hasValue:
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "--") {
				t.Errorf("%s: %s: flag %s needs a value", inv.where, ctx, a)
				return i + 1, false
			}
			value = args[i+1]
			i++
		}
		p.flags[f.Names()[0]] = append(p.flags[f.Names()[0]], value)
		return i + 1, true
	}
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		i, _ = flag(i, global, "before the command")
	}
	if i >= len(args) {
		t.Errorf("%s: no command in %q", inv.where, inv.argv)
		return nil
	}
	var cmd *cli.Command
	for _, c := range app.Commands {
		if c.Name == args[i] || slices.Contains(c.Aliases, args[i]) {
			cmd = c
		}
	}
	if cmd == nil {
		t.Errorf("%s: unknown command %q in %q", inv.where, args[i], inv.argv)
		return nil
	}
	p.command = cmd.Name
	idx := deployFlagIndex(cmd.Flags)
	for i++; i < len(args); {
		if !strings.HasPrefix(args[i], "-") {
			t.Errorf("%s: ddbrewind %s takes no argument %q (a flag's value must follow its flag)", inv.where, cmd.Name, args[i])
			i++
			continue
		}
		i, _ = flag(i, idx, "ddbrewind "+cmd.Name)
	}
	return p
}

// deployRequired are the flags each command cannot run without (copy,
// diff and show are checked by requiredSource and showSource: --from or
// --from-export).
var deployRequired = map[string][]string{
	"restore": {"table"},
	"run":     {"table"},
	"undo":    {"journal", "table"},
}

// deployParseWithCLI parses inv with the real CLI, its actions replaced by
// a check of the required flags, so nothing touches AWS.
func deployParseWithCLI(t *testing.T, inv deployInvocation) {
	t.Helper()
	app := newApp(deployEnv())
	for _, c := range app.Commands {
		c.Action = func(ctx *cli.Context) error {
			switch ctx.Command.Name {
			case "copy", "diff": // --from or --from-export, and --to
				return requiredSource(ctx)
			case "show":
				return showSource(ctx)
			}
			return required(ctx, deployRequired[ctx.Command.Name]...)
		}
	}
	if err := app.RunContext(context.Background(), inv.argv); err != nil {
		t.Errorf("%s: the CLI rejects %q: %v (exit code %d)", inv.where, inv.argv, err, exitCode(err))
	}
}

// deployAllInvocations returns every ddbrewind invocation in deploy/, by file.
func deployAllInvocations(t *testing.T, files []deployFile) map[string][]deployInvocation {
	t.Helper()
	out := map[string][]deployInvocation{}
	for _, f := range files {
		for _, c := range deployCommands(f) {
			out[f.rel] = append(out[f.rel], deployInvocations(t, c)...)
		}
	}
	return out
}

func TestDeployJSONParses(t *testing.T) {
	for _, f := range deployFiles(t) {
		t.Logf("deploy/%s parses", f.rel)
	}
}

func TestDeployCommandsUseRealFlags(t *testing.T) {
	files := deployFiles(t)
	all := deployAllInvocations(t, files)
	seen := map[string]bool{}
	for _, rel := range slices.Sorted(maps.Keys(all)) {
		for _, inv := range all[rel] {
			p := deployCheckFlags(t, inv)
			deployParseWithCLI(t, inv)
			if p == nil {
				continue
			}
			seen[rel+" "+p.command] = true
			// Conventions of unattended runs: JSON logs for CloudWatch, no
			// live progress line, and --yes where a confirmation is asked.
			if v := p.flags["log-format"]; !slices.Equal(v, []string{"json"}) {
				t.Errorf("%s: ddbrewind %s without --log-format json", inv.where, p.command)
			}
			if _, ok := p.flags["no-progress"]; !ok {
				t.Errorf("%s: ddbrewind %s without --no-progress", inv.where, p.command)
			}
			_, yes := p.flags["yes"]
			_, dry := p.flags["dry-run"]
			if slices.Contains([]string{"run", "copy", "cleanup", "undo"}, p.command) && !yes && !dry {
				t.Errorf("%s: ddbrewind %s without --yes would be refused (exit 2): stdin is not a terminal in a job", inv.where, p.command)
			}
			t.Logf("%s: ddbrewind %s: ok", inv.where, p.command)
		}
	}
	for _, want := range []string{
		"batch/job-definition-fargate.json run",
		"batch/job-definition-ec2.json run",
		"batch/array-job.json copy",
		"batch/export-array-job.json copy",
		deployCFNTemplate + " run",
	} {
		if !seen[want] {
			t.Errorf("deploy/%s: expected a ddbrewind %s invocation", strings.Fields(want)[0], strings.Fields(want)[1])
		}
	}
}

func TestDeployShellSplit(t *testing.T) {
	got, err := deploySplitShell(`: "${X:?not set}"; exec ddbrewind copy --a 'b c' --d="e-${X}.json" x\ y && echo done`)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{":", "${X:?not set}"}, {"exec", "ddbrewind", "copy", "--a", "b c", "--d=e-${X}.json", "x y"}, {"echo", "done"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("split = %q, want %q", got, want)
	}
}

// TestDeployArrayJob checks the array job: each child is one worker of
// --worker-count K = arrayProperties.size, takes its index from
// AWS_BATCH_JOB_ARRAY_INDEX (ddbrewind reads it when --worker-index is not
// given), and keeps its own checkpoint and journal (a checkpoint records one
// worker's segments and is refused by another; children sharing a journal
// would overwrite each other's parts). Batch expands no variable in a
// command, so this simulates every child through the real CLI: the same
// argv (with ${AWS_BATCH_JOB_ARRAY_INDEX} expanded, for an `sh -c` form) and
// the child's environment, and compares the options copy would run with.
//
// batch/export-array-job.json is the same split for a copy from a full
// export (--from-export): its children read the export's data files
// i % K == index, so it must name an export and no recovery table.
func TestDeployArrayJob(t *testing.T) {
	for _, tc := range []struct {
		rel        string
		fromExport bool
	}{
		{"batch/array-job.json", false},
		{"batch/export-array-job.json", true},
	} {
		t.Run(tc.rel, func(t *testing.T) { deployCheckArrayJob(t, tc.rel, tc.fromExport) })
	}
}

// deployCheckArrayJob checks the array job rel (see TestDeployArrayJob).
func deployCheckArrayJob(t *testing.T, rel string, fromExport bool) {
	files := deployFiles(t)
	doc := deployFileNamed(t, files, rel)
	sizeV, ok := deployPath(doc, "arrayProperties", "size")
	sizeF, isNum := sizeV.(float64)
	if !ok || !isNum || sizeF < 2 {
		t.Fatalf("%s: arrayProperties.size = %v, want a number ≥ 2", rel, sizeV)
	}
	size := int(sizeF)
	cmds := deployCommands(deployFile{rel: rel, doc: doc})
	if len(cmds) != 1 {
		t.Fatalf("%s: %d command arrays, want 1", rel, len(cmds))
	}
	invs := deployInvocations(t, cmds[0])
	if len(invs) != 1 {
		t.Fatalf("%s: %d ddbrewind invocations, want 1", rel, len(invs))
	}
	p := deployCheckFlags(t, invs[0])
	if p == nil {
		return
	}
	if p.command != "copy" {
		t.Fatalf("%s runs ddbrewind %s, want copy (run would restore once per child)", rel, p.command)
	}
	if wc := p.flags["worker-count"]; len(wc) != 1 || wc[0] != strconv.Itoa(size) {
		t.Errorf("%s: --worker-count %v, want %d (arrayProperties.size)", rel, wc, size)
	}
	if _, ok := p.flags["worker-index"]; ok {
		t.Errorf("%s: --worker-index is set: every child would be the same worker; leave it out so ddbrewind reads %s", rel, deployArrayIndex)
	}
	if seg := p.flags["segments"]; len(seg) != 1 {
		t.Errorf("%s: give --segments explicitly, the same in every child", rel)
	} else if n, err := strconv.Atoi(seg[0]); err != nil || (n < size && !fromExport) {
		// A table's Scan segments are split between the workers; an
		// export's data files are, and --segments is how many of them a
		// worker reads at once.
		t.Errorf("%s: --segments %s: want at least %d (one per worker)", rel, seg[0], size)
	}

	if _, ok := p.flags["from-export"]; ok != fromExport {
		t.Errorf("%s: --from-export given: %v, want %v", rel, ok, fromExport)
	}
	if _, ok := p.flags["from"]; ok == fromExport {
		t.Errorf("%s: --from given: %v, want %v", rel, ok, !fromExport)
	}

	seen := map[string]int{}
	for i := range size {
		env := deployEnv()
		env.Getenv = func(k string) string {
			if k == deployArrayIndex {
				return strconv.Itoa(i)
			}
			return ""
		}
		argv := make([]string, len(invs[0].argv))
		for j, a := range invs[0].argv {
			argv[j] = deployExpandIndex(a, i)
		}
		var got *copier.Options
		var report string
		app := newApp(env)
		for _, c := range app.Commands {
			if c.Name == "copy" {
				c.Action = func(ctx *cli.Context) error {
					o, err := copyOptions(ctx, env)
					got, report = &o, reportPath(ctx, o)
					return err
				}
			}
		}
		if err := app.RunContext(context.Background(), argv); err != nil || got == nil {
			t.Fatalf("child %d: %q: %v", i, argv, err)
		}
		if got.WorkerIndex != i || got.WorkerCount != size {
			t.Errorf("child %d runs as worker %d of %d", i, got.WorkerIndex, got.WorkerCount)
		}
		if !strings.HasPrefix(got.Checkpoint, "s3://") {
			t.Errorf("child %d: --checkpoint %q: want an s3:// location, so that a retried child on a new container resumes", i, got.Checkpoint)
		}
		for name, v := range map[string]string{"checkpoint": got.Checkpoint, "journal": got.Journal, "report": report} {
			if v == "" {
				continue
			}
			if prev, dup := seen[name+" "+v]; dup {
				t.Errorf("children %d and %d share --%s %s: each child needs its own", prev, i, name, v)
			}
			seen[name+" "+v] = i
		}
		t.Logf("child %d: worker %d/%d, checkpoint %s, journal %s", i, got.WorkerIndex, got.WorkerCount, got.Checkpoint, got.Journal)
	}
}

// deployExpandIndex expands what a shell would in an `sh -c` array job:
// ${AWS_BATCH_JOB_ARRAY_INDEX} and $AWS_BATCH_JOB_ARRAY_INDEX.
func deployExpandIndex(s string, i int) string {
	return strings.NewReplacer("${"+deployArrayIndex+"}", strconv.Itoa(i), "$"+deployArrayIndex, strconv.Itoa(i)).Replace(s)
}

// deployExitCase is a job attempt's end, as Batch sees it.
type deployExitCase struct {
	exitCode     *int
	statusReason string
	reason       string
	want         string // RETRY or EXIT
}

// deployBatchGlob matches like evaluateOnExit patterns: exact, or a prefix
// when the pattern ends with *.
func deployBatchGlob(pattern, s string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(s, p)
	}
	return pattern == s
}

// deployEvaluate applies a retry strategy's evaluateOnExit as AWS Batch
// does: the first entry whose every condition matches decides; when none
// matches, the job is retried.
func deployEvaluate(entries []any, c deployExitCase) (string, error) {
	for i, e := range entries {
		match := true
		conds := 0
		for _, key := range []string{"onExitCode", "onStatusReason", "onReason"} {
			v, ok := deployGet(e, key)
			if !ok {
				continue
			}
			pat, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("entry %d: %s is not a string", i, key)
			}
			conds++
			switch key {
			case "onExitCode":
				match = match && c.exitCode != nil && deployBatchGlob(pat, strconv.Itoa(*c.exitCode))
			case "onStatusReason":
				match = match && deployBatchGlob(pat, c.statusReason)
			case "onReason":
				match = match && deployBatchGlob(pat, c.reason)
			}
		}
		if conds == 0 {
			return "", fmt.Errorf("entry %d has no condition", i)
		}
		if match {
			a, _ := deployGet(e, "action")
			s, _ := a.(string)
			return strings.ToUpper(s), nil
		}
	}
	return "RETRY", nil
}

// deployJobDefinitions returns the job definitions of deploy/: the
// RegisterJobDefinition inputs and the template's AWS::Batch::JobDefinition.
func deployJobDefinitions(t *testing.T, files []deployFile) map[string]any {
	t.Helper()
	defs := map[string]any{}
	for _, f := range files {
		if _, ok := deployGet(f.doc, "jobDefinitionName"); ok {
			if _, ok := deployGet(f.doc, "containerProperties"); ok {
				defs[f.rel] = f.doc
			}
		}
		res, _ := deployGet(f.doc, "Resources")
		if m, ok := res.(map[string]any); ok {
			for name, r := range m {
				if typ, _ := deployGet(r, "Type"); typ == "AWS::Batch::JobDefinition" {
					props, _ := deployGet(r, "Properties")
					defs[f.rel+":"+name] = props
				}
			}
		}
	}
	if len(defs) < 3 {
		t.Errorf("found %d job definitions in deploy/, want the Fargate and EC2 ones and the template's", len(defs))
	}
	return defs
}

func TestDeployRetryStrategy(t *testing.T) {
	code := func(n int) *int { return &n }
	cases := []deployExitCase{
		{exitCode: code(0), want: "EXIT"},
		{exitCode: code(1), statusReason: "Essential container in task exited", want: "RETRY"},
		{exitCode: code(130), statusReason: "Essential container in task exited", want: "RETRY"},
		{exitCode: code(2), statusReason: "Essential container in task exited", want: "EXIT"},
		{exitCode: code(3), statusReason: "Essential container in task exited", want: "EXIT"},
		{exitCode: code(137), statusReason: "OutOfMemoryError: Container killed due to memory usage", want: "EXIT"},
		{statusReason: "Host EC2 (instance i-0123456789abcdef0) terminated.", want: "RETRY"},
		{exitCode: code(3), statusReason: "Host EC2 (instance i-0123456789abcdef0) terminated.", want: "RETRY"},
	}
	for name, def := range deployJobDefinitions(t, deployFiles(t)) {
		t.Run(name, func(t *testing.T) {
			rs, ok := deployGet(def, "retryStrategy")
			if !ok {
				t.Fatal("no retryStrategy")
			}
			if a, _ := deployGet(rs, "attempts"); a != float64(3) {
				t.Errorf("attempts = %v, want 3", a)
			}
			ev, _ := deployGet(rs, "evaluateOnExit")
			entries, _ := ev.([]any)
			if len(entries) == 0 || len(entries) > 5 {
				t.Fatalf("evaluateOnExit has %d entries; AWS Batch takes 1 to 5", len(entries))
			}
			last := entries[len(entries)-1]
			if c, _ := deployGet(last, "onExitCode"); c != "*" {
				t.Errorf(`the last entry must be onExitCode "*" → EXIT (unmatched failures are retried otherwise), got %v`, last)
			}
			for i, e := range entries {
				if c, ok := deployGet(e, "onExitCode"); ok {
					s, _ := c.(string)
					if strings.Trim(strings.TrimSuffix(s, "*"), "0123456789") != "" {
						t.Errorf("entry %d: onExitCode %q: only digits, optionally ending with *", i, s)
					}
				}
				a, _ := deployGet(e, "action")
				if s, _ := a.(string); s != "RETRY" && s != "EXIT" {
					t.Errorf("entry %d: action %v, want RETRY or EXIT", i, a)
				}
			}
			for _, c := range cases {
				got, err := deployEvaluate(entries, c)
				if err != nil {
					t.Fatal(err)
				}
				ec := "none"
				if c.exitCode != nil {
					ec = strconv.Itoa(*c.exitCode)
				}
				if got != c.want {
					t.Errorf("exit code %s, status reason %q: %s, want %s", ec, c.statusReason, got, c.want)
				}
			}
			to, _ := deployPath(def, "timeout", "attemptDurationSeconds")
			if n, _ := to.(float64); n < 13*3600 {
				t.Errorf("timeout.attemptDurationSeconds = %v: want more than restore's 12h --timeout (a timed-out attempt is not retried)", to)
			}
			cp, _ := deployGet(def, "containerProperties")
			if _, ok := deployGet(cp, "jobRoleArn"); !ok {
				t.Error("no jobRoleArn: ddbrewind would run without AWS credentials")
			}
			if d, _ := deployPath(cp, "logConfiguration", "logDriver"); d != "awslogs" {
				t.Errorf("logConfiguration.logDriver = %v, want awslogs", d)
			}
			if g, ok := deployPath(cp, "logConfiguration", "options", "awslogs-group"); !ok || g == nil {
				t.Error("no awslogs-group")
			}
			pc, _ := deployGet(def, "platformCapabilities")
			if caps, _ := pc.([]any); slices.Contains(caps, any("FARGATE")) {
				if _, ok := deployGet(cp, "executionRoleArn"); !ok {
					t.Error("Fargate job definition without executionRoleArn: the image cannot be pulled nor the logs sent")
				}
			}
		})
	}
}

// TestDeployParametersSupplied checks that every Ref:: placeholder of a job
// definition's command is supplied by each submission that uses that job
// definition's command (a literal "Ref::at" would reach ddbrewind).
func TestDeployParametersSupplied(t *testing.T) {
	files := deployFiles(t)
	refs := func(def any) []string {
		var out []string
		cmd, _ := deployPath(def, "containerProperties", "command")
		arr, _ := cmd.([]any)
		for _, a := range arr {
			if s, ok := a.(string); ok && strings.HasPrefix(s, "Ref::") {
				out = append(out, strings.TrimPrefix(s, "Ref::"))
			}
		}
		return out
	}
	byName := map[string]any{}
	for _, f := range files {
		if n, ok := deployGet(f.doc, "jobDefinitionName"); ok {
			byName[n.(string)] = f.doc
		}
	}
	submissions := 0
	for _, f := range files {
		jd, ok := deployGet(f.doc, "jobDefinition")
		if !ok {
			continue
		}
		submissions++
		if _, ok := deployPath(f.doc, "containerOverrides", "command"); ok {
			continue // the override replaces the command and its placeholders
		}
		def, ok := byName[jd.(string)]
		if !ok {
			t.Errorf("deploy/%s: job definition %v is not in deploy/", f.rel, jd)
			continue
		}
		params, _ := deployGet(f.doc, "parameters")
		defaults, _ := deployGet(def, "parameters")
		for _, r := range refs(def) {
			_, given := deployGet(params, r)
			_, dflt := deployGet(defaults, r)
			if !given && !dflt {
				t.Errorf("deploy/%s: parameter %q of job definition %v is not given (ddbrewind would receive Ref::%s)", f.rel, r, jd, r)
			}
		}
	}
	if submissions == 0 {
		t.Error("no SubmitJob input in deploy/")
	}
}

// deployStatement is an IAM statement reduced to what it grants.
type deployStatement struct {
	Effect    string                         `json:"effect"`
	Action    []string                       `json:"action"`
	Resource  []string                       `json:"resource"`
	Condition map[string]map[string][]string `json:"condition,omitempty"`
}

func (s deployStatement) key() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// deployCFNResolve resolves the intrinsics the template's policy uses, in
// the placeholders of docs/iam: ${Region}, ${Account}, ${Table},
// ${BackupRole}.
var deployCFNResolve = strings.NewReplacer(
	"${AWS::Partition}", "aws",
	"${AWS::Region}", "${Region}",
	"${AWS::AccountId}", "${Account}",
	"${TableName}", "${Table}",
	"${BackupRoleName}", "${BackupRole}",
	"${ExportBucket}", "${Bucket}",
	"${ExportPrefix}", "${Prefix}",
)

func deployCFNString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case map[string]any:
		if r, ok := v["Ref"].(string); ok && r == "TableName" {
			return "${Table}", nil
		}
		if s, ok := v["Fn::Sub"].(string); ok {
			return deployCFNResolve.Replace(s), nil
		}
	}
	return "", fmt.Errorf("cannot resolve %v (use a string, {\"Ref\": \"TableName\"} or {\"Fn::Sub\": \"...\"})", v)
}

// deployStrings reads an IAM "string or list" whose elements may be
// CloudFormation intrinsics.
func deployStrings(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []string
	for _, x := range list {
		s, err := deployCFNString(x)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

func deployNormalize(stmt any) (deployStatement, error) {
	var s deployStatement
	e, _ := deployGet(stmt, "Effect")
	s.Effect, _ = e.(string)
	a, _ := deployGet(stmt, "Action")
	var err error
	if s.Action, err = deployStrings(a); err != nil {
		return s, err
	}
	r, _ := deployGet(stmt, "Resource")
	if s.Resource, err = deployStrings(r); err != nil {
		return s, err
	}
	if c, ok := deployGet(stmt, "Condition"); ok {
		cm, _ := c.(map[string]any)
		s.Condition = map[string]map[string][]string{}
		for op, kv := range cm {
			kvm, _ := kv.(map[string]any)
			s.Condition[op] = map[string][]string{}
			for k, v := range kvm {
				if s.Condition[op][k], err = deployStrings(v); err != nil {
					return s, err
				}
			}
		}
	}
	return s, nil
}

func deployDynamoActions(stmts []deployStatement) []string {
	var out []string
	for _, s := range stmts {
		for _, a := range s.Action {
			if strings.HasPrefix(a, "dynamodb:") && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestDeployJobRoleMatchesRunPolicy checks that the template's job role
// grants on DynamoDB exactly what docs/iam/run.json grants: the same action
// set, and statement by statement the same actions, resources and
// conditions once the template's intrinsics are mapped to the policy's
// placeholders.
func TestDeployJobRoleMatchesRunPolicy(t *testing.T) {
	data, err := os.ReadFile(deployRunPolicy)
	if err != nil {
		t.Fatalf("docs/iam/run.json missing (%v): the job role in deploy/%s must mirror it", err, deployCFNTemplate)
	}
	var policy any
	if err := json.Unmarshal(data, &policy); err != nil {
		t.Fatalf("docs/iam/run.json: %v", err)
	}
	var want []deployStatement
	ps, _ := deployGet(policy, "Statement")
	list, ok := ps.([]any)
	if !ok {
		list = []any{ps}
	}
	for _, s := range list {
		n, err := deployNormalize(s)
		if err != nil {
			t.Fatalf("docs/iam/run.json: %v", err)
		}
		want = append(want, n)
	}

	tmpl := deployFileNamed(t, deployFiles(t), deployCFNTemplate)
	resources, _ := deployGet(tmpl, "Resources")
	var roleName string
	for _, r := range resources.(map[string]any) {
		if typ, _ := deployGet(r, "Type"); typ != "AWS::Batch::JobDefinition" {
			continue
		}
		arn, _ := deployPath(r, "Properties", "ContainerProperties", "JobRoleArn")
		ga, _ := deployGet(arn, "Fn::GetAtt")
		if l, ok := ga.([]any); ok && len(l) == 2 {
			roleName, _ = l[0].(string)
		}
	}
	if roleName == "" {
		t.Fatalf("deploy/%s: the job definition's JobRoleArn is not {\"Fn::GetAtt\": [ROLE, \"Arn\"]}", deployCFNTemplate)
	}
	role, _ := deployGet(resources, roleName)
	pols, _ := deployPath(role, "Properties", "Policies")
	var got []deployStatement
	for _, p := range pols.([]any) {
		stmts, _ := deployPath(p, "PolicyDocument", "Statement")
		for _, s := range stmts.([]any) {
			n, err := deployNormalize(s)
			if err != nil {
				t.Fatalf("deploy/%s: role %s: %v", deployCFNTemplate, roleName, err)
			}
			// The statements of run.json: DynamoDB's, AWS Backup's with
			// its iam:PassRole, and the S3 grants an export needs (not the
			// state files' s3: ones).
			if slices.ContainsFunc(n.Action, func(a string) bool {
				return strings.HasPrefix(a, "dynamodb:") || strings.HasPrefix(a, "backup:") || a == "iam:PassRole"
			}) || slices.ContainsFunc(n.Resource, func(r string) bool { return strings.Contains(r, "${Bucket}") }) {
				got = append(got, n)
			}
		}
	}

	wantActions, gotActions := deployDynamoActions(want), deployDynamoActions(got)
	if !slices.Equal(wantActions, gotActions) {
		var missing, extra []string
		for _, a := range wantActions {
			if !slices.Contains(gotActions, a) {
				missing = append(missing, a)
			}
		}
		for _, a := range gotActions {
			if !slices.Contains(wantActions, a) {
				extra = append(extra, a)
			}
		}
		t.Errorf("job role %s: DynamoDB actions differ from docs/iam/run.json: missing %v, extra %v", roleName, missing, extra)
	}

	keys := func(ss []deployStatement) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.key())
		}
		slices.Sort(out)
		return out
	}
	wk, gk := keys(want), keys(got)
	for _, k := range wk {
		if !slices.Contains(gk, k) {
			t.Errorf("job role %s lacks this statement of docs/iam/run.json: %s", roleName, k)
		}
	}
	for _, k := range gk {
		if !slices.Contains(wk, k) {
			t.Errorf("job role %s has a DynamoDB or AWS Backup statement that docs/iam/run.json lacks: %s", roleName, k)
		}
	}
}

// TestDeployImageEntrypoint checks that the commands fit the repository's
// image: Batch cannot override an ENTRYPOINT, so with ENTRYPOINT ddbrewind
// a command is ddbrewind's arguments (["run", ...]); without one it starts
// with "ddbrewind". An image without a shell cannot run `sh -c`.
func TestDeployImageEntrypoint(t *testing.T) {
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatalf("Dockerfile missing (%v): the job definitions in deploy/ run its image", err)
	}
	var entrypoint []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch strings.ToUpper(f[0]) {
		case "FROM":
			entrypoint = nil // a new stage
		case "ENTRYPOINT":
			rest := strings.TrimSpace(line[len(f[0]):])
			if err := json.Unmarshal([]byte(rest), &entrypoint); err != nil {
				entrypoint = strings.Fields(rest) // shell form
			}
		}
	}
	viaEntrypoint := len(entrypoint) > 0 && filepath.Base(entrypoint[len(entrypoint)-1]) == "ddbrewind"
	if len(entrypoint) > 0 && !viaEntrypoint {
		t.Fatalf("Dockerfile: ENTRYPOINT %q is neither empty nor ddbrewind: the commands in deploy/ cannot fit it", entrypoint)
	}
	for _, f := range deployFiles(t) {
		for _, c := range deployCommands(f) {
			first, _ := deployArgString(c.argv[0])
			switch {
			case viaEntrypoint && (first == "ddbrewind" || first == "sh"):
				t.Errorf("%s: the image's ENTRYPOINT is %q, so this command runs `ddbrewind %s ...`: start it with the ddbrewind command (e.g. \"run\")", c.where, entrypoint, first)
			case !viaEntrypoint && first != "ddbrewind" && first != "sh":
				t.Errorf("%s: the image has no ENTRYPOINT, so the command must start with \"ddbrewind\"", c.where)
			}
		}
	}
}

// deployStatements returns every IAM statement found anywhere in doc (the
// value of each "Statement" key, a list or a single statement).
func deployStatements(doc any) []any {
	var out []any
	switch v := doc.(type) {
	case map[string]any:
		for k, x := range v {
			if strings.EqualFold(k, "Statement") {
				if l, ok := x.([]any); ok {
					out = append(out, l...)
				} else {
					out = append(out, x)
				}
				continue
			}
			out = append(out, deployStatements(x)...)
		}
	case []any:
		for _, x := range v {
			out = append(out, deployStatements(x)...)
		}
	}
	return out
}

// deployGrants reports whether an IAM action pattern (s3:ListBucket,
// s3:List*, s3:*, *) covers action.
func deployGrants(pattern, action string) bool {
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(action))
	return ok
}

// deployStatementGrants reports whether an IAM statement allows action
// (trust policies, whose statements name no resource, allow only
// sts:AssumeRole).
func deployStatementGrants(stmt any, action string) bool {
	e, _ := deployGet(stmt, "Effect")
	a, _ := deployGet(stmt, "Action")
	actions, err := deployStrings(a)
	return e == "Allow" && err == nil && slices.ContainsFunc(actions, func(p string) bool { return deployGrants(p, action) })
}

// TestDeployListBucketHasPrefixCondition checks that every s3:ListBucket
// grant in the CloudFormation template carries the s3:prefix condition of
// docs/iam.md ("s3:prefix": "PREFIX/*", StringLike), and that PREFIX is
// the prefix of the state objects the same policy lets the job read and
// write: listing stays within ddbrewind's keys (and S3 still answers "not
// found" for a missing state file under them).
func TestDeployListBucketHasPrefixCondition(t *testing.T) {
	tmpl := deployFileNamed(t, deployFiles(t), deployCFNTemplate)
	grants := 0
	for _, raw := range deployStatements(tmpl) {
		if !deployStatementGrants(raw, "s3:ListBucket") {
			continue
		}
		st, err := deployNormalize(raw)
		if err != nil {
			t.Fatalf("deploy/%s: %v", deployCFNTemplate, err)
		}
		grants++
		sid, _ := deployGet(raw, "Sid")
		prefixes := st.Condition["StringLike"]["s3:prefix"]
		if len(prefixes) == 0 {
			t.Errorf("deploy/%s: statement %v grants s3:ListBucket on %v without a StringLike s3:prefix condition (docs/iam.md: \"s3:prefix\": \"PREFIX/*\")", deployCFNTemplate, sid, st.Resource)
			continue
		}
		// The objects this template's policies let the job read and write.
		var objects []string
		for _, o := range deployStatements(tmpl) {
			if !deployStatementGrants(o, "s3:GetObject") {
				continue
			}
			ost, err := deployNormalize(o)
			if err != nil {
				t.Fatalf("deploy/%s: %v", deployCFNTemplate, err)
			}
			objects = append(objects, ost.Resource...)
		}
		for _, p := range prefixes {
			base, ok := strings.CutSuffix(p, "/*")
			if !ok || base == "" || strings.Contains(base, "*") {
				t.Errorf("deploy/%s: statement %v: s3:prefix %q, want PREFIX/* with a fixed PREFIX (docs/iam.md)", deployCFNTemplate, sid, p)
				continue
			}
			covered := false
			for _, bucket := range st.Resource {
				covered = covered || slices.Contains(objects, bucket+"/"+base+"/*")
			}
			if !covered {
				t.Errorf("deploy/%s: statement %v lists %q in %v, but no s3:GetObject grant covers %v/%s/*", deployCFNTemplate, sid, p, st.Resource, st.Resource, base)
			}
		}
	}
	if grants == 0 {
		t.Errorf("deploy/%s grants no s3:ListBucket: the job role needs it on the state bucket (docs/batch.md)", deployCFNTemplate)
	}
}
