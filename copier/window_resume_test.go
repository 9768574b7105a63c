package copier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// windowTable is a main table of n keys k000… that a window changed from
// "start" to "end", those of later written again after it ("later"), and
// the plan of that window's rewind with checkpoint cp and the options of
// o.
type windowTable struct {
	m   *memAPI
	chs changes
	cp  string
}

func newWindowTable(t *testing.T, n int, later ...int) *windowTable {
	m := newMemAPI()
	m.create("main")
	wt := &windowTable{m: m, cp: filepath.Join(t.TempDir(), "cp.json")}
	for i := range n {
		pk := fmt.Sprintf("k%03d", i)
		wt.chs = append(wt.chs, window.Change{Keys: pkKey(pk), Old: confItem(pk, "start"), New: confItem(pk, "end")})
		wt.set(confItem(pk, "end"))
	}
	for _, i := range later {
		wt.set(confItem(fmt.Sprintf("k%03d", i), "later"))
	}
	return wt
}

func pkKey(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

func (wt *windowTable) set(it map[string]types.AttributeValue) {
	wt.m.mu.Lock()
	defer wt.m.mu.Unlock()
	wt.m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
}

func (wt *windowTable) get(pk string) map[string]types.AttributeValue {
	wt.m.mu.Lock()
	defer wt.m.mu.Unlock()
	return wt.m.tables["main"][ddbjson.KeyString(pkKey(pk))]
}

func (wt *windowTable) plan(t *testing.T, o Options) *Plan {
	t.Helper()
	c := append(changes(nil), wt.chs...)
	w, err := window.Build(nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	o.To, o.From, o.Checkpoint = "main", "export", wt.cp
	p, err := prepareWindowRewind(context.Background(), wt.m, o, w)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWindowResumesAtItsPosition: a rewind resumed from a checkpoint that
// a kill left at key 200 of 250 reads and rewinds only the keys from
// there: the keys before are taken as done (here, where the test wrote the
// checkpoint by hand, they are still in their end state, which shows they
// are not read again).
func TestWindowResumesAtItsPosition(t *testing.T) {
	wt := newWindowTable(t, 250)
	p := wt.plan(t, Options{})
	st := p.state
	p.Close()
	st.Units["copy/0"] = checkpoint.Unit{Line: 200}
	data, err := checkpoint.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wt.cp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p = wt.plan(t, Options{})
	if !p.Resumed() {
		t.Fatal("the checkpoint was not resumed")
	}
	sum, err := p.Run(context.Background(), wt.m)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.Read != 50 || sum.Counts.Written != 50 {
		t.Errorf("read %d, wrote %d; want 50 and 50 (keys 200 to 249)", sum.Counts.Read, sum.Counts.Written)
	}
	for pk, want := range map[string]string{"k000": "end", "k199": "end", "k200": "start", "k249": "start"} {
		if got := wt.get(pk); !itemeq.Items(got, confItem(pk, want)) {
			t.Errorf("%s after the resume: %v, want its %s state", pk, got, want)
		}
	}
}

// TestOverwriteConflictKeysAfterACheckpoint: a rewind that ended with
// conflicts (k003, k007) left a complete checkpoint recording them; the
// same rewind again with --overwrite-conflicts-keys naming one of them
// rewinds the window again from its start and overwrites that one only
// (the other is still a conflict, exit 3); naming none of them, it rewinds
// nothing and reports both again. Naming the only conflict left, it
// finishes.
func TestOverwriteConflictKeysAfterACheckpoint(t *testing.T) {
	wt := newWindowTable(t, 250, 3, 7)
	keysFile := func(pks ...string) string {
		f := filepath.Join(t.TempDir(), "keys.jsonl")
		var data []byte
		for _, pk := range pks {
			data = append(data, fmt.Sprintf(`{"pk":{"S":%q}}`+"\n", pk)...)
		}
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, tc := range []struct {
		name       string
		keys       string // the keys file; "" none
		conflicts  []string
		k003, k007 string // their values after the run
	}{
		{"first run", "", []string{"k003", "k007"}, "later", "later"},
		{"naming none of the conflicts", keysFile("k100"), []string{"k003", "k007"}, "later", "later"},
		{"naming k007", keysFile("k007", "k100"), []string{"k003"}, "later", "start"},
		{"naming k003, the only one left", keysFile("k003"), nil, "start", "start"},
	} {
		p := wt.plan(t, Options{OverwriteConflictsKeys: tc.keys})
		sum, err := p.Run(context.Background(), wt.m)
		var ce *ConflictError
		var got []string
		for _, k := range sum.Conflicts {
			for _, pk := range []string{"k003", "k007"} {
				if k == ddbjson.KeyString(pkKey(pk)) {
					got = append(got, pk)
				}
			}
		}
		switch {
		case len(tc.conflicts) > 0 && !errors.As(err, &ce), len(tc.conflicts) == 0 && err != nil:
			t.Fatalf("%s: %v; want conflicts %v", tc.name, err, tc.conflicts)
		case fmt.Sprint(got) != fmt.Sprint(tc.conflicts) || len(sum.Conflicts) != len(tc.conflicts):
			t.Fatalf("%s: conflicts %v, want %v", tc.name, sum.Conflicts, tc.conflicts)
		}
		for pk, want := range map[string]string{"k003": tc.k003, "k007": tc.k007} {
			if got := wt.get(pk); !itemeq.Items(got, confItem(pk, want)) {
				t.Errorf("%s: %s is %v, want its %q item", tc.name, pk, got, want)
			}
		}
	}
}

// TestWindowChangedBackAndForeignKeys: a key the window changed and
// changed back needs nothing — written again after the window, it is left
// alone like a key the window never touched, neither rewound nor a
// conflict; a window whose key is not the table's (a number where the
// table's key is a string) is refused (exit 2) before anything is written.
func TestWindowChangedBackAndForeignKeys(t *testing.T) {
	wt := newWindowTable(t, 3)
	wt.chs = append(wt.chs, window.Change{Keys: pkKey("back"), Old: confItem("back", "same"), New: confItem("back", "same")})
	wt.set(confItem("back", "written after the window"))
	sum, err := wt.plan(t, Options{}).Run(context.Background(), wt.m)
	if err != nil || sum.Counts.Conflicts != 0 || sum.Counts.Written != 3 {
		t.Fatalf("rewind: %v, %d conflicts, %d written; want no error, 0 and 3", err, sum.Counts.Conflicts, sum.Counts.Written)
	}
	if got := wt.get("back"); !itemeq.Items(got, confItem("back", "written after the window")) {
		t.Errorf("the changed-back key is %v, want it left alone", got)
	}

	wt = newWindowTable(t, 3)
	n := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberN{Value: "7"}}
	c := append(wt.chs, window.Change{Keys: n, New: n})
	w, err := window.Build(nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = prepareWindowRewind(context.Background(), wt.m, Options{To: "main", OverwriteConflicts: true}, w)
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), `key attribute "pk" has type N, the table says S`) {
		t.Fatalf("a window of another key type: %v; want a usage error", err)
	}
}

// TestWindowVerificationOverwritesNoConflict: run's verification is the
// rewind again as a dry run without --overwrite-conflicts(-keys): a key
// that file names, written again after the copy step overwrote it, is a
// conflict there (which sends the run back to a copy pass that lists or
// overwrites it), not an item "left to write". On the code before, the
// job's window kept the copy's keys file for the verification too.
func TestWindowVerificationOverwritesNoConflict(t *testing.T) {
	wt := newWindowTable(t, 3, 1)
	o := windowExports(t, wt.m, "main", wt.chs)
	dirs := o.FromExport
	o.FromExport, o.To = nil, "main"
	o.OverwriteConflictsKeys = filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(o.OverwriteConflictsKeys, []byte(`{"pk":{"S":"k001"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := PrepareWindowJob(context.Background(), wt.m, o)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	p, err := j.Rewind(context.Background(), wt.m, dirs, "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := p.Run(context.Background(), wt.m); err != nil || sum.Counts.Written != 3 {
		t.Fatalf("the copy: %v, %d written; want k001 overwritten with the others (3)", err, sum.Counts.Written)
	}
	wt.set(confItem("k001", "written again after the copy"))
	v, err := j.Rewind(context.Background(), wt.m, dirs, "", true, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := v.Run(context.Background(), wt.m)
	var ce *ConflictError
	if !errors.As(err, &ce) || sum.Counts.Written != 0 || len(ce.Keys) != 1 || ce.Keys[0] != ddbjson.KeyString(pkKey("k001")) {
		t.Fatalf("the verification: %v, %d left to write; want k001 a conflict and nothing left to write", err, sum.Counts.Written)
	}
	if got := wt.get("k001"); !itemeq.Items(got, confItem("k001", "written again after the copy")) {
		t.Errorf("the dry run changed k001: %v", got)
	}
}

// stoppingAPI is the fake that cancels its context after its first after
// PutItem calls (a kill between two pages of a rewind, at a page's end:
// the writes in flight finish) and counts the writes of each key.
type stoppingAPI struct {
	*memAPI
	after  int
	cancel context.CancelFunc
	mu     sync.Mutex
	puts   map[string]int
	n      int
}

func (s *stoppingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := s.memAPI.PutItem(ctx, in, opts...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.puts[ddbjson.KeyString(keyOf(in.Item, memKey))]++
	}
	if s.n++; s.n == s.after && s.cancel != nil {
		s.cancel()
	}
	return out, err
}

// TestWindowConflictsSurviveAnInterrupt: a rewind with a checkpoint stopped
// after its first pages (k003 found a conflict there) and run again reports
// k003 (exit 3) although its page is behind the checkpoint's position, and
// writes every other key exactly once over the two runs.
func TestWindowConflictsSurviveAnInterrupt(t *testing.T) {
	wt := newWindowTable(t, 250, 3)
	ctx, cancel := context.WithCancel(context.Background())
	api := &stoppingAPI{memAPI: wt.m, after: 120, cancel: cancel, puts: map[string]int{}}
	o := Options{PageSize: 10, Writers: 1}
	p := wt.plan(t, o)
	_, err := p.Run(ctx, api)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("the first run: %v; want it interrupted", err)
	}
	st, err := checkpoint.Decode(mustRead(t, wt.cp), wt.cp)
	if err != nil {
		t.Fatal(err)
	}
	if pos := st.Units["copy/0"]; pos.Done || pos.Line == 0 || pos.Line >= 250 {
		t.Fatalf("the checkpoint after the interrupt is at %+v; want a position inside the window", pos)
	}
	api.cancel = nil
	p = wt.plan(t, o)
	if !p.Resumed() {
		t.Fatal("the second run does not resume the checkpoint")
	}
	sum, err := p.Run(context.Background(), api)
	var ce *ConflictError
	if !errors.As(err, &ce) || len(sum.Conflicts) != 1 || sum.Conflicts[0] != ddbjson.KeyString(pkKey("k003")) {
		t.Fatalf("the resumed run: %v, conflicts %v; want k003 reported (exit 3)", err, sum.Conflicts)
	}
	for i := range 250 {
		pk := fmt.Sprintf("k%03d", i)
		want := 1
		if pk == "k003" {
			want = 0
		}
		if n := api.puts[ddbjson.KeyString(pkKey(pk))]; n != want {
			t.Errorf("%s written %d times over the two runs, want %d", pk, n, want)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
