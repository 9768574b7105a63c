package ddbtest

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// This file tells a test at once that the emulator it uses has gone down
// (its process exited, or it stopped answering), instead of letting the
// program under test retry a dead endpoint until go test's -timeout kills
// the whole package and hides the cause.

// Defaults of the liveness probe that Watch and Pool.Get start on an
// emulator: a ListTables every probeEvery; no answer for hungAfter marks
// the emulator down (hung). A busy emulator answers a ListTables within
// milliseconds, so a minute without one is not a slow test.
const (
	defaultProbeEvery = 5 * time.Second
	defaultHungAfter  = time.Minute
	// maxProbeTimeout bounds one probe call.
	maxProbeTimeout = 10 * time.Second
)

// logTailBytes is how much of an emulator's log a DownError quotes.
const logTailBytes = 4096

// DownError says that an emulator started by Launch has gone down: its
// process exited (crashed, was killed, or was stopped with Stop), or it
// is running but has stopped answering. Server.Err returns it; a context
// from Watch has it as its cause (context.Cause).
type DownError struct {
	// Kind, Endpoint and PID name the emulator.
	Kind     Kind
	Endpoint string
	PID      int
	// Reason is what happened, e.g. "died (signal: killed)" or "is
	// running but has not answered ListTables for 1m0s (…)".
	Reason string
	// Stopped is true when Stop ended it: not a crash.
	Stopped bool
	// LogPath is the emulator's log file; LogTail is about its last 4 KiB
	// (what it wrote to stdout and stderr), read when it went down.
	LogPath, LogTail string
}

// Error names the emulator, what happened to it and the tail of its log.
func (e *DownError) Error() string {
	if e.Stopped {
		return fmt.Sprintf("ddbtest: the %s emulator at %s (pid %d) %s", e.Kind, e.Endpoint, e.PID, e.Reason)
	}
	return fmt.Sprintf("ddbtest: the %s emulator at %s (pid %d) %s; its log %s ends with:\n%s",
		e.Kind, e.Endpoint, e.PID, e.Reason, e.LogPath, e.LogTail)
}

// Down returns a channel that is closed when the emulator goes down (see
// DownError), after which Err says why. It is never closed for a
// DYNAMODB_ENDPOINT server, which ddbtest does not run.
func (s *Server) Down() <-chan struct{} { return s.down }

// Err returns nil while the emulator runs, and its *DownError once it has
// gone down.
func (s *Server) Err() error {
	if s.down == nil {
		return nil
	}
	select {
	case <-s.down:
		return s.downErr
	default:
		return nil
	}
}

// markDown records, once, that the emulator went down for reason, with
// the tail of its log (read now: Stop removes the file).
func (s *Server) markDown(reason string, stopped bool) {
	s.downOnce.Do(func() {
		e := &DownError{Kind: s.Kind, Endpoint: s.Endpoint, PID: s.PID(), Reason: reason, Stopped: stopped, LogPath: s.logPath}
		if !stopped {
			e.LogTail = logTail(s.logPath, logTailBytes)
		}
		s.downErr = e
		close(s.down)
	})
}

// exited records the process's exit as the reason it went down; it runs
// after cmd.Wait returned, before s.exited is closed.
func (s *Server) markExited() {
	status := "exit status 0"
	if s.waitErr != nil {
		status = s.waitErr.Error()
	}
	if s.stopping.Load() {
		s.markDown("was stopped by Stop ("+status+")", true)
		return
	}
	s.markDown("died ("+status+")", false)
}

// startMonitor starts, once, the liveness probe of an emulator ddbtest
// runs: every probeEvery a ListTables; when none has been answered for
// hungAfter, the emulator is marked down. It ends when the emulator goes
// down.
func (s *Server) startMonitor(probeEvery, hungAfter time.Duration) {
	if s.cmd == nil {
		return
	}
	s.monitorOnce.Do(func() { go s.monitor(probeEvery, hungAfter) })
}

// monitor is the loop startMonitor runs.
func (s *Server) monitor(probeEvery, hungAfter time.Duration) {
	c := newClient(s.Endpoint, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	defer c.Options().HTTPClient.(*http.Client).CloseIdleConnections()
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	answered := time.Now()
	for {
		select {
		case <-s.down:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), min(maxProbeTimeout, hungAfter))
		_, err := c.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
		cancel()
		if err == nil {
			answered = time.Now()
			continue
		}
		if silent := time.Since(answered); silent >= hungAfter {
			s.markDown(fmt.Sprintf("is running but has not answered ListTables for %s (last error: %v)", silent.Round(time.Millisecond), err), false)
			return
		}
	}
}

// Watch returns a copy of ctx that is cancelled as soon as one of the
// servers goes down (its process exits, or it stops answering ListTables
// for a minute): context.Cause then returns that server's *DownError.
// Run the program under test with it, so that it stops at once instead of
// retrying a dead endpoint, and check the cause afterwards. Call stop when
// done. DYNAMODB_ENDPOINT servers (not run by ddbtest) are not watched.
func Watch(ctx context.Context, servers ...*Server) (_ context.Context, stop context.CancelFunc) {
	return watch(ctx, defaultProbeEvery, defaultHungAfter, servers)
}

// watch is Watch with the probe's settings.
func watch(ctx context.Context, probeEvery, hungAfter time.Duration, servers []*Server) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	for _, s := range servers {
		if s == nil || s.cmd == nil {
			continue
		}
		if err := s.Err(); err != nil {
			cancel(err)
			break
		}
		s.startMonitor(probeEvery, hungAfter)
		go func() {
			select {
			case <-s.down:
				cancel(s.Err())
			case <-ctx.Done():
			}
		}()
	}
	return ctx, func() { cancel(context.Canceled) }
}

// DownCause returns the *DownError that cancelled a context from Watch
// (or Pool.Watch), or nil when it was not cancelled by a server going
// down.
func DownCause(ctx context.Context) *DownError {
	if e, ok := context.Cause(ctx).(*DownError); ok {
		return e
	}
	return nil
}

// downAwareClient is the HTTP client of Server.Client: an error of a
// request to an emulator that has gone down says so.
type downAwareClient struct {
	*http.Client
	s *Server
}

// Do sends req; a failure after the emulator went down names it.
func (c downAwareClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.Client.Do(req)
	if err != nil {
		if derr := c.s.Err(); derr != nil {
			return resp, fmt.Errorf("%w (%w)", err, derr)
		}
	}
	return resp, err
}
