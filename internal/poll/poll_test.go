package poll

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestUntil(t *testing.T) {
	boom := errors.New("AccessDeniedException")
	tests := []struct {
		name      string
		doneAfter int // the check reports done on this call; 0 never
		failAt    int // the check fails on this call; 0 never
		cancelAt  time.Duration
		timeout   time.Duration
		want      error
		calls     int
		waited    time.Duration
	}{
		// 1 + 2 + 4 + 4 + 4 + 4 + 4 seconds between the 8 calls.
		{name: "capped backoff", doneAfter: 8, timeout: time.Hour, calls: 8, waited: 23 * time.Second},
		{name: "done at once", doneAfter: 1, timeout: time.Hour, calls: 1},
		{name: "check fails", failAt: 3, timeout: time.Hour, want: boom, calls: 3, waited: 3 * time.Second},
		// Calls at 0, 1, 3, 7, 11 s: the one at 11 s is past the timeout.
		{name: "timeout", timeout: 10 * time.Second, want: ErrTimeout, calls: 5, waited: 11 * time.Second},
		{name: "interrupted while sleeping", cancelAt: 5 * time.Second, timeout: time.Hour, want: ErrInterrupted, calls: 3, waited: 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tt.cancelAt > 0 {
					time.AfterFunc(tt.cancelAt, cancel)
				}
				calls := 0
				start := time.Now()
				err := Until(ctx, Schedule{Min: time.Second, Max: 4 * time.Second}, tt.timeout, time.Now, func(context.Context) (bool, error) {
					calls++
					if calls == tt.failAt {
						return false, boom
					}
					return calls == tt.doneAfter, nil
				})
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Fatalf("Until = %v, want %v", err, tt.want)
				}
				if calls != tt.calls {
					t.Errorf("%d calls, want %d", calls, tt.calls)
				}
				if got := time.Since(start); got != tt.waited {
					t.Errorf("waited %s, want %s", got, tt.waited)
				}
			})
		})
	}
}

// A check that finishes after a Ctrl-C still reports done: what was waited
// for is there.
func TestUntilDoneWinsOverCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := Until(ctx, Default, time.Hour, time.Now, func(context.Context) (bool, error) {
		cancel()
		return true, nil
	})
	if err != nil {
		t.Fatalf("Until = %v, want nil", err)
	}
}

// A Ctrl-C during a check makes the check's call fail (context canceled):
// that is the interruption, not an error of what is waited for.
func TestUntilCancelDuringCheckIsInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	err := Until(ctx, Default, time.Hour, time.Now, func(ctx context.Context) (bool, error) {
		cancel()
		return false, ctx.Err()
	})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Until = %v, want ErrInterrupted", err)
	}
}
