// Package checkpoint stores the progress of a copy so that running the same
// command again resumes instead of starting over.
//
// A checkpoint records, per unit of work (a Scan segment, the Query, or the
// keys file of one phase), the position after the last page that was fully
// written. It does not record individual items: a resumed copy may write
// the items of a partly written page again, never skip them. Storing the
// file (atomically, 0600, local or S3) is package statefile's job.
package checkpoint

import (
	"encoding/json"
	"fmt"
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
	// Segments is the copy's Scan segment count (part of the fingerprint
	// too), so that a resume without --segments can take it.
	Segments int `json:"segments,omitempty"`
	// Units maps "phase/unit" (e.g. "copy/3") to its progress.
	Units map[string]Unit `json:"units"`
	// Conflicts lists the keys (ddbjson.KeyString) that the pages before
	// the units' positions left alone as conflicts (an incremental
	// rewind's keys written again after its window): a resumed copy does
	// not read those pages again, so it reports them from here. Clobbered
	// lists the keys whose write overwrote a concurrent write the rewind's
	// condition could not see (journaled, reported). Both are absent from
	// checkpoints written before they existed, which still load.
	Conflicts []string `json:"conflicts,omitempty"`
	Clobbered []string `json:"clobbered,omitempty"`
	// Manifests, for a copy from exports, identifies the export files it
	// reads (the digest of their manifests: files, MD5s, item counts): a
	// checkpoint is only used while they are the same, since its positions
	// are lines of those files. Absent from checkpoints written before it
	// existed, which still load.
	Manifests string `json:"manifests,omitempty"`
	// Keys, for a copy selected by a keys file, identifies the file's
	// content (a digest of its bytes): a checkpoint is only used with the
	// same content, since its positions are line numbers of that file, and
	// a path (or "-" for stdin) says nothing of what it holds. Absent from
	// checkpoints written before it existed, which still load.
	Keys    string    `json:"keys,omitempty"`
	Updated time.Time `json:"updated"`
}

// Decode parses a checkpoint file's content; where names it in errors.
func Decode(data []byte, where string) (*State, error) {
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("checkpoint %s is not a ddbrewind checkpoint (%v): remove it or pass another --checkpoint", where, err)
	}
	if s.Version != Version {
		return nil, fmt.Errorf("checkpoint %s has format version %d, this ddbrewind reads %d: remove it or pass another --checkpoint", where, s.Version, Version)
	}
	if s.Units == nil {
		s.Units = map[string]Unit{}
	}
	return &s, nil
}

// Encode returns the file content of s.
func Encode(s *State) ([]byte, error) {
	s.Version = Version
	data, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}
