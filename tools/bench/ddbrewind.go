package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// report is the part of ddbrewind's --report JSON (copier.Summary) the
// benchmark reads.
type report struct {
	Segments int     `json:"segments"`
	Writers  int     `json:"writers"`
	Elapsed  float64 `json:"elapsed_seconds"`
	Rate     float64 `json:"items_per_second"`
	Outcome  string  `json:"outcome"`
	Counts   struct {
		Read      int64 `json:"read"`
		Written   int64 `json:"written"`
		Failed    int64 `json:"failed"`
		Retries   int64 `json:"retries"`
		Throttles int64 `json:"throttles"`
	} `json:"counts"`
}

// ddbRun is one ddbrewind copy as seen from outside.
type ddbRun struct {
	Wall   time.Duration // from start to exit of the process
	RSSKiB int64         // peak resident set size of the process
	CPU    time.Duration // user + system CPU time of the process
	Report report
}

// errFlagMissing is runDdbrewind's error when the binary does not know a
// flag the benchmark passed (an older build).
var errFlagMissing = errors.New("flag not supported by this binary")

// runDdbrewind runs `bin copy --endpoint-url endpoint --from from --to to
// --yes --no-progress --segments s --writers w --report PATH extra...` with
// test credentials and returns its wall time, peak RSS and report. A
// non-zero exit is an error quoting the end of its stderr; an unknown flag
// wraps errFlagMissing.
func runDdbrewind(ctx context.Context, bin, endpoint, from, to string, segments, writers int, extra ...string) (*ddbRun, error) {
	dir, err := os.MkdirTemp("", "ddbrewind-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	reportPath := filepath.Join(dir, "report.json")
	args := append([]string{"copy", "--endpoint-url", endpoint, "--from", from, "--to", to,
		"--yes", "--no-progress", "--segments", strconv.Itoa(segments), "--writers", strconv.Itoa(writers),
		"--report", reportPath}, extra...)
	return runCopy(ctx, bin, from, to, reportPath, nil, args)
}

// copyFromExport runs ddbrewind copy --from-export url --to table against
// the DynamoDB endpoint, reading the export from the S3 server at s3URL,
// with the run's writers and the extra flags; the report goes to a
// temporary file.
func (b *bench) copyFromExport(ctx context.Context, endpoint, url, table, s3URL string, extra ...string) (*ddbRun, error) {
	dir, err := os.MkdirTemp("", "ddbrewind-bench-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	reportPath := filepath.Join(dir, "report.json")
	args := append([]string{"copy", "--endpoint-url", endpoint, "--from-export", url, "--to", table, "--yes", "--no-progress"}, extra...)
	args = append(args, "--writers", strconv.Itoa(b.res.Writers), "--report", reportPath)
	return runCopy(ctx, b.bin, url, table, reportPath, []string{"AWS_ENDPOINT_URL_S3=" + s3URL}, args)
}

// lacksFlag reports whether a run failed only because the binary under
// test lacks flag (an older release): the run is then marked skipped and
// the output says so.
func (b *bench) lacksFlag(err error, skipped *bool, run, flag string) bool {
	if !errors.Is(err, errFlagMissing) {
		return false
	}
	*skipped = true
	fmt.Fprintf(b.out, "%s run: skipped (binary lacks %s)\n", run, flag)
	return true
}

// runCopy runs bin args (a copy writing its report to reportPath) with
// childEnv plus env, as runDdbrewind describes; from and to name the copy
// in errors.
func runCopy(ctx context.Context, bin, from, to, reportPath string, env, args []string) (*ddbRun, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // let it drain and exit 130
	cmd.WaitDelay = 30 * time.Second
	cmd.Env = append(childEnv(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	start := time.Now()
	err := cmd.Start()
	var peak func() int64
	if err == nil {
		peak = watchPeakRSS(cmd.Process.Pid)
		err = cmd.Wait()
	}
	wall := time.Since(start)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("ddbrewind copy %s → %s: interrupted: %w", from, to, context.Cause(ctx))
	}
	if err != nil {
		tail := lastLines(stderr.String(), 5)
		if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 2 && strings.Contains(tail, "flag provided but not defined") {
			return nil, fmt.Errorf("%s: %w: %s", filepath.Base(bin), errFlagMissing, tail)
		}
		return nil, fmt.Errorf("%s copy %s → %s: %w; its output ends with:\n%s", filepath.Base(bin), from, to, err, tail)
	}
	ps := cmd.ProcessState
	// ru_maxrss is not usable here: Linux carries the parent's high-water
	// mark into a child across (v)fork and exec, so it would report this
	// benchmark's own memory. VmHWM of the child's own address space is.
	rss := peak()
	if rss == 0 {
		rss = peakRSSKiB(ps)
	}
	r := &ddbRun{Wall: wall, RSSKiB: rss, CPU: ps.UserTime() + ps.SystemTime()}
	data, err := os.ReadFile(reportPath)
	if err != nil {
		return nil, fmt.Errorf("read ddbrewind's report: %w", err)
	}
	if err := json.Unmarshal(data, &r.Report); err != nil {
		return nil, fmt.Errorf("parse ddbrewind's report %s: %w", reportPath, err)
	}
	if r.Report.Outcome != "ok" {
		return nil, fmt.Errorf("ddbrewind copy %s → %s: outcome %q", from, to, r.Report.Outcome)
	}
	return r, nil
}

// childEnv returns the environment for ddbrewind: ours, without anything
// that could point it at a real AWS account, plus test credentials.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
	)
}

// lastLines returns the last n non-empty lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// watchPeakRSS polls /proc/PID/status for VmHWM (the peak RSS of the
// process's own address space, in KiB) every 50 ms until the returned
// function is called, which returns the highest value seen (0 without
// /proc).
func watchPeakRSS(pid int) func() int64 {
	var mu sync.Mutex
	var max int64
	done := make(chan struct{})
	stopped := make(chan struct{})
	read := func() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
				if v, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					mu.Lock()
					if v > max {
						max = v
					}
					mu.Unlock()
				}
			}
		}
	}
	go func() {
		defer close(stopped)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return max
	}
}
