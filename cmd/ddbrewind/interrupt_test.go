package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ddbrewind once per test run, for tests that need a real
// process (signals, kill -9).
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ddbrewind-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ddbrewind")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build ddbrewind: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// binaryCommand is exec.Command of the built ddbrewind with args, watched
// against the pool's emulators as runCLI's runs are: when one goes down,
// the process is killed (a test waiting on it does not wait for a program
// retrying a dead endpoint) and the test fails, naming the emulator, its
// exit status and the tail of its log.
func binaryCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	return watchedCommand(t, pool, binary(t), args...)
}

// watchedCommand is binaryCommand with the pool and program given.
func watchedCommand(t testing.TB, p *ddbtest.Pool, path string, args ...string) *exec.Cmd {
	t.Helper()
	ctx, stop := p.Watch(context.Background())
	t.Cleanup(func() {
		if down := ddbtest.DownCause(ctx); down != nil {
			t.Errorf("ddbrewind %s was killed because an emulator went down: %v", strings.Join(args, " "), down)
		}
		stop()
	})
	return exec.CommandContext(ctx, path, args...)
}

// startCopy starts the binary copying through a slow proxy and waits until
// its checkpoint shows progress.
func startCopy(t *testing.T, endpoint string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := binaryCommand(t, append([]string{"copy", "--endpoint-url", endpoint}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, &stderr
}

// waitForFile waits until path exists; an emulator of the pool that has
// gone down ends the wait at once, naming it.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if err := pool.Err(); err != nil {
			t.Fatalf("waiting for %s: %v", path, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

func TestCopyInterruptedThenResumed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		signal syscall.Signal
		code   int // expected exit code of the interrupted run; -1: killed
	}{
		{"SIGINT", syscall.SIGINT, 130},
		{"SIGTERM", syscall.SIGTERM, 130},
		{"kill -9", syscall.SIGKILL, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			items := ddbtest.MixedItems(3000, 21, ddbtest.WithLargeEvery(0))
			srv, c, from, to := copyPair(t, mixedSpec, items)
			proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, Latency: 60 * time.Millisecond})
			cp := filepath.Join(t.TempDir(), "copy.checkpoint")
			args := []string{"--from", from, "--to", to, "--yes", "--segments", "4", "--writers", "2", "--page-size", "100", "--checkpoint", cp}

			cmd, stderr := startCopy(t, proxy.URL(), args...)
			waitForFile(t, cp)
			sent := time.Now()
			if err := cmd.Process.Signal(tt.signal); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			took := time.Since(sent)
			t.Logf("interrupted run (%s after the signal):\n%s", took, stderr.String())
			code := cmd.ProcessState.ExitCode()
			if tt.code == -1 {
				if err == nil || code != -1 {
					t.Fatalf("kill -9: exit %d, want killed", code)
				}
			} else {
				if code != tt.code {
					t.Fatalf("exit %d, want %d", code, tt.code)
				}
				if took > 20*time.Second {
					t.Errorf("took %s to stop after %s; AWS Batch kills after 30 s", took, tt.name)
				}
				if !strings.Contains(stderr.String(), "outcome=interrupted") || !strings.Contains(stderr.String(), "run the same command again to resume") {
					t.Errorf("the interrupted run must print its summary and how to resume")
				}
			}
			if n := len(ddbtest.ScanAll(t, c, to)); n >= len(items) {
				t.Logf("note: the copy finished before the signal (%d items)", n)
			}
			fi, err := os.Stat(cp)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("checkpoint: %v, mode %v; want a 0600 file", err, fi.Mode())
			}

			// A different selection must not reuse the checkpoint.
			r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--segments", "8", "--page-size", "100", "--checkpoint", cp)
			if r.code != 2 || !strings.Contains(r.stderr, "was made for another copy") {
				t.Fatalf("checkpoint of another copy: exit %d, want 2", r.code)
			}

			r = ddb(t, append([]string{"copy", "--endpoint-url", srv.Endpoint}, args...)...)
			if r.code != 0 || !strings.Contains(r.stderr, "resumed=true") {
				t.Fatalf("resume: exit %d, want 0 and resumed=true", r.code)
			}
			if read := summaryCount(t, r.stderr, "read"); read >= int64(len(items)) {
				t.Errorf("the resumed copy read %d items: it started over instead of resuming", read)
			}
			assertSameTables(t, c, from, to)
		})
	}
}
