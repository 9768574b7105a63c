package tempfile

import (
	"os"
	"runtime"
	"testing"
)

// TestCreateLeavesNoName: the file is gone from its directory as soon as
// it is created, stays readable and writable through the handle and, when
// asked, through Path (Linux); Close releases it.
func TestCreateLeavesNoName(t *testing.T) {
	for _, reopen := range []bool{false, true} {
		dir := t.TempDir()
		f, err := Create(dir, "x-*", reopen)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("items\n"); err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(dir); runtime.GOOS == "linux" && len(entries) != 0 {
			t.Errorf("reopen %v: %d names left in the directory", reopen, len(entries))
		}
		if reopen {
			if data, err := os.ReadFile(f.Path()); err != nil || string(data) != "items\n" {
				t.Errorf("reopen through %s: %q, %v", f.Path(), data, err)
			}
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("reopen %v: %d names left after Close", reopen, len(entries))
		}
	}
}
