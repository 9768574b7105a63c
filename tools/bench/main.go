// Command bench measures ddbrewind's copy against a reference client on a
// local dynalite.
//
// It starts dynalite (or uses DYNAMODB_ENDPOINT), seeds a source table with
// mixed-type items, copies it with the simplest correct Go copier (parallel
// Scan feeding BatchWriteItem, in process) and with the ddbrewind binary
// (a subprocess, whose peak RSS it reads), verifies both copies item by
// item, and prints items/s, their ratio and ddbrewind's memory. It also
// copies the same items from a full export (in an in-memory S3) with
// --from-export, verified the same way, and prints its items/s next to the
// table copy's. Optionally it copies a table K times bigger to show that
// memory stays flat, copies a one-partition slice to show that reads follow
// the slice, and copies under --max-wcu to show the write rate is held.
//
// It is a benchmark, not a test of ddbrewind's features: it fails (exit 1)
// only when a copy is wrong or ddbrewind fails, when memory is not flat, or
// when --max-wcu is not held. See docs/benchmark.md.
//
//	go run ./tools/bench -bin bin/ddbrewind [-items 100000] [-scale 10]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainArgs(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// mainArgs parses the flags, runs the benchmark and returns the exit code:
// 0 done, 1 failed, 2 bad usage.
func mainArgs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.Bin, "bin", "bin/ddbrewind", "ddbrewind binary to benchmark (make build)")
	fs.IntVar(&cfg.Items, "items", 100_000, "items in the source table")
	fs.IntVar(&cfg.Scale, "scale", 0, "also copy a table `K` times bigger and compare peak RSS (0: skip)")
	fs.IntVar(&cfg.Segments, "segments", 0, "Scan segments for both copiers (0: ddbrewind's default for the table size)")
	fs.IntVar(&cfg.Writers, "writers", 0, "BatchWriteItem goroutines for both copiers (0: ddbrewind's default, 8)")
	fs.IntVar(&cfg.Runs, "runs", 2, "copies per client, order alternated; the best counts")
	fs.IntVar(&cfg.MaxWCU, "maxwcu", 0, "also copy with --max-wcu `N` and check the consumed WCU/s (0: skip)")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the tables (useful with DYNAMODB_ENDPOINT set to an emulator you run)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./tools/bench -bin bin/ddbrewind [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := cfg.check(); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	cfg.Progress = stderr
	if _, err := run(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}
