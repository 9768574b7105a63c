package statefile

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// An atomic replacement syncs the new content to disk before the rename
// makes it the state file, so that a crash of the machine leaves the old
// state or the new one, never an empty or torn file; the state file is
// untouched until then, and a failed sync leaves it as it was.
func TestAtomicWriteSyncsBeforeRename(t *testing.T) {
	ctx := context.Background()
	state := filepath.Join(t.TempDir(), "state.json")
	var seen []string
	s := &Store{syncFile: func(f *os.File) error {
		tmp, _ := os.ReadFile(f.Name())
		cur, _ := os.ReadFile(state)
		seen = append(seen, string(tmp)+" over "+string(cur))
		return f.Sync()
	}}
	for _, v := range []string{"one", "two"} {
		if err := s.Write(ctx, state, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"one over ", "two over one"}; !slices.Equal(seen, want) {
		t.Errorf("synced %q, want %q", seen, want)
	}
	s.syncFile = func(*os.File) error { return os.ErrDeadlineExceeded }
	if err := s.Write(ctx, state, []byte("three")); err == nil || !strings.Contains(err.Error(), "write "+state) {
		t.Fatalf("a failed sync: %v, want an error naming the file", err)
	}
	if data, _ := os.ReadFile(state); string(data) != "two" {
		t.Errorf("state file %q after a failed sync, want the old %q", data, "two")
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(state), ".state.json.tmp-*")); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
}
