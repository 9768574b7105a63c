package progress

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name    string
		c       Counters
		elapsed time.Duration
		want    []string
		notWant []string
	}{
		{"rate and eta", Counters{Read: 500, Written: 400, Total: 1000}, 10 * time.Second, []string{"read 500", "written 400", "40 items/s", "ETA 10s"}, []string{"FAILED"}},
		{"no total, no eta", Counters{Read: 5, Written: 5}, time.Second, []string{"5 items/s"}, []string{"ETA"}},
		{"failures shown", Counters{Read: 5, Failed: 2}, time.Second, []string{"FAILED 2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Line(tt.c, tt.elapsed)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Line = %q, lacks %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("Line = %q, has %q", got, w)
				}
			}
		})
	}
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
