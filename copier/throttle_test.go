package copier

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	musicARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Music"
	indexARN = musicARN + "/index/AlbumTitle-index"
)

func reason(r, res string) types.ThrottlingReason {
	return types.ThrottlingReason{Reason: aws.String(r), Resource: aws.String(res)}
}

// TestExecutorCountsThrottlesByReason: every throttle is counted once in
// Throttles and under each reason it gives (its code when it gives none),
// unprocessed items under UnprocessedItems; the first of each reason is
// logged, naming the resource; every reason backs off, but only a hot key
// range leaves the shared pacer alone (the other writers keep their pace).
func TestExecutorCountsThrottlesByReason(t *testing.T) {
	errs := []error{
		&types.ProvisionedThroughputExceededException{Message: aws.String("over"), ThrottlingReasons: []types.ThrottlingReason{
			reason("TableWriteProvisionedThroughputExceeded", musicARN), reason("IndexWriteProvisionedThroughputExceeded", indexARN)}},
		&types.ProvisionedThroughputExceededException{Message: aws.String("over"), ThrottlingReasons: []types.ThrottlingReason{
			reason("IndexWriteProvisionedThroughputExceeded", indexARN)}},
		&types.ThrottlingException{Message: aws.String("over"), ThrottlingReasons: []types.ThrottlingReason{
			reason("TableWriteAccountLimitExceeded", musicARN)}},
		&types.RequestLimitExceeded{Message: aws.String("over"), ThrottlingReasons: []types.ThrottlingReason{
			reason("TableWriteMaxOnDemandThroughputExceeded", musicARN)}},
		&types.ProvisionedThroughputExceededException{Message: aws.String("no reasons")},
	}
	f := newFake(0)
	f.putErr = func(n int) error {
		if n <= len(errs) {
			return errs[n-1]
		}
		return nil
	}
	var logs bytes.Buffer
	stats := &Stats{}
	x := newExecutor(f, Options{Stats: stats, Backoff: Backoff{}, Now: time.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, []string{"pk"}, "Music")
	w := condWrite{what: "conditional write into Music", table: "Music", item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}}
	if _, err := x.write(context.Background(), rand.New(rand.NewPCG(1, 2)), w); err != nil {
		t.Fatal(err)
	}
	f.unprocessed = func(call, n int) int { return map[int]int{1: 1}[call] }
	if err := x.batchWrite(context.Background(), rand.New(rand.NewPCG(1, 2)), "Music", []types.WriteRequest{
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "b"}}}},
		{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "c"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	s := stats.Snapshot()
	if s.Throttles != 6 || s.Retries != 6 {
		t.Errorf("throttles %d retries %d, want 6 and 6", s.Throttles, s.Retries)
	}
	want := []ThrottleCount{
		{"IndexWriteProvisionedThroughputExceeded", indexARN, 2},
		{"ProvisionedThroughputExceededException", "", 1},
		{"TableWriteAccountLimitExceeded", musicARN, 1},
		{"TableWriteMaxOnDemandThroughputExceeded", musicARN, 1},
		{"TableWriteProvisionedThroughputExceeded", musicARN, 1},
		{ReasonUnprocessedItems, "Music", 1},
	}
	if !slices.Equal(s.ThrottlesByReason, want) {
		t.Errorf("by reason:\n%+v\nwant\n%+v", s.ThrottlesByReason, want)
	}
	if n := strings.Count(logs.String(), "msg=throttled"); n != len(want) {
		t.Errorf("%d throttled log lines, want one per reason (%d):\n%s", n, len(want), logs.String())
	}
	if !strings.Contains(logs.String(), "reason=IndexWriteProvisionedThroughputExceeded resource="+indexARN) {
		t.Errorf("the log does not name the index:\n%s", logs.String())
	}

	// A hot key range: backed off, counted, the shared pacer untouched.
	hot := &types.ProvisionedThroughputExceededException{Message: aws.String("hot"), ThrottlingReasons: []types.ThrottlingReason{
		reason("TableWriteKeyRangeThroughputExceeded", musicARN)}}
	stats = &Stats{}
	x = newExecutor(f, Options{Stats: stats, Backoff: Backoff{}, Now: time.Now, Logger: slog.New(slog.DiscardHandler)}, []string{"pk"}, "Music")
	calls := 0
	err := x.c.once(context.Background(), rand.New(rand.NewPCG(1, 2)), "write", func() error {
		calls++
		if calls <= 3 {
			return hot
		}
		if x.c.pacer.delay != 0 {
			return errors.New("a hot key range slowed the shared pacer")
		}
		return nil
	})
	if err != nil || calls != 4 {
		t.Fatalf("call = %v after %d calls", err, calls)
	}
	if got := stats.Snapshot().ThrottlesByReason; !slices.Equal(got, []ThrottleCount{{"TableWriteKeyRangeThroughputExceeded", musicARN, 3}}) {
		t.Errorf("by reason %+v", got)
	}
	// Any other reason slows it.
	x.c.throttled(errs[1])
	if x.c.pacer.delay == 0 {
		t.Error("a provisioned-throughput throttle left the shared pacer alone")
	}
}
