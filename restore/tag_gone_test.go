package restore

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// vanishingAPI answers TagResource with tagErrs in turn (repeating the
// last) and DescribeTable with the statuses of script in turn (repeating
// the last; "" is ResourceNotFoundException).
type vanishingAPI struct {
	scriptAPI
	tagErrs []error
	tags    int
}

func (v *vanishingAPI) TagResource(context.Context, *dynamodb.TagResourceInput, ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error) {
	err := v.tagErrs[min(v.tags, len(v.tagErrs)-1)]
	v.tags++
	if err != nil {
		return nil, err
	}
	return &dynamodb.TagResourceOutput{}, nil
}

// TestTagRecoveryTableThatVanished: a recovery table deleted while
// ddbrewind waits to tag it (by someone, or with a restore that failed)
// ends the restore within a couple of minutes, not after --timeout (12 h),
// with one line saying the table is gone — not the advice to tag it by
// hand; a table still being created, or not visible yet right after the
// restore call, is still waited for.
func TestTagRecoveryTableThatVanished(t *testing.T) {
	inUse := &types.ResourceInUseException{Message: aws.String("Attempt to change a resource which is still in use: Table is being created: rec")}
	notFound := &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	c, d, a, gone := types.TableStatusCreating, types.TableStatusDeleting, types.TableStatusActive, types.TableStatus("")
	tests := []struct {
		name    string
		tagErrs []error
		script  []types.TableStatus
		want    string // "" for success
		within  time.Duration
	}{
		{name: "deleted after it was seen", tagErrs: []error{inUse, notFound}, script: []types.TableStatus{c, gone},
			want: "restore orders into rec: rec was deleted before it could be tagged", within: time.Minute},
		{name: "being deleted", tagErrs: []error{inUse}, script: []types.TableStatus{c, c, d},
			want: "rec was deleted before it could be tagged (last status DELETING", within: time.Minute},
		{name: "never visible", tagErrs: []error{notFound}, script: []types.TableStatus{gone},
			want: "rec was deleted before it could be tagged (last status not visible yet", within: 5 * time.Minute},
		{name: "not visible yet, then tagged", tagErrs: []error{notFound, notFound, inUse, nil}, script: []types.TableStatus{gone, gone, c, a},
			within: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &vanishingAPI{scriptAPI: scriptAPI{script: tt.script}, tagErrs: tt.tagErrs}
				o := Options{Timeout: 12 * time.Hour, Poll: DefaultPoll, Now: time.Now, Logger: slog.New(slog.DiscardHandler), Wait: true}
				p := &Plan{opts: o, recovery: "rec"}
				res := &Result{SourceTable: "orders", RecoveryTable: "rec", RecoveryARN: "arn:aws:dynamodb:us-east-1:123456789012:table/rec"}
				start := time.Now()
				_, err := p.tagAndWait(context.Background(), api, res, map[string]string{"k": "v"}, func(err error) error {
					return &tagFailedError{err}
				})
				if took := time.Since(start); took > tt.within {
					t.Errorf("took %s, want at most %s", took, tt.within)
				}
				switch {
				case tt.want == "" && err != nil:
					t.Fatalf("tagAndWait = %v, want success", err)
				case tt.want == "":
				case err == nil || !strings.Contains(err.Error(), tt.want):
					t.Fatalf("tagAndWait = %v, want %q", err, tt.want)
				case strings.Contains(err.Error(), "tag failed"):
					t.Errorf("tagAndWait = %v: the table is gone, tagging it by hand cannot help", err)
				}
			})
		})
	}
}

// tagFailedError marks the tagFailed wording in tests.
type tagFailedError struct{ err error }

func (e *tagFailedError) Error() string { return "tag failed: " + e.err.Error() }

// TestWaitActiveTableNeverVisible: a recovery table that DescribeTable
// never finds (deleted before the first poll) ends the wait after a grace
// for DynamoDB's eventually consistent metadata, not after the timeout.
func TestWaitActiveTableNeverVisible(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		_, err := WaitActive(context.Background(), &scriptAPI{script: []types.TableStatus{""}}, "rec", 12*time.Hour, DefaultPoll, time.Now, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "rec was deleted while waiting") {
			t.Fatalf("WaitActive = %v, want the table reported gone", err)
		}
		if took := time.Since(start); took > 5*time.Minute {
			t.Errorf("took %s, want at most 5m", took)
		}
	})
}
