package copier

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestCondWriteWCU: a conditional write whose answer carries no consumed
// capacity (a failed condition) is charged as DynamoDB charges it: by the
// larger of the item written and the item it met, one unit a started KiB,
// not one unit whatever their size.
func TestCondWriteWCU(t *testing.T) {
	item := func(kib float64) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"},
			"v": &types.AttributeValueMemberS{Value: strings.Repeat("x", int(kib*1024)-6)}}
	}
	tests := []struct {
		name         string
		written, met map[string]types.AttributeValue
		want         float64
	}{
		{"small put, nothing met", item(0.5), nil, 1},
		{"3.5 KiB put", item(3.5), nil, 4},
		{"small put met a 2.2 KiB item", item(0.5), item(2.2), 3},
		{"delete met a 5 KiB item", nil, item(5), 5},
		{"delete, nothing known", nil, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := condWriteWCU(tt.written, tt.met); got != tt.want {
				t.Errorf("condWriteWCU = %v, want %v", got, tt.want)
			}
		})
	}
}
