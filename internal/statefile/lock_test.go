package statefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// clock is a fake clock, safe for the renewal goroutine.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestLocalLock: a second lock of one local state file is refused at once,
// naming the holder; after the release (which removes the lock file) it is
// taken.
func TestLocalLock(t *testing.T) {
	ctx := context.Background()
	var s Store
	state := filepath.Join(t.TempDir(), "state.json")
	a, err := s.Lock(ctx, state, LockOptions{Host: "host-a", PID: 4242})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Lock(ctx, state, LockOptions{Host: "host-b", PID: 7})
	var he *HeldError
	if !errors.As(err, &he) || !usage.Is(err) {
		t.Fatalf("second lock: %v, want a *HeldError that is a usage error", err)
	}
	if he.Holder.Host != "host-a" || he.Holder.PID != 4242 || he.S3 {
		t.Errorf("holder %+v, want host-a pid 4242 (local)", he.Holder)
	}
	for _, want := range []string{"state file " + state + " is in use by another ddbrewind run (host host-a, pid 4242, since ", state + ".lock", "wait for it to end"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if err := a.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(state + ".lock"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lock file left after the release: %v", err)
	}
	b, err := s.Lock(ctx, state, LockOptions{})
	if err != nil {
		t.Fatalf("lock after the release: %v", err)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx); err != nil {
		t.Errorf("second Release: %v", err)
	}
}

// deadPID returns the pid of a process that ran and was reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestS3Lease runs the lease on moto's S3 (which honours If-None-Match: *,
// If-Match on PutObject and DeleteObject) with a fake clock: a second run
// is refused while the lease lives, renewals extend it, an expired lease
// is taken over (and its old holder learns it lost it), a lease of a dead
// process on this host is taken over at once, the release deletes only the
// run's own lease.
func TestS3Lease(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	ctx := context.Background()
	c := srv.S3Client(t)
	bucket := ddbtest.CreateBucket(t, c)
	s := &Store{S3: c}
	state := "s3://" + bucket + "/rewinds/state.json"
	lease := "s3://" + bucket + "/rewinds/state.json.lock"
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ticksA := make(chan time.Time)
	lostA := make(chan error, 1)
	a, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: ticksA, Host: "host-a", PID: 11, OnLost: func(err error) { lostA <- err }})
	if err != nil {
		t.Fatal(err)
	}
	holder := func() string {
		data, err := s.Read(ctx, lease)
		if errors.Is(err, fs.ErrNotExist) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if h := holder(); !strings.Contains(h, `"host":"host-a"`) || !strings.Contains(h, `"expires":"2026-03-01T12:02:00Z"`) {
		t.Fatalf("lease %s, want host-a's, expiring in 2 minutes", h)
	}
	refused := func(step, wantUntil string) {
		t.Helper()
		_, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-b", PID: 22})
		var he *HeldError
		if !errors.As(err, &he) || !usage.Is(err) {
			t.Fatalf("%s: %v, want a *HeldError", step, err)
		}
		for _, want := range []string{"state file " + state + " is in use by another ddbrewind run (host host-a, pid 11, since 2026-03-01T12:00:00Z; its lease " + lease + " runs until " + wantUntil,
			"rerun after " + wantUntil + " or remove the lease first: aws s3 rm " + lease} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: message %q lacks %q", step, err, want)
			}
		}
	}
	refused("while the lease lives", "2026-03-01T12:02:00Z")

	clk.advance(100 * time.Second)
	if err := a.Renew(ctx); err != nil {
		t.Fatalf("renew: %v", err)
	}
	clk.advance(100 * time.Second) // past the first expiry, not the renewed one
	refused("after a renewal", "2026-03-01T12:03:40Z")

	// A stops renewing (killed, say): once the lease expired, B takes it.
	clk.advance(time.Minute)
	b, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-b", PID: 22})
	if err != nil {
		t.Fatalf("take over the expired lease: %v", err)
	}
	if h := holder(); !strings.Contains(h, `"host":"host-b"`) {
		t.Fatalf("lease %s after the takeover, want host-b's", h)
	}
	// A's next renewal finds B's lease: A is told it lost the lock.
	ticksA <- clk.Now()
	if err := <-lostA; !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "host host-b") {
		t.Errorf("A's lost lease: %v, want ErrLockLost naming host-b", err)
	}
	if err := a.Release(ctx); err != nil {
		t.Errorf("release of a lost lease: %v", err)
	}
	if h := holder(); !strings.Contains(h, `"host":"host-b"`) {
		t.Fatalf("A's release removed B's lease: %q", h)
	}
	if err := b.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if h := holder(); h != "" {
		t.Fatalf("lease %q left after the release", h)
	}

	// A lease of a process of this host that is gone is taken over at once;
	// one of a live process is not.
	host, _ := os.Hostname()
	for _, tc := range []struct {
		name string
		pid  int
		take bool
	}{{"dead process on this host", deadPID(t), true}, {"live process on this host", os.Getpid(), false}} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: host, PID: tc.pid})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Release(ctx)
			d.stopRenewal() // as a kill -9 would: the lease stays
			e, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), PID: 33})
			if tc.take != (err == nil) {
				t.Fatalf("lock: %v, want taken over %v", err, tc.take)
			}
			if err == nil {
				e.Release(ctx)
			}
		})
	}
}

