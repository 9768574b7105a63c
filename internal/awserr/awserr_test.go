package awserr

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
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
