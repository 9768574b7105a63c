package copier

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// lostAnswers is a DynamoDB whose answer to the first successful
// conditional write (PutItem, DeleteItem) of each key is lost: the write
// is done, and the caller gets an HTTP 500 — as from DynamoDB when a
// request times out or the connection drops after the write. Retrying it
// meets the item the lost attempt wrote.
type lostAnswers struct {
	API
	mu   sync.Mutex
	lost map[string]bool // by KeyString: the answer was lost once
}

func newLostAnswers(api API) *lostAnswers { return &lostAnswers{API: api, lost: map[string]bool{}} }

// lose reports whether the answer to this successful write of key is lost.
func (p *lostAnswers) lose(key map[string]types.AttributeValue) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ks := ddbjson.KeyString(keyOf(key, memKey))
	if p.lost[ks] {
		return false
	}
	p.lost[ks] = true
	return true
}

var errAnswerLost = &types.InternalServerError{Message: aws.String("the answer was lost (the write was done)")}

func (p *lostAnswers) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := p.API.PutItem(ctx, in, optFns...)
	if err == nil && p.lose(in.Item) {
		return nil, errAnswerLost
	}
	return out, err
}

func (p *lostAnswers) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := p.API.DeleteItem(ctx, in, optFns...)
	if err == nil && p.lose(in.Key) {
		return nil, errAnswerLost
	}
	return out, err
}

// fastRetries retries at once (1 ms): the tests below retry once a key.
var fastRetries = Backoff{Base: time.Millisecond, Max: time.Millisecond}

