package copier

import (
	"context"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/time/rate"
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
	var total float64
	for _, it := range items {
		total += math.Max(1, math.Ceil(float64(itemSize(it))/1024))
	}
	return total
}

// itemSize approximates DynamoDB's item size: attribute names plus values.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		return len(t.Value)
	case *types.AttributeValueMemberN:
		return len(t.Value)/2 + 1
	case *types.AttributeValueMemberB:
		return len(t.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range t.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range t.Value {
			n += len(s)/2 + 1
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range t.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range t.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range t.Value {
			n += 1 + len(k) + valueSize(e)
		}
		return n
	}
	return 0
}
