package ddbtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// pool holds this package's shared emulators. It is set once by TestMain,
// before any test runs, and never reassigned.
var pool *Pool

func TestMain(m *testing.M) {
	pool = NewPool()
	code := m.Run()
	if err := pool.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// requireLaunched skips (or, under CI, fails) the test when err says the
// emulator is not installed, and fails it on any other error.
func requireLaunched(t *testing.T, err error) {
	t.Helper()
	switch {
	case err == nil:
	case errors.Is(err, ErrUnavailable) && os.Getenv("CI") != "true":
		t.Skip(err)
	default:
		t.Fatal(err)
	}
}

func TestLaunchStop(t *testing.T) {
	t.Parallel()
	for _, kind := range []Kind{Dynalite, Moto} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			s, err := launch(t.Context(), kind, "", nil)
			requireLaunched(t, err)
			pid := s.PID()
			if pid <= 0 || s.Kind != kind || !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
				t.Fatalf("Launch = %+v, want a %s process on a loopback endpoint", s, kind)
			}
			if _, err := s.Client(t).ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
				t.Fatalf("ListTables: %v", err)
			}
			if err := s.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("after Stop, kill(%d, 0) = %v, want ESRCH", pid, err)
			}
			if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("after Stop, kill(-%d, 0) = %v, want ESRCH (process group gone)", pid, err)
			}
			if _, err := os.Stat(s.LogPath()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("log %s still there after a clean Stop: %v", s.LogPath(), err)
			}
			if err := s.Stop(); err != nil {
				t.Errorf("second Stop: %v", err)
			}
		})
	}
}

func TestLaunchEndpointOverride(t *testing.T) {
	dyn := pool.Get(t, Dynalite)
	t.Setenv(EndpointEnv, dyn.Endpoint+"/")
	for _, kind := range []Kind{Moto, Dynalite} {
		s, err := Launch(t.Context(), kind)
		if err != nil {
			t.Fatalf("Launch(%s) with %s set: %v", kind, EndpointEnv, err)
		}
		if s.Endpoint != dyn.Endpoint || s.Kind != kind || s.PID() != 0 || s.LogPath() != "" {
			t.Errorf("Launch(%s) = %+v, want kind %s at %s with no process", kind, s, kind, dyn.Endpoint)
		}
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	}
	// Stop left the endpoint alone, and a Pool uses it too.
	p := NewPool()
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	s := p.Get(t, Moto)
	if _, err := s.Client(t).ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("ListTables on %s after Stop: %v", s.Endpoint, err)
	}

	t.Setenv(EndpointEnv, "http://127.0.0.1:1")
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	if _, err := Launch(ctx, Dynalite); err == nil || !strings.Contains(err.Error(), EndpointEnv) {
		t.Errorf("Launch with a dead %s = %v, want an error naming it", EndpointEnv, err)
	}
}

func TestLaunchErrors(t *testing.T) {
	noGoMod := t.TempDir()
	if err := os.WriteFile(filepath.Join(noGoMod, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		kind        Kind
		path        string // PATH, "" to keep it
		dir         string // working directory, "" to keep it
		unavailable bool
		want        string
	}{
		{name: "moto not on PATH", kind: Moto, path: t.TempDir(), unavailable: true, want: `pip install "moto[server]"`},
		{name: "dynalite not installed", kind: Dynalite, dir: noGoMod, unavailable: true, want: "run npm ci in " + noGoMod},
		{name: "unknown kind", kind: "dynamodb-local", want: "unknown emulator kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EndpointEnv, "")
			if tt.path != "" {
				t.Setenv("PATH", tt.path)
			}
			if tt.dir != "" {
				t.Chdir(tt.dir)
			}
			s, err := Launch(t.Context(), tt.kind)
			if err == nil {
				_ = s.Stop()
				t.Fatalf("Launch(%s) succeeded, want an error", tt.kind)
			}
			if errors.Is(err, ErrUnavailable) != tt.unavailable || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Launch(%s) = %v; want ErrUnavailable %v and %q in the text", tt.kind, err, tt.unavailable, tt.want)
			}
		})
	}
}

func TestLaunchStartFailureShowsLog(t *testing.T) {
	// A fake moto_server that fails at once: the error must carry its output.
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'fake moto: cannot start' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "moto_server"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	_, err := launch(t.Context(), Moto, "", nil)
	if err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "fake moto: cannot start") {
		t.Fatalf("launch with a failing moto_server = %v, want an error with its log", err)
	}
}

// fakeTB records how Pool.Get ends a test instead of ending it.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }
func (f *fakeTB) Skipf(format string, args ...any)  { f.skip = fmt.Sprintf(format, args...) }

func TestPoolGetUnavailable(t *testing.T) {
	tests := []struct {
		name      string
		ci        string
		kind      Kind
		wantFatal bool
	}{
		{name: "local run skips", ci: "", kind: Moto, wantFatal: false},
		{name: "CI fails", ci: "true", kind: Moto, wantFatal: true},
		{name: "unknown kind fails", ci: "", kind: "nope", wantFatal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EndpointEnv, "")
			t.Setenv("PATH", t.TempDir())
			t.Setenv("CI", tt.ci)
			p := NewPool()
			ft := &fakeTB{TB: t}
			if s := p.Get(ft, tt.kind); s != nil {
				t.Fatalf("Get = %+v, want nil", s)
			}
			if got := ft.fatal != ""; got != tt.wantFatal || (ft.fatal == "") == (ft.skip == "") {
				t.Errorf("fatal %q, skip %q; want fatal: %v", ft.fatal, ft.skip, tt.wantFatal)
			}
			// The failure is remembered, not retried.
			ft2 := &fakeTB{TB: t}
			p.Get(ft2, tt.kind)
			if ft2.fatal+ft2.skip != ft.fatal+ft.skip {
				t.Errorf("second Get: %q%q, want the same as the first %q%q", ft2.fatal, ft2.skip, ft.fatal, ft.skip)
			}
			if err := p.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}
