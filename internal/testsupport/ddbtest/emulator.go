// Package ddbtest is the harness for integration tests against DynamoDB
// emulators (moto_server and dynalite) or an endpoint named by the
// DYNAMODB_ENDPOINT environment variable.
//
// It starts and stops emulators ([Launch], [Pool]), builds SDK clients for
// them, creates and fills throwaway tables ([CreateTable], [PutItems],
// [MixedItems]), reads and compares table contents exactly ([ScanAll],
// [EqualValue], [DiffItemSets]) and puts a fault-injecting HTTP proxy in front
// of an endpoint ([FaultProxy]).
//
// It does not mock DynamoDB: everything goes to a real DynamoDB-compatible
// server over HTTP. Emulators differ from DynamoDB in places (dynalite has no
// point-in-time recovery, moto stores numbers as sent), so tests should use
// the emulator that implements what they exercise. It is meant for _test.go
// files only.
package ddbtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Kind names a DynamoDB emulator.
type Kind string

// The emulators Launch can start.
const (
	// Moto is moto_server (pip install "moto[server]"): slower and lenient,
	// but it implements point-in-time recovery, restores, tags and S3.
	Moto Kind = "moto"
	// Dynalite is the dynalite npm package pinned in the repository's
	// package.json: fast, with DynamoDB's strict validation, but without
	// backups or point-in-time recovery.
	Dynalite Kind = "dynalite"
)

// EndpointEnv is the environment variable that, when set, points every
// Launch at an already running endpoint instead of starting an emulator.
const EndpointEnv = "DYNAMODB_ENDPOINT"

// ErrUnavailable is wrapped by the error Launch returns when an emulator's
// program is not installed on this machine.
var ErrUnavailable = errors.New("ddbtest: emulator not installed")

// launchTimeout bounds how long Launch waits for an emulator to answer.
const launchTimeout = 30 * time.Second

// Server is a running DynamoDB-compatible endpoint.
type Server struct {
	// Kind is the emulator asked for. With DYNAMODB_ENDPOINT set it is
	// still the kind asked for, although the endpoint may be anything.
	Kind Kind
	// Endpoint is the base URL, e.g. "http://127.0.0.1:8000".
	Endpoint string

	cmd     *exec.Cmd     // nil for an external endpoint
	exited  chan struct{} // closed when cmd.Wait returned (after down)
	waitErr error         // cmd.Wait's result, read after exited is closed
	logPath string

	stopping atomic.Bool // Stop is killing it: its exit is no crash
	stopOnce sync.Once
	stopErr  error

	down        chan struct{} // closed when it went down (see DownError); nil for an external endpoint
	downOnce    sync.Once
	downErr     *DownError // why, read after down is closed
	monitorOnce sync.Once  // starts the liveness probe (health.go)
}

// Launch starts the emulator of the given kind on a free loopback port, waits
// up to 30 s until it answers a ListTables call, and returns it. The caller
// must Stop it.
//
// When DYNAMODB_ENDPOINT is set Launch starts nothing: it waits until that
// endpoint answers and returns a Server for it, whatever the kind.
//
// A missing program returns an error wrapping ErrUnavailable that says how
// to install it. The emulator's output goes to a temporary log file (see
// LogPath); the error of a failed start includes its tail.
func Launch(ctx context.Context, kind Kind) (*Server, error) {
	return launch(ctx, kind, os.Getenv(EndpointEnv), nil)
}

// LaunchEnv is Launch with extra environment variables (KEY=VALUE) for
// the emulator's process, e.g. MOTO_SIMPLE_BATCH_FAIL_AFTER=0, which makes
// moto's Batch fail every job. It always starts an emulator of its own:
// DYNAMODB_ENDPOINT's server was not started with them.
func LaunchEnv(ctx context.Context, kind Kind, env ...string) (*Server, error) {
	return launch(ctx, kind, "", env)
}

// launch is Launch with the DYNAMODB_ENDPOINT value passed in, so tests
// can launch real emulators while the variable is set and run in parallel.
func launch(ctx context.Context, kind Kind, external string, env []string) (*Server, error) {
	if kind != Moto && kind != Dynalite {
		return nil, fmt.Errorf("launch: unknown emulator kind %q (want %q or %q)", kind, Moto, Dynalite)
	}
	ctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()

	if external != "" {
		s := &Server{Kind: kind, Endpoint: strings.TrimRight(external, "/")}
		if err := waitReady(ctx, s.Endpoint, nil); err != nil {
			return nil, fmt.Errorf("launch: %s=%s does not answer ListTables: %w", EndpointEnv, external, err)
		}
		return s, nil
	}

	name, args, err := command(kind)
	if err != nil {
		return nil, err
	}
	// The free port is found by binding and releasing it, so another
	// process can take it in between; a few attempts cover that race.
	const attempts = 3
	for i := 1; ; i++ {
		s, err := start(ctx, kind, name, args, env)
		if err == nil {
			return s, nil
		}
		if i == attempts || !errors.Is(err, errPortInUse) || ctx.Err() != nil {
			return nil, err
		}
	}
}

// errPortInUse marks a start that failed because the port was taken.
var errPortInUse = errors.New("port in use")

// errExited is waitReady's error when the emulator exits first.
var errExited = errors.New("exited before answering")

