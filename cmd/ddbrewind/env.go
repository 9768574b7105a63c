package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"golang.org/x/term"
)

// Env is everything the CLI takes from its process: streams, terminals,
// clock and environment variables. Tests build their own.
type Env struct {
	In        io.Reader
	Out, Err  io.Writer
	StdinTTY  bool
	StderrTTY bool
	Now       func() time.Time
	Getenv    func(string) string
	// Args is the command line, for messages that say how to resume.
	Args []string
	// Width returns the terminal's width in columns, 0 when unknown (the
	// progress line fits it).
	Width func() int
}

// osEnv returns the Env of the running process.
func osEnv() *Env {
	return &Env{
		In:        os.Stdin,
		Out:       os.Stdout,
		Err:       os.Stderr,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		Now:       time.Now,
		Getenv:    os.Getenv,
		Width: func() int {
			w, _, err := term.GetSize(int(os.Stderr.Fd()))
			if err != nil {
				return 0
			}
			return w
		},
	}
}

// gcPercent is ddbrewind's GOGC when the environment sets none. A copy's
// live heap is small (the pages and batches in flight) and churns fast, so
// at Go's default of 100 the collector takes a large share of the
// process's CPU; 200 trades a little peak memory for less CPU (measured in
// docs/benchmark.md).
const gcPercent = 200

// Main runs the CLI in this process and returns its exit code. SIGINT and
// SIGTERM (what AWS Batch sends before SIGKILL) cancel the context: commands
// finish what is in flight, save their state and exit 130. It sets GOGC to
// gcPercent unless the environment sets it.
func Main() int {
	setGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default: a second Ctrl-C kills.
	context.AfterFunc(ctx, stop)
	return run(ctx, os.Args, osEnv())
}

// setGC sets the garbage collector's target to gcPercent unless the
// environment sets GOGC.
func setGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
