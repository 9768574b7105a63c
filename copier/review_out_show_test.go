package copier

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// failAfter is a writer that takes ok bytes, then fails every write with
// err (a full disk, a closed pipe), counting the writes it refused.
type failAfter struct {
	ok      int
	err     error
	refused atomic.Int64
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.ok >= len(p) {
		f.ok -= len(p)
		return len(p), nil
	}
	f.refused.Add(1)
	return 0, f.err
}

// bigShowTable is a memAPI whose table rec holds n items of about 200
// bytes each.
func bigShowTable(t *testing.T, n int) *memAPI {
	t.Helper()
	m := newMemAPI()
	m.create("rec")
	for i := range n {
		it := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%05d", i)},
			"v":  &types.AttributeValueMemberS{Value: strings.Repeat("x", 200)},
		}
		m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	return m
}

// TestReviewOutShowStopsOnWriteError: once stdout refuses a write (a full
// disk, a closed pipe), show stops reading and returns that error at once,
// instead of reading the rest of the table into a writer that takes
// nothing and failing only at the end. One page per segment may still be
// in flight, never the whole table.
func TestReviewOutShowStopsOnWriteError(t *testing.T) {
	const total = 20000
	m := bigShowTable(t, total)
	for _, tc := range []struct {
		format string
		err    error
	}{
		{ShowJSONL, syscall.ENOSPC},
		{ShowJSON, syscall.EPIPE},
	} {
		t.Run(tc.format, func(t *testing.T) {
			o := ShowOptions{Format: tc.format}
			o.From, o.Segments, o.Writers, o.PageSize = "rec", 2, 2, 100
			o.Stats = &Stats{}
			p, err := PrepareShow(context.Background(), m, o)
			if err != nil {
				t.Fatal(err)
			}
			w := &failAfter{ok: 10 << 10, err: tc.err}
			n, err := p.Show(context.Background(), m, w, o.Format, 0)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want one wrapping %v", err, tc.err)
			}
			if read := o.Stats.Read.Load(); n >= total/2 || read >= total/2 {
				t.Errorf("show went on after the writer failed: %d items printed, %d read of %d", n, read, total)
			}
		})
	}
}

// TestReviewOutShowSmallOutputWriteError: an output that refuses the
// only write (a few items, all still in the buffer when the reads end) is
// an error too, not a show that printed nothing and succeeded.
func TestReviewOutShowSmallOutputWriteError(t *testing.T) {
	m := showTable(t)
	for _, format := range []string{ShowJSONL, ShowJSON, ShowCSV} {
		o := ShowOptions{Format: format}
		o.From, o.Segments, o.Writers = "rec", 2, 2
		p, err := PrepareShow(context.Background(), m, o)
		if err != nil {
			t.Fatal(err)
		}
		w := &failAfter{err: syscall.ENOSPC}
		if _, err := p.Show(context.Background(), m, w, format, 0); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("-o %s: err = %v, want one wrapping %v", format, err, syscall.ENOSPC)
		}
	}
}

// TestReviewOutShowCSVLimit: --limit holds for csv as for the others:
// N rows under a header of the names of those N items only.
func TestReviewOutShowCSVLimit(t *testing.T) {
	m := showTable(t)
	for _, limit := range []int64{1, 3} {
		out, n := runShow(t, m, ShowOptions{Format: ShowCSV, Limit: limit})
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil || n != limit || int64(len(rows)) != limit+1 {
			t.Errorf("csv --limit %d: %d items, %d rows (%v):\n%s", limit, n, len(rows), err, out)
		}
	}
}

// cancelAfterScan is a memAPI that cancels a context after its first Scan
// page, as a Ctrl-C during a show would.
type cancelAfterScan struct {
	*memAPI
	cancel func()
	scans  atomic.Int64
}

func (c *cancelAfterScan) Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	out, err := c.memAPI.Scan(ctx, in, opts...)
	if c.scans.Add(1) == 1 {
		c.cancel()
	}
	return out, err
}

// TestReviewOutShowInterrupted: a show stopped by Ctrl-C or SIGTERM before
// it printed everything says so (ErrInterrupted: exit 130), never returns
// as if its partial output were the whole selection.
func TestReviewOutShowInterrupted(t *testing.T) {
	for _, format := range []string{ShowJSONL, ShowCSV} {
		ctx, cancel := context.WithCancel(context.Background())
		api := &cancelAfterScan{memAPI: bigShowTable(t, 2000), cancel: cancel}
		o := ShowOptions{Format: format}
		o.From, o.Segments, o.Writers, o.PageSize = "rec", 2, 2, 100
		p, err := PrepareShow(context.Background(), api, o)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		n, err := p.Show(ctx, api, &out, format, 0)
		if !errors.Is(err, ErrInterrupted) || n >= 2000 {
			t.Errorf("-o %s: %d items, err = %v; want fewer than 2000 and %v", format, n, err, ErrInterrupted)
		}
	}
}

// TestReviewOutShowCSVNothing: a csv show that selects nothing prints
// the key columns' header alone — a CSV with no rows — not a blank line
// (which CSV readers take for a row with one empty cell, or refuse).
func TestReviewOutShowCSVNothing(t *testing.T) {
	out, n := runShow(t, newMemAPIWith(t, "rec"), ShowOptions{Format: ShowCSV})
	if n != 0 || out != "pk\n" {
		t.Errorf("csv of nothing: %d items, %q; want the header pk alone", n, out)
	}
}
