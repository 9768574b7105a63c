package copier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestReviewKeysUnitsSplitExactlyOnce: for every segment (or export data
// file) count and every worker count — fewer segments than workers, a
// count that is not a multiple of the workers — each unit belongs to
// exactly one worker, in every phase that has units.
func TestReviewKeysUnitsSplitExactlyOnce(t *testing.T) {
	for segments := 1; segments <= 13; segments++ {
		for workers := 1; workers <= 9; workers++ {
			owner := map[int]int{}
			exp := &exportJob{exp: &exportfile.Export{Files: make([]exportfile.File, segments)}}
			for w := range workers {
				srcs := []source{
					&tableSource{segments: segments, workerIndex: w, workerCount: workers},
					&exportSource{job: exp, workerIndex: w, workerCount: workers},
				}
				for i, src := range srcs {
					for _, u := range src.units(phaseCopy) {
						if prev, taken := owner[u.idx*2+i]; taken {
							t.Errorf("%d segments, %d workers: unit %d of source %d is worker %d's and %d's", segments, workers, u.idx, i, prev, w)
						}
						owner[u.idx*2+i] = w
					}
				}
				// A key condition is one Query: worker 0's.
				q := &tableSource{segments: segments, sel: Selection{KeyCondition: "pk = :p"}, workerIndex: w, workerCount: workers}
				if n := len(q.units(phaseDelete)); n != map[bool]int{true: 1, false: 0}[w == 0] {
					t.Errorf("%d workers: worker %d has %d query units", workers, w, n)
				}
			}
			if len(owner) != 2*segments {
				t.Errorf("%d segments, %d workers: %d of %d units have a worker", segments, workers, len(owner), 2*segments)
			}
		}
	}
}

// TestReviewKeysScanWorkersCopyEverythingOnce: a copy with --delete-extra
// split between K workers over S segments writes every item of the
// recovery table exactly once and deletes every extra exactly once, for
// S < K, S = K and S not a multiple of K; a worker without a segment ends
// cleanly (no error, nothing written) and its checkpoint, like every
// other's, says its units are done.
func TestReviewKeysScanWorkersCopyEverythingOnce(t *testing.T) {
	for _, segments := range []int{1, 2, 3, 7} {
		for _, workers := range []int{1, 2, 3, 4, 8} {
			t.Run(fmt.Sprintf("%d segments %d workers", segments, workers), func(t *testing.T) {
				m := newMemAPI()
				m.create("rec")
				m.create("main")
				src, main := confTables(90, 30, 20, 17)
				for _, it := range src {
					m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				for _, it := range main {
					m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				dir := t.TempDir()
				var written, deleted int64
				for w := range workers {
					cp := filepath.Join(dir, fmt.Sprintf("cp-%d", w))
					o := Options{From: "rec", To: "main", Segments: segments, PageSize: 7, Writers: 2, Backoff: fastRetries,
						DeleteExtra: true, WorkerIndex: w, WorkerCount: workers, Checkpoint: cp}
					p, err := Prepare(context.Background(), m, o)
					if err != nil {
						t.Fatal(err)
					}
					sum, err := p.Run(context.Background(), m)
					if err != nil {
						t.Fatalf("worker %d: %v", w, err)
					}
					if w >= segments && (sum.Counts.Written != 0 || sum.Counts.Read != 0) {
						t.Errorf("worker %d without a segment: read %d written %d", w, sum.Counts.Read, sum.Counts.Written)
					}
					written += sum.Counts.Written
					deleted += sum.Counts.Deleted
					st, err := checkpoint.Decode(mustRead(t, cp), cp)
					if err != nil {
						t.Fatal(err)
					}
					for k, u := range st.Units {
						if !u.Done {
							t.Errorf("worker %d: unit %s not done: %+v", w, k, u)
						}
					}
					if want := 2 * len((&tableSource{segments: segments, workerIndex: w, workerCount: workers}).units(phaseCopy)); len(st.Units) != want {
						t.Errorf("worker %d: checkpoint has %d units, want %d", w, len(st.Units), want)
					}
				}
				// Equal items are written too (overwrite); extras deleted.
				if written != 90 || deleted != 17 {
					t.Errorf("written %d deleted %d, want 90 and 17", written, deleted)
				}
				assertItems(t, "after the split copy", confByKey(src), m.tables["main"])
			})
		}
	}
}

// TestReviewKeysExportWorkersWithKeysFile: a copy from a full export
// selected by a keys file, with --delete-extra, split between K workers,
// for exports of fewer files than workers and of a count that is not a
// multiple: the selected items the export has are written once, the
// selected keys it lacks deleted from the main table once, everything
// else of the main table left alone. A worker's delete phase must find a
// key in another worker's data file (not delete it as an extra).
func TestReviewKeysExportWorkersWithKeysFile(t *testing.T) {
	items := confItems(60) // k000-k059 in the export
	var lines []string
	for i := 0; i < 60; i += 2 { // the even keys
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":"k%03d"}}`, i))
	}
	for i := range 9 { // keys the export lacks, in main
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":"x%02d"}}`, i))
	}
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, files := range []int{1, 2, 5} {
		for _, workers := range []int{1, 2, 3, 6} {
			t.Run(fmt.Sprintf("%d files %d workers", files, workers), func(t *testing.T) {
				e := newExportEnv(t, items, ddbtest.ExportOptions{Files: files})
				mainItems := []map[string]types.AttributeValue{}
				for i := range 60 {
					mainItems = append(mainItems, confItem(fmt.Sprintf("k%03d", i), "broken"))
				}
				for i := range 12 { // x00-x08 selected, x09-x11 not
					mainItems = append(mainItems, confItem(fmt.Sprintf("x%02d", i), "extra"))
				}
				for _, it := range mainItems {
					e.api.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				var written, deleted int64
				for w := range workers {
					o := e.opts
					o.DeleteExtra, o.WorkerIndex, o.WorkerCount, o.Backoff = true, w, workers, fastRetries
					o.Selection = Selection{KeysFile: keys}
					p, err := Prepare(context.Background(), e.api, o)
					if err != nil {
						t.Fatal(err)
					}
					sum, err := p.Run(context.Background(), e.api)
					if err != nil {
						t.Fatalf("worker %d: %v", w, err)
					}
					written += sum.Counts.Written
					deleted += sum.Counts.Deleted
				}
				want := map[string]map[string]types.AttributeValue{}
				for i := range 60 {
					it := confItem(fmt.Sprintf("k%03d", i), "broken")
					if i%2 == 0 {
						it = items[i]
					}
					want[ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				for i := 9; i < 12; i++ {
					it := confItem(fmt.Sprintf("x%02d", i), "extra")
					want[ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				if written != 30 || deleted != 9 {
					t.Errorf("written %d deleted %d, want 30 and 9", written, deleted)
				}
				assertItems(t, "after the split copy", want, e.main())
			})
		}
	}
}

// TestReviewKeysExportWorkersDeleteExtra: a whole full export copied with
// --delete-extra by K workers, for exports of fewer files than workers:
// each worker's delete phase scans its segments of the main table and
// looks its keys up in the whole export (not only its own files), so the
// items written are the export's, once, and only the true extras go.
func TestReviewKeysExportWorkersDeleteExtra(t *testing.T) {
	items := confItems(40)
	for _, files := range []int{1, 3} {
		for _, workers := range []int{2, 5} {
			t.Run(fmt.Sprintf("%d files %d workers", files, workers), func(t *testing.T) {
				e := newExportEnv(t, items, ddbtest.ExportOptions{Files: files})
				for i := range 40 {
					it := confItem(fmt.Sprintf("k%03d", i), "broken")
					e.api.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				for i := range 7 {
					it := confItem(fmt.Sprintf("x%02d", i), "extra")
					e.api.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				var written, deleted int64
				for w := range workers {
					o := e.opts
					o.DeleteExtra, o.WorkerIndex, o.WorkerCount, o.Backoff, o.Segments = true, w, workers, fastRetries, 3
					p, err := Prepare(context.Background(), e.api, o)
					if err != nil {
						t.Fatal(err)
					}
					sum, err := p.Run(context.Background(), e.api)
					if err != nil {
						t.Fatalf("worker %d: %v", w, err)
					}
					written += sum.Counts.Written
					deleted += sum.Counts.Deleted
				}
				if written != 40 || deleted != 7 {
					t.Errorf("written %d deleted %d, want 40 and 7", written, deleted)
				}
				assertItems(t, "after the split copy", byKey(items), e.main())
			})
		}
	}
}
