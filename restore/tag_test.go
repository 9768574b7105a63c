package restore

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// taggingAPI fails TagResource with errs in turn, then accepts it; the
// table is CREATING.
type taggingAPI struct {
	API
	errs  []error
	calls int
}

// DescribeTable sees the table being created.
func (f *taggingAPI) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: in.TableName, TableStatus: types.TableStatusCreating}}, nil
}

func (f *taggingAPI) TagResource(context.Context, *dynamodb.TagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error) {
	f.calls++
	if f.calls <= len(f.errs) {
		return nil, f.errs[f.calls-1]
	}
	return &dynamodb.TagResourceOutput{}, nil
}

// TestTagWhenReady: the tags are applied as soon as the new table accepts
// them, retrying while it is being created (ResourceInUseException,
// ResourceNotFoundException, LimitExceededException); any other error
// (access denied) is returned at once.
func TestTagWhenReady(t *testing.T) {
	inUse := &types.ResourceInUseException{Message: aws.String("table is being created")}
	notFound := &types.ResourceNotFoundException{Message: aws.String("not found")}
	limit := &types.LimitExceededException{Message: aws.String("too many")}
	denied := errors.New("AccessDeniedException: not authorized to perform: dynamodb:TagResource")
	tests := []struct {
		name    string
		errs    []error
		wantErr bool
		calls   int
	}{
		{name: "retried while creating", errs: []error{inUse, notFound, limit}, calls: 4},
		{name: "denied", errs: []error{denied}, wantErr: true, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &taggingAPI{errs: tt.errs}
				o := Options{Timeout: time.Hour, Poll: DefaultPoll, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}
				err := tagWhenReady(context.Background(), api, "arn:aws:dynamodb:us-east-1:123456789012:table/rec", map[string]string{"k": "v"}, o)
				if (err != nil) != tt.wantErr || api.calls != tt.calls {
					t.Fatalf("tagWhenReady = %v after %d calls, want error %v after %d", err, api.calls, tt.wantErr, tt.calls)
				}
			})
		})
	}
}
