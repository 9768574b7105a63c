package main

import (
	"errors"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// errorLineOf checks that stderr is exactly one line, the error, and
// returns it.
func errorLineOf(t *testing.T, r result) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("stderr has %d non-empty lines, want one (the error):\n%s", len(lines), r.stderr)
	}
	if !strings.HasPrefix(lines[0], "ddbrewind: ") || strings.HasPrefix(lines[0], "ddbrewind: ddbrewind") {
		t.Errorf("error line %q: want one \"ddbrewind: \" prefix", lines[0])
	}
	return lines[0]
}

// usageCase is a command line that must exit with code, printing nothing
// on stdout and one line on stderr that says each of want and none of
// not.
type usageCase struct {
	name string
	args []string
	code int
	want []string
	not  []string
}

func runUsageCases(t *testing.T, cases []usageCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ddb(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			line := errorLineOf(t, r)
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("error line %q does not say %q", line, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(line, n) {
					t.Errorf("error line %q says %q", line, n)
				}
			}
		})
	}
}

// deadEndpoint returns the URL of a free loopback port with nothing
// listening on it.
func deadEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// Row 5: a stray positional argument is an error naming it, exit 2,
// whatever comes after it (urfave/cli stops reading flags there).
func TestStrayArgument(t *testing.T) {
	t.Parallel()
	dead := deadEndpoint(t)
	runUsageCases(t, []usageCase{
		{"list: --output after it is not ignored", []string{"list", "extra", "--output", "json", "--endpoint-url", dead}, 2,
			[]string{`list: unexpected argument "extra"`, "see ddbrewind list --help"}, nil},
		{"diff: not --to is required", []string{"diff", "--from", "a", "stray", "--to", "b"}, 2,
			[]string{`diff: unexpected argument "stray"`}, []string{"required"}},
		{"copy", []string{"copy", "--from", "a", "stray", "--to", "b", "--yes"}, 2,
			[]string{`copy: unexpected argument "stray"`}, []string{"required"}},
		{"copy: at the end", []string{"copy", "--from", "a", "--to", "b", "--yes", "stray"}, 2,
			[]string{`copy: unexpected argument "stray"`}, nil},
		{"copy: after --", []string{"copy", "--from", "a", "--to", "b", "--", "--yes"}, 2,
			[]string{`copy: unexpected argument "--yes"`}, nil},
		{"restore: a value for a boolean flag", []string{"restore", "--table", "orders", "--latest", "--wait", "false"}, 2,
			[]string{`restore: unexpected argument "false"`, "--wait takes no value: write --wait=false"}, nil},
		{"run", []string{"run", "--table", "orders", "--latest", "extra"}, 2, []string{`run: unexpected argument "extra"`}, nil},
		{"undo", []string{"undo", "extra"}, 2, []string{`undo: unexpected argument "extra"`}, nil},
		{"cleanup", []string{"cleanup", "extra", "--yes"}, 2, []string{`cleanup: unexpected argument "extra"`}, nil},
		{"version", []string{"version", "extra"}, 2, []string{`version: unexpected argument "extra"`}, nil},
		{"completion: two shells", []string{"completion", "bash", "zsh"}, 2, []string{`completion: unexpected argument "zsh"`}, nil},
		{"help: two commands", []string{"help", "copy", "diff"}, 2, []string{`help: unexpected argument "diff"`}, nil},
		{"top level: an unknown command", []string{"extra"}, 2, []string{`unknown command "extra"`}, nil},
	})
}

