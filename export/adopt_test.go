package export

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/poll"
)

// An export of the same table and time or window is adopted only when it
// went to the same bucket and prefix, as DynamoDB JSON, with new and old
// images, and is of the asked type: any other is left alone and a new
// export started (the token is ignored here, as moto does, so only the
// listing could adopt).
func TestDoesNotAdoptAnExportOfAnotherPlaceOrForm(t *testing.T) {
	full := func(o *Options) { o.At = latest.Add(-2 * time.Hour) }
	incr := func(o *Options) { o.Since, o.Until = latest.Add(-3*time.Hour), latest.Add(-time.Hour) }
	tests := []struct {
		name   string
		kind   func(*Options)
		change func(*memAPI, *types.ExportDescription)
	}{
		{"another bucket", full, func(_ *memAPI, d *types.ExportDescription) { d.S3Bucket = aws.String("other-bucket") }},
		{"another prefix", incr, func(_ *memAPI, d *types.ExportDescription) { d.S3Prefix = aws.String("rewinds/other") }},
		{"ION", full, func(_ *memAPI, d *types.ExportDescription) { d.ExportFormat = types.ExportFormatIon }},
		{"ION, incremental", incr, func(_ *memAPI, d *types.ExportDescription) { d.ExportFormat = types.ExportFormatIon }},
		{"new images only", incr, func(_ *memAPI, d *types.ExportDescription) {
			s := *d.IncrementalExportSpecification
			s.ExportViewType = types.ExportViewTypeNewImage
			d.IncrementalExportSpecification = &s
		}},
		{"an incremental export when a full one is asked (summary without type)", full, func(m *memAPI, d *types.ExportDescription) {
			m.noSummaryType = true
			d.ExportType = types.ExportTypeIncrementalExport
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemAPI(latest)
			m.ignoreToken, m.doneAfter = true, 1
			o := baseOpts()
			tt.kind(&o)
			if _, err := Run(context.Background(), m, o); err != nil {
				t.Fatal(err)
			}
			tt.change(m, m.exports[0])
			tasks, err := Run(context.Background(), m, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.exports) != 2 || len(tasks) != 1 || tasks[0].Adopted || tasks[0].ARN == aws.ToString(m.exports[0].ExportArn) {
				t.Fatalf("%d exports, tasks %+v: want a new export, the other one left alone", len(m.exports), tasks)
			}
		})
	}
}

// Of two exports of the same time, the COMPLETED one is adopted rather
// than one still in progress, whichever the listing shows first.
func TestAdoptsTheCompletedOfTwo(t *testing.T) {
	m := newMemAPI(latest)
	m.ignoreToken, m.doneAfter = true, 0
	o := baseOpts()
	o.At, o.Wait = latest.Add(-2*time.Hour), false
	if _, err := Run(context.Background(), m, o); err != nil {
		t.Fatal(err)
	}
	older := m.exports[0]
	older.ExportStatus = types.ExportStatusCompleted
	newer := *older
	newer.ExportArn = aws.String(fmt.Sprintf("%s/export/%014d-00000001", m.arn, m.created.Add(time.Minute).UnixMilli())) // requested later: listed first
	newer.ExportStatus = types.ExportStatusInProgress
	m.exports = append(m.exports, &newer)
	tasks, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].ARN != aws.ToString(older.ExportArn) || tasks[0].Status != types.ExportStatusCompleted {
		t.Fatalf("tasks %+v: want the COMPLETED %s adopted", tasks, aws.ToString(older.ExportArn))
	}
}

// With --until given, an export of the same start that ends after it is
// not part of the window, even when it is the longer, better-looking one:
// the export of exactly the window is adopted.
func TestExplicitUntilAdoptsTheExactExportNotALongerOne(t *testing.T) {
	m := newMemAPI(latest)
	m.ignoreToken, m.doneAfter = true, 1
	o := baseOpts()
	o.Since, o.Until = latest.Add(-4*time.Hour), latest.Add(-time.Hour)
	if _, err := Run(context.Background(), m, o); err != nil { // [-4h, -1h)
		t.Fatal(err)
	}
	o.Until = latest.Add(-3 * time.Hour)
	if _, err := Run(context.Background(), m, o); err != nil { // [-4h, -3h): the first does not fit
		t.Fatal(err)
	}
	if len(m.exports) != 2 {
		t.Fatalf("%d exports, want 2", len(m.exports))
	}
	tasks, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.exports) != 2 || len(tasks) != 1 || !tasks[0].Adopted || tasks[0].ARN != aws.ToString(m.exports[1].ExportArn) {
		t.Fatalf("%d exports, tasks %+v: want %s adopted and nothing started", len(m.exports), tasks, aws.ToString(m.exports[1].ExportArn))
	}
}

// Only the failures of exactly a window count in its ClientToken: a FAILED
// export of another window with the same start leaves it at retry 0, so a
// failure elsewhere never changes the token a retry must repeat.
func TestFailureOfAnotherWindowDoesNotChangeTheToken(t *testing.T) {
	m := newMemAPI(latest)
	m.failCode = "S3AccessDenied"
	o := baseOpts()
	o.Since, o.Until = latest.Add(-4*time.Hour), latest.Add(-time.Hour)
	if _, err := Run(context.Background(), m, o); err == nil {
		t.Fatal("the first export did not fail")
	}
	m.failCode = ""
	o.Until = latest.Add(-3 * time.Hour)
	if _, err := Run(context.Background(), m, o); err != nil {
		t.Fatal(err)
	}
	want := ClientToken(m.arn, types.ExportTypeIncrementalExport, time.Time{}, Window{From: o.Since, To: o.Until}, o.Bucket, o.Prefix, 0)
	if got := aws.ToString(m.requests[len(m.requests)-1].ClientToken); got != want {
		t.Errorf("token %s, want %s (retry 0: this window never failed)", got, want)
	}
}

