package restore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// TestAdoptablePointInTime: an existing recovery table is taken over (a
// retried run or --if-exists adopt) only when it is a restore of this
// table, not tagged as another table's, not from a backup, to the same
// --at (any point for --latest and --ago, which move between attempts).
func TestAdoptablePointInTime(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const src = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
	tests := []struct {
		name  string
		point Point
		from  string // RestoreSummary.SourceTableArn; "-" for no RestoreSummary
		rsAt  time.Time
		tags  map[string]string
		want  string // "" = adopted
	}{
		{name: "untagged, its summary", point: Point{At: at}, from: src, rsAt: at},
		{name: "tagged", point: Point{At: at}, from: src, rsAt: at.Add(time.Hour), tags: map[string]string{tables.TagSourceTable: "orders", tables.TagRestorePoint: "2026-12-01T00:00:00Z"}},
		{name: "--latest takes its point", point: Point{Latest: true}, from: src, rsAt: at},
		// A resumed --ago run records nanoseconds; the summary milliseconds.
		{name: "untagged, its summary to the millisecond", point: Point{At: at.Add(123456789)}, from: src, rsAt: at.Add(123 * time.Millisecond)},
		{name: "not a restore", point: Point{At: at}, from: "-", want: "was not created by a restore"},
		{name: "a restore of another table", point: Point{At: at}, from: "arn:aws:dynamodb:us-east-1:123456789012:table/payments", rsAt: at, want: "is a restore of"},
		{name: "tagged as another table's", point: Point{At: at}, from: src, rsAt: at, tags: map[string]string{tables.TagSourceTable: "payments"}, want: "tagged as a recovery table of payments"},
		{name: "from a backup", point: Point{At: at}, from: src, rsAt: at, tags: map[string]string{tables.TagBackupARN: backupA}, want: "restored from backup"},
		{name: "another point", point: Point{At: at}, from: src, rsAt: at.Add(time.Hour), want: "was restored to 2026-12-01T01:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := recoveryDescription("orders-rewind-x", "orders", types.TableStatusActive)
			d.RestoreSummary.RestoreDateTime = aws.Time(tt.rsAt)
			if tt.from == "-" {
				d.RestoreSummary = nil
			} else {
				d.RestoreSummary.SourceTableArn = aws.String(tt.from)
			}
			api := &cleanupAPI{table: d, tags: tt.tags}
			p := &Plan{opts: Options{Table: "orders", Point: tt.point}, sourceARN: src, recovery: "orders-rewind-x", point: at.Add(time.Minute)}
			if !tt.point.At.IsZero() {
				p.point = tt.point.At
			}
			err := p.adoptable(context.Background(), api, &d, "hint")
			want := at
			if !tt.point.At.IsZero() {
				want = tt.point.At
			}
			switch {
			case tt.want == "" && (err != nil || p.existing == nil || !p.point.Equal(want)):
				t.Errorf("not adopted at %s: %v", p.point, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || p.existing != nil):
				t.Errorf("got %v, want a refusal containing %q", err, tt.want)
			}
		})
	}
}
