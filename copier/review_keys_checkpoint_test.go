package copier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// lookupCounter is a memAPI that counts, per key, how often BatchGetItem
// was asked for it.
type lookupCounter struct {
	*memAPI
	mu     sync.Mutex
	lookup map[string]int
}

func (l *lookupCounter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	l.mu.Lock()
	for _, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			l.lookup[ddbjson.KeyString(k)]++
		}
	}
	l.mu.Unlock()
	return l.memAPI.BatchGetItem(ctx, in, optFns...)
}

// recMain returns a lookupCounter whose "rec" holds k000 up to n and
// whose "main" is empty.
func recMain(n int) *lookupCounter {
	m := newMemAPI()
	m.create("rec")
	m.create("main")
	src, _ := confTables(n, 0, 0, 0)
	for _, it := range src {
		m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	return &lookupCounter{memAPI: m, lookup: map[string]int{}}
}

// keysText is a keys file listing the pks, one per line.
func keysText(pks []string) string {
	var b strings.Builder
	for _, pk := range pks {
		fmt.Fprintf(&b, `{"pk":{"S":%q}}`+"\n", pk)
	}
	return b.String()
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func saveState(t *testing.T, path string, st *checkpoint.State) {
	t.Helper()
	data, err := checkpoint.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	writeText(t, path, string(data))
}

func pkOf(ks string) string {
	k, err := ddbjson.ParseItem([]byte(ks))
	if err != nil {
		panic(err)
	}
	if s, ok := k["pk"].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ks // not a key of the test's tables
}

// looked returns the pks looked up, sorted, and fails on a key looked up
// more than once.
func (l *lookupCounter) looked(t *testing.T) []string {
	t.Helper()
	var pks []string
	for ks, n := range l.lookup {
		if n != 1 {
			t.Errorf("key %s looked up %d times, want once", ks, n)
		}
		pks = append(pks, pkOf(ks))
	}
	slices.Sort(pks)
	return pks
}

// TestReviewKeysCheckpointFollowsTheKeysFile: a keys file's checkpoint
// positions are its line numbers, so a checkpoint is only used with the
// same keys file content: the same path (or "-") holding other keys is
// another selection, refused (exit 2) instead of skipping the first lines
// of the new file. A checkpoint written before the keys were recorded
// still resumes, and resuming the same file copies exactly the lines after
// the position.
func TestReviewKeysCheckpointFollowsTheKeysFile(t *testing.T) {
	dir := t.TempDir()
	keys, cp := filepath.Join(dir, "keys.jsonl"), filepath.Join(dir, "cp.json")
	var first []string
	for i := range 200 {
		first = append(first, fmt.Sprintf("k%03d", i))
	}
	writeText(t, keys, keysText(first))
	api := recMain(400)
	o := Options{From: "rec", To: "main", Segments: 1, Writers: 2, Backoff: fastRetries, Checkpoint: cp, Selection: Selection{KeysFile: keys}}
	p, err := Prepare(context.Background(), api, o)
	if err != nil {
		t.Fatal(err)
	}
	st := p.state
	p.Close()
	st.Units["copy/0"] = checkpoint.Unit{Line: 100} // killed after the first chunk
	saveState(t, cp, st)

	// Another file at the same path: k200-k399. Resuming it at line 100
	// would never copy k200-k299.
	var second []string
	for i := range 200 {
		second = append(second, fmt.Sprintf("k%03d", 200+i))
	}
	writeText(t, keys, keysText(second))
	if p, err := Prepare(context.Background(), api, o); err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "was made for another keys file") {
		if err == nil {
			p.Close()
		}
		t.Fatalf("resume with other keys in %s: %v; want a usage error saying the keys file changed", keys, err)
	}

	// The same keys again: resumed, only lines 101-200 copied.
	writeText(t, keys, keysText(first))
	p, err = Prepare(context.Background(), api, o)
	if err != nil || !p.Resumed() {
		t.Fatalf("the same keys file: %v, resumed %v", err, p != nil && p.Resumed())
	}
	if _, err := p.Run(context.Background(), api); err != nil {
		t.Fatal(err)
	}
	if got := api.looked(t); !slices.Equal(got, first[100:]) {
		t.Errorf("resumed at line 100, looked up %d keys (%v…), want k100-k199", len(got), got[:min(3, len(got))])
	}

	// A checkpoint without the keys file's digest (written before it was
	// recorded) still resumes.
	old := *st
	old.Keys = ""
	saveState(t, cp, &old)
	p, err = Prepare(context.Background(), api, o)
	if err != nil || !p.Resumed() {
		t.Fatalf("an old checkpoint: %v, resumed %v", err, p != nil && p.Resumed())
	}
	if p.state.Keys != st.Keys { // saved from now on: a later resume with other keys is refused
		t.Errorf("an old checkpoint resumed records keys %q, want the file's digest %q", p.state.Keys, st.Keys)
	}
	p.Close()
}

// TestReviewKeysFileFromStdinCheckpoint: with --keys-file - the keys
// file's name says nothing of its content; a resume with other keys on
// stdin is refused, with the same keys it resumes.
func TestReviewKeysFileFromStdinCheckpoint(t *testing.T) {
	cp := filepath.Join(t.TempDir(), "cp.json")
	api := recMain(300)
	var a, b []string
	for i := range 150 {
		a, b = append(a, fmt.Sprintf("k%03d", i)), append(b, fmt.Sprintf("k%03d", 299-i))
	}
	o := Options{From: "rec", To: "main", Segments: 1, Writers: 2, Backoff: fastRetries, Checkpoint: cp, Selection: Selection{KeysFile: "-"}}
	o.Stdin = strings.NewReader(keysText(a))
	p, err := Prepare(context.Background(), api, o)
	if err != nil {
		t.Fatal(err)
	}
	st := p.state
	p.Close()
	st.Units["copy/0"] = checkpoint.Unit{Line: 100}
	saveState(t, cp, st)

	o.Stdin = strings.NewReader(keysText(b))
	if p, err := Prepare(context.Background(), api, o); err == nil || !usage.Is(err) {
		if err == nil {
			p.Close()
		}
		t.Fatalf("resume with other keys on stdin: %v; want a usage error", err)
	}
	o.Stdin = strings.NewReader(keysText(a))
	p, err = Prepare(context.Background(), api, o)
	if err != nil || !p.Resumed() {
		t.Fatalf("the same keys on stdin: %v, resumed %v", err, p != nil && p.Resumed())
	}
	p.Close()
}

// TestReviewKeysResumeAtEveryPosition: a keys file with blank lines,
// CRLF line ends, no final newline and keys repeated (in one chunk and
// across chunks), resumed from every position a checkpoint can hold, by
// one worker or split between several: the keys looked up are exactly
// the distinct keys first listed after the position, each once, in the
// worker whose chunk lists it.
func TestReviewKeysResumeAtEveryPosition(t *testing.T) {
	// 330 lines: k000-k299 with a blank line every 37 lines and a repeat
	// of an earlier key every 11 lines.
	var lines []string
	firstLine := map[string]int{} // pk → the line first listing it
	n := 0
	for len(lines) < 330 {
		l := len(lines) + 1
		switch {
		case l%37 == 0:
			lines = append(lines, "  ")
		case l%11 == 0 && n > 0:
			pk := fmt.Sprintf("k%03d", (l*7)%n)
			lines = append(lines, fmt.Sprintf(`{"pk":{"S":%q}}`, pk))
		default:
			pk := fmt.Sprintf("k%03d", n)
			n++
			firstLine[pk] = l
			lines = append(lines, fmt.Sprintf(`{"pk":{"S":%q}}`, pk))
		}
	}
	text := strings.Join(lines, "\r\n") // no final newline
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	writeText(t, keys, text)
	for _, workers := range []int{1, 2, 3, 5} {
		for _, pos := range []int{0, 100, 200, 300, 400} {
			t.Run(fmt.Sprintf("%d workers from line %d", workers, pos), func(t *testing.T) {
				api := recMain(400)
				var want []string
				for pk, l := range firstLine {
					if l > pos {
						want = append(want, pk)
					}
				}
				slices.Sort(want)
				var written, read, matched int64
				seenBefore := map[string]struct{}{}
				for w := range workers {
					cp := filepath.Join(t.TempDir(), "cp.json")
					o := Options{From: "rec", To: "main", Segments: 1, Writers: 2, Backoff: fastRetries, Checkpoint: cp,
						WorkerIndex: w, WorkerCount: workers, Selection: Selection{KeysFile: keys}}
					p, err := Prepare(context.Background(), api, o)
					if err != nil {
						t.Fatal(err)
					}
					st := p.state
					p.Close()
					st.Units["copy/0"] = checkpoint.Unit{Line: pos}
					saveState(t, cp, st)
					p, err = Prepare(context.Background(), api, o)
					if err != nil || !p.Resumed() {
						t.Fatalf("worker %d: %v", w, err)
					}
					sum, err := p.Run(context.Background(), api)
					if err != nil {
						t.Fatalf("worker %d: %v", w, err)
					}
					written += sum.Counts.Written
					read += sum.Counts.Read
					matched += sum.Counts.Matched
					// This worker's keys are those first listed in its chunks.
					for ks := range api.lookup {
						if _, earlier := seenBefore[ks]; earlier {
							continue
						}
						seenBefore[ks] = struct{}{}
						if l := firstLine[pkOf(ks)]; ((l-1)/keysPerGet)%workers != w {
							t.Errorf("worker %d looked up %s, first listed on line %d (chunk %d)", w, ks, l, (l-1)/keysPerGet)
						}
					}
					got, err := checkpoint.Decode(mustRead(t, cp), cp)
					if err != nil || !got.Units["copy/0"].Done {
						t.Errorf("worker %d: checkpoint %+v, %v; want copy/0 done", w, got, err)
					}
				}
				if got := api.looked(t); !slices.Equal(got, want) {
					t.Errorf("looked up %d keys, want %d", len(got), len(want))
				}
				if read != int64(len(want)) || matched != int64(len(want)) {
					t.Errorf("read %d matched %d, want %d keys looked up and found", read, matched, len(want))
				}
				if written != int64(len(want)) || len(api.tables["main"]) != len(want) {
					t.Errorf("written %d, main holds %d; want %d", written, len(api.tables["main"]), len(want))
				}
			})
		}
	}
}

// TestReviewKeysPositions: the positions a keys file's unit records are
// the last line of each complete 100-line chunk (whoever's chunk it is),
// Done on the last, so that a kill after any page resumes after exactly
// the lines handled; the keys of a chunk go out in one page, only in its
// worker, a key listed again (in any chunk) not at all.
func TestReviewKeysPositions(t *testing.T) {
	var pks []string
	for i := range 250 {
		pks = append(pks, fmt.Sprintf("k%03d", i))
	}
	pks[150] = "k003" // line 151 repeats line 4
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	writeText(t, keys, keysText(pks))
	type page struct {
		n   int
		pos checkpoint.Unit
	}
	tests := []struct {
		from            int
		worker, workers int
		want            []page
	}{
		{0, 0, 1, []page{{100, checkpoint.Unit{Line: 100}}, {99, checkpoint.Unit{Line: 200}}, {50, checkpoint.Unit{Line: 300, Done: true}}}},
		{0, 1, 2, []page{{0, checkpoint.Unit{Line: 100}}, {99, checkpoint.Unit{Line: 200}}, {0, checkpoint.Unit{Line: 300, Done: true}}}},
		{0, 0, 2, []page{{100, checkpoint.Unit{Line: 100}}, {0, checkpoint.Unit{Line: 200}}, {50, checkpoint.Unit{Line: 300, Done: true}}}},
		{100, 0, 1, []page{{99, checkpoint.Unit{Line: 200}}, {50, checkpoint.Unit{Line: 300, Done: true}}}},
		{200, 0, 1, []page{{50, checkpoint.Unit{Line: 300, Done: true}}}},
		{250, 0, 1, []page{{0, checkpoint.Unit{Line: 300, Done: true}}}},
		{300, 2, 3, []page{{0, checkpoint.Unit{Line: 400, Done: true}}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("from %d worker %d of %d", tt.from, tt.worker, tt.workers), func(t *testing.T) {
			api := recMain(300)
			o := Options{From: "rec", To: "main", Segments: 1, WorkerIndex: tt.worker, WorkerCount: tt.workers, Selection: Selection{KeysFile: keys}}
			p, err := Prepare(context.Background(), api, o)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			src := p.source(newExecutor(api, p.opts, p.job.keys.names, "main"))
			var got []page
			err = src.read(context.Background(), unit{phase: phaseCopy}, checkpoint.Unit{Line: tt.from}, func(items, absent []map[string]types.AttributeValue, pos checkpoint.Unit) error {
				got = append(got, page{len(items) + len(absent), pos})
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b page) bool { return a.n == b.n && a.pos.Line == b.pos.Line && a.pos.Done == b.pos.Done }) {
				t.Errorf("pages %+v, want %+v", got, tt.want)
			}
		})
	}
}
