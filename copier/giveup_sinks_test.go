package copier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// stuckTable is the fake whose BatchGetItem (getStuck) or BatchWriteItem
// (writeStuck) leaves every key or item unprocessed, call after call: a
// table throttled for good.
type stuckTable struct {
	*memAPI
	getStuck, writeStuck bool
}

func (s *stuckTable) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if s.getStuck {
		return &dynamodb.BatchGetItemOutput{UnprocessedKeys: in.RequestItems}, nil
	}
	return s.memAPI.BatchGetItem(ctx, in, optFns...)
}

func (s *stuckTable) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if s.writeStuck {
		return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
	}
	return s.memAPI.BatchWriteItem(ctx, in, optFns...)
}

// TestRewindGivesUpItsRead: a rewind whose consistent read of a batch's
// current items is still unprocessed after --max-retry-time gives those
// keys up like any write it gives up — counted as failed, listed in the
// report, the rewind going on (*IncompleteError, exit 3) — instead of
// failing the whole rewind as a permanent error (exit 1) with the keys
// in no count. On the fake clock of a synctest bubble.
func TestRewindGivesUpItsRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemAPI()
		m.create("main")
		var chs changes
		var want []string
		for i := range 30 {
			pk := fmt.Sprintf("k%03d", i)
			key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
			chs = append(chs, window.Change{Keys: key, Old: confItem(pk, "start"), New: confItem(pk, "end")})
			m.tables["main"][ddbjson.KeyString(key)] = confItem(pk, "end")
			want = append(want, ddbjson.KeyString(key))
		}
		w, err := window.Build(nil, &chs)
		if err != nil {
			t.Fatal(err)
		}
		api := &stuckTable{memAPI: m, getStuck: true}
		p, err := prepareWindowRewind(context.Background(), api, Options{To: "main", From: "export", Writers: 1, MaxRetryTime: 5 * time.Second}, w)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), api)
		var inc *IncompleteError
		if !errors.As(err, &inc) {
			t.Fatalf("Run: %v, want *IncompleteError", err)
		}
		if c := sum.Counts; c.Failed != 30 || c.Written != 0 || c.Conflicts != 0 {
			t.Errorf("failed %d written %d conflicts %d, want 30 0 0", c.Failed, c.Written, c.Conflicts)
		}
		if got := slices.Sorted(slices.Values(sum.Unwritten)); !slices.Equal(got, want) {
			t.Errorf("unwritten keys %v, want %v", got, want)
		}
	})
}

