// Package tempfile creates private temporary files that leave nothing
// behind, even when the process is killed (kill -9, out of memory): the file
// is removed from its directory as soon as it is created, where the
// platform allows it, and lives on only as long as it is open.
//
// Export data files, show's CSV spool and the local copies of S3 journals
// and keys files hold item data or keys: none of it may outlive the command
// in $TMPDIR.
package tempfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
)

// File is an open private (0600) temporary file. Close it to release it.
type File struct {
	*os.File
	// name is the file's name in its directory while it still has one
	// (platforms that cannot remove an open file); "" once removed.
	name string
	// path reopens the file: its /proc/self/fd link once removed (Linux),
	// else name.
	path string
}

// Create creates a new temporary file in dir (os.TempDir() when empty)
// named after pattern (see os.CreateTemp), mode 0600, and removes its name
// at once where the file can still be opened again by Path (Linux, through
// /proc/self/fd) or is only read through the returned handle (reopen
// false). Where it cannot be removed at once, Close removes it.
func Create(dir, pattern string, reopen bool) (*File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("create a temporary file: %w", err)
	}
	t := &File{File: f, name: f.Name(), path: f.Name()}
	if err := f.Chmod(0o600); err != nil {
		t.Close()
		return nil, fmt.Errorf("create a temporary file: %w", err)
	}
	if reopen {
		fd := fmt.Sprintf("/proc/self/fd/%d", f.Fd())
		if _, err := os.Stat(fd); runtime.GOOS != "linux" || err != nil {
			return t, nil // no way to reopen it without its name
		}
		t.path = fd
	}
	if os.Remove(t.name) == nil {
		t.name = ""
	}
	return t, nil
}

// Path returns a name that opens the file again while it is open: on
// Linux, once removed, /proc/self/fd/N; else its name.
func (t *File) Path() string { return t.path }

// Close closes the file and removes its name if it still has one. It is
// idempotent.
func (t *File) Close() error {
	var err error
	if t.File != nil {
		err = t.File.Close()
		t.File = nil
	}
	if t.name != "" {
		if rerr := os.Remove(t.name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && err == nil {
			err = rerr
		}
		t.name = ""
	}
	return err
}
