package copier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
)

// caller sends every DynamoDB data call of a copy, diff or undo. It is the
// one retry layer: the SDK's own retries are switched off for these calls
// (noSDKRetry), and the caller retries throttling, transient errors and
// unprocessed items or keys with exponential backoff and full jitter, in
// one loop with one clock per batch (run), until the batch is done or
// MaxRetryTime passes; it paces all calls together, charges the
// write-capacity cap (--max-wcu), and counts retries and throttles once.
// One caller is shared by all goroutines.
type caller struct {
	api      API
	stats    *Stats // Retries, Throttles and throttles by reason
	backoff  Backoff
	maxRetry time.Duration
	pacer    *pacer
	wcu      *wcuLimiter // nil: no cap
	capacity types.ReturnConsumedCapacity
	now      func() time.Time
	log      *slog.Logger
}

// newCaller builds the caller of a job's calls.
func newCaller(api API, o Options) *caller {
	c := &caller{api: api, stats: o.Stats, backoff: o.Backoff, maxRetry: o.MaxRetryTime, pacer: newPacer(),
		wcu: newWCULimiter(o.MaxWCU), capacity: types.ReturnConsumedCapacityNone, now: o.Now, log: o.Logger}
	if o.MaxWCU > 0 {
		// Computing the consumed capacity costs the server work on every
		// call: ask for it only when --max-wcu needs it.
		c.capacity = types.ReturnConsumedCapacityTotal
	}
	return c
}

// noSDKRetry turns off the SDK's retries for one call: the caller's loop
// is the only retry layer, so every retry is paced and counted once. It
// also keeps the throttling reasons of the call's error body
// (awserr.CaptureThrottleReasons), which the SDK's model drops for a
// ThrottlingException spelled like the other exceptions.
func noSDKRetry(o *dynamodb.Options) {
	o.Retryer = aws.NopRetryer{}
	o.APIOptions = append(o.APIOptions, awserr.CaptureThrottleReasons)
}

// errGaveUp marks a call given up after MaxRetryTime (or an interrupt
// during its retries).
var errGaveUp = errors.New("gave up")

// batchCall is one batch's call as the caller retries it.
type batchCall struct {
	// what names the call in messages.
	what string
	// send makes one attempt with what is left of the batch and returns
	// how much of it is still left (unprocessed items or keys; 0: done).
	send func() (left int, err error)
	// reason and resource count a send that leaves some of the batch as a
	// throttle (ReasonUnprocessedItems or ReasonUnprocessedKeys, the table).
	reason, resource string
	// stuck words the give-up of a batch that still has left items or
	// keys: cause is nil when MaxRetryTime passed, else the interrupt.
	stuck func(left int, cause error) error
	// start, when set, is when the batch's clock started: a call that
	// goes on an earlier call's batch (the read after a conditional write
	// whose answer was lost) retries on that call's clock. Zero: now.
	start time.Time
}

// run sends b until it is done, fails permanently, or retrying passes
// MaxRetryTime (then the error wraps errGaveUp). The clock starts at the
// batch's first call and covers its throttled and failed calls and its
// unprocessed items alike (or at b.start). Throttles slow the shared pacer (but a hot key
// range's, see throttled), successes speed it up again; every retry waits
// its backoff.
func (c *caller) run(ctx context.Context, rng *rand.Rand, b batchCall) error {
	start := b.start
	if start.IsZero() {
		start = c.now()
	}
	for attempt := 0; ; attempt++ {
		if err := c.pacer.wait(ctx); err != nil {
			return fmt.Errorf("%s: %w: %w", b.what, errGaveUp, err)
		}
		left, err := b.send()
		switch {
		case err == nil && left == 0:
			c.pacer.succeeded()
			return nil
		case err == nil:
			c.pacer.succeeded()
			c.stats.Throttles.Add(1)
			c.countThrottle(b.reason, b.resource)
			c.pacer.throttled()
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w: %w", b.what, errGaveUp, ctx.Err())
		default:
			throttle, transient := classify(err)
			if !transient {
				if awserr.Code(err) == "ConditionalCheckFailedException" {
					return err
				}
				return fmt.Errorf("%s: %w", b.what, err)
			}
			if throttle {
				c.throttled(err)
			}
		}
		if c.maxRetry > 0 && c.now().Sub(start) > c.maxRetry {
			if err == nil {
				return b.stuck(left, nil)
			}
			return fmt.Errorf("%s: %w after retrying for %s (--max-retry-time): %w", b.what, errGaveUp, c.maxRetry, err)
		}
		if err != nil {
			c.log.Debug("retrying", "step", b.what, "error", err.Error(), "attempt", attempt+1)
		}
		if serr := sleep(ctx, c.backoff.Delay(attempt, rng)); serr != nil {
			if err == nil {
				return b.stuck(left, serr)
			}
			return fmt.Errorf("%s: %w: %w", b.what, errGaveUp, serr)
		}
		c.stats.Retries.Add(1)
	}
}

// once runs one call that has no unprocessed part (a page, a conditional
// write) with run.
func (c *caller) once(ctx context.Context, rng *rand.Rand, what string, fn func() error) error {
	return c.run(ctx, rng, batchCall{what: what, send: func() (int, error) { return 0, fn() }})
}

// throttled counts a throttling error, by each reason DynamoDB gave
// (awserr.ThrottleReasons; by its error code when it gave none), and slows
// the shared pacer — unless every reason is a hot key range: a few
// partition keys are over their limit, not the table, so only the writer
// that met it slows down (its own backoff), not the others.
func (c *caller) throttled(err error) {
	c.stats.Throttles.Add(1)
	reasons := awserr.ThrottleReasons(err)
	if len(reasons) == 0 {
		c.countThrottle(awserr.Code(err), "")
		c.pacer.throttled()
		return
	}
	hot := true
	for _, r := range reasons {
		c.countThrottle(r.Reason, r.Resource)
		hot = hot && awserr.IsHotKeyRange(r.Reason)
	}
	if !hot {
		c.pacer.throttled()
	}
}

// countThrottle counts one throttle for reason on resource, and logs the
// first of each pair (the summary counts them all).
func (c *caller) countThrottle(reason, resource string) {
	if c.stats.CountThrottle(reason, resource) == 1 {
		c.log.Info("throttled", "reason", reason, "resource", resource)
	}
}

// chargeWCU waits until the write capacity units a call consumed fit the
// cap (--max-wcu).
func (c *caller) chargeWCU(ctx context.Context, units float64) error {
	return c.wcu.charge(ctx, units)
}
