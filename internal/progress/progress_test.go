package progress

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		c    Counters
		want string
	}{
		{"skipped and failed hidden at zero", Counters{Read: 500, Written: 400}, "written 400 deleted 0 retries 0 throttles 0"},
		{"every counter", Counters{Written: 1, Skipped: 2, Deleted: 3, Retries: 4, Throttles: 5}, "written 1 skipped 2 deleted 3 retries 4 throttles 5"},
		{"failures shown", Counters{Read: 5, Failed: 2}, "written 0 FAILED 2 deleted 0 retries 0 throttles 0"},
		{"the throttles' main reason", Counters{Written: 9, Retries: 4, Throttles: 4, Throttled: "table write hot key range"}, "written 9 deleted 0 retries 4 throttles 4 (table write hot key range)"},
		{"a comparison", Counters{Read: 5, Identical: 2000, Extra: 1}, "identical 2,000 different 0 missing 0 extra 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary, secondary := describe(tt.c)
			got := strings.TrimSpace(primary + " " + secondary)
			if got != tt.want {
				t.Errorf("describe = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestETA(t *testing.T) {
	tests := []struct {
		name    string
		c       Counters
		elapsed time.Duration
		want    time.Duration
		ok      bool
	}{
		{"half done", Counters{Read: 500, Total: 1000}, 10 * time.Second, 10 * time.Second, true},
		{"no total", Counters{Read: 500}, 10 * time.Second, 0, false},
		{"estimate exceeded", Counters{Read: 1500, Total: 1000}, 10 * time.Second, 0, false},
		{"nothing read yet", Counters{Total: 1000}, 10 * time.Second, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ETA(tt.c, tt.elapsed)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ETA = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

// script returns a counters source that walks through steps, one per
// call, and stays on the last.
func script(steps ...Counters) func() Counters {
	var mu sync.Mutex
	i := 0
	return func() Counters {
		mu.Lock()
		defer mu.Unlock()
		c := steps[min(i, len(steps)-1)]
		i++
		return c
	}
}

func TestTerminalBar(t *testing.T) {
	tests := []struct {
		name    string
		steps   []Counters // at Start, one per tick, and the last at Stop
		want    []string   // in the last drawn state
		notWant []string   // in the last drawn state
		during  []string   // in some state drawn before Stop
		never   []string   // in no state drawn before Stop
	}{
		{
			name:  "stopped half way: percentage, count of total, rate, counters",
			steps: []Counters{{Read: 250, Written: 200, Total: 1000}, {Read: 500, Written: 400, Retries: 3, Total: 1000}},
			want:  []string{"copy [##########----------]", "written 400 deleted 0", "retries 3 throttles 0", " 50%", "500/1,000"},
		},
		{
			name:  "complete: 100%",
			steps: []Counters{{Read: 500, Total: 1000}, {Read: 1000, Written: 1000, Total: 1000}},
			want:  []string{"100%", "1,000/1,000", "written 1,000"},
		},
		{
			name:    "unknown total: a count and a rate, no percentage",
			steps:   []Counters{{Read: 100, Written: 100}, {Read: 300, Written: 300}},
			want:    []string{"copy 300 read", "written 300"},
			notWant: []string{"%"},
		},
		{
			// The total is never bumped ahead of the count (that made "99%
			// 2,000/2,001 ETA 7ms" for as long as the copy had left): past
			// the estimate the total is unknown, until the end.
			name:   "short estimate: no percentage past it, 100% at the end",
			steps:  []Counters{{Read: 50, Total: 100}, {Read: 150, Written: 150, Total: 100}, {Read: 160, Written: 160, Total: 100}},
			want:   []string{"100%", "160/160"},
			during: []string{" 150 read"},
			never:  []string{"100%", "151", "99%", "ETA"},
		},
		{
			name:  "nothing yet: no line until a counter moves",
			steps: []Counters{{}, {}, {Read: 5, Written: 5}},
			want:  []string{"5 read"},
		},
		{
			name:  "a comparison shows its counts",
			steps: []Counters{{Read: 10, Identical: 8, Different: 1, Missing: 1, Total: 20}, {Read: 20, Identical: 17, Different: 1, Missing: 1, Extra: 2, Total: 20}},
			want:  []string{"verify", "identical 17 different 1 missing 1 extra 2", "100%"},
		},
		{
			name:  "no absurd first rate: the rate waits for a second of history",
			steps: []Counters{{Read: 40000}, {Read: 40000}},
			never: []string{"/s"},
		},
		{
			name:   "then the rate and the ETA",
			steps:  []Counters{{Read: 100, Total: 1000}, {Read: 200, Total: 1000}, {Read: 300, Total: 1000}, {Read: 400, Total: 1000}},
			during: []string{"ETA", "/s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out bytes.Buffer
				label := "copy"
				if strings.Contains(tt.name, "comparison") {
					label = "verify"
				}
				// Start draws the first step, each tick the next, Stop the last.
				r := Start(Config{TTY: true, Out: &out, Label: label, Width: func() int { return 130 }}, script(tt.steps...))
				time.Sleep(time.Duration(len(tt.steps)-2)*ttyEvery + ttyEvery/2)
				before := strings.ReplaceAll(out.String(), "\r", "\n")
				r.Stop()
				got := out.String()
				if !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
					t.Errorf("want one line, ended by Stop: %q", got)
				}
				last := lastState(got)
				for _, w := range tt.want {
					if !strings.Contains(last, w) {
						t.Errorf("last state %q lacks %q", last, w)
					}
				}
				for _, w := range tt.notWant {
					if strings.Contains(last, w) {
						t.Errorf("last state %q has %q", last, w)
					}
				}
				for _, w := range tt.during {
					if !strings.Contains(before, w) {
						t.Errorf("no state before Stop has %q:\n%s", w, before)
					}
				}
				for _, w := range tt.never {
					if strings.Contains(before, w) {
						t.Errorf("a state before Stop has %q:\n%s", w, before)
					}
				}
			})
		})
	}
}

// TestLineFollowsTheWorkThatBoundsTheCopy: under --max-wcu the reads run
// ahead of the writes; the percentage, the rate (labelled) and the ETA
// follow the items written, not read (issue 22 row 2: "85% 1,700/2,000 ·
// written 850 · 178/s · ETA 1.7s" with ~45 s left). After an interrupt the
// last line never says 100%; the --delete-extra phase, of unknown length,
// has no ETA.
func TestLineFollowsTheWorkThatBoundsTheCopy(t *testing.T) {
	tests := []struct {
		name        string
		c           Counters
		elapsed     time.Duration
		final       bool
		interrupted bool
		want, not   []string
	}{
		{"writes lag the reads", Counters{Read: 1700, Written: 850, Pending: 850, Total: 2000}, 10 * time.Second, false, false,
			[]string{" 42% 850/2,000", "read 1,700", "85 items/s", "ETA 13.5s"}, []string{"85%", "ETA 1.7s"}},
		{"estimate exceeded", Counters{Read: 2000, Written: 2000, Total: 1999}, 10 * time.Second, false, false,
			[]string{"2,000 read"}, []string{"%", "ETA", "2,001"}},
		{"finished past the estimate", Counters{Read: 2000, Written: 2000, Total: 1999}, 10 * time.Second, true, false,
			[]string{"100% 2,000/2,000"}, []string{"ETA"}},
		{"interrupted past the estimate", Counters{Read: 2000, Written: 2000, Total: 1999}, 10 * time.Second, true, true,
			[]string{"interrupted"}, []string{"100%"}},
		{"interrupted with reads ahead", Counters{Read: 2000, Written: 900, Pending: 1100, Total: 2000}, 10 * time.Second, true, true,
			[]string{" 45% 900/2,000", "interrupted"}, []string{"100%"}},
		{"throttled, with the reason", Counters{Read: 1000, Written: 900, Retries: 40, Throttles: 40, Total: 2000, Throttled: "index write provisioned"}, 10 * time.Second, false, false,
			[]string{"retries 40 throttles 40 (index write provisioned)"}, nil},
		{"delete-extra phase", Counters{Read: 2000, Written: 2000, Deleted: 3, Total: 2000, DeletePhase: true, Checked: 1234}, 10 * time.Second, false, false,
			[]string{"extras: 1,234 main keys checked", "deleted 3"}, []string{"ETA", "100%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Renderer{cfg: Config{Label: "copy", Interrupted: func() bool { return tt.interrupted }}}
			got := r.line(tt.c, tt.elapsed, tt.final, 130)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%q lacks %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("%q has %q", got, n)
				}
			}
		})
	}
}

// lastState returns the last state drawn: what follows the last carriage
// return, without the erase sequence and the final newline.
func lastState(out string) string {
	var last string
	for _, s := range strings.Split(out, "\r") {
		s = strings.TrimSuffix(strings.TrimPrefix(s, "\033[K"), "\n")
		if strings.TrimSpace(s) != "" {
			last = s
		}
	}
	return last
}

// TestTerminalLineFitsTheWidth: at 80 and 130 columns every state drawn is
// one line shorter than the terminal (it never wraps, so each redraw stays
// in place), and a line that does not fit is cut, not wrapped.
func TestTerminalLineFitsTheWidth(t *testing.T) {
	busy := Counters{Read: 12_345_678, Written: 12_345_000, Skipped: 77, Deleted: 9_999, Failed: 3, Retries: 123_456, Throttles: 65_432, Total: 20_000_000}
	for _, width := range []int{80, 130} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out bytes.Buffer
				r := Start(Config{TTY: true, Out: &out, Label: "copy", Width: func() int { return width }}, script(busy, busy, busy, busy))
				time.Sleep(3*ttyEvery + ttyEvery/2)
				r.Stop()
				states := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\r")
				drawn := 0
				for _, s := range states {
					s = strings.TrimPrefix(s, "\033[K")
					if s == "" {
						continue
					}
					drawn++
					if n := utf8.RuneCountInString(s); n > width-1 {
						t.Errorf("a state of %d columns on a %d-column terminal: %q", n, width, s)
					}
					if strings.Contains(s, "\n") {
						t.Errorf("a redraw has a newline: %q", s)
					}
				}
				if drawn < 4 {
					t.Errorf("%d states drawn, want at least 4", drawn)
				}
				if last := lastState(out.String()); width == 80 && (!strings.Contains(last, "FAILED 3") || strings.Contains(last, "throttles")) {
					t.Errorf("at 80 columns the line keeps the main counters and leaves out the rest: %q", last)
				}
				if width == 130 && !strings.Contains(lastState(out.String()), "/s · ") {
					t.Errorf("130 columns hold the counters: %q", lastState(out.String()))
				}
			})
		})
	}
}

