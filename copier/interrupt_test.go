package copier

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// throttledUntil is the fake whose BatchWriteItem leaves every item
// unprocessed while stuck is set (or for its first stuckCalls calls) —
// or, with hang, does not answer until its context ends (a request that
// hangs); the first call runs onFirst (an interrupt).
type throttledUntil struct {
	*memAPI
	mu         sync.Mutex
	stuck      bool
	stuckCalls int
	hang       bool
	onFirst    func()
}

func (s *throttledUntil) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	s.mu.Lock()
	stuck, f := s.stuck || s.stuckCalls > 0, s.onFirst
	s.onFirst = nil
	s.stuckCalls--
	if f != nil {
		// Under the lock: no other call writes before the interrupt is
		// made (a call that took the lock second could otherwise write,
		// and its writer take and write every batch left, before this one
		// ran f).
		f()
	}
	s.mu.Unlock()
	switch {
	case stuck && s.hang:
		<-ctx.Done()
		return nil, ctx.Err()
	case stuck:
		return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
	}
	return s.memAPI.BatchWriteItem(ctx, in, optFns...)
}

// TestInterruptKeepsTheItems: Ctrl-C while batches are in flight and
// others wait for a writer. The batches in flight finish — their retries
// go on after the interrupt: written, or, still unprocessed when the
// drain timeout ends their retries (or in a call that hangs until then),
// given up (failed, in the report); the waiting ones are not written. The checkpoint moves past none of the
// items not written, so that the same command again writes every item:
// none is dropped silently, none skipped by the resume. On the fake clock
// of a synctest bubble.
func TestInterruptKeepsTheItems(t *testing.T) {
	for _, tc := range []struct {
		name    string
		writers int
		backoff Backoff
		// stuck: the batches in flight stay unprocessed; hang: their
		// calls hang; retried: the first call leaves its items
		// unprocessed, the retry writes them.
		stuck, hang, retried bool
	}{
		{"written", 1, Backoff{}, false, false, false},
		{"written, 4 writers", 4, Backoff{}, false, false, false},
		{"written on a retry after the interrupt", 1, Backoff{}, false, false, true},
		// The drain timeout meets a batch in its backoff (the default),
		// in the shared pacer's delay (a backoff of 1 ms), or in its call.
		{"unprocessed, in the backoff", 1, Backoff{}, true, false, false},
		{"unprocessed, in the backoff, 4 writers", 4, Backoff{}, true, false, false},
		{"unprocessed, in the pacer", 1, fastRetries, true, false, false},
		{"unprocessed, in the pacer, 4 writers", 4, fastRetries, true, false, false},
		{"hanging call", 1, Backoff{}, true, true, false},
		{"hanging call, 4 writers", 4, Backoff{}, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := newMemAPI()
				m.create("rec")
				m.create("main")
				src, _ := confTables(200, 0, 0, 0)
				for _, it := range src {
					m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				api := &throttledUntil{memAPI: m, stuck: tc.stuck, hang: tc.hang, onFirst: cancel}
				if tc.retried {
					api.stuckCalls = 1
				}
				cp := filepath.Join(t.TempDir(), "cp.json")
				o := Options{From: "rec", To: "main", Segments: 1, PageSize: 25, Writers: tc.writers, Checkpoint: cp, DrainTimeout: 2 * time.Second, Backoff: tc.backoff}
				p, err := Prepare(ctx, api, o)
				if err != nil {
					t.Fatal(err)
				}
				sum, err := p.Run(ctx, api)
				if !errors.Is(err, ErrInterrupted) {
					t.Fatalf("Run: %v, want ErrInterrupted", err)
				}
				c := sum.Counts
				switch {
				case tc.stuck && (c.Written != 0 || c.Failed == 0 || c.Failed%25 != 0):
					t.Errorf("interrupted: written %d failed %d; want 0 written, the batches in flight (25 each) failed", c.Written, c.Failed)
				case !tc.stuck && (c.Written == 0 || c.Written%25 != 0 || c.Failed != 0):
					t.Errorf("interrupted: written %d failed %d; want the batches in flight (25 each) written, none failed", c.Written, c.Failed)
				case tc.writers == 1 && c.Written+c.Failed != 25:
					t.Errorf("interrupted: written %d failed %d; want the one batch in flight (25), and none of those waiting", c.Written, c.Failed)
				}
				if c.Written+c.Failed >= 200 {
					t.Fatalf("written %d failed %d: the interrupt came too late to test anything", c.Written, c.Failed)
				}

				// The same command again, the table no longer throttled.
				api.mu.Lock()
				api.stuck = false
				api.mu.Unlock()
				p, err = Prepare(context.Background(), api, o)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Run(context.Background(), api); err != nil {
					t.Fatalf("resume: %v", err)
				}
				if n := len(m.tables["main"]); n != 200 {
					t.Errorf("main holds %d items after the resume, want 200: the checkpoint moved past items never written", n)
				}
			})
		})
	}
}