// Row 6: completion bash|zsh|fish, help [COMMAND], version.
func TestHelpVersionCompletionCommands(t *testing.T) {
	t.Parallel()
	ok := []struct {
		name string
		args []string
		want []string
	}{
		{"completion bash", []string{"completion", "bash"}, []string{"complete -o bashdefault -o default -F _ddbrewind_complete ddbrewind", completeFlag}},
		{"completion zsh", []string{"completion", "zsh"}, []string{"#compdef ddbrewind", "compdef _ddbrewind ddbrewind", completeFlag}},
		{"completion fish", []string{"completion", "fish"}, []string{"complete -c ddbrewind", "-a 'copy'", "-l from", "-l endpoint-url"}},
		{"help", []string{"help"}, []string{"USAGE:", "COMMANDS:", "copy", "completion", "--endpoint-url"}},
		{"help COMMAND", []string{"help", "copy"}, []string{"ddbrewind copy (--from RECOVERY | --from-export URL) --to MAIN", "--only-missing", "--from-export", "--endpoint-url"}},
		{"help help", []string{"help", "help"}, []string{"ddbrewind help [COMMAND [SUBCOMMAND]]"}},
		{"version", []string{"version"}, []string{"ddbrewind version "}},
		{"--version", []string{"--version"}, []string{"ddbrewind version "}},
		{"-h", []string{"-h"}, []string{"COMMANDS:"}},
		{"COMMAND --help", []string{"diff", "--help"}, []string{"ddbrewind diff (--from RECOVERY | --from-export URL) --to MAIN"}},
		{"global flags after version", []string{"version", "--log-format", "json", "--region", "eu-west-1"}, []string{"ddbrewind version "}},
		{"global flags after completion", []string{"completion", "--no-progress", "bash"}, []string{"complete -o bashdefault"}},
		{"global flags after help", []string{"help", "--yes", "list"}, []string{"ddbrewind list [--source TABLE]"}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			r := ddb(t, tc.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout does not have %q", w)
				}
			}
			if strings.Contains(r.stdout, "(devel)") {
				t.Errorf("stdout says (devel)")
			}
		})
	}
	runUsageCases(t, []usageCase{
		{"completion without a shell", []string{"completion"}, 2, []string{"completion: name the shell: use bash, zsh or fish"}, nil},
		{"completion of an unknown shell", []string{"completion", "tcsh"}, 2, []string{`unknown shell "tcsh": use bash, zsh or fish`}, nil},
		{"help of an unknown command", []string{"help", "cpy"}, 2, []string{`unknown command "cpy": did you mean copy?`}, nil},
		{"help of a command that is not close to any", []string{"help", "rewindify"}, 2, []string{`unknown command "rewindify": use one of restore, export, copy`}, nil},
	})
}

