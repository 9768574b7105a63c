// Package progress shows the live counters of a long operation: one line
// redrawn in place on a terminal, fitted to its width, or a log line every
// interval otherwise. It only renders; the operation counts (see
// copier.Stats).
package progress

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Counters is what a renderer shows.
type Counters struct {
	Read, Written, Skipped, Deleted, Failed, Retries, Throttles int64
	// Identical, Different, Missing and Extra are a comparison's (diff,
	// verify) counts; when any is set the line shows them instead of the
	// writes.
	Identical, Different, Missing, Extra int64
	// Total is the expected number of items to read; 0 means unknown (no
	// bar, no ETA: a spinner with the count and the rate).
	Total int64
	// Pending counts items read (in Read) whose writes have not ended: a
	// copy whose writes lag its reads (--max-wcu) has done Read-Pending
	// items, and the percentage, rate and ETA follow those.
	Pending int64
	// DeletePhase: the copy has read its source and now reads the main
	// table's keys to delete the extras (--delete-extra); Checked counts
	// them. Its length is unknown: no ETA.
	DeletePhase bool
	Checked     int64
	// Throttled names the most frequent reason DynamoDB gave for
	// throttling, short ("table write provisioned", "index write hot key
	// range", "unprocessed items"); "" when none.
	Throttled string
}

// done returns the items read and handled to the end.
func (c Counters) done() int64 {
	return max(c.Read-max(c.Pending, 0), 0)
}

// comparing reports whether c is a comparison's counters.
func (c Counters) comparing() bool {
	return c.Identical+c.Different+c.Missing+c.Extra > 0
}

// Config configures a renderer.
type Config struct {
	// TTY redraws one line on Out every 500 ms (from the first counter
	// that is not zero); otherwise Logger gets a line every Interval.
	TTY      bool
	Out      io.Writer
	Logger   *slog.Logger
	Interval time.Duration
	// Width returns the terminal's width in columns (0: unknown, 80 is
	// assumed); the line never exceeds it, so it never wraps.
	Width func() int
	// Label names the operation ("copy", "undo", "verify").
	Label string
	// Interrupted, if set, reports at Stop whether the operation was
	// interrupted: the last line then says so and never claims 100%.
	Interrupted func() bool
	Now         func() time.Time
}

// Renderer polls a source of counters until stopped.
type Renderer struct {
	cfg   Config
	src   func() Counters
	start time.Time
	stop  chan struct{}
	done  sync.WaitGroup

	mu     sync.Mutex
	shown  bool // a line is on screen (not yet ended)
	paused bool
	frame  int
}

// ttyEvery is how often the terminal line is redrawn.
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
	if cfg.Width == nil {
		cfg.Width = func() int { return 0 }
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

// Pause clears the line and draws nothing until Resume: a prompt or a
// message can use the terminal meanwhile.
func (r *Renderer) Pause() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shown {
		fmt.Fprint(r.cfg.Out, "\r\033[K")
		r.shown = false
	}
	r.paused = true
}

// Resume draws again after Pause.
func (r *Renderer) Resume() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.paused = false
	r.mu.Unlock()
}

