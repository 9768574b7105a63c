package restore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smithytime "github.com/aws/smithy-go/time"

	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// onTheWire is the RestoreSummary.RestoreDateTime DescribeTable returns
// for a restore requested at t: the SDK sends epoch seconds with
// milliseconds, DynamoDB reports that number back, the SDK reads it.
func onTheWire(t time.Time) time.Time {
	return smithytime.ParseEpochSeconds(smithytime.FormatEpochSeconds(t))
}

// TestAdoptsOnlyTheSamePointToTheMillisecond: a recovery table is adopted
// (--if-exists adopt, a resumed run, a retried batch restore job) only
// when it was restored to the point asked for, to the precision that is
// recorded: exactly by its ddbrewind:restore-point tag, to the millisecond
// by its RestoreSummary when the first attempt stopped before tagging. A
// second's tolerance adopted, for --at T+500ms, the restore of --at T.
// The points are written as today's state files and tags write them.
func TestAdoptsOnlyTheSamePointToTheMillisecond(t *testing.T) {
	const src = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
	parse := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s) // a state file's restore_point
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		asked    string // --at, or the state file's restore_point
		restored string // the point the first attempt restored to
		tag      string // its ddbrewind:restore-point tag; "" untagged
		adopt    bool
	}{
		{"untagged, 500 ms earlier", "2026-12-01T08:30:00.5Z", "2026-12-01T08:30:00Z", "", false},
		{"untagged, 999 ms later", "2026-12-01T08:30:00Z", "2026-12-01T08:30:00.999Z", "", false},
		{"untagged, 600 ms earlier in the second before", "2026-12-01T08:30:01.5Z", "2026-12-01T08:30:00.9Z", "", false},
		{"untagged, a millisecond later", "2026-12-01T08:30:00.622Z", "2026-12-01T08:30:00.623Z", "", false},
		{"untagged, the same point", "2026-12-01T08:30:00Z", "2026-12-01T08:30:00Z", "", true},
		{"untagged, the same millisecond", "2026-12-01T08:30:00.622Z", "2026-12-01T08:30:00.622Z", "", true},
		// A resumed --ago run: its state file records nanoseconds.
		{"untagged, an --ago point to the nanosecond", "2026-12-01T08:30:00.622317904Z", "2026-12-01T08:30:00.622317904Z", "", true},
		{"untagged, 400 µs apart (the same on the wire)", "2026-12-01T08:30:00.6224Z", "2026-12-01T08:30:00.622Z", "", true},
		{"tagged, an --ago point to the nanosecond", "2026-12-01T08:30:00.622317904Z", "2026-12-01T08:30:00.622317904Z", tables.FormatTime(parse("2026-12-01T08:30:00.622317904Z")), true},
		{"tagged, 500 ms earlier", "2026-12-01T08:30:00.5Z", "2026-12-01T08:30:00Z", "2026-12-01T08:30:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := recoveryDescription("orders-rewind-x", "orders", "ACTIVE")
			d.RestoreSummary.SourceTableArn = aws.String(src)
			d.RestoreSummary.RestoreDateTime = aws.Time(onTheWire(parse(tt.restored)))
			tags := map[string]string{}
			if tt.tag != "" {
				tags = map[string]string{tables.TagSourceTable: "orders", tables.TagRestorePoint: tt.tag}
			}
			asked := parse(tt.asked)
			p := &Plan{opts: Options{Table: "orders", Point: Point{At: asked}}, sourceARN: src, recovery: "orders-rewind-x", point: asked}
			err := p.adoptable(context.Background(), &cleanupAPI{table: d, tags: tags}, &d, "hint")
			switch {
			case tt.adopt && (err != nil || p.existing == nil || !p.point.Equal(asked)):
				t.Errorf("not adopted at %s: %v", tables.FormatTime(p.point), err)
			case !tt.adopt && (err == nil || !strings.Contains(err.Error(), "was restored to ") || p.existing != nil):
				t.Errorf("got %v, want a refusal: restored to %s, not to %s", err, tt.restored, tt.asked)
			}
		})
	}
}
