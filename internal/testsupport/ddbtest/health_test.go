package ddbtest

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// waitDone waits until ctx is done, failing the test when that takes more
// than limit: the point of Watch is that a test learns at once.
func waitDone(t *testing.T, ctx context.Context, limit time.Duration) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(limit):
		t.Fatalf("the watch's context is still live %s after the emulator went down", limit)
	}
}

// appendLog writes text to the emulator's log, as the emulator would
// before dying, so that the test can look for it in the messages.
func appendLog(t *testing.T, s *Server, text string) {
	t.Helper()
	f, err := os.OpenFile(s.LogPath(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// TestPoolEmulatorDied: once a shared emulator's process has died (here
// killed by its PID), a watch over the pool is cancelled at once with a
// cause naming it, its exit status and its log's tail; a request of a
// client made before says so; every later Get, Client and Watch fails at
// once with that message (also outside CI: a crash is never a skip); and
// Close reports it.
func TestPoolEmulatorDied(t *testing.T) {
	t.Setenv("CI", "")
	p := NewPool()
	closed := false
	defer func() {
		if !closed {
			_ = p.Close()
		}
	}()
	s := p.Get(t, Dynalite)
	c := s.Client(t, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	if _, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables before the kill: %v", err)
	}
	ctx, stop := p.Watch(t.Context())
	defer stop()

	const marker = "FATAL ERROR: Reached heap limit (a line the emulator wrote)"
	appendLog(t, s, marker+"\n")
	pid := s.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(t, ctx, 30*time.Second)

	wants := []string{"dynalite emulator", s.Endpoint, "pid " + strconv.Itoa(pid), "died (signal: killed)", marker}
	check := func(what, msg string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", what, msg, w)
			}
		}
	}
	down := DownCause(ctx)
	if down == nil {
		t.Fatalf("watch cancelled with cause %v, want a *DownError", context.Cause(ctx))
	}
	t.Logf("watch's cause: %v", down)
	check("watch's cause", down.Error())
	if _, err := c.ListTables(context.Background(), &dynamodb.ListTablesInput{}); err == nil {
		t.Error("ListTables on the dead emulator succeeded")
	} else {
		check("request after the death", err.Error())
	}
	check("Pool.Err", errText(p.Err()))

	ft := &fakeTB{TB: t}
	if got := p.Get(ft, Dynalite); got != nil || ft.skip != "" {
		t.Errorf("Get after the death = %v, skip %q; want nil and a failure", got, ft.skip)
	}
	check("Get after the death", ft.fatal)

	ft = &fakeTB{TB: t}
	s.Client(ft)
	check("Client after the death", ft.fatal)

	ctx2, stop2 := p.Watch(context.Background())
	defer stop2()
	if ctx2.Err() == nil || DownCause(ctx2) == nil {
		t.Errorf("Watch after the death: context live (%v), want it cancelled at once", ctx2.Err())
	}

	closed = true
	err := p.Close()
	check("Close", errText(err))
	if !strings.Contains(errText(err), "went down during the tests") {
		t.Errorf("Close = %v, want it to report the death", err)
	}
}

// TestPoolEmulatorHung: an emulator that is running but no longer
// answers (stopped with SIGSTOP) is marked down once the liveness probe
// has had no answer for hungAfter: a watch is cancelled and Get fails,
// naming it.
func TestPoolEmulatorHung(t *testing.T) {
	p := NewPool()
	p.probeEvery, p.hungAfter = 50*time.Millisecond, time.Second
	defer func() { _ = p.Close() }()
	s := p.Get(t, Dynalite)
	pid := s.PID()
	ctx, stop := p.Watch(t.Context())
	defer stop()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = syscall.Kill(pid, syscall.SIGCONT) }()
	waitDone(t, ctx, 30*time.Second)

	down := DownCause(ctx)
	if down == nil || down.Stopped || !strings.Contains(down.Error(), "dynalite emulator") ||
		!strings.Contains(down.Error(), "is running but has not answered ListTables for") || !strings.Contains(down.Error(), "pid "+strconv.Itoa(pid)) {
		t.Fatalf("watch cancelled with cause %v, want the hung dynalite named", context.Cause(ctx))
	}
	ft := &fakeTB{TB: t}
	if p.Get(ft, Dynalite) != nil || !strings.Contains(ft.fatal, "has not answered ListTables") {
		t.Errorf("Get of the hung emulator: fatal %q, want the failure naming it", ft.fatal)
	}
}

// TestWatchStopped: Stop is not a crash: a watch ends with a cause that
// says so, without a log, and a live watch that is stopped has no cause.
func TestWatchStopped(t *testing.T) {
	s, err := launch(t.Context(), Dynalite, "", nil)
	requireLaunched(t, err)
	live, stopLive := Watch(t.Context(), s)
	stopLive()
	if DownCause(live) != nil {
		t.Errorf("a watch stopped by its caller has cause %v, want none", context.Cause(live))
	}
	ctx, stop := Watch(t.Context(), s)
	defer stop()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	waitDone(t, ctx, 30*time.Second)
	if d := DownCause(ctx); d == nil || !d.Stopped || !strings.Contains(d.Error(), "was stopped by Stop") {
		t.Errorf("cause after Stop = %v, want a stop, not a crash", context.Cause(ctx))
	}
}

// errText is err's text, "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
