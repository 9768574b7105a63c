// Package poll waits for a long AWS operation — a restore, a deletion, an
// export — by calling a check on a capped exponential schedule until it says
// done, fails, the timeout passes or the context is cancelled. Such
// operations take minutes to hours, so the callers poll themselves rather
// than trust an SDK waiter's default limits.
//
// It does not know what it waits for: the check makes the call, decides what
// "done" is and logs progress, and the caller words the errors (what goes on
// in AWS, what to do next).
package poll

import (
	"context"
	"errors"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/backoff"
)

// Schedule is a capped exponential polling schedule: the first wait is Min,
// each next one doubles, up to Max.
type Schedule struct {
	Min, Max time.Duration
}

// Default polls after 2 s, doubling up to every 30 s.
var Default = Schedule{Min: 2 * time.Second, Max: 30 * time.Second}

// ErrInterrupted is returned when ctx was cancelled (Ctrl-C): the wait
// stopped, not the operation waited for. Callers wrap it with what goes on.
var ErrInterrupted = errors.New("stopped waiting")

// ErrTimeout is returned when the timeout passed before the check said done.
var ErrTimeout = errors.New("timed out")

// Until calls check until it reports done (nil), returns an error (that
// error), ctx is cancelled (ErrInterrupted) or more than timeout has passed
// since the first call (ErrTimeout), sleeping between calls as s says. A
// check that reports done wins over a cancellation that came meanwhile.
func Until(ctx context.Context, s Schedule, timeout time.Duration, now func() time.Time, check func(context.Context) (done bool, err error)) error {
	start := now()
	delay := s.Min
	for {
		done, err := check(ctx)
		switch {
		case done && err == nil:
			return nil
		case ctx.Err() != nil:
			return ErrInterrupted
		case err != nil:
			return err
		case now().Sub(start) > timeout:
			return ErrTimeout
		}
		if backoff.Sleep(ctx, delay) != nil {
			return ErrInterrupted
		}
		delay = min(delay*2, s.Max)
	}
}