// draw redraws the terminal line; final ends it. The line appears with the
// first counter that is not zero, so that run shows none while it waits
// for the restore.
func (r *Renderer) draw(final bool) {
	c := r.src()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.paused || (!r.shown && c == (Counters{})) {
		return
	}
	r.frame++
	line := r.line(c, r.cfg.Now().Sub(r.start), final, r.cfg.Width())
	fmt.Fprint(r.cfg.Out, "\r\033[K"+line)
	r.shown = true
	if final {
		fmt.Fprintln(r.cfg.Out)
		r.shown = false
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

// spinner is drawn while the total is unknown.
var spinner = [...]string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// barWidth is the bar's length in cells.
const barWidth = 20

// line formats the terminal line for width columns: label, percentage and
// count (or a spinner and the count), the main counters, then — as far as
// they fit — the rate, elapsed time and ETA, retries and throttles, and a
// bar. What does not fit is left out, so the line never wraps.
func (r *Renderer) line(c Counters, elapsed time.Duration, final bool, width int) string {
	if width <= 0 {
		width = 80
	}
	room := width - 1 // the last column is left free: some terminals wrap when it is written
	interrupted := final && r.cfg.Interrupted != nil && r.cfg.Interrupted()
	done := c.done()
	total := c.Total
	switch {
	case total > 0 && done >= total && final && !interrupted:
		total = done // finished: the estimate was short
	case total > 0 && done > total:
		// The estimate is exceeded: the total is not known any more
		// (never bumped a step ahead of the count: that made "99%, ETA
		// 7ms" for as long as the copy had left).
		total = 0
	}
	if c.DeletePhase {
		total = 0 // the main table's keys to check: how many is unknown
	}
	core := r.cfg.Label + " "
	switch {
	case c.DeletePhase:
		if !final {
			core += spinner[r.frame%len(spinner)] + " "
		}
		core += "extras: " + Count(c.Checked) + " main keys checked"
	case total > 0:
		core += fmt.Sprintf("%3d%% %s/%s", int(100*float64(done)/float64(total)), Count(done), Count(total))
	default:
		if !final {
			core += spinner[r.frame%len(spinner)] + " "
		}
		core += Count(c.Read) + " read"
	}
	primary, secondary := describe(c)
	line := core + " · " + primary
	var optional []string
	if interrupted {
		optional = append(optional, "interrupted")
	}
	// The rate needs a second of history: the first samples would be
	// absurd (millions per second after a few milliseconds). It counts
	// the items done (read and written), what bounds the copy.
	if elapsed >= time.Second && !c.DeletePhase {
		optional = append(optional, Count(int64(float64(done)/elapsed.Seconds()))+" items/s")
	}
	t := Duration(elapsed)
	if eta, ok := ETA(Counters{Read: done, Total: total}, elapsed); ok && !final && elapsed >= time.Second {
		t += " ETA " + Duration(eta)
	}
	optional = append(optional, t)
	if c.Pending > 0 && total > 0 && !c.DeletePhase {
		// Reads ahead of the writes (what bounds the copy).
		optional = append(optional, "read "+Count(c.Read))
	}
	if secondary != "" {
		optional = append(optional, secondary)
	}

	for _, o := range optional {
		if cols(line)+3+cols(o) > room {
			break
		}
		line += " · " + o
	}
	if total > 0 {
		filled := int(float64(barWidth) * float64(done) / float64(total))
		bar := "[" + strings.Repeat("#", filled) + strings.Repeat("-", barWidth-filled) + "] "
		if cols(line)+cols(bar) <= room {
			line = r.cfg.Label + " " + bar + strings.TrimPrefix(line, r.cfg.Label+" ")
		}
	}
	return fitWidth(line, width)
}

func cols(s string) int { return utf8.RuneCountInString(s) }

// describe formats the counters other than the items read, split into what
// the line must show and what it shows when there is room: for a copy
// written, deleted, retries and throttles always, skipped and failed when
// not zero (the final summary has them all); for a comparison identical,
// different, missing and extra.
func describe(c Counters) (primary, secondary string) {
	if c.comparing() {
		return fmt.Sprintf("identical %s different %s missing %s extra %s", Count(c.Identical), Count(c.Different), Count(c.Missing), Count(c.Extra)), ""
	}
	primary = "written " + Count(c.Written)
	if c.Failed > 0 {
		primary += " FAILED " + Count(c.Failed)
	}
	if c.Skipped > 0 {
		primary += " skipped " + Count(c.Skipped)
	}
	primary += " deleted " + Count(c.Deleted)
	secondary = "retries " + Count(c.Retries) + " throttles " + Count(c.Throttles)
	if c.Throttled != "" {
		secondary += " (" + c.Throttled + ")"
	}
	return primary, secondary
}

// Count formats n with thousands separators: 20,000.
func Count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// CountNoun formats n and a noun that takes an s in the plural: "1 item",
// "1,650 items", "0 conflicts".
func CountNoun(n int64, singular string) string {
	if n == 1 {
		return "1 " + singular
	}
	return Count(n) + " " + singular + "s"
}

// Plural picks the singular or the plural form for n: a verb or a
// pronoun that agrees with a count ("1 item is", "2 items are").
func Plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Duration formats d for people: 850ms, 4.2s, 3m05s, 2h10m.
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// ETA estimates the time left from the rate of Read and Total (callers
// pass the items done as Read).
func ETA(c Counters, elapsed time.Duration) (time.Duration, bool) {
	if c.Total <= 0 || c.Read <= 0 || c.Read >= c.Total || elapsed <= 0 {
		return 0, false
	}
	perItem := float64(elapsed) / float64(c.Read)
	return time.Duration(perItem * float64(c.Total-c.Read)), true
}

func (r *Renderer) log() {
	c := r.src()
	elapsed := r.cfg.Now().Sub(r.start)
	args := []any{"step", r.cfg.Label, "read", c.Read}
	if c.comparing() {
		args = append(args, "identical", c.Identical, "different", c.Different, "missing_in_main", c.Missing, "extra_in_main", c.Extra)
	} else {
		args = append(args, "written", c.Written, "skipped", c.Skipped, "deleted", c.Deleted, "failed", c.Failed,
			"retries", c.Retries, "throttles", c.Throttles)
		if c.Throttled != "" {
			args = append(args, "throttled", c.Throttled)
		}
	}
	args = append(args, "elapsed", elapsed.Round(time.Second).String())
	if secs := elapsed.Seconds(); secs > 0 {
		// The rate since the step started, as the summary gives it.
		args = append(args, "items_per_second", int64(math.Round(float64(c.done())/secs)))
	}
	if c.Pending > 0 {
		args = append(args, "pending_writes", c.Pending)
	}
	if c.DeletePhase {
		args = append(args, "phase", "delete-extra", "main_keys_checked", c.Checked)
	} else if eta, ok := ETA(Counters{Read: c.done(), Total: c.Total}, elapsed); ok {
		args = append(args, "eta", eta.Round(time.Second).String())
	}
	r.cfg.Logger.Info("progress", args...)
}

// fitWidth cuts line to at most width-1 columns (the last column is left
// free: some terminals wrap when it is written), so a redraw stays on one
// line.
func fitWidth(line string, width int) string {
	maxCols := width - 1
	if cols(line) <= maxCols {
		return line
	}
	runes := []rune(line)
	return string(runes[:max(maxCols-1, 0)]) + "…"
}
