// Package progress shows the live counters of a long operation: a redrawn
// line on a terminal, or a log line every interval otherwise. It only
// renders; the operation counts (see copier.Stats).
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Counters is what a renderer shows.
type Counters struct {
	Read, Written, Skipped, Deleted, Failed, Retries, Throttles int64
	// Total is the expected number of items to read; 0 means unknown (no ETA).
	Total int64
}

// Config configures a renderer.
type Config struct {
	// TTY redraws one line on Out every 500 ms; otherwise Logger gets a line
	// every Interval.
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
	stop  chan struct{}
	done  sync.WaitGroup
}

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
		every = 500 * time.Millisecond
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
					r.draw()
					fmt.Fprintln(cfg.Out)
				}
				return
			case <-t.C:
				if cfg.TTY {
					r.draw()
				} else {
					r.log()
				}
			}
		}
	}()
	return r
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

// Line formats counters as one human line.
func Line(c Counters, elapsed time.Duration) string {
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(c.Written+c.Skipped+c.Deleted) / s
	}
	line := fmt.Sprintf("read %d  written %d  skipped %d  deleted %d  retries %d  throttles %d  %.0f items/s",
		c.Read, c.Written, c.Skipped, c.Deleted, c.Retries, c.Throttles, rate)
	if c.Failed > 0 {
		line += fmt.Sprintf("  FAILED %d", c.Failed)
	}
	if eta, ok := ETA(c, elapsed); ok {
		line += "  ETA " + eta.Round(time.Second).String()
	}
	return line
}

// ETA estimates the time left from the read rate and Total.
func ETA(c Counters, elapsed time.Duration) (time.Duration, bool) {
	if c.Total <= 0 || c.Read <= 0 || c.Read >= c.Total || elapsed <= 0 {
		return 0, false
	}
	perItem := float64(elapsed) / float64(c.Read)
	return time.Duration(perItem * float64(c.Total-c.Read)), true
}

func (r *Renderer) draw() {
	fmt.Fprintf(r.cfg.Out, "\r\033[K%s: %s", r.cfg.Label, Line(r.src(), r.cfg.Now().Sub(r.start)))
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