// TestUndoGivesUpOnlyWhatItDidNotDo: a batch of undo that holds records of
// an older journal (put back with BatchWriteItem) and of today's (put back
// with conditional writes) still undoes today's when the BatchWriteItem is
// given up after --max-retry-time: exactly the older records' keys are
// failed; none is left in no count.
func TestUndoGivesUpOnlyWhatItDidNotDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemAPI()
		m.create("main")
		img := func(pk, v string) string {
			data, err := ddbjson.MarshalItem(confItem(pk, v))
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
		key := func(pk string) string { return `{"pk":{"S":"` + pk + `"}}` }
		lines := []string{
			`{"journal":"ddbrewind","version":1,"table":"main","keys":["pk"],"created":"2026-01-01T00:00:00Z"}`,
			// An older journal's record (no after image), then today's.
			`{"key":` + key("old") + `,"before":` + img("old", "B") + `}`,
			`{"key":` + key("new") + `,"before":` + img("new", "B") + `,"after":` + img("new", "A") + `}`,
		}
		journal := filepath.Join(t.TempDir(), "journal.jsonl")
		if err := os.WriteFile(journal, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		m.tables["main"][key("old")] = confItem("old", "A")
		m.tables["main"][key("new")] = confItem("new", "A")
		api := &stuckTable{memAPI: m, writeStuck: true}
		u, err := PrepareUndo(context.Background(), api, UndoOptions{Options{To: "main", Journal: journal, MaxRetryTime: 5 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := u.Run(context.Background(), api)
		var inc *IncompleteError
		if !errors.As(err, &inc) {
			t.Fatalf("undo: %v, want *IncompleteError", err)
		}
		if c := sum.Counts; c.Failed != 1 || c.Written != 1 || !slices.Equal(sum.Unwritten, []string{key("old")}) {
			t.Errorf("failed %d written %d unwritten %v; want 1 failed (old), 1 written (new)", c.Failed, c.Written, sum.Unwritten)
		}
		if got := m.tables["main"][key("new")]; !sameState(got, confItem("new", "B")) {
			t.Errorf("new after undo: %v, want its before-image", got)
		}
	})
}

// refusingTable is the fake whose BatchWriteItem fails with err.
type refusingTable struct {
	*memAPI
	err error
}

func (r *refusingTable) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, r.err
}

// TestPermanentErrorEndsTheCopy: an error that no retry can cure (access
// denied, a request DynamoDB rejects) ends the copy as a failure (exit 1),
// at once: it is not retried, and not taken for a give-up that lets the
// copy go on with the items counted as failed (exit 3).
func TestPermanentErrorEndsTheCopy(t *testing.T) {
	for _, perm := range []error{
		&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: dynamodb:BatchWriteItem"},
		&smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"},
	} {
		t.Run(awserr.Code(perm), func(t *testing.T) {
			m := newMemAPI()
			m.create("rec")
			m.create("main")
			src, _ := confTables(60, 0, 0, 0)
			for _, it := range src {
				m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
			}
			api := &refusingTable{memAPI: m, err: perm}
			sum, err := runCopy(t, api, Options{From: "rec", To: "main"})
			var inc *IncompleteError
			if err == nil || errors.As(err, &inc) || errors.Is(err, errGaveUp) || awserr.Code(err) != awserr.Code(perm) {
				t.Fatalf("Run: %v; want the permanent error, not a give-up", err)
			}
			if c := sum.Counts; sum.Outcome != "failed" || c.Failed != 0 || c.Retries != 0 {
				t.Errorf("outcome %q failed %d retries %d; want failed, 0, 0", sum.Outcome, c.Failed, c.Retries)
			}
		})
	}
}

// TestGiveUpCountsOnlyTheUnprocessedItems: a batch partly written, whose
// other items stay unprocessed until --max-retry-time, gives up those
// items only: the ones written are counted written, not failed, and the
// report lists exactly the others. On the fake clock of a synctest bubble.
func TestGiveUpCountsOnlyTheUnprocessedItems(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(25)
		// The first call writes 10 items; every later one none.
		f.unprocessed = func(call, n int) int {
			if call == 1 {
				return n - 10
			}
			return n
		}
		p, err := Prepare(context.Background(), f, Options{From: "rec", To: "main", Segments: 1, Writers: 1, MaxRetryTime: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), f)
		var inc *IncompleteError
		if !errors.As(err, &inc) {
			t.Fatalf("Run: %v, want *IncompleteError", err)
		}
		var want []string
		for _, k := range keyRange(10, 25) {
			want = append(want, `{"pk":{"S":"`+k+`"}}`)
		}
		got := slices.Sorted(slices.Values(sum.Unwritten))
		if c := sum.Counts; c.Written != 10 || c.Failed != 15 || inc.Failed != 15 || !slices.Equal(got, want) {
			t.Errorf("written %d failed %d (error: %d) unwritten %v; want 10, 15 (15), %v", c.Written, c.Failed, inc.Failed, got, want)
		}
		if len(f.written) != 10 {
			t.Errorf("the fake holds %d items, want 10", len(f.written))
		}
	})
}

// refusingWrites is the fake whose PutItem and DeleteItem fail with err.
type refusingWrites struct {
	*memAPI
	err error
}

func (r *refusingWrites) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, r.err
}