// The scripts are valid for their shells (each checked where the shell
// is installed; bash always is where the tests run).
func TestCompletionScriptsParse(t *testing.T) {
	t.Parallel()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			path, err := exec.LookPath(shell)
			if err != nil {
				if shell == "bash" {
					t.Fatal("bash not found")
				}
				t.Skipf("%s is not installed", shell)
			}
			r := ddb(t, "completion", shell)
			if r.code != 0 {
				t.Fatalf("exit %d", r.code)
			}
			script := filepath.Join(t.TempDir(), "ddbrewind."+shell)
			if err := os.WriteFile(script, []byte(r.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

// The bash script asks the binary for the words, passing the words
// before the cursor and the word being typed, and offers those that match.
func TestBashCompletionScript(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "ddbrewind.bash")
	if err := os.WriteFile(script, []byte(bashCompletion), 0o600); err != nil {
		t.Fatal(err)
	}
	// A stand-in for the binary: records its arguments, answers as
	// ddbrewind would for "copy --fr".
	driver := `
source "$1"
out="$2"
ddbrewind() { printf '%s\n' "$*" > "$out/args"; printf -- '--from\n--filter-expression\n'; }
COMP_WORDS=(ddbrewind copy --fr); COMP_CWORD=2
_ddbrewind_complete
printf '%s\n' "${COMPREPLY[@]}"
`
	out, err := exec.Command("bash", "-c", driver, "driver", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "--from" {
		t.Errorf("COMPREPLY %q, want --from", got)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	if got := strings.TrimSpace(string(args)); got != "copy --fr "+completeFlag {
		t.Errorf("the binary was asked %q, want %q", got, "copy --fr "+completeFlag)
	}
}

// The binary's side of the completion protocol: the words that may come
// next, and never a command run (no AWS call, no write).
func TestCompletionWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		want     []string
		not      []string
		wantNone bool
	}{
		{"commands", []string{completeFlag}, []string{"restore", "copy", "run", "diff", "list", "cleanup", "undo", "completion", "help", "version"}, nil, false},
		{"flags of a command", []string{"copy", "--fr", completeFlag}, []string{"--from"}, []string{"--to", "--filter-expression"}, false},
		// "ddbrewind copy --<Tab><Tab>": the word typed is "--", every flag
		// (issue 22 row 9: it was refused as arguments after --).
		{"every flag", []string{"list", "--", completeFlag}, []string{"--source", "--backups", "--table", "--output", "--endpoint-url", "--region"}, nil, false},
		{"every flag of copy", []string{"copy", "--", completeFlag}, []string{"--from", "--to", "--keys-file", "--max-wcu", "--yes"}, nil, false},
		{"global flags after the command", []string{"list", "--endpoint", completeFlag}, []string{"--endpoint-url"}, nil, false},
		{"a flag already given is not offered again", []string{"copy", "--from", "a", "--fr", completeFlag}, nil, []string{"--from"}, false},
		{"a repeatable flag is", []string{"restore", "--tag", "a=b", "--ta", completeFlag}, []string{"--tag", "--table"}, nil, false},
		{"a full command line runs nothing", []string{"copy", "--from", "a", "--to", "b", "--yes", "", completeFlag}, nil, nil, true},
		{"a flag's value: nothing (the shell completes file names)", []string{"copy", "--keys-file", "", completeFlag}, nil, nil, true},
		{"a command name being typed", []string{"co", completeFlag}, []string{"copy", "completion"}, nil, false},
		// A command's subcommands, help's topics and completion's shells,
		// as gh and kubectl complete them.
		{"subcommands of batch", []string{"batch", "", completeFlag}, []string{"start", "status"}, []string{"help", "copy"}, false},
		{"commands after help", []string{"help", "", completeFlag}, []string{"copy", "batch", "restore"}, nil, false},
		{"subcommands after help batch", []string{"help", "batch", "", completeFlag}, []string{"start", "status"}, []string{"copy"}, false},
		{"nothing after help copy", []string{"help", "copy", "", completeFlag}, nil, nil, true},
		{"shells after completion", []string{"completion", "", completeFlag}, []string{"bash", "zsh", "fish"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ddb(t, tt.args...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			words := strings.Fields(r.stdout)
			if tt.wantNone && len(words) > 0 {
				t.Errorf("words %v, want none", words)
			}
			for _, w := range tt.want {
				if !contains(words, w) {
					t.Errorf("words %v lack %s", words, w)
				}
			}
			for _, w := range tt.not {
				if contains(words, w) {
					t.Errorf("words %v have %s", words, w)
				}
			}
		})
	}
}

func contains(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// Row 7: durations are Go durations plus days.
func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "90m", want: 90 * time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1.5h", want: 90 * time.Minute},
		{in: "2d", want: 48 * time.Hour},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1d12h30m", want: 36*time.Hour + 30*time.Minute},
		{in: "0.5d", want: 12 * time.Hour},
		{in: "0d", want: 0},
		{in: "0", want: 0},
		{in: "-1d", want: -24 * time.Hour},
		{in: "+1d", want: 24 * time.Hour},
		{in: "35d", want: 35 * 24 * time.Hour},
		{in: "", bad: true},
		{in: "d", bad: true},
		{in: "-", bad: true},
		{in: "1", bad: true},
		{in: "1x", bad: true},
		{in: "xyz", bad: true},
		{in: "1d2d", bad: true},
		{in: "12h1d", bad: true},
		{in: "1d-2h", bad: true},
		{in: "1e3d", bad: true},
		{in: "0x10d", bad: true},
		{in: "1..5d", bad: true},
		{in: "200000d", bad: true}, // more than time.Duration holds
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		switch {
		case tt.bad && err == nil:
			t.Errorf("parseDuration(%q) = %v, want an error", tt.in, got)
		case !tt.bad && err != nil:
			t.Errorf("parseDuration(%q): %v", tt.in, err)
		case !tt.bad && got != tt.want:
			t.Errorf("parseDuration(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// Every duration flag of every command (--ago, --older-than, --timeout,
// --max-retry-time, --progress-interval, and any added later) takes days,
// and reads back through Context.Duration and Context.Value.
func TestEveryDurationFlagAcceptsDays(t *testing.T) {
	app := newApp(&Env{Getenv: func(string) string { return "" }})
	seen := map[string]bool{}
	for _, c := range app.Commands {
		for _, f := range c.Flags {
			name := f.Names()[0]
			if _, ok := f.(*cli.DurationFlag); ok {
				t.Errorf("%s --%s is a plain DurationFlag: it does not take days", c.Name, name)
			}
			if _, ok := f.(dayDurationFlag); !ok {
				continue
			}
			seen[name] = true
			set := flag.NewFlagSet(c.Name, flag.ContinueOnError)
			if err := f.Apply(set); err != nil {
				t.Fatalf("%s --%s: %v", c.Name, name, err)
			}
			if err := set.Parse([]string{"--" + name, "1d12h"}); err != nil {
				t.Errorf("%s --%s 1d12h: %v", c.Name, name, err)
				continue
			}
			ctx := cli.NewContext(app, set, nil)
			if got := ctx.Duration(name); got != 36*time.Hour {
				t.Errorf("%s --%s 1d12h: Duration = %v, want 36h", c.Name, name, got)
			}
			if got := ctx.Value(name); got != 36*time.Hour {
				t.Errorf("%s --%s 1d12h: Value = %v, want 36h", c.Name, name, got)
			}
			if !ctx.IsSet(name) {
				t.Errorf("%s --%s 1d12h: not IsSet", c.Name, name)
			}
		}
	}
	for _, n := range []string{"ago", "older-than", "timeout", "max-retry-time", "progress-interval"} {
		if !seen[n] {
			t.Errorf("no command has a duration flag --%s", n)
		}
	}
}

func TestDurationFlagErrors(t *testing.T) {
	t.Parallel()
	runUsageCases(t, []usageCase{
		{"--ago 1x", []string{"restore", "--table", "orders", "--ago", "1x"}, 2,
			[]string{`restore: invalid value "1x" for flag --ago: use a duration such as 90m, 36h, 2d or 1d12h`}, []string{"parse error"}},
		{"--older-than 2w", []string{"cleanup", "--older-than", "2w"}, 2, []string{`invalid value "2w" for flag --older-than`, "2d"}, nil},
		{"--timeout=1d1d", []string{"restore", "--table", "orders", "--latest", "--timeout=1d1d"}, 2, []string{`invalid value "1d1d" for flag --timeout`}, nil},
		{"--ago -1d", []string{"restore", "--table", "orders", "--ago", "-1d"}, 2, []string{"--ago -24h0m0s: must be positive"}, nil},
	})
}

// Days work end to end: a copy with day-long limits runs.
func TestDurationDaysCopy(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(20, 3)
	srv, c, from, to := copyPair(t, mixedSpec, items)
	r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes",
		"--max-retry-time", "1d12h", "--progress-interval", "1d")
	if r.code != 0 {
		t.Fatalf("copy with --max-retry-time 1d12h --progress-interval 1d: exit %d", r.code)
	}
	assertSameTables(t, c, from, to)
}

// Row 8: no credentials anywhere is one line saying what to do, with no
// SDK warning around it, and quickly (instance metadata disabled, an empty
// HOME). Not parallel: it changes the process's environment.
func TestNoCredentials(t *testing.T) {
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", t.TempDir())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dead := deadEndpoint(t)
	want := []string{"no AWS credentials found", "AWS_PROFILE", "--profile", "aws configure", "aws sso login"}
	not := []string{"IMDS", "WARN", "failed to refresh", "get identity"}
	cases := []usageCase{
		{"list on AWS", []string{"list"}, 2, want, not},
		{"restore on AWS", []string{"restore", "--table", "orders", "--latest"}, 2, want, not},
		{"copy on an emulator", []string{"copy", "--endpoint-url", dead, "--from", "aaa", "--to", "bbb", "--yes"}, 2,
			append(want, "a local emulator takes any keys: export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"), not},
		{"diff, debug logs", []string{"diff", "--endpoint-url", dead, "--from", "aaa", "--to", "bbb", "--log-level", "debug"}, 2, want, not},
	}
	for _, tc := range cases {
		start := time.Now()
		runUsageCases(t, []usageCase{tc})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v: want an answer within seconds", tc.name, d)
		}
	}
	// A profile that does not exist, from the environment: named as such.
	t.Setenv("AWS_PROFILE", "nope")
	runUsageCases(t, []usageCase{{"AWS_PROFILE of no profile", []string{"list"}, 2, []string{"AWS_PROFILE=nope", "aws configure list-profiles"}, nil}})
}

// Row 9: nothing listening at the endpoint is one line naming the URL,
// within seconds (no retries), for every command that calls DynamoDB.
func TestEndpointNotListening(t *testing.T) {
	t.Parallel()
	dead := deadEndpoint(t)
	state := filepath.Join(t.TempDir(), "state.json")
	want := []string{"nothing is listening at " + dead + " (connection refused)", "--endpoint-url"}
	not := []string{"exceeded maximum number of attempts", "operation error"}
	for _, args := range [][]string{
		{"list"},
		{"copy", "--from", "aaa", "--to", "bbb", "--yes"},
		{"diff", "--from", "aaa", "--to", "bbb"},
		{"restore", "--table", "orders", "--latest"},
		{"cleanup", "--recovery-table", "aaa", "--yes"},
		{"run", "--table", "orders", "--latest", "--yes", "--state", state},
	} {
		start := time.Now()
		runUsageCases(t, []usageCase{{args[0], append(args, "--endpoint-url", dead), 1, want, not}})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v: want an answer within seconds", args[0], d)
		}
	}
}

// Once the endpoint has answered, a refused connection is an ordinary
// transport error, retried as usual (a server restarting mid-copy).
func TestReachClientAfterFirstResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	c := newReachClient(awshttp.NewBuildableClient(), "--endpoint-url")
	get := func() error {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	err := get()
	var ue *unreachableError
	if err == nil || errors.As(err, &ue) {
		t.Fatalf("after a response, a refused connection = %v, want the transport's error", err)
	}
	r := countingRetryer{RetryerV2: retry.NewStandard()}
	if !r.IsErrorRetryable(err) {
		t.Errorf("the retryer would not retry %v", err)
	}

	fresh := newReachClient(awshttp.NewBuildableClient(), "--endpoint-url")
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	_, err = fresh.Do(req)
	if !errors.As(err, &ue) || ue.URL != url {
		t.Fatalf("never answered: %v, want an unreachableError for %s", err, url)
	}
	if r.IsErrorRetryable(err) {
		t.Errorf("the retryer would retry %v", err)
	}
}

// Row 15: the version is the stamped tag, else the module version, else
// the commit; never "(devel)".
func TestVersionOf(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		want    string
	}{
		{"release build, -ldflags -X", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "v1.2.3"},
		{"-X wins over the module version", "v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.2"}}, "v1.2.3"},
		{"go install @v1.2.3", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"go build in a clean checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "0123456789ab"},
		{"go build in a dirty checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "0123456789ab-dirty"},
		{"Go 1.24+ pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201064000-0123456789ab+dirty"}, Settings: vcs(rev, "true")}, "v0.0.0-20261201064000-0123456789ab+dirty"},
		{"no version control information", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, unknownVersion},
		{"no build info", "", nil, unknownVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := versionOf(tt.stamped, tt.bi)
			if got != tt.want {
				t.Errorf("versionOf = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "(devel)") {
				t.Errorf("versionOf = %q", got)
			}
		})
	}
}

