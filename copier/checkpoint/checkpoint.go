// Package checkpoint stores the progress of a copy so that running the same
// command again resumes instead of starting over.
//
// A checkpoint records, per unit of work (a Scan segment, the Query, or the
// keys file of one phase), the position after the last page that was fully
// written. It is written atomically (temp file, fsync, rename) with mode
// 0600, so a kill at any instant leaves either the old or the new file. It
// does not record individual items: a resumed copy may write the items of a
// partly written page again, never skip them.
package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Version is the file format version.
const Version = 1

// Unit is the progress of one unit of work.
type Unit struct {
	// Done is true when the unit was read and written to the end.
	Done bool `json:"done,omitempty"`
	// After is the typed-JSON LastEvaluatedKey after the last fully
	// written page (Scan and Query); empty means start from the beginning.
	After json.RawMessage `json:"after,omitempty"`
	// Line is the last keys-file line fully handled (keys file).
	Line int `json:"line,omitempty"`
}

// State is the content of a checkpoint file.
type State struct {
	Version int `json:"version"`
	// Fingerprint identifies the copy: tables, selection, write mode,
	// segment count and worker split. A checkpoint is only used for the same
	// fingerprint.
	Fingerprint string `json:"fingerprint"`
	// Describe is the human form of the fingerprint, for error messages.
	Describe string `json:"describe"`
	// Units maps "phase/unit" (e.g. "copy/3") to its progress.
	Units   map[string]Unit `json:"units"`
	Updated time.Time       `json:"updated"`
}

// Load reads a checkpoint; a missing file returns (nil, nil).
func Load(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("checkpoint %s is not a ddbrewind checkpoint (%v): remove it or pass another --checkpoint", path, err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("checkpoint %s has format version %d, this ddbrewind reads %d: remove it or pass another --checkpoint", path, s.Version, Version)
	}
	if s.Units == nil {
		s.Units = map[string]Unit{}
	}
	return &s, nil
}

// Save writes s to path atomically, readable by the owner only.
func Save(path string, s *State) error {
	s.Version = Version
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// WriteFileAtomic writes data to a temp file in path's directory, syncs it,
// and renames it over path, with mode 0600.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}
