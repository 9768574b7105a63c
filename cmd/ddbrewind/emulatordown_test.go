package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// fatalTB records the test's failure (Fatalf or Errorf) instead of
// failing it, so that a
// test can check how the harness fails another.
type fatalTB struct {
	testing.TB
	fatal string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func (f *fatalTB) Errorf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

// killOnScanOf returns the URL of a pass-through proxy to srv that kills
// srv's process (by its PID) when the first Scan of table's items (a
// copy's reader, not the Select=COUNT of its size estimate) arrives: the emulator dies in the
// middle of a command that has already reached it.
func killOnScanOf(t *testing.T, srv *ddbtest.Server, table string) string {
	t.Helper()
	u, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var once sync.Once
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".Scan") && bytes.Contains(body, []byte(`"`+table+`"`)) && !bytes.Contains(body, []byte(`"Select"`)) {
			once.Do(func() { _ = syscall.Kill(srv.PID(), syscall.SIGKILL) })
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}

// TestEmulatorDiesMidCopy: the emulator a copy writes to dies in the
// middle of it (as the shared dynalite did once in CI). The harness stops
// the in-process run at once and fails the test with a message naming the
// emulator, its exit status and the tail of its log, instead of ddbrewind
// retrying the dead endpoint (without --max-retry-time, for ever) until
// go test's -timeout kills the package. Later runs fail at once too.
func TestEmulatorDiesMidCopy(t *testing.T) {
	t.Parallel()
	p := ddbtest.NewPool() // its own emulator: the shared ones stay up
	defer func() { _ = p.Close() }()
	srv := p.Get(t, ddbtest.Dynalite)
	c := srv.Client(t)
	from, to := ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "main")
	ddbtest.CreateTable(t, c, from, mixedSpec)
	ddbtest.CreateTable(t, c, to, mixedSpec)
	ddbtest.PutItems(t, c, from, ddbtest.MixedItems(50, 7, ddbtest.WithLargeEvery(0)))
	endpoint := killOnScanOf(t, srv, from)
	pid := srv.PID()

	wants := []string{"was stopped", "dynalite emulator", "pid " + strconv.Itoa(pid), "died (signal: killed)", "Dynalite listening at"}
	for _, name := range []string{"the run in the middle", "a later run"} {
		ft := &fatalTB{TB: t}
		start := time.Now()
		r := runCLI(ft, cliOpts{pool: p}, "copy", "--endpoint-url", endpoint, "--from", from, "--to", to, "--yes")
		took := time.Since(start)
		t.Logf("%s: the harness failed the test after %s with: %s", name, took, ft.fatal)
		if took > time.Minute {
			t.Errorf("%s: took %s to stop, want at most a minute", name, took)
		}
		for _, w := range wants {
			if !strings.Contains(ft.fatal, w) {
				t.Errorf("%s (exit %d): the failure %q lacks %q", name, r.code, ft.fatal, w)
			}
		}
	}
}

// TestEmulatorDiesUnderTheBinary: the same for ddbrewind run as a process
// (binaryCommand): the watch kills the process retrying the dead
// endpoint, so the test's Wait returns at once, and the test fails naming
// the emulator.
func TestEmulatorDiesUnderTheBinary(t *testing.T) {
	t.Parallel()
	p := ddbtest.NewPool()
	defer func() { _ = p.Close() }()
	srv := p.Get(t, ddbtest.Dynalite)
	c := srv.Client(t)
	from, to := ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "main")
	ddbtest.CreateTable(t, c, from, mixedSpec)
	ddbtest.CreateTable(t, c, to, mixedSpec)
	ddbtest.PutItems(t, c, from, ddbtest.MixedItems(50, 7, ddbtest.WithLargeEvery(0)))
	endpoint := killOnScanOf(t, srv, from)
	bin := binary(t)

	var ft *fatalTB
	t.Run("run", func(t *testing.T) {
		ft = &fatalTB{TB: t}
		cmd := watchedCommand(ft, p, bin, "copy", "--endpoint-url", endpoint, "--from", from, "--to", to, "--yes")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		t.Logf("ddbrewind exited after %s: %v\n%s", time.Since(start), err, stderr.String())
		if time.Since(start) > time.Minute {
			t.Errorf("took %s to end, want at most a minute", time.Since(start))
		}
	})
	t.Logf("the harness failed the test with: %s", ft.fatal)
	for _, w := range []string{"was killed because an emulator went down", "dynalite emulator", "pid " + strconv.Itoa(srv.PID()), "died (signal: killed)", "Dynalite listening at"} {
		if !strings.Contains(ft.fatal, w) {
			t.Errorf("the failure %q lacks %q", ft.fatal, w)
		}
	}
}
