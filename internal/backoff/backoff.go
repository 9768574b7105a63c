// Package backoff is exponential backoff with full jitter, and a sleep that
// a context cancels: the retry schedule of the copier's executor and of the
// SDK's retryer for control-plane calls, and the sleep of every wait. It
// decides nothing about what to retry.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff is an exponential backoff with full jitter: the n-th retry waits a
// random time in [0, min(Max, Base·2ⁿ)).
type Backoff struct {
	Base, Max time.Duration
}

// Default starts at 50 ms, as DynamoDB recommends, and caps at 20 s.
var Default = Backoff{Base: 50 * time.Millisecond, Max: 20 * time.Second}

// Delay returns the wait before retry n (0-based), using r for the jitter.
func (b Backoff) Delay(n int, r *rand.Rand) time.Duration {
	d := b.Base
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if d <= 0 {
		return 0
	}
	return time.Duration(r.Int64N(int64(d)))
}

// Sleep waits d, or until ctx is done (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