// TestS3LeaseRenewalFailing: a lease whose renewals fail (S3 unreachable)
// is given up once it expired, not before.
func TestS3LeaseRenewalFailing(t *testing.T) {
	ctx := context.Background()
	f := &failingS3{S3API: nil}
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.S3Client(t)
	f.S3API, f.c = c, c
	bucket := ddbtest.CreateBucket(t, c)
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ticks := make(chan time.Time)
	lost := make(chan error, 1)
	l, err := (&Store{S3: f}).Lock(ctx, "s3://"+bucket+"/state.json", LockOptions{Now: clk.Now, Ticks: ticks, OnLost: func(err error) { lost <- err }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release(ctx)
	f.setFailing(true)
	clk.advance(time.Minute)
	ticks <- clk.Now()
	ticks <- clk.Now() // received once the first renewal was handled
	select {
	case err := <-lost:
		t.Fatalf("lost before the lease expired: %v", err)
	default:
	}
	clk.advance(2 * time.Minute)
	// The second renewal may see the new time too: then it gives up.
	var lostErr error
	select {
	case ticks <- clk.Now():
		lostErr = <-lost
	case lostErr = <-lost:
	}
	if err := lostErr; !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("lost: %v, want ErrLockLost saying it expired", err)
	}
}

// failingS3 fails PutObject while failing is set.
type failingS3 struct {
	S3API
	c       *s3.Client
	mu      sync.Mutex
	failing bool
}

func (f *failingS3) setFailing(b bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = b
}

func (f *failingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, opt ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.mu.Lock()
	failing := f.failing
	f.mu.Unlock()
	if failing {
		return nil, errors.New("connection refused")
	}
	return f.c.PutObject(ctx, in, opt...)
}

func (f *failingS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, opt ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return f.c.DeleteObject(ctx, in, opt...)
}

// TestS3LeaseWaitHeld: with WaitHeld, a lease another holder left (its
// host lost: no renewals) is waited for until it expires, then taken over
// — as a retried AWS Batch attempt meets its previous attempt's lease; a
// lease its holder keeps renewing is refused once waiting would pass
// WaitHeld; without WaitHeld the refusal is at once.
func TestS3LeaseWaitHeld(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	ctx := context.Background()
	c := srv.S3Client(t)
	bucket := ddbtest.CreateBucket(t, c)
	s := &Store{S3: c}
	tests := []struct {
		name     string
		wait     time.Duration
		renewing bool
		taken    bool
		waits    int
	}{
		{name: "holder gone: waited for, taken over", wait: 3 * time.Minute, taken: true, waits: 1},
		{name: "holder renewing: refused after one wait", wait: 3 * time.Minute, renewing: true, waits: 1},
		{name: "no wait: refused at once", wait: 0},
		{name: "wait shorter than the lease: refused at once", wait: time.Minute},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := fmt.Sprintf("s3://%s/rewinds/state-%d.json", bucket, i)
			clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			a, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-a", PID: 11})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Release(ctx)
			var waits []Holder
			var slept time.Duration
			b, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-b", PID: 22, WaitHeld: tt.wait,
				OnWait: func(h Holder) { waits = append(waits, h) },
				Sleep: func(_ context.Context, d time.Duration) error {
					slept += d
					if tt.renewing {
						clk.advance(d - 30*time.Second) // A renews 30 s before B looks again
						if err := a.Renew(ctx); err != nil {
							t.Errorf("A's renewal: %v", err)
						}
						clk.advance(30 * time.Second)
						return nil
					}
					clk.advance(d)
					return nil
				}})
			var held *HeldError
			switch {
			case tt.taken && err != nil:
				t.Fatalf("lock after waiting: %v, want taken over", err)
			case !tt.taken && !errors.As(err, &held):
				t.Fatalf("lock: %v, want a *HeldError", err)
			}
			if b != nil {
				defer b.Release(ctx)
			}
			if len(waits) != tt.waits || (tt.waits > 0 && waits[0].Host != "host-a") {
				t.Errorf("waits %+v, want %d for host-a's lease", waits, tt.waits)
			}
			if tt.waits > 0 && slept != 2*time.Minute+time.Second {
				t.Errorf("slept %v, want until the lease's expiry (2m) and a second", slept)
			}
		})
	}
}

// TestS3LeaseWaitInterrupted: a run interrupted (Ctrl-C, SIGTERM) while it
// waits for a held lease ends with the interrupt (context.Canceled, exit
// 130), not a refusal nor a takeover once the lease expires, and leaves
// the holder's lease as it was; its error says what it stopped waiting
// for and how to resume (it said only "context canceled").
func TestS3LeaseWaitInterrupted(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.S3Client(t)
	bucket := ddbtest.CreateBucket(t, c)
	s := &Store{S3: c}
	state := fmt.Sprintf("s3://%s/rewinds/state.json", bucket)
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	a, err := s.Lock(context.Background(), state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-a", PID: 11})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-b", PID: 22, WaitHeld: 3 * time.Minute,
		Sleep: func(ctx context.Context, d time.Duration) error {
			cancel() // Ctrl-C during the wait
			clk.advance(d)
			return ctx.Err()
		}})
	if b != nil {
		b.Release(context.Background())
	}
	if !errors.Is(err, context.Canceled) || b != nil {
		t.Fatalf("lock interrupted while waiting: %v (lock %v), want context.Canceled and no lock", err, b != nil)
	}
	want := "stopped waiting for the lease s3://" + bucket + "/rewinds/state.json.lock of state file " + state + " (host host-a, pid 11"
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "run the same command again to resume") {
		t.Errorf("interrupted wait says %q, want %q… and how to resume", err, want)
	}
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("rewinds/state.json.lock")})
	if err != nil {
		t.Fatalf("the holder's lease: %v", err)
	}
	defer out.Body.Close()
	data, _ := io.ReadAll(out.Body)
	if !strings.Contains(string(data), `"host-a"`) {
		t.Errorf("lease after the interrupted wait: %s, want host-a's", data)
	}
}
