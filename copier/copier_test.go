package copier

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

func TestMaxWCUHoldsTheRate(t *testing.T) {
	tests := []struct {
		name   string
		items  int
		maxWCU float64
		// onlyMissing writes with conditional puts, one at a time.
		onlyMissing bool
	}{
		{"100 WCU", 3000, 100, false},
		{"250 WCU", 6000, 250, false},
		{"below one batch", 500, 10, false},
		{"conditional writes", 1000, 100, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(tt.items)
				p, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Segments: 1, Writers: 4, MaxWCU: tt.maxWCU, OnlyMissing: tt.onlyMissing})
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				sum, err := p.Run(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				elapsed := time.Since(start).Seconds()
				rate := float64(sum.Counts.Written) / elapsed
				if rate > tt.maxWCU*1.05 || rate < tt.maxWCU*0.95 {
					t.Errorf("consumed %.1f WCU/s over %.1fs, want %.0f ±5%%", rate, elapsed, tt.maxWCU)
				}
				if len(f.written) != tt.items {
					t.Errorf("wrote %d items, want %d", len(f.written), tt.items)
				}
			})
		})
	}
}

func TestUnprocessedItemsAreNeverDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(2000)
		// Every call leaves up to all but one request unprocessed.
		f.unprocessed = func(call, n int) int { return (call * 7) % n }
		p, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Segments: 1, Writers: 3})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.written) != 2000 || sum.Counts.Written != 2000 {
			t.Fatalf("wrote %d distinct items, counted %d; want 2000 and 2000", len(f.written), sum.Counts.Written)
		}
		if sum.Counts.Retries == 0 || sum.Counts.Throttles == 0 {
			t.Errorf("retries %d throttles %d: unprocessed items must be counted", sum.Counts.Retries, sum.Counts.Throttles)
		}
	})
}

func TestMaxRetryTimeReportsUnwrittenKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(300)
		f.unprocessed = func(call, n int) int { return n } // a permanently throttled table
		p, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Segments: 1, Writers: 2, MaxRetryTime: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), f)
		inc, ok := err.(*IncompleteError)
		if !ok {
			t.Fatalf("err = %v, want *IncompleteError", err)
		}
		if inc.Failed != 300 || sum.Counts.Failed != 300 || sum.Counts.Written != 0 || len(sum.Unwritten) != 300 {
			t.Errorf("failed %d/%d written %d unwritten keys %d; want 300 failed, 0 written, 300 keys", inc.Failed, sum.Counts.Failed, sum.Counts.Written, len(sum.Unwritten))
		}
	})
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: 50 * time.Millisecond, Max: time.Second}
	r := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		n     int
		limit time.Duration
	}{{0, 50 * time.Millisecond}, {1, 100 * time.Millisecond}, {3, 400 * time.Millisecond}, {10, time.Second}, {60, time.Second}}
	for _, tt := range tests {
		for i := 0; i < 200; i++ {
			if d := b.Delay(tt.n, r); d < 0 || d >= tt.limit {
				t.Fatalf("Delay(%d) = %s, want in [0, %s)", tt.n, d, tt.limit)
			}
		}
	}
}

func TestPacerBacksOffAndRecovers(t *testing.T) {
	p := newPacer()
	for i := 0; i < 20; i++ {
		p.throttled()
	}
	if p.delay != maxPace {
		t.Fatalf("after many throttles delay %s, want the cap %s", p.delay, maxPace)
	}
	p.succeeded()
	if p.delay >= maxPace || p.delay < maxPace/2 {
		t.Fatalf("one success moved the delay to %s: the rate must climb back gradually", p.delay)
	}
	for i := 0; i < 1000 && p.delay > 0; i++ {
		p.succeeded()
	}
	if p.delay != 0 {
		t.Fatalf("delay %s after many successes, want 0", p.delay)
	}
}

func TestTrackerAdvancesOnlyInOrder(t *testing.T) {
	tr := newTracker(checkpointState())
	u := unit{phase: phaseCopy, idx: 0}
	tr.start(u)
	pages := make([]*page, 3)
	for i := range pages {
		pages[i] = &page{u: u, seq: i}
		pages[i].pos.Line = (i + 1) * 100
		pages[i].pending.Store(1)
	}
	tr.finished(pages[1], true)
	if got := tr.state.Units[u.key()].Line; got != 0 {
		t.Fatalf("page 1 done before page 0 moved the position to %d", got)
	}
	tr.finished(pages[0], true)
	if got := tr.state.Units[u.key()].Line; got != 200 {
		t.Fatalf("position %d after pages 0 and 1, want 200", got)
	}
	tr.finished(pages[2], false) // given up: never checkpointed
	if got := tr.state.Units[u.key()].Line; got != 200 {
		t.Fatalf("a failed page moved the position to %d", got)
	}
}