// Row 15: a binary built from this checkout says which commit it is, and
// -ldflags -X main.version (the release build's) overrides it.
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "ddbrewind")
	build := func(flags ...string) {
		t.Helper()
		if out, err := exec.Command("go", append(append([]string{"build", "-o", bin}, flags...), ".")...).CombinedOutput(); err != nil {
			t.Fatalf("go build %v: %v\n%s", flags, err, out)
		}
	}
	version := func() string {
		t.Helper()
		out, err := exec.Command(bin, "--version").Output()
		if err != nil {
			t.Fatalf("--version: %v", err)
		}
		return strings.TrimSpace(string(out))
	}

	build("-buildvcs=false", "-ldflags", "-X main.version=v9.8.7")
	if got := version(); got != "ddbrewind version v9.8.7" {
		t.Errorf("-X main.version=v9.8.7: --version = %q", got)
	}

	// Stamped with the commit where go build can: a git clone (not a git
	// worktree, whose .git is a file: golang/go#58218).
	build("-buildvcs=auto")
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := ""
	for _, l := range strings.Split(string(info), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision=") {
			rev = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	got := version()
	if strings.Contains(got, "(devel)") {
		t.Errorf("--version = %q", got)
	}
	if rev == "" {
		t.Logf("go build stamped no commit here (GOFLAGS=%q; a git worktree?): --version = %q", os.Getenv("GOFLAGS"), got)
		return
	}
	if !strings.Contains(got, rev[:12]) {
		t.Errorf("--version = %q, want the commit %s", got, rev[:12])
	}
}

