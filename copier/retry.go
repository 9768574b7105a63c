package copier

import (
	"context"
	"sync"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/backoff"
)

// Backoff is an exponential backoff with full jitter (see package backoff).
type Backoff = backoff.Backoff

// DefaultBackoff starts at 50 ms and caps at 20 s.
var DefaultBackoff = backoff.Default

// pacer spaces the calls of all writers: the delay doubles when DynamoDB
// throttles and shrinks gradually on success, so the call rate drops fast
// and climbs back slowly (AIMD) instead of hammering a throttled table.
type pacer struct {
	mu       sync.Mutex
	delay    time.Duration
	min, max time.Duration
}

// maxPace caps the pacer's delay: beyond it the per-batch backoff takes over.
const maxPace = time.Second

func newPacer() *pacer {
	return &pacer{min: 5 * time.Millisecond, max: maxPace}
}

// wait sleeps the current delay before a call.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	d := p.delay
	p.mu.Unlock()
	if d == 0 {
		return ctx.Err()
	}
	return sleep(ctx, d)
}

// throttled doubles the delay.
func (p *pacer) throttled() {
	p.mu.Lock()
	p.delay = min(max(p.delay*2, p.min), p.max)
	p.mu.Unlock()
}

// paceStep is the additive increase: each successful call raises each
// writer's allowed call rate (1/delay) by this many calls per second.
const paceStep = 1.0

// succeeded raises the call rate by paceStep (the delay d becomes
// d/(1+paceStep·d)), so the rate climbs back linearly, down to no delay.
func (p *pacer) succeeded() {
	p.mu.Lock()
	if p.delay > 0 {
		d := p.delay.Seconds()
		p.delay = time.Duration(d / (1 + paceStep*d) * float64(time.Second))
		if p.delay < 2*time.Millisecond {
			p.delay = 0
		}
	}
	p.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) error { return backoff.Sleep(ctx, d) }