// TestPauseKeepsThePromptVisible: while paused (a confirmation prompt is
// on screen) nothing is drawn, and the line is cleared first.
func TestPauseKeepsThePromptVisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		r := Start(Config{TTY: true, Out: &out, Label: "copy"}, func() Counters { return Counters{Read: 1, Total: 10} })
		r.Pause()
		cleared := out.String()
		if !strings.HasSuffix(cleared, "\r\033[K") {
			t.Errorf("Pause did not clear the line: %q", cleared)
		}
		time.Sleep(5 * ttyEvery)
		if out.String() != cleared {
			t.Errorf("drew while paused: %q", strings.TrimPrefix(out.String(), cleared))
		}
		r.Resume()
		time.Sleep(ttyEvery + ttyEvery/2)
		r.Stop()
		if !strings.Contains(strings.TrimPrefix(out.String(), cleared), "1/10") {
			t.Errorf("no redraw after Resume: %q", out.String())
		}
	})
}

func TestCountAndDuration(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 20000: "20,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{850 * time.Millisecond: "850ms", 4200 * time.Millisecond: "4.2s", 185 * time.Second: "3m05s", 130 * time.Minute: "2h10m"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestTerminalNothingToShow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		r := Start(Config{TTY: true, Out: &out, Label: "copy"}, func() Counters { return Counters{} })
		time.Sleep(3 * ttyEvery)
		r.Stop()
		if out.Len() != 0 {
			t.Errorf("a renderer with nothing to show wrote %q", out.String())
		}
	})
}

func TestLogsEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		n := int64(0)
		r := Start(Config{Logger: log, Interval: 30 * time.Second, Label: "copy"}, func() Counters {
			n += 100
			return Counters{Read: n, Written: n, Throttles: 2, Throttled: "table write provisioned"}
		})
		time.Sleep(95 * time.Second)
		r.Stop()
		lines := strings.Count(buf.String(), "\n")
		if lines != 3 {
			t.Fatalf("%d progress lines in 95 s at a 30 s interval, want 3:\n%s", lines, buf.String())
		}
		if !strings.Contains(buf.String(), `"throttles":2,"throttled":"table write provisioned"`) {
			t.Errorf("progress lines lack the throttles' reason: %s", buf.String())
		}
		// The rate since the start: 100 items in the first 30 s.
		if first, _, _ := strings.Cut(buf.String(), "\n"); !strings.Contains(first, `"items_per_second":3`) {
			t.Errorf("the first progress line lacks the rate: %s", first)
		}
		if !strings.Contains(buf.String(), `"step":"copy"`) {
			t.Errorf("progress lines lack the step: %s", buf.String())
		}
	})
}
