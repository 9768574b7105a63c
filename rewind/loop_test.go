package rewind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// world is what a fake source's steps leave behind, across runs: the
// pasts made (by name), the items copied from each checkpoint, and the
// events in order.
type world struct {
	made        map[string]int // past name → times it was made
	checkpoints map[string]int // checkpoint → items copied so far
	writes      int            // items written, all runs together
	deleted     map[string]bool
	events      []string
	names       int // pasts planned so far
}

const fakeItems = 10

// fakeSource is a source whose steps act on a world. It fails, or is
// killed (panics: nothing after runs, as when the process dies), at the
// step named by failAt; a kill in start or copy comes after half the work
// (the past made, half the items copied).
type fakeSource struct {
	w      *world
	o      Options
	first_ string
	failAt string
	kill   bool
}

var errFake = errors.New("injected failure")

type killed struct{}

func (f *fakeSource) fail(step string) error {
	if f.failAt != step {
		return nil
	}
	f.w.events = append(f.w.events, step+" killed/failed")
	if f.kill {
		panic(killed{})
	}
	return errFake
}

func (f *fakeSource) first() string { return f.first_ }

func (f *fakeSource) prepare(_ context.Context, st *State, sel string) (*State, error) {
	if st != nil {
		f.w.events = append(f.w.events, "prepare resume "+st.Step)
		return st, f.fail("prepare")
	}
	f.w.names++
	st = newState(f.o, "orders", sel, f.first_, f.o.Now().UTC())
	st.RecoveryTable = fmt.Sprintf("orders-past-%d", f.w.names)
	f.w.events = append(f.w.events, "prepare new "+st.RecoveryTable)
	return st, f.fail("prepare")
}

func (f *fakeSource) confirm(st *State) string { return "rewind " + st.Table }
func (f *fakeSource) logAttrs(st *State) []any { return []any{"past", st.RecoveryTable} }
func (f *fakeSource) kept(st *State) string    { return st.RecoveryTable + " is kept" }
func (f *fakeSource) close()                   {}
func (f *fakeSource) record(step string, st *State) {
	f.w.events = append(f.w.events, step+" "+st.RecoveryTable)
}

// start makes the past unless a previous attempt made it (as
// ensureRestored adopts the recovery table, and export its exports).
func (f *fakeSource) start(_ context.Context, st *State) error {
	f.record("start", st)
	if f.w.made[st.RecoveryTable] == 0 {
		f.w.made[st.RecoveryTable]++
	}
	return f.fail(f.first_)
}

// copy copies the items the checkpoint has not recorded yet.
func (f *fakeSource) copy(_ context.Context, st *State, res *Result) error {
	f.record("copy", st)
	if f.w.made[st.RecoveryTable] == 0 || f.w.deleted[st.RecoveryTable] {
		return fmt.Errorf("copy from %s: no such past", st.RecoveryTable)
	}
	n := fakeItems
	if f.failAt == StepCopy {
		n = fakeItems / 2
	}
	for f.w.checkpoints[st.Checkpoint] < n {
		f.w.checkpoints[st.Checkpoint]++
		f.w.writes++
	}
	res.Copy = &copier.Summary{}
	return f.fail(StepCopy)
}

func (f *fakeSource) verify(_ context.Context, st *State, res *Result) error {
	f.record("verify", st)
	if f.w.checkpoints[st.Checkpoint] != fakeItems {
		return fmt.Errorf("%w: %d items copied of %d", ErrVerifyFailed, f.w.checkpoints[st.Checkpoint], fakeItems)
	}
	res.Diff = &copier.DiffResult{Identical: fakeItems}
	return f.fail(StepVerify)
}

func (f *fakeSource) cleanup(_ context.Context, st *State) error {
	f.record("cleanup", st)
	f.w.deleted[st.RecoveryTable] = true
	return f.fail(StepCleanup)
}

// fakeRun runs the loop once with a fake source over w, recovering a
// kill.
func fakeRun(t *testing.T, w *world, o Options, first, failAt string, kill bool) (res *Result, err error, wasKilled bool) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(killed); !ok {
				panic(r)
			}
			wasKilled = true
		}
	}()
	src := &fakeSource{w: w, o: o, first_: first, failAt: failAt, kill: kill}
	res, err = runWith(context.Background(), o, "orders", func() (source, error) { return src, nil })
	return res, err, false
}

func fakeOptions(t *testing.T) Options {
	clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return Options{
		State: filepath.Join(t.TempDir(), "run-state.json"), Files: &statefile.Store{}, ResumeCommand: "ddbrewind run …",
		Logger: slog.New(slog.DiscardHandler),
		Copy:   copier.Options{Selection: copier.Selection{KeyCondition: "pk = :p"}},
		Now:    func() time.Time { clock = clock.Add(time.Second); return clock },
	}
}

