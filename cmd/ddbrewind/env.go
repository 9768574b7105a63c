package main

import (
	"context"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
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
	// MemoryLimit is the process's soft memory limit in bytes (GOMEMLIMIT,
	// or the one setMemoryLimit took from the container), 0 when none: a
	// rewind refuses a window that would not fit it.
	MemoryLimit int64

	// line is the terminal line a wait's progress left open (see
	// ttyHandler), ended before an error or stdout output follows.
	line *partialLine
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
	limit := setMemoryLimit(os.Getenv, os.ReadFile)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, restore the default: a second Ctrl-C kills.
	context.AfterFunc(ctx, stop)
	env := osEnv()
	env.MemoryLimit = limit
	return run(ctx, os.Args, env)
}

// memoryShare is the part of a container's memory that setMemoryLimit
// gives the Go runtime as its soft limit: the rest is for what the runtime
// does not count (stacks of cgo, the kernel's page cache of the temporary
// files) and headroom.
const memoryShare = 0.8

// setMemoryLimit gives the Go runtime a soft memory limit and returns it
// in bytes (0: none). GOMEMLIMIT, when set, is the runtime's own; else,
// in a container with a memory limit (cgroup; AWS Batch sets one from the
// job's memory), memoryShare of it: near the limit the collector works
// harder instead of letting the heap's headroom (GOGC) grow the process
// past the container's memory — a rewind's window of changed keys is the
// one large heap ddbrewind holds.
func setMemoryLimit(getenv func(string) string, readFile func(string) ([]byte, error)) int64 {
	if getenv("GOMEMLIMIT") != "" {
		if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
			return l
		}
		return 0
	}
	limit := containerMemoryLimit(readFile)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return limit
}

// containerMemoryLimit returns memoryShare of the container's memory limit
// (cgroup v2, else v1), or 0 when there is none.
func containerMemoryLimit(readFile func(string) ([]byte, error)) int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := readFile(f)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil || n <= 0 || n >= 1<<60 { // "max", or v1's "unlimited"
			return 0
		}
		return int64(float64(n) * memoryShare)
	}
	return 0
}

// setGC sets the garbage collector's target to gcPercent unless the
// environment sets GOGC.
func setGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
