package copier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// throttled is a throttling error that never ends.
var throttled = &types.ProvisionedThroughputExceededException{Message: aws.String("throttled")}

// TestGiveUpReportsExactlyTheUnwrittenKeys: when a per-item write loop
// (--only-missing, --if-main) gives up after --max-retry-time, the items
// already written and the ones skipped are not reported as unwritten; the
// rest of the batch is.
func TestGiveUpReportsExactlyTheUnwrittenKeys(t *testing.T) {
	key := func(i int) string { return fmt.Sprintf("k%06d", i) }
	tests := []struct {
		name        string
		opts        Options
		present     func(pk string) bool
		wantWritten int64
		wantSkipped int64
		wantFailed  []string
	}{
		{
			name: "only-missing",
			opts: Options{OnlyMissing: true},
			// The first 5 keys exist in main: skipped. Of the 20 others, 3
			// are written, then the table throttles for good.
			present:     func(pk string) bool { return pk < key(5) },
			wantWritten: 3, wantSkipped: 5,
			wantFailed: keyRange(8, 25),
		},
		{
			name:        "if-main",
			opts:        Options{IfMain: "attribute_exists(pk)"},
			wantWritten: 3,
			wantFailed:  keyRange(3, 25),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(25)
				f.present = tt.present
				f.putErr = func(n int) error {
					if n > 3 {
						return throttled
					}
					return nil
				}
				o := tt.opts
				o.From, o.To, o.Segments, o.Writers, o.MaxRetryTime = "rec", "main", 1, 1, 5*time.Second
				p, err := Prepare(context.Background(), f, o)
				if err != nil {
					t.Fatal(err)
				}
				sum, err := p.Run(context.Background(), f)
				var inc *IncompleteError
				if !errors.As(err, &inc) {
					t.Fatalf("Run: %v, want *IncompleteError", err)
				}
				c := sum.Counts
				if c.Written != tt.wantWritten || c.Skipped != tt.wantSkipped || c.Failed != int64(len(tt.wantFailed)) {
					t.Errorf("written %d skipped %d failed %d, want %d %d %d", c.Written, c.Skipped, c.Failed, tt.wantWritten, tt.wantSkipped, len(tt.wantFailed))
				}
				var want []string
				for _, k := range tt.wantFailed {
					want = append(want, `{"pk":{"S":"`+k+`"}}`)
				}
				got := slices.Sorted(slices.Values(sum.Unwritten))
				if !slices.Equal(got, want) {
					t.Errorf("unwritten keys\n got %v\nwant %v", got, want)
				}
			})
		})
	}
}

func keyRange(from, to int) []string {
	var ks []string
	for i := from; i < to; i++ {
		ks = append(ks, fmt.Sprintf("k%06d", i))
	}
	return ks
}

// TestMaxRetryTimeBoundsUnprocessedKeys: BatchGetItem answering every key
// as unprocessed, call after call, is given up after --max-retry-time (and
// the batch reported unwritten), not retried forever.
func TestMaxRetryTimeBoundsUnprocessedKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(50)
		f.getUnprocessed = true
		p, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Segments: 1, Writers: 1, OnlyMissing: true, MaxRetryTime: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		// Without the bound the copy would retry until this deadline.
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		start := time.Now()
		sum, err := p.Run(ctx, f)
		var inc *IncompleteError
		if !errors.As(err, &inc) || ctx.Err() != nil {
			t.Fatalf("Run: %v (context %v), want *IncompleteError before the deadline", err, ctx.Err())
		}
		if took := time.Since(start); took > time.Minute {
			t.Errorf("gave up after %s; --max-retry-time is 5s (plus one backoff of at most 20s per batch)", took)
		}
		if sum.Counts.Failed != 50 || sum.Counts.Written != 0 {
			t.Errorf("failed %d written %d, want 50 and 0", sum.Counts.Failed, sum.Counts.Written)
		}
	})
}