// Row 16: usage errors have one prefix, quote the flag as typed, and
// suggest what was meant.
func TestUsageErrorWording(t *testing.T) {
	t.Parallel()
	runUsageCases(t, []usageCase{
		{"missing flag: one prefix", []string{"copy", "--to", "x"}, 2, []string{"ddbrewind: copy: --from RECOVERY_TABLE or --from-export URL is required (see ddbrewind copy --help)"}, nil},
		{"missing flag of run", []string{"run", "--latest"}, 2, []string{"ddbrewind: run: --table is required"}, nil},
		{"short flag typo as typed", []string{"list", "-s", "orders"}, 2,
			[]string{"list: flag provided but not defined: -s;", "did you mean --source?"}, []string{"--s;", "--s "}},
		{"long flag typo", []string{"list", "--ouput", "json"}, 2, []string{"not defined: --ouput; did you mean --output?"}, nil},
		{"long flag typo, =", []string{"diff", "--from", "a", "--to", "b", "--shw=3"}, 2, []string{"not defined: --shw; did you mean --show?"}, nil},
		{"single-dash long flag typo", []string{"copy", "-form", "a"}, 2, []string{"not defined: -form; did you mean --from?"}, nil},
		{"no suggestion for nonsense", []string{"list", "--frobnicate"}, 2, []string{"not defined: --frobnicate (see ddbrewind list --help)"}, []string{"did you mean"}},
		{"command flag before the command", []string{"--table", "orders", "restore"}, 2,
			[]string{"not defined: --table; it is a flag of restore, export, list, undo, run, show: put it after the command name", "(see ddbrewind --help)"}, nil},
		{"missing value as typed", []string{"copy", "--from"}, 2, []string{"copy: flag needs an argument: --from"}, nil},
		{"command typo", []string{"cpy"}, 2, []string{`unknown command "cpy": did you mean copy?`}, nil},
		{"command transposition", []string{"lsit"}, 2, []string{`did you mean list?`}, nil},
		{"command prefix", []string{"clean"}, 2, []string{`did you mean cleanup?`}, nil},
		{"no suggestion", []string{"rewindify"}, 2, []string{`unknown command "rewindify": use one of restore, export, copy, list, cleanup, diff, undo, run, show, batch, completion, help, version`}, nil},
	})
}

