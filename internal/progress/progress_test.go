package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		c    Counters
		want string
	}{
		{"skipped and failed hidden at zero", Counters{Read: 500, Written: 400}, "written 400 deleted 0 retries 0 throttles 0"},
		{"every counter", Counters{Written: 1, Skipped: 2, Deleted: 3, Retries: 4, Throttles: 5}, "written 1 skipped 2 deleted 3 retries 4 throttles 5"},
		{"failures shown", Counters{Read: 5, Failed: 2}, "written 0 deleted 0 retries 0 throttles 0 FAILED 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Describe(tt.c); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
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
		quiet   bool       // nothing drawn before Stop
	}{
		{
			name:  "stopped half way: percentage, count of total, rate, counters",
			steps: []Counters{{Read: 250, Written: 200, Total: 1000}, {Read: 500, Written: 400, Retries: 3, Total: 1000}},
			want:  []string{"copy: written 400 deleted 0 retries 3 throttles 0", "50%", "500/1000", "read/s"},
		},
		{
			name:  "complete: 100%",
			steps: []Counters{{Read: 500, Total: 1000}, {Read: 1000, Written: 1000, Total: 1000}},
			want:  []string{"100%", "1000/1000", "written 1000"},
		},
		{
			name:    "unknown total: a count and a rate, no percentage",
			steps:   []Counters{{Read: 100, Written: 100}, {Read: 300, Written: 300}},
			want:    []string{"copy: written 300", "300", "read/s"},
			notWant: []string{"%"},
		},
		{
			name:   "short estimate: the bar stays ahead until the end",
			steps:  []Counters{{Read: 50, Total: 100}, {Read: 150, Written: 150, Total: 100}, {Read: 160, Written: 160, Total: 100}},
			want:   []string{"100%", "160/160"},
			during: []string{"150/151"},
			never:  []string{"100%"},
		},
		{
			name:  "total known before anything is read: the spinner becomes a bar",
			steps: []Counters{{}, {}, {Read: 400, Written: 400, Total: 800}},
			want:  []string{"50%", "400/800"},
		},
		{
			name:  "nothing yet: no bar until a counter moves",
			steps: []Counters{{}, {}, {Read: 5, Written: 5}},
			want:  []string{"(5/-"},
			never: []string{"read/"},
		},
		{
			name:    "total known after reading began: the spinner stays",
			steps:   []Counters{{}, {Read: 10}, {Read: 400, Written: 400, Total: 800}},
			want:    []string{"(400/-"},
			notWant: []string{"%"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out bytes.Buffer
				// Start draws the first step, each tick the next, Stop the last.
				r := Start(Config{TTY: true, Out: &out, Label: "copy"}, script(tt.steps...))
				time.Sleep(time.Duration(len(tt.steps)-2)*ttyEvery + ttyEvery/2)
				before := strings.ReplaceAll(out.String(), "\r", "\n")
				r.Stop()
				got := out.String()
				if tt.quiet && before != "" {
					t.Errorf("drew %q before any counter moved", before)
				}
				if !strings.HasSuffix(got, "\n") {
					t.Errorf("Stop left the line open: %q", got)
				}
				// Each drawn state follows a carriage return.
				var last string
				for _, s := range strings.Split(got, "\r") {
					if strings.TrimSpace(s) != "" {
						last = s
					}
				}
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
			return Counters{Read: n, Written: n}
		})
		time.Sleep(95 * time.Second)
		r.Stop()
		lines := strings.Count(buf.String(), "\n")
		if lines != 3 {
			t.Fatalf("%d progress lines in 95 s at a 30 s interval, want 3:\n%s", lines, buf.String())
		}
		if !strings.Contains(buf.String(), `"step":"copy"`) {
			t.Errorf("progress lines lack the step: %s", buf.String())
		}
	})
}