func newWorld() *world {
	return &world{made: map[string]int{}, checkpoints: map[string]int{}, deleted: map[string]bool{}}
}

// TestLoopResumesAfterEveryStep: whatever step a run fails or is killed
// at, the same command run again makes the past at most once (one past
// planned, made once), resumes the copy (every item written once),
// verifies before it cleans up, cleans up, and records done; a third run
// says already done and calls nothing; a rerun with another selection is
// refused with a usage error (exit 2) naming the state file.
func TestLoopResumesAfterEveryStep(t *testing.T) {
	for _, first := range []string{StepRestore, StepExport} {
		for _, failAt := range []string{"prepare", "confirm", first, StepCopy, StepVerify, StepCleanup} {
			for _, kill := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/kill=%v", first, failAt, kill)
				t.Run(name, func(t *testing.T) {
					testLoopResume(t, first, failAt, kill)
				})
			}
		}
	}
}

func testLoopResume(t *testing.T, first, failAt string, kill bool) {
	w, o := newWorld(), fakeOptions(t)
	o1 := o
	if failAt == "confirm" {
		o1.Confirm = func(string) error {
			if kill {
				panic(killed{})
			}
			return errFake
		}
	}
	_, err, wasKilled := fakeRun(t, w, o1, first, failAt, kill)
	if wasKilled != kill || (!kill && err == nil) {
		t.Fatalf("first run: killed %v, error %v; want killed %v or an error", wasKilled, err, kill)
	}
	if st := readStateFile(t, o.State); failAt == "prepare" || failAt == "confirm" {
		if st != nil {
			t.Fatalf("a run stopped before its first step left a state file at step %s", st.Step)
		}
	} else if st == nil || st.Step != failAt {
		t.Fatalf("after a failure at %s the state file is %+v, want step %s", failAt, st, failAt)
	}
	before := len(w.events)

	res, err, _ := fakeRun(t, w, o, first, "", false)
	if err != nil || res.AlreadyDone || res.State.Step != StepDone {
		t.Fatalf("rerun: %+v, %v; want done", res, err)
	}
	// A run stopped before it saved the state (prepare, confirm) started
	// nothing: the rerun plans its own past. Either way one past is made,
	// once.
	past := fmt.Sprintf("orders-past-%d", w.names)
	if len(w.made) != 1 || w.made[past] != 1 {
		t.Errorf("pasts made %v; want %s, made once", w.made, past)
	}
	if w.writes != fakeItems {
		t.Errorf("items written %d, want %d (the copy resumed from its checkpoint)", w.writes, fakeItems)
	}
	if !w.deleted[past] {
		t.Errorf("the past is not cleaned up")
	}
	rerun := w.events[before:]
	if i, j := slices.Index(rerun, "verify "+past), slices.Index(rerun, "cleanup "+past); j < 0 || (failAt != StepCleanup && (i < 0 || i > j)) {
		t.Errorf("rerun events %q: want a verification, then the cleanup", rerun)
	}
	stepsBefore := map[string]bool{}
	steps := []string{first, StepCopy, StepVerify, StepCleanup}
	for _, s := range steps[:max(slices.Index(steps, failAt), 0)] {
		stepsBefore[s] = true
	}
	for _, e := range rerun {
		if s, _, _ := strings.Cut(e, " "); stepsBefore[s] || (s == "start" && stepsBefore[first]) {
			t.Errorf("rerun ran %q again, done before the failure at %s (events %q)", e, failAt, rerun)
		}
	}

	n := len(w.events)
	res, err, _ = fakeRun(t, w, o, first, "", false)
	if err != nil || !res.AlreadyDone || len(w.events) != n {
		t.Errorf("third run: %+v, %v, events %q; want already done, nothing called", res, err, w.events[n:])
	}
	other := o
	other.Copy.DeleteExtra = true
	_, err, _ = fakeRun(t, w, other, first, "", false)
	if !usage.Is(err) || !strings.Contains(err.Error(), o.State) || len(w.events) != n {
		t.Errorf("rerun with another write mode: %v; want a usage error naming %s, nothing called", err, o.State)
	}
}

