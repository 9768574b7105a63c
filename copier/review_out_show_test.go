package copier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

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