func TestDefaultSegments(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name        string
		size, items int64
		want        int
	}{
		{"empty or unknown (a fresh restore)", 0, 0, 4},
		{"small", 100 * mib, 100_000, 4},
		{"by size: 10 GiB", 10 * 1024 * mib, 5_000_000, 40},
		{"by item count: many small items", 3 * 1024 * mib, 80_000_000, 80},
		{"capped", 1 << 50, 1 << 40, 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DefaultSegments(tt.size, tt.items); got != tt.want {
				t.Errorf("DefaultSegments(%d, %d) = %d, want %d", tt.size, tt.items, got, tt.want)
			}
		})
	}
}

// TestResumeKeepsTheCheckpointsSegments: DescribeTable's size and item
// count change (DynamoDB refreshes them about every six hours, and a fresh
// restore starts at zero), so the default segment count may differ on
// resume; without --segments the checkpoint's count wins, an explicit
// different one is refused.
func TestResumeKeepsTheCheckpointsSegments(t *testing.T) {
	f := newFake(10)
	path := filepath.Join(t.TempDir(), "ckpt.json")
	first, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Segments: 7, Checkpoint: path})
	if err != nil {
		t.Fatal(err)
	}
	data, err := checkpoint.Encode(first.state)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Checkpoint: path})
	if err != nil {
		t.Fatalf("resume without --segments: %v", err)
	}
	if p.Segments() != 7 || !p.Resumed() {
		t.Errorf("resume without --segments: %d segments, resumed %v; want the checkpoint's 7, resumed", p.Segments(), p.Resumed())
	}
	var ue *usage.Error
	if _, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Segments: 5, Checkpoint: path}); !errors.As(err, &ue) {
		t.Errorf("resume with --segments 5 over a 7-segment checkpoint: %v, want a usage error", err)
	}
}

func TestWorkersNeedExplicitSegments(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"scan split without --segments", Options{WorkerCount: 2}, false},
		{"scan split with --segments", Options{WorkerCount: 2, Segments: 8}, true},
		{"one worker", Options{WorkerCount: 1}, true},
		{"keys file split", Options{WorkerCount: 2, Selection: Selection{KeysFile: "keys.jsonl"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.From, tt.o.To = "rec", "main"
			err := tt.o.check("copy", true, "--to")
			if (err == nil) != tt.ok {
				t.Errorf("check = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestCheckpointMessageIsTruthful interrupts copies (and finishes one)
// whose checkpoint can or cannot be saved: the error says "checkpoint
// saved" only when the last save succeeded, and otherwise says it could not
// be saved and why; an interrupted copy stays ErrInterrupted (exit 130)
// either way.
func TestCheckpointMessageIsTruthful(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		checkpoint string
		interrupt  bool
		saved      bool
	}{
		{"interrupted, saved", filepath.Join(dir, "ok.json"), true, true},
		{"interrupted, directory missing", filepath.Join(dir, "missing", "ckpt.json"), true, false},
		{"finished, directory missing", filepath.Join(dir, "gone", "ckpt.json"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(2000)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.interrupt {
				f.unprocessed = func(call, _ int) int {
					if call == 3 {
						cancel() // Ctrl-C while batches are in flight
					}
					return 0
				}
			}
			p, err := Prepare(ctx, f, Options{From: "rec", To: "main", Segments: 1, Writers: 2, Checkpoint: tt.checkpoint})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := p.Run(ctx, f)
			if err == nil {
				t.Fatal("Run succeeded; want an error")
			}
			msg := err.Error()
			if got := errors.Is(err, ErrInterrupted); got != tt.interrupt {
				t.Errorf("errors.Is(err, ErrInterrupted) = %v, want %v (err: %v)", got, tt.interrupt, err)
			}
			_, statErr := os.Stat(tt.checkpoint)
			switch {
			case tt.saved && (statErr != nil || !strings.Contains(msg, "checkpoint saved in "+tt.checkpoint)):
				t.Errorf("saved checkpoint: stat %v, err %q; want the file and \"checkpoint saved in %s\"", statErr, msg, tt.checkpoint)
			case !tt.saved && strings.Contains(msg, "checkpoint saved"):
				t.Errorf("err %q claims the checkpoint was saved", msg)
			case !tt.saved && (!strings.Contains(msg, "could not be saved in "+tt.checkpoint) || !strings.Contains(msg, "no such file or directory")):
				t.Errorf("err %q: want it to say the checkpoint could not be saved in %s, and why", msg, tt.checkpoint)
			}
			if !tt.interrupt && sum.Outcome != "failed" {
				t.Errorf("outcome %q, want failed", sum.Outcome)
			}
		})
	}
}