// TestLostAnswerOfAConditionalWrite: a conditional write whose answer is
// lost (a 5xx or a timeout after DynamoDB wrote) is retried, and the retry
// meets its own write: the condition now fails (the item exists, is no
// longer what the window left, or no longer satisfies --if-main). That is
// the write done, not an item left alone: the counts are those of a copy
// without faults, no false conflict or clobbered key is reported (exit
// 0), and undo — its own answers lost too — puts the main table back
// exactly. On the fake and on dynalite.
func TestLostAnswerOfAConditionalWrite(t *testing.T) {
	backends := []struct {
		name string
		get  func(t *testing.T) backend
	}{
		{"fake", func(*testing.T) backend { return memBackend() }},
		{"dynalite", dynaliteBackend},
	}
	k := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	// A window: r00-r09 changed (start → end), c00-c04 created, d00-d04
	// deleted; the main table is at the window's end.
	var chs []window.Change
	var end []map[string]types.AttributeValue
	for i := range 10 {
		pk := fmt.Sprintf("r%02d", i)
		chs = append(chs, window.Change{Keys: k(pk), Old: confItem(pk, "start"), New: confItem(pk, "end")})
		end = append(end, confItem(pk, "end"))
	}
	for i := range 5 {
		c, d := fmt.Sprintf("c%02d", i), fmt.Sprintf("d%02d", i)
		chs = append(chs, window.Change{Keys: k(c), New: confItem(c, "created")}, window.Change{Keys: k(d), Old: confItem(d, "start")})
		end = append(end, confItem(c, "created"))
	}
	// A recovery table k000-k029 and a main table with k000-k009 equal,
	// k010-k019 changed, k020-k029 missing, x00-x04 extra.
	src, main := confTables(30, 10, 10, 5)
	tests := []struct {
		name string
		// copy runs the copy or rewind into to through api.
		copy func(t *testing.T, be backend, api API, to, journal string) (*Summary, error)
		main []map[string]types.AttributeValue
		// written, skipped, deleted: the counts without faults.
		written, skipped, deleted int64
	}{
		{"only-missing", func(t *testing.T, be backend, api API, to, journal string) (*Summary, error) {
			from := be.create(t, "rec")
			be.put(t, from, src)
			return runCopy(t, api, Options{From: from, To: to, Journal: journal, OnlyMissing: true})
		}, main, 10, 20, 0},
		{"if-main and delete-extra", func(t *testing.T, be backend, api API, to, journal string) (*Summary, error) {
			from := be.create(t, "rec")
			be.put(t, from, src)
			return runCopy(t, api, Options{From: from, To: to, Journal: journal, IfMain: "attribute_exists(pk)", DeleteExtra: true})
		}, main, 20, 10, 5},
		{"incremental rewind", func(t *testing.T, be backend, api API, to, journal string) (*Summary, error) {
			return runRewind(t, api, Options{To: to, From: "export", Journal: journal, DeleteExtra: true}, chs)
		}, end, 15, 0, 5},
		{"incremental rewind, --overwrite-conflicts", func(t *testing.T, be backend, api API, to, journal string) (*Summary, error) {
			return runRewind(t, api, Options{To: to, From: "export", Journal: journal, DeleteExtra: true, OverwriteConflicts: true}, chs)
		}, end, 15, 0, 5},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			be := b.get(t)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					to := be.create(t, "main")
					be.put(t, to, tt.main)
					before := be.scan(t, to)
					journal := filepath.Join(t.TempDir(), "journal.jsonl")
					sum, err := tt.copy(t, be, newLostAnswers(be.api), to, journal)
					if err != nil {
						t.Fatalf("copy: %v (conflicts %v, clobbered %v)", err, sum.Conflicts, sum.Clobbered)
					}
					c := sum.Counts
					if c.Written != tt.written || c.Skipped != tt.skipped || c.Deleted != tt.deleted || c.Failed != 0 || c.Conflicts != 0 || c.Clobbered != 0 {
						t.Errorf("written %d skipped %d deleted %d failed %d conflicts %d clobbered %d; want %d %d %d 0 0 0",
							c.Written, c.Skipped, c.Deleted, c.Failed, c.Conflicts, c.Clobbered, tt.written, tt.skipped, tt.deleted)
					}
					if c.Retries == 0 {
						t.Errorf("no retry counted: the test lost no answer")
					}
					u, err := PrepareUndo(context.Background(), be.api, UndoOptions{Options{To: to, Journal: journal, Backoff: fastRetries}})
					if err != nil {
						t.Fatal(err)
					}
					usum, err := u.Run(context.Background(), newLostAnswers(be.api))
					if err != nil {
						t.Fatalf("undo: %v (conflicts %v)", err, usum.Conflicts)
					}
					if uc := usum.Counts; uc.Written+uc.Deleted != tt.written+tt.deleted || uc.Conflicts != 0 {
						t.Errorf("undo: written %d deleted %d conflicts %d; want %d writes and deletes, no conflict", uc.Written, uc.Deleted, uc.Conflicts, tt.written+tt.deleted)
					}
					assertItems(t, "after undo", before, be.scan(t, to))
				})
			}
		})
	}
}

// noBatchGet is a DynamoDB that refuses BatchGetItem as DynamoDB does
// without dynamodb:BatchGetItem — undo's least-privilege policy
// (docs/iam/undo.json) has none.
type noBatchGet struct{ API }

func (noBatchGet) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: dynamodb:BatchGetItem"}
}

