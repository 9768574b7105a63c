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
