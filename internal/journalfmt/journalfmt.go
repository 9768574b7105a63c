// Package journalfmt is the format of a copy's journal (--journal): JSON
// Lines, a header first, then one line per key a copy is about to write
// or delete (a record) and, when the write did not go as recorded, a line
// that changes the latest record of that key (an amendment). It encodes
// and parses those lines; appending them durably is internal/statefile's
// job, and what undo does with them is copier's.
//
// The format is read back by every later ddbrewind: field names never
// change, and lines written by older versions (records without "after")
// still parse.
package journalfmt

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Magic is the header's "journal" field, Version the version this package
// writes and reads.
const (
	Magic   = "ddbrewind"
	Version = 1
)

// Header is the first line of a journal: which table it is for.
type Header struct {
	Journal string    `json:"journal"` // always Magic
	Version int       `json:"version"`
	Table   string    `json:"table"`
	Keys    []string  `json:"keys"`
	Created time.Time `json:"created"`
}

// record is one line after the header, of one of two kinds.
//
// A record has Key: an item's key, its version in the main table just
// before the copy wrote or deleted it (Before, null when it did not
// exist), and what the copy writes (After, null for a delete; absent in
// journals written before it existed, whose records undo puts back
// without a condition).
//
// An amendment has Amend (a key instead of Key, so that a ddbrewind that
// does not know amendments refuses the journal instead of misreading it)
// and changes the latest record of that key: Written false when the
// write did not happen (its condition failed: the record is void), or
// Before when the write returned another old item than the one recorded
// (a concurrent write between the read and the write: undo must put
// that one back).
type record struct {
	Key     json.RawMessage `json:"key,omitempty"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
	Amend   json.RawMessage `json:"amend,omitempty"`
	Written *bool           `json:"written,omitempty"`
}

// Line is one parsed line after the header: a record (Amend false), or an
// amendment of the key's latest record (Amend true: NotWritten, or Before
// the item the write replaced).
type Line struct {
	Key map[string]types.AttributeValue
	// Before is the item before the write (nil: absent), After what the
	// copy wrote (nil: a delete, or unknown when AfterKnown is false: a
	// record written before records had an after image).
	Before, After map[string]types.AttributeValue
	AfterKnown    bool
	Amend         bool
	NotWritten    bool
}

// EncodeHeader returns the header line, newline included, of a new journal
// of table, whose key attributes are keys (partition key first).
func EncodeHeader(table string, keys []string, created time.Time) []byte {
	line, _ := json.Marshal(Header{Journal: Magic, Version: Version, Table: table, Keys: keys, Created: created.UTC()})
	return append(line, '\n')
}

// ParseHeader checks that line is the header of a journal this package
// reads. where names the journal in its usage errors.
func ParseHeader(line []byte, where string) (*Header, error) {
	var h Header
	if json.Unmarshal(line, &h) != nil || h.Journal != Magic {
		return nil, usage.Errorf("--journal %s is not a ddbrewind journal (its first line must be the journal header)", where)
	}
	if h.Version != Version {
		return nil, usage.Errorf("--journal %s has version %d; this ddbrewind reads version %d", where, h.Version, Version)
	}
	return &h, nil
}

// ReadHeader reads and checks the first line of the local journal at path.
func ReadHeader(path string) (*Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return ParseHeader(line, path)
}

// AppendRecord appends to buf the record line, newline included, of key:
// before is the item before the write (nil: absent), after what the copy
// writes (nil: a delete).
func AppendRecord(buf []byte, key, before, after map[string]types.AttributeValue) ([]byte, error) {
	ks := ddbjson.KeyString(key)
	rec := record{Key: json.RawMessage(ks)}
	var err error
	if rec.Before, err = image(ks, before); err != nil {
		return nil, err
	}
	if rec.After, err = image(ks, after); err != nil {
		return nil, err
	}
	return appendLine(buf, rec)
}

// NotWritten returns the amendment line, newline included, saying that
// the latest record of key was not written (its condition failed): undo
// puts nothing back for it.
func NotWritten(key map[string]types.AttributeValue) []byte {
	no := false
	line, _ := appendLine(nil, record{Amend: json.RawMessage(ddbjson.KeyString(key)), Written: &no})
	return line
}

// Overwrote returns the amendment line, newline included, saying that the
// write of key's latest record replaced old (nil: absent), not the item
// recorded: undo puts old back.
func Overwrote(key, old map[string]types.AttributeValue) ([]byte, error) {
	ks := ddbjson.KeyString(key)
	before, err := image(ks, old)
	if err != nil {
		return nil, err
	}
	return appendLine(nil, record{Amend: json.RawMessage(ks), Before: before})
}

// appendLine appends rec and a newline to buf.
func appendLine(buf []byte, rec record) ([]byte, error) {
	line, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	return append(append(buf, line...), '\n'), nil
}

// image encodes an item of a record (nil: null, absent).
func image(ks string, it map[string]types.AttributeValue) (json.RawMessage, error) {
	if it == nil {
		return json.RawMessage("null"), nil
	}
	data, err := ddbjson.MarshalItem(it)
	if err != nil {
		return nil, fmt.Errorf("encode item %s: %w", ks, err)
	}
	return data, nil
}

// ParseLine decodes one line after the header: a record or an amendment.
// It checks the line's form, not the key against a table's key schema.
func ParseLine(data []byte) (*Line, error) {
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("not a journal record: %v", err)
	}
	l := &Line{}
	rawKey := rec.Key
	if len(rec.Amend) > 0 {
		if len(rec.Key) > 0 || (rec.Written == nil) == (len(rec.Before) == 0) || rec.Written != nil && *rec.Written {
			return nil, fmt.Errorf("not a journal amendment: it needs amend, and written false or before")
		}
		l.Amend, l.NotWritten, rawKey = true, rec.Written != nil, rec.Amend
	}
	var err error
	if l.Key, err = ddbjson.ParseItem(rawKey); err != nil {
		return nil, err
	}
	if l.Before, err = parseImage(rec.Before); err != nil {
		return nil, err
	}
	l.AfterKnown = len(rec.After) > 0
	if l.After, err = parseImage(rec.After); err != nil {
		return nil, err
	}
	return l, nil
}

// parseImage decodes an item of a record (null or missing: nil).
func parseImage(raw json.RawMessage) (map[string]types.AttributeValue, error) {
	if string(raw) == "null" || len(raw) == 0 {
		return nil, nil
	}
	return ddbjson.ParseItem(raw)
}