// TestUndoCanBeRepeated: undo run again (after it finished, or was
// interrupted) finds the items it put back already as they were before
// the copy: it leaves them alone (skipped), reports no undo conflict and
// succeeds — it does not take its own work for changes made since the
// copy. It knows from the item a failed condition returns
// (ReturnValuesOnConditionCheckFailure), or, from an endpoint that returns
// none (dynalite), by reading it; it needs no read where DynamoDB refuses
// one (undo's policy). On the fake, the fake without BatchGetItem, and
// dynalite.
func TestUndoCanBeRepeated(t *testing.T) {
	backends := []struct {
		name string
		get  func(t *testing.T) backend
		// undo wraps the API undo calls.
		undo func(API) API
	}{
		{"fake", func(*testing.T) backend { return memBackend() }, nil},
		{"fake, undo without dynamodb:BatchGetItem", func(*testing.T) backend { return memBackend() }, func(api API) API { return noBatchGet{api} }},
		{"dynalite", dynaliteBackend, nil},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			be := b.get(t)
			// k000-k009 equal, k010-k019 changed, k020-k029 missing,
			// x00-x04 extra: 30 puts and 5 deletes to undo.
			src, main := confTables(30, 10, 10, 5)
			from, to := be.create(t, "rec"), be.create(t, "main")
			be.put(t, from, src)
			be.put(t, to, main)
			before := be.scan(t, to)
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			if _, err := runCopy(t, be.api, Options{From: from, To: to, Journal: journal, DeleteExtra: true}); err != nil {
				t.Fatal(err)
			}
			undoAPI := be.api
			if b.undo != nil {
				undoAPI = b.undo(be.api)
			}
			for i := range 2 {
				u, err := PrepareUndo(context.Background(), undoAPI, UndoOptions{Options{To: to, Journal: journal}})
				if err != nil {
					t.Fatal(err)
				}
				sum, err := u.Run(context.Background(), undoAPI)
				if err != nil {
					t.Fatalf("undo #%d: %v", i+1, err)
				}
				c := sum.Counts
				if c.Conflicts != 0 || c.Written+c.Deleted+c.Skipped != 35 {
					t.Errorf("undo #%d: written %d deleted %d skipped %d conflicts %d; want 35 in all, no conflict", i+1, c.Written, c.Deleted, c.Skipped, c.Conflicts)
				}
				assertItems(t, fmt.Sprintf("after undo #%d", i+1), before, be.scan(t, to))
			}
		})
	}
}

// runCopy prepares and runs a copy with fast retries.
func runCopy(t *testing.T, api API, o Options) (*Summary, error) {
	t.Helper()
	o.Segments, o.Writers, o.Backoff = 1, 2, fastRetries
	p, err := Prepare(context.Background(), api, o)
	if err != nil {
		t.Fatal(err)
	}
	return p.Run(context.Background(), api)
}

// runRewind prepares and runs a rewind of the window of chs with fast
// retries.
func runRewind(t *testing.T, api API, o Options, chs []window.Change) (*Summary, error) {
	t.Helper()
	c := changes(append([]window.Change(nil), chs...))
	w, err := window.Build(nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	o.Writers, o.Backoff = 2, fastRetries
	p, err := prepareWindowRewind(context.Background(), api, o, w)
	if err != nil {
		t.Fatal(err)
	}
	return p.Run(context.Background(), api)
}

// emptyOld is the fake that answers a put or delete which replaced
// nothing with an empty Attributes map rather than none, as some
// endpoints do.
type emptyOld struct{ *memAPI }

func (e emptyOld) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := e.memAPI.PutItem(ctx, in, optFns...)
	if err == nil && out.Attributes == nil && in.ReturnValues == types.ReturnValueAllOld {
		out.Attributes = map[string]types.AttributeValue{}
	}
	return out, err
}

// TestEmptyOldItemIsNone: a rewind that puts back an item the window
// deleted (nothing there to replace) is told it replaced an empty item:
// that is no item, not a concurrent write to report as clobbered.
func TestEmptyOldItemIsNone(t *testing.T) {
	m := newMemAPI()
	m.create("main")
	var chs []window.Change
	for i := range 5 {
		pk := fmt.Sprintf("d%02d", i)
		chs = append(chs, window.Change{Keys: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}, Old: confItem(pk, "start")})
	}
	sum, err := runRewind(t, emptyOld{m}, Options{To: "main", From: "export"}, chs)
	if err != nil {
		t.Fatalf("rewind: %v (clobbered %v)", err, sum.Clobbered)
	}
	if c := sum.Counts; c.Written != 5 || c.Clobbered != 0 {
		t.Errorf("written %d clobbered %d, want 5 0", c.Written, c.Clobbered)
	}
}
