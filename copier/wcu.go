package copier

import (
	"context"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/time/rate"

	"github.com/ddbrewind/ddbrewind/internal/itemsize"
)

// wcuLimiter caps the write capacity consumed per second (--max-wcu). It is
// charged after each call with the ConsumedCapacity DynamoDB returns, and
// starts empty so the first second cannot overshoot.
type wcuLimiter struct {
	lim *rate.Limiter
}

func newWCULimiter(maxWCU float64) *wcuLimiter {
	if maxWCU <= 0 {
		return nil
	}
	burst := int(math.Max(1, math.Ceil(maxWCU)))
	lim := rate.NewLimiter(rate.Limit(maxWCU), burst)
	lim.AllowN(time.Now(), burst) // start empty
	return &wcuLimiter{lim: lim}
}

// charge waits until the consumed units fit the cap.
func (w *wcuLimiter) charge(ctx context.Context, units float64) error {
	if w == nil || units <= 0 {
		return nil
	}
	n := int(math.Ceil(units))
	for n > 0 {
		step := min(n, w.lim.Burst())
		if err := w.lim.WaitN(ctx, step); err != nil {
			return err
		}
		n -= step
	}
	return nil
}

// consumed sums the capacity units of a response.
func consumed(cc []types.ConsumedCapacity) float64 {
	var total float64
	for _, c := range cc {
		if c.CapacityUnits != nil {
			total += *c.CapacityUnits
		} else if c.WriteCapacityUnits != nil {
			total += *c.WriteCapacityUnits
		}
	}
	return total
}

// estimateWCU estimates the write units of items when DynamoDB returns no
// ConsumedCapacity: one unit per started KiB of each item.
func estimateWCU(items []map[string]types.AttributeValue) float64 {
	var total int64
	for _, it := range items {
		total += itemsize.WriteUnits(itemsize.Item(it))
	}
	return float64(total)
}

// condWriteWCU is what DynamoDB charges a conditional write when its answer
// says nothing (a failed condition is an error, without ConsumedCapacity):
// one unit per started KiB of the larger of the item written (nil for a
// delete) and the item stored (met: nil when unknown), at least one.
func condWriteWCU(written, met map[string]types.AttributeValue) float64 {
	return float64(itemsize.WriteUnits(max(itemsize.Item(written), itemsize.Item(met))))
}