func (r *refusingWrites) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, r.err
}

// TestPermanentErrorEndsARewindOrUndo: a conditional write of a rewind or
// of undo (written in parallel, a batch's keys at once) that fails with an
// error no retry can cure ends the run with that error (exit 1) — it is
// neither ignored, as if the key were done, nor taken for a give-up.
func TestPermanentErrorEndsARewindOrUndo(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: dynamodb:PutItem"}
	key := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, m *memAPI, api API) (*Summary, error)
	}{
		{"rewind", func(t *testing.T, m *memAPI, api API) (*Summary, error) {
			var chs []window.Change
			for i := range 30 {
				pk := fmt.Sprintf("k%03d", i)
				chs = append(chs, window.Change{Keys: key(pk), Old: confItem(pk, "start"), New: confItem(pk, "end")})
				m.tables["main"][ddbjson.KeyString(key(pk))] = confItem(pk, "end")
			}
			return runRewind(t, api, Options{To: "main", From: "export"}, chs)
		}},
		{"undo", func(t *testing.T, m *memAPI, api API) (*Summary, error) {
			lines := []string{`{"journal":"ddbrewind","version":1,"table":"main","keys":["pk"],"created":"2026-01-01T00:00:00Z"}`}
			for i := range 30 {
				pk := fmt.Sprintf("k%03d", i)
				before, _ := ddbjson.MarshalItem(confItem(pk, "B"))
				after, _ := ddbjson.MarshalItem(confItem(pk, "A"))
				lines = append(lines, `{"key":`+ddbjson.KeyString(key(pk))+`,"before":`+string(before)+`,"after":`+string(after)+`}`)
				m.tables["main"][ddbjson.KeyString(key(pk))] = confItem(pk, "A")
			}
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			if err := os.WriteFile(journal, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			u, err := PrepareUndo(context.Background(), api, UndoOptions{Options{To: "main", Journal: journal}})
			if err != nil {
				t.Fatal(err)
			}
			return u.Run(context.Background(), api)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemAPI()
			m.create("main")
			sum, err := tt.run(t, m, &refusingWrites{memAPI: m, err: denied})
			var inc *IncompleteError
			if err == nil || errors.As(err, &inc) || errors.Is(err, errGaveUp) || awserr.Code(err) != "AccessDeniedException" {
				t.Fatalf("Run: %v; want the AccessDeniedException", err)
			}
			if c := sum.Counts; sum.Outcome != "failed" || c.Written != 0 || c.Failed != 0 || c.Retries != 0 {
				t.Errorf("outcome %q written %d failed %d retries %d; want failed, 0, 0, 0", sum.Outcome, c.Written, c.Failed, c.Retries)
			}
		})
	}
}

// failingScan is the fake whose Scan fails with err from its call after
// the first.
type failingScan struct {
	*memAPI
	err   error
	calls int
}

func (f *failingScan) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.calls++
	if f.calls > 2 { // the probe (Limit 1) and the first page pass
		return nil, f.err
	}
	return f.memAPI.Scan(ctx, in, optFns...)
}

// TestSourceReadErrorEndsTheCopy: a read of the source that fails for
// good ends the copy with that error (exit 1): the copy does not end as if
// the source had no more items.
func TestSourceReadErrorEndsTheCopy(t *testing.T) {
	m := newMemAPI()
	m.create("rec")
	m.create("main")
	src, _ := confTables(60, 0, 0, 0)
	for _, it := range src {
		m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform: dynamodb:Scan"}
	api := &failingScan{memAPI: m, err: denied}
	sum, err := runCopy(t, api, Options{From: "rec", To: "main", PageSize: 25})
	if awserr.Code(err) != "AccessDeniedException" || sum.Outcome != "failed" {
		t.Fatalf("Run: %v (outcome %q); want the AccessDeniedException, failed", err, sum.Outcome)
	}
}