// command returns the program and arguments (without the port) for kind.
func command(kind Kind) (string, []string, error) {
	switch kind {
	case Moto:
		path, err := exec.LookPath("moto_server")
		if err != nil {
			return "", nil, fmt.Errorf("start moto: moto_server not on PATH (install it with: pip install \"moto[server]\"): %w", ErrUnavailable)
		}
		return path, []string{"-H", "127.0.0.1", "-p"}, nil
	default:
		root, err := repoRoot()
		if err != nil {
			return "", nil, fmt.Errorf("start dynalite: %w", err)
		}
		path := filepath.Join(root, "node_modules", ".bin", "dynalite")
		if _, err := os.Stat(path); err != nil {
			return "", nil, fmt.Errorf("start dynalite: %s not found (run npm ci in %s): %w", path, root, ErrUnavailable)
		}
		if _, err := exec.LookPath("node"); err != nil {
			return "", nil, fmt.Errorf("start dynalite: node not on PATH (install Node.js, then run npm ci in %s): %w", root, ErrUnavailable)
		}
		return path, []string{"--createTableMs", "20", "--deleteTableMs", "20", "--updateTableMs", "20", "--host", "127.0.0.1", "--port"}, nil
	}
}

// RepoRoot returns the repository's root (the directory holding go.mod,
// above the test's working directory), for tests that read the whole tree.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs one attempt at starting the emulator.
func start(ctx context.Context, kind Kind, name string, args, env []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}
	logFile, err := os.CreateTemp("", "ddbtest-"+string(kind)+"-*.log")
	if err != nil {
		return nil, fmt.Errorf("start %s: create log file: %w", kind, err)
	}
	defer logFile.Close() // the child holds its own descriptor

	cmd := exec.Command(name, append(append([]string(nil), args...), strconv.Itoa(port))...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = sysProcAttr()
	s := &Server{
		Kind:     kind,
		Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		cmd:      cmd,
		exited:   make(chan struct{}),
		down:     make(chan struct{}),
		logPath:  logFile.Name(),
	}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that started the
		// child ends (go.dev/issue/27505), so that thread is kept, locked
		// to this goroutine, for the child's lifetime.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		s.markExited() // reads the log, which Stop removes once exited is closed
		close(s.exited)
	}()
	if err := <-started; err != nil {
		_ = os.Remove(s.logPath)
		return nil, fmt.Errorf("start %s: %w", kind, err)
	}

	if err := waitReady(ctx, s.Endpoint, s.exited); err != nil {
		_ = s.kill()
		if errors.Is(err, errExited) {
			err = fmt.Errorf("%w (%v)", err, s.waitErr)
		}
		tail := logTail(s.logPath, 4096)
		_ = os.Remove(s.logPath) // its tail is in the error
		if strings.Contains(tail, "in use") || strings.Contains(tail, "EADDRINUSE") {
			err = fmt.Errorf("%w: %w", errPortInUse, err)
		}
		return nil, fmt.Errorf("start %s on port %d: %w; its output ends with:\n%s", kind, port, err, tail)
	}
	return s, nil
}

// waitReady polls ListTables until it succeeds, ctx ends or exited closes.
func waitReady(ctx context.Context, endpoint string, exited <-chan struct{}) error {
	c := newClient(endpoint, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	defer c.Options().HTTPClient.(*http.Client).CloseIdleConnections()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.ListTables(callCtx, &dynamodb.ListTablesInput{})
		cancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-exited:
			return errExited
		case <-ctx.Done():
			return fmt.Errorf("no answer to ListTables: %w (last error: %w)", ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// logTail returns about the last n bytes of the file at path.
func logTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, 0); err != nil {
			return fmt.Sprintf("(cannot read log: %v)", err)
		}
	}
	buf := new(bytes.Buffer)
	if _, err := buf.ReadFrom(f); err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if buf.Len() == 0 {
		return "(empty)"
	}
	return buf.String()
}

// PID returns the emulator's process ID (also its process group ID), or 0
// for a DYNAMODB_ENDPOINT server.
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// LogPath returns the emulator's log file, or "" for a DYNAMODB_ENDPOINT
// server. A clean Stop removes the file.
func (s *Server) LogPath() string { return s.logPath }

// Stop kills the emulator's whole process group and waits until it is gone.
// It does nothing for a DYNAMODB_ENDPOINT server, and only the first call
// does anything.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		s.stopErr = s.kill()
		if s.stopErr == nil {
			_ = os.Remove(s.logPath)
		}
	})
	return s.stopErr
}

// kill sends SIGKILL to the process group and waits for the leader and then
// the rest of the group to disappear.
func (s *Server) kill() error {
	pid := s.PID()
	if err := killGroup(s.cmd.Process); err != nil {
		return fmt.Errorf("stop %s (pid %d): %w", s.Kind, pid, err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("stop %s (pid %d): still running 10s after SIGKILL", s.Kind, pid)
	}
	deadline := time.Now().Add(5 * time.Second)
	for groupAlive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("stop %s: process group %d still has members 5s after SIGKILL", s.Kind, pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Client returns a DynamoDB client for the server: static credentials
// "test"/"test", region us-east-1, BaseEndpoint = s.Endpoint and an HTTP
// client that keeps many idle connections per host. opts are applied last,
// so they can point it elsewhere (a FaultProxy) or change retries. Its idle
// connections are closed when the test ends.
//
// An emulator that has gone down (see Err) ends the test at once, naming
// it and quoting its log; a request that fails after it went down says so
// in its error.
func (s *Server) Client(t testing.TB, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	if err := s.Err(); err != nil {
		t.Fatalf("%v", err)
	}
	var hc *http.Client
	c := newClient(s.Endpoint, append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		hc, _ = o.HTTPClient.(*http.Client)
		if hc != nil && s.down != nil {
			o.HTTPClient = downAwareClient{Client: hc, s: s}
		}
	}}, opts...)...)
	if hc != nil {
		t.Cleanup(hc.CloseIdleConnections)
	}
	return c
}

// newClient builds the client described at Server.Client.
func newClient(endpoint string, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Transport: tr},
	}, opts...)
}