func TestSuggest(t *testing.T) {
	cmds := []string{"restore", "copy", "list", "cleanup", "diff", "undo", "run", "completion", "help", "version"}
	tests := []struct{ typed, want string }{
		{"cpy", "copy"}, {"coyp", "copy"}, {"copt", "copy"}, {"lst", "list"}, {"lsit", "list"},
		{"restroe", "restore"}, {"resotre", "restore"}, {"clenaup", "cleanup"}, {"rn", "run"}, {"diff", ""},
		{"dif", "diff"}, {"versoin", "version"}, {"comp", "completion"}, {"x", ""}, {"rewindify", ""}, {"c", ""}, {"", ""},
	}
	for _, tt := range tests {
		if got := suggest(cmds, tt.typed); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
	for _, tt := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"a", "", 1}, {"copy", "cpy", 1}, {"list", "lsit", 1}, {"kitten", "sitting", 3}, {"ab", "ba", 1}, {"é", "e", 1}} {
		if got := editDistance(tt.a, tt.b); got != tt.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.d)
		}
	}
	if got := strconv.Quote(typedFlag([]string{"ddbrewind", "list", "--o=json"}, "o")); got != `"--o"` {
		t.Errorf("typedFlag --o=json = %s", got)
	}
}

// TestSubcommandUsageErrors: an unknown flag or a stray argument of batch
// start and batch status names the subcommand as typed, and its help
// (it said "start: … (see ddbrewind start --help)", a command that does
// not exist); a second prefix of batch status is named as unexpected.
func TestSubcommandUsageErrors(t *testing.T) {
	t.Parallel()
	runUsageCases(t, []usageCase{
		{"batch start unknown flag", []string{"batch", "start", "--nosuch"}, 2,
			[]string{"batch start: flag provided but not defined: --nosuch (see ddbrewind batch start --help)"}, []string{"ddbrewind start"}},
		{"batch start stray argument", []string{"batch", "start", "extra", "--table", "orders"}, 2,
			[]string{`batch start: unexpected argument "extra": batch start takes flags only (see ddbrewind batch start --help)`}, nil},
		{"batch status unknown flag", []string{"batch", "status", "--nosuch", "s3://b/p"}, 2,
			[]string{"batch status: flag provided but not defined: --nosuch (see ddbrewind batch status --help)"}, nil},
		{"batch status two prefixes", []string{"batch", "status", "s3://b/p", "extra"}, 2,
			[]string{`batch status: unexpected argument "extra": give one prefix`}, []string{"give the --state-prefix"}},
	})
}