// TestLoopStepErrors: a failed step's message names the table and the
// step, then what is kept and how to resume (the cleanup: how to
// resume); a step that asks for it saves the state it changed.
func TestLoopStepErrors(t *testing.T) {
	for _, tt := range []struct{ failAt, want string }{
		{StepRestore, "run orders: restore step: injected failure; orders-past-1 is kept"},
		{StepCopy, "run orders: copy step: injected failure; orders-past-1 is kept"},
		{StepVerify, "run orders: verify step: injected failure; orders-past-1 is kept"},
		{StepCleanup, "run orders: cleanup step: injected failure; resume with: ddbrewind run …"},
	} {
		t.Run(tt.failAt, func(t *testing.T) {
			_, err, _ := fakeRun(t, newWorld(), fakeOptions(t), StepRestore, tt.failAt, false)
			if err == nil || err.Error() != tt.want || !errors.Is(err, errFake) {
				t.Errorf("error %v, want %q wrapping the step's error", err, tt.want)
			}
		})
	}
	st := &State{Version: 1, Table: "orders", Step: StepVerify}
	o := fakeOptions(t)
	f := &stepFailure{err: errFake, tail: "; the state file is kept", save: true}
	st.Step = StepCopy // what the step changed
	err := stepError(o, &fakeSource{}, st, &Result{}, StepVerify, f)
	if err == nil || err.Error() != "run orders: verify step: injected failure; the state file is kept" {
		t.Errorf("error %v", err)
	}
	if saved := readStateFile(t, o.State); saved == nil || saved.Step != StepCopy {
		t.Errorf("the state the step changed is not saved: %+v", saved)
	}
}

// TestLoopResumesGoldenStateFiles: each state file written before the
// loop existed (testdata/state) resumes at the step it records: the steps
// before it are not run again (no second restore or export), the rest run
// in order, and a finished one is already done.
func TestLoopResumesGoldenStateFiles(t *testing.T) {
	for _, c := range goldenStates() {
		t.Run(c.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "state", c.name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			o := fakeOptions(t)
			if err := os.WriteFile(o.State, data, 0o600); err != nil {
				t.Fatal(err)
			}
			o.Restore.Point, o.Export = c.o.Restore.Point, c.o.Export
			o.Copy = copier.Options{Selection: copier.Selection{KeyCondition: "pk = :p"}, DeleteExtra: true}
			first := StepRestore
			if c.st.Since != nil {
				first = StepExport
			}
			w := newWorld()
			w.made[c.st.RecoveryTable] = 1 // the past the state file's run made
			if c.st.Step == StepVerify || c.st.Step == StepCleanup {
				w.checkpoints[c.st.Checkpoint] = fakeItems
			}
			res, err, _ := fakeRun(t, w, o, first, "", false)
			if err != nil || res.State.Step != StepDone || res.AlreadyDone != (c.st.Step == StepDone) {
				t.Fatalf("resume: %+v, %v", res, err)
			}
			var want []string
			if c.st.Step != StepDone {
				want = append(want, "prepare resume "+c.st.Step)
			}
			steps := []string{"start", "copy", "verify", "cleanup"}
			from := slices.Index([]string{first, StepCopy, StepVerify, StepCleanup, StepDone}, c.st.Step)
			for _, s := range steps[min(from, len(steps)):] {
				want = append(want, s+" "+c.st.RecoveryTable)
			}
			if !slices.Equal(w.events, want) {
				t.Errorf("events %q, want %q", w.events, want)
			}
		})
	}
}

// readStateFile reads the state file at path (nil: none).
func readStateFile(t *testing.T, path string) *State {
	t.Helper()
	st, err := loadState(context.Background(), &statefile.Store{}, path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestLoopOnStepAtTheStepARunResumesAt: OnStep announces every step before
// it runs, also the one a run starts or resumes at (no advance announced
// it): run's progress line for the copy starts there, not before the
// restore (where its elapsed time and rate counted the restore's wait).
func TestLoopOnStepAtTheStepARunResumesAt(t *testing.T) {
	for _, resumeAt := range []string{StepRestore, StepCopy, StepVerify} {
		t.Run(resumeAt, func(t *testing.T) {
			w, o := newWorld(), fakeOptions(t)
			if resumeAt != StepRestore {
				if _, err, _ := fakeRun(t, w, o, StepRestore, resumeAt, false); err == nil {
					t.Fatalf("first run: no error at %s", resumeAt)
				}
			}
			before := len(w.events)
			o.OnStep = func(step string) { w.events = append(w.events, "onstep "+step) }
			if _, err, _ := fakeRun(t, w, o, StepRestore, "", false); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			events := w.events[before:]
			// The first step run is announced before it runs.
			var ran int
			for i, e := range events {
				if strings.HasPrefix(e, resumeAt+" ") || (resumeAt == StepRestore && strings.HasPrefix(e, "start ")) {
					ran = i
					break
				}
			}
			if i := slices.Index(events, "onstep "+resumeAt); i < 0 || i > ran {
				t.Errorf("events %q: want onstep %s before the step runs", events, resumeAt)
			}
		})
	}
}
