package awserr

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestParseThrottleReasons: either spelling of the member is read, a
// reason without its name is dropped (it names no cause to count), and a
// body without reasons, or not JSON, gives none.
func TestParseThrottleReasons(t *testing.T) {
	const arn = "arn:aws:dynamodb:us-east-1:123456789012:table/Music/index/ByAlbum"
	tests := []struct {
		name, body string
		want       []ThrottleReason
	}{
		{"upper", `{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"m","ThrottlingReasons":[{"reason":"IndexWriteProvisionedThroughputExceeded","resource":"` + arn + `"}]}`,
			[]ThrottleReason{{"IndexWriteProvisionedThroughputExceeded", arn}}},
		{"lower", `{"throttlingReasons":[{"reason":"TableReadKeyRangeThroughputExceeded","resource":"r"}]}`,
			[]ThrottleReason{{"TableReadKeyRangeThroughputExceeded", "r"}}},
		{"a reason without its name dropped", `{"ThrottlingReasons":[{"resource":"r"},{"reason":"","resource":"r"},{"reason":"TableWriteAccountLimitExceeded"}]}`,
			[]ThrottleReason{{"TableWriteAccountLimitExceeded", ""}}},
		{"none", `{"__type":"ThrottlingException","message":"m"}`, nil},
		{"null", `{"ThrottlingReasons":null}`, nil},
		{"not a list", `{"ThrottlingReasons":"x"}`, nil},
		{"not JSON", `<html>`, nil},
	}
	for _, tt := range tests {
		if got := ParseThrottleReasons([]byte(tt.body)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestThrottleReasonsTyped: the reasons of the SDK's typed exceptions are
// read without the raw body (a client without CaptureThrottleReasons),
// wrapped or not, and an unnamed reason is dropped.
func TestThrottleReasonsTyped(t *testing.T) {
	reasons := []types.ThrottlingReason{{Reason: aws.String("TableWriteMaxOnDemandThroughputExceeded"), Resource: aws.String("arn:t")}, {Resource: aws.String("arn:u")}}
	want := []ThrottleReason{{"TableWriteMaxOnDemandThroughputExceeded", "arn:t"}}
	for _, err := range []error{
		&types.ProvisionedThroughputExceededException{ThrottlingReasons: reasons},
		&types.RequestLimitExceeded{ThrottlingReasons: reasons},
		fmt.Errorf("write batch: %w", &types.ThrottlingException{ThrottlingReasons: reasons}),
	} {
		if got := ThrottleReasons(err); !reflect.DeepEqual(got, want) {
			t.Errorf("%T: got %v, want %v", err, got, want)
		}
	}
	if got := ThrottleReasons(&types.ThrottlingException{}); got != nil {
		t.Errorf("no reasons: got %v", got)
	}
}
