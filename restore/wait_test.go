package restore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// statusAPI answers DescribeTable with CREATING until activeAfter calls.
type statusAPI struct {
	API
	calls       atomic.Int32
	activeAfter int32
}

func (s *statusAPI) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := s.calls.Add(1)
	st := types.TableStatusCreating
	if s.activeAfter > 0 && n >= s.activeAfter {
		st = types.TableStatusActive
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: in.TableName, TableStatus: st,
		RestoreSummary: &types.RestoreSummary{RestoreInProgress: aws.Bool(st != types.TableStatusActive)}}}, nil
}

func TestWaitActivePollsWithCappedBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &statusAPI{activeAfter: 8}
		start := time.Now()
		st, err := WaitActive(context.Background(), api, "rec", time.Hour, Poll{Min: time.Second, Max: 4 * time.Second}, time.Now, slog.New(slog.DiscardHandler))
		if err != nil || st != types.TableStatusActive {
			t.Fatalf("WaitActive = %s, %v", st, err)
		}
		// 1 + 2 + 4 + 4 + 4 + 4 + 4 seconds between the 8 polls.
		if got := time.Since(start); got != 23*time.Second {
			t.Errorf("waited %s, want 23s", got)
		}
	})
}

func TestWaitActiveInterruptedSaysTheRestoreGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Second, cancel)
		_, err := WaitActive(ctx, &statusAPI{}, "rec", time.Hour, DefaultPoll, time.Now, slog.New(slog.DiscardHandler))
		if !errors.Is(err, ErrWaitInterrupted) || !strings.Contains(err.Error(), "the restore goes on") {
			t.Fatalf("err = %v, want ErrWaitInterrupted saying the restore goes on", err)
		}
	})
}

func TestWaitActiveTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, err := WaitActive(context.Background(), &statusAPI{}, "rec", time.Minute, DefaultPoll, time.Now, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), "timed out after 1m0s") {
			t.Fatalf("err = %v", err)
		}
	})
}

// scriptAPI answers DescribeTable with the statuses of script in turn ("" is
// ResourceNotFoundException), repeating the last one.
type scriptAPI struct {
	API
	script []types.TableStatus
	calls  int
}

func (s *scriptAPI) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	st := s.script[min(s.calls, len(s.script)-1)]
	s.calls++
	if st == "" {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: in.TableName, TableStatus: st,
		RestoreSummary: &types.RestoreSummary{RestoreInProgress: aws.Bool(st != types.TableStatusActive)}}}, nil
}

// TestWaitActiveTableDeletedDuringTheWait: a restore that fails (DynamoDB
// removes its table) or a recovery table deleted meanwhile ends the wait
// with an error at once, not after the 12 h timeout; a table not visible
// yet right after the restore call is still waited for.
func TestWaitActiveTableDeletedDuringTheWait(t *testing.T) {
	c, d, a, gone := types.TableStatusCreating, types.TableStatusDeleting, types.TableStatusActive, types.TableStatus("")
	tests := []struct {
		name   string
		script []types.TableStatus
		want   string // "" for success
		calls  int
	}{
		{name: "not visible yet, then active", script: []types.TableStatus{gone, gone, c, a}, calls: 4},
		{name: "deleted after it was seen", script: []types.TableStatus{c, c, gone}, want: "was deleted while waiting", calls: 3},
		{name: "being deleted", script: []types.TableStatus{c, d}, want: "last status DELETING", calls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &scriptAPI{script: tt.script}
				_, err := WaitActive(context.Background(), api, "rec", 12*time.Hour, DefaultPoll, time.Now, slog.New(slog.DiscardHandler))
				if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
					t.Fatalf("WaitActive = %v, want %q", err, tt.want)
				}
				if api.calls != tt.calls {
					t.Errorf("%d DescribeTable calls, want %d", api.calls, tt.calls)
				}
			})
		})
	}
}
