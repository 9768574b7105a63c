package ddbtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// Pool shares one server per kind among the tests of one test binary. Each
// server is launched by the first Get that asks for its kind; a failure to
// launch is remembered, so later Gets report it without trying again.
//
// A shared emulator that goes down (its process exits, or it stops
// answering; see DownError) is not restarted: every later Get fails the
// test at once, naming the emulator, how it went down and the tail of its
// log, and Close reports it, so a crash fails the run instead of being
// hidden. Run the program under test with a context from Watch, so that
// a test in the middle of a call stops too rather than retrying a dead
// endpoint.
//
// Create it in TestMain and Close it after m.Run:
//
//	func TestMain(m *testing.M) {
//		pool = ddbtest.NewPool()
//		code := m.Run()
//		if err := pool.Close(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			code = 1
//		}
//		os.Exit(code)
//	}
type Pool struct {
	mu       sync.Mutex
	slots    map[Kind]*poolSlot
	launched []*Server // every server launched, in order
	closed   bool

	// The liveness probe of the servers (defaultProbeEvery and
	// defaultHungAfter; tests of this package shorten them).
	probeEvery, hungAfter time.Duration
}

// poolSlot holds one kind's launch, done once.
type poolSlot struct {
	once sync.Once
	srv  *Server
	err  error
}

// NewPool returns an empty Pool.
func NewPool() *Pool {
	return &Pool{slots: make(map[Kind]*poolSlot), probeEvery: defaultProbeEvery, hungAfter: defaultHungAfter}
}

// Get returns the shared server of that kind, launching it on first use
// (kinds launch concurrently, each once). When it cannot be launched, Get
// ends the test: with t.Fatalf when the environment variable CI is "true"
// (a missing emulator is a failure in CI, never a skip) or the kind is
// unknown, else with t.Skipf giving the reason. A server that has gone
// down ends the test with t.Fatalf, in CI or not: it was there and
// crashed or hung.
func (p *Pool) Get(t testing.TB, kind Kind) *Server {
	t.Helper()
	s, err := p.get(kind)
	switch {
	case err == nil:
		if derr := s.Err(); derr != nil {
			t.Fatalf("ddbtest: the shared %s emulator is down, so this test cannot use it: %v", kind, derr)
			return nil
		}
		return s
	case os.Getenv("CI") == "true" || kind != Moto && kind != Dynalite:
		t.Fatalf("ddbtest: no %s emulator: %v", kind, err)
	default:
		t.Skipf("ddbtest: no %s emulator (set CI=true to fail instead): %v", kind, err)
	}
	return nil
}

// get launches or returns the server of that kind.
func (p *Pool) get(kind Kind) (*Server, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("ddbtest: pool is closed")
	}
	slot, ok := p.slots[kind]
	if !ok {
		slot = new(poolSlot)
		p.slots[kind] = slot
	}
	p.mu.Unlock()

	slot.once.Do(func() {
		slot.srv, slot.err = Launch(context.Background(), kind)
		if slot.err != nil {
			return
		}
		slot.srv.startMonitor(p.probeEvery, p.hungAfter)
		p.mu.Lock()
		p.launched = append(p.launched, slot.srv)
		p.mu.Unlock()
	})
	return slot.srv, slot.err
}

// servers returns the servers launched so far.
func (p *Pool) servers() []*Server {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Server(nil), p.launched...)
}

// Watch is the package's Watch over every server the pool has launched so
// far: the returned context is cancelled as soon as one of them goes
// down, with its *DownError as the cause (DownCause). Get the servers a
// test uses before calling it.
func (p *Pool) Watch(ctx context.Context) (_ context.Context, stop context.CancelFunc) {
	return watch(ctx, p.probeEvery, p.hungAfter, p.servers())
}

// Err returns the *DownError of the first server of the pool found down,
// or nil while all run: a test waiting for the program under test to
// make progress can poll it.
func (p *Pool) Err() error {
	for _, s := range p.servers() {
		if err := s.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Close stops every server the pool launched and returns the errors of
// those that did not stop and of those that had gone down before (a
// crash nobody was using at the time still fails the run). Gets after
// Close fail.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	slots := p.slots
	p.slots = make(map[Kind]*poolSlot)
	p.mu.Unlock()

	var errs []error
	for kind, slot := range slots {
		slot.once.Do(func() { slot.err = errors.New("ddbtest: pool is closed") })
		if slot.srv == nil {
			continue
		}
		if err := slot.srv.Err(); err != nil {
			errs = append(errs, fmt.Errorf("close pool: %s went down during the tests: %w", kind, err))
		}
		if err := slot.srv.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("close pool: %s: %w", kind, err))
		}
	}
	return errors.Join(errs...)
}
