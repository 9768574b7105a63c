package rewind

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// noCalls is an API whose every call panics: a run refused by the lock
// must not call anything.
type noCalls struct{ API }

// TestRunRefusedWhileStateLocked: while another run holds the state file
// (here, through the package API, as a second process would), Run and
// Run --since are refused at once with a usage error naming the holder:
// no AWS call, no state file, no confirmation asked. Once released, the
// run gets past the lock.
func TestRunRefusedWhileStateLocked(t *testing.T) {
	ctx := context.Background()
	files := &statefile.Store{}
	since := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"run", Options{Restore: restore.Options{Table: "orders", Point: restore.Point{Latest: true}}}},
		{"run --since", Options{Restore: restore.Options{Table: "orders"}, Export: export.Options{Since: since, Bucket: "b"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state.json")
			held, err := files.Lock(ctx, state, statefile.LockOptions{Host: "batch-attempt-1", PID: 77})
			if err != nil {
				t.Fatal(err)
			}
			o := tt.o
			o.State, o.Files = state, files
			o.Confirm = func(string) error { t.Error("confirmation asked by a refused run"); return nil }
			_, err = Run(ctx, noCalls{}, o)
			var he *statefile.HeldError
			if !errors.As(err, &he) || !usage.Is(err) || !strings.Contains(err.Error(), "host batch-attempt-1, pid 77") {
				t.Fatalf("Run while locked: %v, want a usage error naming the holder", err)
			}
			if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the refused run wrote the state file: %v", err)
			}
			if err := held.Release(ctx); err != nil {
				t.Fatal(err)
			}
			// Released: the run takes the lock and goes on (to its first
			// call, which noCalls refuses by panicking, or to a check of
			// its options).
			func() {
				defer func() { _ = recover() }()
				if _, err := Run(ctx, noCalls{}, o); errors.As(err, &he) {
					t.Errorf("the run after the release: %v", err)
				}
			}()
			if _, err := os.Stat(statefile.LockPath(state)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("lock file left after the run: %v", err)
			}
		})
	}
}
