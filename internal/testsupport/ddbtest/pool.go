package ddbtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Pool shares one server per kind among the tests of one test binary. Each
// server is launched by the first Get that asks for its kind; a failure to
// launch is remembered, so later Gets report it without trying again.
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
	mu     sync.Mutex
	slots  map[Kind]*poolSlot
	closed bool
}

// poolSlot holds one kind's launch, done once.
type poolSlot struct {
	once sync.Once
	srv  *Server
	err  error
}

// NewPool returns an empty Pool.
func NewPool() *Pool {
	return &Pool{slots: make(map[Kind]*poolSlot)}
}

// Get returns the shared server of that kind, launching it on first use
// (kinds launch concurrently, each once). When it cannot be launched, Get
// ends the test: with t.Fatalf when the environment variable CI is "true"
// (a missing emulator is a failure in CI, never a skip) or the kind is
// unknown, else with t.Skipf giving the reason.
func (p *Pool) Get(t testing.TB, kind Kind) *Server {
	t.Helper()
	s, err := p.get(kind)
	switch {
	case err == nil:
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
	})
	return slot.srv, slot.err
}

// Close stops every server the pool launched and returns the errors of
// those that did not stop. Gets after Close fail.
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
		if err := slot.srv.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("close pool: %s: %w", kind, err))
		}
	}
	return errors.Join(errs...)
}
