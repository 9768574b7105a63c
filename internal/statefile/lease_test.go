package statefile

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// lostAnswerS3 forwards to S3 and, while lose is set, answers the next
// conditional PutObject that S3 carried out with 412 PreconditionFailed,
// as S3 answers the SDK's retry of a write whose first answer was lost.
type lostAnswerS3 struct {
	*s3.Client
	mu   sync.Mutex
	lose bool
}

func (f *lostAnswerS3) PutObject(ctx context.Context, in *s3.PutObjectInput, opt ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	out, err := f.Client.PutObject(ctx, in, opt...)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && f.lose && (in.IfNoneMatch != nil || in.IfMatch != nil) {
		f.lose = false
		return nil, &smithy.GenericAPIError{Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold"}
	}
	return out, err
}

// The lease of a run whose create (or renewal) S3 carried out but whose
// answer was lost is the run's own: it holds the lock rather than being
// refused by itself. A lease removed by hand while its run holds it is
// created again at the next renewal.
func TestS3LeaseOwnWritesAndRemovedLease(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	ctx := context.Background()
	c := srv.S3Client(t)
	bucket := ddbtest.CreateBucket(t, c)
	f := &lostAnswerS3{Client: c, lose: true}
	s := &Store{S3: f}
	state := "s3://" + bucket + "/state.json"
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	l, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-a", PID: 11})
	if err != nil {
		t.Fatalf("lock whose create's answer was lost: %v", err)
	}
	defer l.Release(ctx)

	f.mu.Lock()
	f.lose = true
	f.mu.Unlock()
	clk.advance(time.Minute)
	if err := l.Renew(ctx); err != nil {
		t.Fatalf("renewal whose answer was lost: %v", err)
	}
	if err := l.Renew(ctx); err != nil {
		t.Fatalf("renewal after it: %v", err)
	}

	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("state.json.lock")}); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	if err := l.Renew(ctx); err != nil {
		t.Fatalf("renewal of a removed lease: %v", err)
	}
	data, err := s.Read(ctx, state+".lock")
	if err != nil || !strings.Contains(string(data), `"host":"host-a"`) || !strings.Contains(string(data), `"expires":"2026-03-01T12:04:00Z"`) {
		t.Fatalf("lease after the renewal: %s, %v; want host-a's again, expiring at 12:04", data, err)
	}
	if _, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-b", PID: 22}); err == nil {
		t.Fatal("a second run took the lock of the recreated lease")
	}
}

// A lease object that is not a lease (cut, edited by hand) holds the lock
// until a TTL after it was written, then is taken over.
func TestS3LeaseUnreadableExpiresATTLAfterItWasWritten(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	ctx := context.Background()
	c := srv.S3Client(t)
	bucket := ddbtest.CreateBucket(t, c)
	s := &Store{S3: c}
	state := "s3://" + bucket + "/state.json"
	if err := s.Write(ctx, state+".lock", []byte(`{"host":"host-a","pi`)); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	for _, tc := range []struct {
		name string
		at   time.Time
		take bool
	}{{"within a TTL", written.Add(DefaultLeaseTTL / 2), false}, {"a TTL later", written.Add(DefaultLeaseTTL + time.Minute), true}} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{now: tc.at}
			l, err := s.Lock(ctx, state, LockOptions{Now: clk.Now, Ticks: make(chan time.Time), Host: "host-b", PID: 22})
			if tc.take != (err == nil) {
				t.Fatalf("lock: %v, want taken %v", err, tc.take)
			}
			if err == nil {
				l.Release(ctx)
			}
		})
	}
}
