// Package progress shows the live counters of a long operation: a progress
// bar redrawn on a terminal (github.com/schollz/progressbar), or a log line
// every interval otherwise. It only renders; the operation counts (see
// copier.Stats).
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Counters is what a renderer shows.
type Counters struct {
	Read, Written, Skipped, Deleted, Failed, Retries, Throttles int64
	// Total is the expected number of items to read; 0 means unknown (no
	// bar, no ETA: a spinner with the count and the rate).
	Total int64
}

// Config configures a renderer.
type Config struct {
	// TTY redraws a progress bar on Out every 500 ms (from the first
	// counter that is not zero); otherwise Logger gets a line every
	// Interval.
	TTY      bool
	Out      io.Writer
	Logger   *slog.Logger
	Interval time.Duration
	// Label names the operation ("copy", "undo").
	Label string
	Now   func() time.Time
}

// Renderer polls a source of counters until stopped.
type Renderer struct {
	cfg   Config
	src   func() Counters
	start time.Time
	bar   *bar
	stop  chan struct{}
	done  sync.WaitGroup
}

// ttyEvery is how often the terminal bar is redrawn.
const ttyEvery = 500 * time.Millisecond

// Start begins rendering src.
func Start(cfg Config, src func() Counters) *Renderer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	r := &Renderer{cfg: cfg, src: src, start: cfg.Now(), stop: make(chan struct{})}
	every := cfg.Interval
	if cfg.TTY {
		every = ttyEvery
		r.draw(false)
	}
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				if cfg.TTY {
					r.draw(true)
				}
				return
			case <-t.C:
				if cfg.TTY {
					r.draw(false)
				} else {
					r.log()
				}
			}
		}
	}()
	return r
}

// draw updates the terminal bar; final ends it. The bar appears with the
// first counter that is not zero, so that run shows none while it waits
// for the restore.
func (r *Renderer) draw(final bool) {
	c := r.src()
	if r.bar == nil {
		if c == (Counters{}) {
			return
		}
		r.bar = newBar(r.cfg.Out, r.cfg.Label, c)
	}
	r.bar.update(c, final)
	if final {
		r.bar.close()
	}
}

// Stop stops rendering; on a terminal it draws the last state and ends the
// line.
func (r *Renderer) Stop() {
	if r == nil {
		return
	}
	close(r.stop)
	r.done.Wait()
}

// Describe formats the counters other than the items read, which the bar
// itself shows with their rate: written, deleted, retries and throttles
// always, skipped and failed when not zero (the final summary has them
// all).
func Describe(c Counters) string {
	s := fmt.Sprintf("written %d", c.Written)
	if c.Skipped > 0 {
		s += fmt.Sprintf(" skipped %d", c.Skipped)
	}
	s += fmt.Sprintf(" deleted %d retries %d throttles %d", c.Deleted, c.Retries, c.Throttles)
	if c.Failed > 0 {
		s += fmt.Sprintf(" FAILED %d", c.Failed)
	}
	return s
}

// ETA estimates the time left from the read rate and Total.
func ETA(c Counters, elapsed time.Duration) (time.Duration, bool) {
	if c.Total <= 0 || c.Read <= 0 || c.Read >= c.Total || elapsed <= 0 {
		return 0, false
	}
	perItem := float64(elapsed) / float64(c.Read)
	return time.Duration(perItem * float64(c.Total-c.Read)), true
}

// bar adapts a progressbar.ProgressBar to counters polled from outside:
// the items read drive it; the other counters are its description.
type bar struct {
	pb    *progressbar.ProgressBar
	out   io.Writer
	label string
	max   int64 // the bar's length; -1 while the total is unknown (a spinner)
	fed   int64 // the items read it was last given
}

func newBar(out io.Writer, label string, c Counters) *bar {
	b := &bar{out: out, label: label, max: -1}
	if c.Total > 0 {
		b.max = max(c.Total, c.Read+1)
	}
	b.pb = progressbar.NewOptions64(b.max,
		progressbar.OptionSetWriter(out),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("read"),
		progressbar.OptionSetWidth(20),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSpinnerType(14),
		// No timer of its own: with one, an unknown-length bar redraws
		// from a goroutine that never ends (not even on Exit) and would
		// write over the lines after it. It turns on each update instead.
		progressbar.OptionSetSpinnerChangeInterval(0),
	)
	return b
}

// update redraws the bar with c; final is the last update.
//
// A total that becomes known later (run learns it once the recovery table
// exists) turns the spinner into a bar, but only while nothing was read:
// a spinner's position is not a count. The total is an estimate
// (DescribeTable's ItemCount, refreshed by DynamoDB about every six hours)
// and may be short, so until the last update the bar stays one item ahead
// of the items read rather than claim to be done (a finished progressbar
// draws no more); the last update ends it at the items read.
func (b *bar) update(c Counters, final bool) {
	switch {
	case b.max == -1 && c.Total > 0 && b.fed == 0:
		b.max = max(c.Total, c.Read+1)
		b.pb.ChangeMax64(b.max)
	case b.max > 0 && c.Read >= b.max:
		b.max = c.Read + 1
		b.pb.ChangeMax64(b.max)
	}
	if final && b.max > 0 && c.Read+1 == b.max && c.Read >= c.Total {
		b.max = c.Read
		b.pb.ChangeMax64(b.max)
	}
	b.pb.Describe(b.label + ": " + Describe(c))
	_ = b.pb.Set64(c.Read) // it errs only past the length, which update keeps ahead
	b.fed = c.Read
}

// close ends the bar's line, keeping its last state on screen.
func (b *bar) close() {
	_ = b.pb.Exit()
	fmt.Fprintln(b.out)
}

func (r *Renderer) log() {
	c := r.src()
	elapsed := r.cfg.Now().Sub(r.start)
	args := []any{"step", r.cfg.Label, "read", c.Read, "written", c.Written, "skipped", c.Skipped,
		"deleted", c.Deleted, "failed", c.Failed, "retries", c.Retries, "throttles", c.Throttles,
		"elapsed", elapsed.Round(time.Second).String()}
	if eta, ok := ETA(c, elapsed); ok {
		args = append(args, "eta", eta.Round(time.Second).String())
	}
	r.cfg.Logger.Info("progress", args...)
}
