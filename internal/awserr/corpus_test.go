package awserr

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// TestCorpusErrorBodies serves DynamoDB's error bodies as AWS writes and
// documents them (testdata/aws, see PROVENANCE.md) to the real SDK client
// and checks what the program reads of them: the code (Code), whether the
// SDK's throttle and retry classifiers — the copier's — take them as
// throttling or retryable, and the details the typed errors carry.
func TestCorpusErrorBodies(t *testing.T) {
	throttles := retry.IsErrorThrottles(retry.DefaultThrottles)
	retryables := retry.IsErrorRetryables(retry.DefaultRetryables)
	tests := []struct {
		file      string
		status    int
		code      string
		throttle  bool
		retryable bool
		// reasons is what ThrottleReasons reads, through
		// CaptureThrottleReasons, as "reason resource".
		reasons []string
		check   func(t *testing.T, err error)
	}{
		// The SDK's model names ThrottlingException's member
		// throttlingReasons (lower case; ProvisionedThroughputExceeded's is
		// ThrottlingReasons): a body spelled like the other exceptions'
		// gives its code and no reasons to the typed error; the raw body
		// (CaptureThrottleReasons) still gives them.
		{"throttling-exception-reasons.json", 400, "ThrottlingException", true, true,
			[]string{"TableReadKeyRangeThroughputExceeded arn:aws:dynamodb:us-east-1:123456789012:table/metadata"}, func(t *testing.T, err error) {
				var te *types.ThrottlingException
				if !errors.As(err, &te) || aws.ToString(te.Message) != "throttled" {
					t.Errorf("not read: %#v", te)
				}
			}},
		{"throttling-exception-reasons-model.json", 400, "ThrottlingException", true, true,
			[]string{"TableWriteAccountLimitExceeded arn:aws:dynamodb:us-east-1:123456789012:table/Music"}, func(t *testing.T, err error) {
				var te *types.ThrottlingException
				if !errors.As(err, &te) || len(te.ThrottlingReasons) != 1 || aws.ToString(te.ThrottlingReasons[0].Reason) != "TableWriteAccountLimitExceeded" ||
					aws.ToString(te.ThrottlingReasons[0].Resource) != "arn:aws:dynamodb:us-east-1:123456789012:table/Music" {
					t.Errorf("throttlingReasons not read: %#v", te)
				}
			}},
		{"provisioned-throughput-exceeded-reasons.json", 400, "ProvisionedThroughputExceededException", true, true,
			[]string{"TableWriteProvisionedThroughputExceeded arn:aws:dynamodb:us-east-1:123456789012:table/Music",
				"IndexWriteProvisionedThroughputExceeded arn:aws:dynamodb:us-east-1:123456789012:table/Music/index/AlbumTitle-index"}, func(t *testing.T, err error) {
				var pe *types.ProvisionedThroughputExceededException
				if !errors.As(err, &pe) || len(pe.ThrottlingReasons) != 2 || aws.ToString(pe.ThrottlingReasons[1].Reason) != "IndexWriteProvisionedThroughputExceeded" {
					t.Errorf("ThrottlingReasons not read: %#v", pe)
				}
			}},
		{"throttling-exception-coral.json", 400, "ThrottlingException", true, true, nil, nil},
		{"conditional-check-failed.json", 400, "ConditionalCheckFailedException", false, false, nil, nil},
		{"conditional-check-failed-item.json", 400, "ConditionalCheckFailedException", false, false, nil, func(t *testing.T, err error) {
			var ce *types.ConditionalCheckFailedException
			if !errors.As(err, &ce) {
				t.Fatalf("not a ConditionalCheckFailedException: %v", err)
			}
			if v, ok := ce.Item["version"].(*types.AttributeValueMemberN); !ok || v.Value != "7" {
				t.Errorf("Item not read: %#v", ce.Item)
			}
		}},
		{"internal-server-error.json", 500, "InternalServerError", false, true, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile("testdata/aws/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(tt.status)
				w.Write(body)
			}))
			defer srv.Close()
			c := dynamodb.New(dynamodb.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL),
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
				Retryer:      aws.NopRetryer{},
				APIOptions:   []func(*middleware.Stack) error{CaptureThrottleReasons},
			})
			_, err = c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("t"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}})
			if err == nil {
				t.Fatal("no error")
			}
			if got := Code(err); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
			if got := throttles.IsErrorThrottle(err).Bool(); got != tt.throttle {
				t.Errorf("throttle = %v, want %v", got, tt.throttle)
			}
			if got := throttles.IsErrorThrottle(err).Bool() || retryables.IsErrorRetryable(err).Bool(); got != tt.retryable {
				t.Errorf("retryable = %v, want %v", got, tt.retryable)
			}
			if IsNotFound(err) {
				t.Error("IsNotFound")
			}
			var got []string
			for _, r := range ThrottleReasons(err) {
				got = append(got, r.Reason+" "+r.Resource)
			}
			if !slices.Equal(got, tt.reasons) {
				t.Errorf("ThrottleReasons = %q, want %q", got, tt.reasons)
			}
			got = nil
			for _, r := range ParseThrottleReasons(body) {
				got = append(got, r.Reason+" "+r.Resource)
			}
			if !slices.Equal(got, tt.reasons) {
				t.Errorf("ParseThrottleReasons = %q, want %q", got, tt.reasons)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}
