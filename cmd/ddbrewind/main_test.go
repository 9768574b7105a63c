package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

var pool = ddbtest.NewPool()

func TestMain(m *testing.M) {
	// The CLI loads AWS configuration from the standard chain; give it
	// credentials for the emulators and keep it off any real AWS config.
	os.Setenv("AWS_ACCESS_KEY_ID", "test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	os.Setenv("AWS_REGION", "us-east-1")
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := m.Run()
	// An emulator that went down during the tests fails the run, even
	// when no test was using it at the time.
	if err := pool.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// result is what one CLI invocation produced.
type result struct {
	stdout, stderr string
	code           int
}

// cliOpts changes the test Env of one invocation.
type cliOpts struct {
	stdin    string
	stdinTTY bool
	// stderrTTY makes stderr a terminal: a live progress bar.
	stderrTTY bool
	env       map[string]string
	ctx       context.Context
	// pool is the pool whose emulators the run is watched against (see
	// runCLI); nil: the package's.
	pool *ddbtest.Pool
}

// runCLI runs ddbrewind in-process with args (without the program name).
//
// The run is watched against the pool's emulators: when one goes down
// (its process exits, or it stops answering for a minute), the run's
// context is cancelled at once and the test fails naming the emulator,
// its exit status and the tail of its log. Without it, ddbrewind would
// retry the dead endpoint (for ever, without --max-retry-time) until go
// test's -timeout killed the whole package and hid the cause.
func runCLI(t testing.TB, o cliOpts, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{
		In:        strings.NewReader(o.stdin),
		Out:       &out,
		Err:       &errb,
		StdinTTY:  o.stdinTTY,
		StderrTTY: o.stderrTTY,
		Now:       time.Now,
		Getenv:    func(k string) string { return o.env[k] },
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	watched := o.pool
	if watched == nil {
		watched = pool
	}
	ctx, stop := watched.Watch(ctx)
	defer stop()
	code := run(ctx, append([]string{"ddbrewind"}, args...), env)
	t.Logf("ddbrewind %s → exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
	if down := ddbtest.DownCause(ctx); down != nil {
		t.Fatalf("ddbrewind %s was stopped (exit %d) because an emulator went down: %v", strings.Join(args, " "), code, down)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// ddb runs ddbrewind non-interactively with default options.
func ddb(t testing.TB, args ...string) result {
	t.Helper()
	return runCLI(t, cliOpts{}, args...)
}

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