// --timeout bounds the wait for all the exports, not each: when the first
// part took most of it, the second gets what is left.
func TestTimeoutCoversAllParts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemAPI(latest)
		m.doneAfter = 6 // polls at 0, 2, 6, 14, 30 and 60 s: done after a minute
		o := baseOpts()
		o.Since, o.Until = latest.Add(-30*time.Hour), latest.Add(-time.Hour)
		o.Poll, o.Timeout = poll.Default, 70*time.Second
		start := time.Now()
		_, err := Run(context.Background(), m, o)
		if err == nil || !strings.Contains(err.Error(), "timed out after 1m10s") || !strings.Contains(err.Error(), "part 2/2") {
			t.Fatalf("err = %v, want a timeout in part 2/2", err)
		}
		if waited := time.Since(start); waited > 90*time.Second {
			t.Errorf("waited %s for a --timeout of 70s", waited)
		}
	})
}

// With --until given, exports that an earlier attempt made of a shorter
// window are adopted and the rest starts exactly where they end, even when
// that is near a boundary of the whole window's split: the parts chain
// without a gap or an overlap.
func TestAdoptedChainThenTheRestWithoutGapOrOverlap(t *testing.T) {
	m := newMemAPI(latest)
	m.doneAfter = 1
	o := baseOpts()
	since := latest.Add(-31 * time.Hour)
	o.Since, o.Until = since, since.Add(15*time.Hour+30*time.Minute)
	if _, err := Run(context.Background(), m, o); err != nil {
		t.Fatal(err)
	}
	o.Until = since.Add(30 * time.Hour) // splits at since+15h: 30 minutes before the adopted export ends
	tasks, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 || !tasks[0].Adopted || tasks[1].Adopted {
		t.Fatalf("tasks %+v: want the first export adopted and one new", tasks)
	}
	if !tasks[1].Window.From.Equal(tasks[0].Window.To) || !tasks[1].Window.To.Equal(o.Until) {
		t.Errorf("windows %v then %v: want them consecutive, ending at %s", tasks[0].Window, tasks[1].Window, o.Until)
	}
}

// An export is adopted only for the time or window it was asked for, to
// the millisecond — the resolution times travel at (an SDK sends epoch
// seconds with milliseconds, and reading them back from a float may lose
// one): an export of --at T is not the export of --at T+500ms, and a chain
// of exports from T is not the one from T+400ms (it would leave the first
// 400 ms of the window unexported). The token is ignored here, as moto
// does, so only the listing could adopt. A time that differs from the
// export's only below the millisecond, or that came back a millisecond
// short, is the same export.
func TestAdoptsOnlyTheSameTimeToTheMillisecond(t *testing.T) {
	at := latest.Add(-2 * time.Hour)
	since, until := latest.Add(-3*time.Hour), latest.Add(-time.Hour)
	full := func(d time.Duration) func(*Options) { return func(o *Options) { o.At = at.Add(d) } }
	incr := func(d time.Duration) func(*Options) {
		return func(o *Options) { o.Since, o.Until = since.Add(d), until }
	}
	tests := []struct {
		name        string
		first, then func(*Options)
		// reported moves the times DynamoDB reports of the first export.
		reported time.Duration
		adopt    bool
	}{
		{"full export, 500 ms later", full(0), full(500 * time.Millisecond), 0, false},
		{"full export, 999 ms earlier", full(0), full(-999 * time.Millisecond), 0, false},
		{"incremental window, 400 ms later", incr(0), incr(400 * time.Millisecond), 0, false},
		{"full export, the same time", full(0), full(0), 0, true},
		{"full export, 400 µs later (the same on the wire)", full(0), full(400 * time.Microsecond), 0, true},
		{"full export, reported a millisecond short", full(622 * time.Millisecond), full(622 * time.Millisecond), -time.Millisecond, true},
		{"incremental window, reported a millisecond short", incr(622 * time.Millisecond), incr(622 * time.Millisecond), -time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemAPI(latest)
			m.ignoreToken, m.doneAfter = true, 1
			o := baseOpts()
			tt.first(&o)
			if _, err := Run(context.Background(), m, o); err != nil {
				t.Fatal(err)
			}
			first := m.exports[0]
			if first.ExportTime != nil {
				first.ExportTime = aws.Time(first.ExportTime.Add(tt.reported))
			}
			if s := first.IncrementalExportSpecification; s != nil {
				c := *s
				c.ExportFromTime = aws.Time(s.ExportFromTime.Add(tt.reported))
				first.IncrementalExportSpecification = &c
			}
			o = baseOpts()
			tt.then(&o)
			tasks, err := Run(context.Background(), m, o)
			if err != nil {
				t.Fatal(err)
			}
			adopted := len(tasks) == 1 && tasks[0].Adopted && tasks[0].ARN == aws.ToString(first.ExportArn)
			if adopted != tt.adopt || len(m.exports) != map[bool]int{true: 1, false: 2}[tt.adopt] {
				t.Fatalf("%d exports, tasks %+v; want the first adopted: %v", len(m.exports), tasks, tt.adopt)
			}
		})
	}
}
