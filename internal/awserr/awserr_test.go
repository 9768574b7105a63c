package awserr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

func TestCode(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		want     string
		notFound bool
	}{
		{"nil", nil, "", false},
		{"plain error", errors.New("boom"), "", false},
		{"typed SDK error, wrapped", fmt.Errorf("describe t: %w", &types.ResourceNotFoundException{}), "ResourceNotFoundException", true},
		{"generic API error", &smithy.GenericAPIError{Code: "AccessDeniedException"}, "AccessDeniedException", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.want {
				t.Errorf("Code = %q, want %q", got, tt.want)
			}
			if got := IsNotFound(tt.err); got != tt.notFound {
				t.Errorf("IsNotFound = %v, want %v", got, tt.notFound)
			}
		})
	}
}

func TestIsS3NotFound(t *testing.T) {
	for code, want := range map[string]bool{"NoSuchKey": true, "NotFound": true, "404": true, "AccessDenied": false, "": false} {
		if got := IsS3NotFound(fmt.Errorf("get: %w", &smithy.GenericAPIError{Code: code})); got != want {
			t.Errorf("IsS3NotFound(%q) = %v, want %v", code, got, want)
		}
	}
}

// TestMessage: an API error is quoted as "Code: message", without the
// SDK's operation and request wrapping (issue 22 row 13).
func TestMessage(t *testing.T) {
	api := &smithy.GenericAPIError{Code: "ValidationException", Message: "Query condition missed key schema element: pk"}
	wrapped := fmt.Errorf("operation error DynamoDB: Query, https response error StatusCode: 400, RequestID: X, api error %w", api)
	if got := Message(wrapped); got != "ValidationException: Query condition missed key schema element: pk" {
		t.Errorf("Message = %q", got)
	}
	if got := Message(errors.New("plain")); got != "plain" {
		t.Errorf("Message of a plain error = %q", got)
	}
}

// TestReasonParts: the 16 reason names DynamoDB documents
// (ResourceType+OperationType+LimitType) split into their parts; other
// names do not.
func TestReasonParts(t *testing.T) {
	tests := []struct {
		reason, resource, op, limit string
		ok                          bool
	}{
		{"TableWriteProvisionedThroughputExceeded", "table", "write", "provisioned", true},
		{"IndexWriteProvisionedThroughputExceeded", "index", "write", "provisioned", true},
		{"TableReadKeyRangeThroughputExceeded", "table", "read", "hot key range", true},
		{"TableWriteMaxOnDemandThroughputExceeded", "table", "write", "on-demand maximum", true},
		{"IndexReadAccountLimitExceeded", "index", "read", "account limit", true},
		{"TableWriteAccountLimitExceeded", "table", "write", "account limit", true},
		{"ProvisionedThroughputExceededException", "", "", "", false},
		{"TableWrite", "", "", "", false},
		{"", "", "", "", false},
	}
	for _, tt := range tests {
		resource, op, limit, ok := ReasonParts(tt.reason)
		if resource != tt.resource || op != tt.op || limit != tt.limit || ok != tt.ok {
			t.Errorf("ReasonParts(%q) = %q %q %q %v", tt.reason, resource, op, limit, ok)
		}
	}
	if !IsHotKeyRange("IndexWriteKeyRangeThroughputExceeded") || IsHotKeyRange("TableWriteProvisionedThroughputExceeded") {
		t.Error("IsHotKeyRange")
	}
}

func TestResourceName(t *testing.T) {
	for arn, want := range map[string][2]string{
		"arn:aws:dynamodb:us-east-1:123456789012:table/Music":                        {"Music", ""},
		"arn:aws:dynamodb:us-east-1:123456789012:table/Music/index/AlbumTitle-index": {"Music", "AlbumTitle-index"},
		"Music": {"Music", ""},
	} {
		if table, index := ResourceName(arn); table != want[0] || index != want[1] {
			t.Errorf("ResourceName(%q) = %q, %q", arn, table, index)
		}
	}
}

// TestCaptureThrottleReasonsTwice: given on the client and again on a
// call, the middleware is added once (a second Add would fail the call).
func TestCaptureThrottleReasonsTwice(t *testing.T) {
	stack := middleware.NewStack("op", func() interface{} { return nil })
	for i := 0; i < 2; i++ {
		if err := CaptureThrottleReasons(stack); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if n := len(stack.Deserialize.List()); n != 2 {
		t.Errorf("%d deserialize middlewares, want 2", n)
	}
}
