package main

import (
	"bytes"
	"context"
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
	pool.Close()
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
}

// runCLI runs ddbrewind in-process with args (without the program name).
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
	code := run(ctx, append([]string{"ddbrewind"}, args...), env)
	t.Logf("ddbrewind %s → exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
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
