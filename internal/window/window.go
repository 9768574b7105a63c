// Package window is the model of an incremental export window: the net
// change of consecutive incremental exports of one table, key by key —
// each changed key's state at the window's start and at its end. A window
// rewind puts the start states back (copier), on condition that each item
// is still what the window left (Expected).
//
// A Window holds its images in memory as typed DynamoDB JSON, decoded when
// used (decoded, an item of every attribute type takes about four times
// its JSON), so its size follows the damage, not the table; a selection
// given to Build bounds it further.
package window

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Change is one changed key of an incremental export: the key and the
// item's image at the start (Old) and at the end (New) of the export's
// window; nil is absent (created, or deleted, in the window).
type Change struct {
	Keys, Old, New map[string]types.AttributeValue
	// Where says where the change was read (a data file's URL and line),
	// for messages; "" when unknown.
	Where string
}

// ChangeReader yields the changes of one incremental export, in any order;
// io.EOF after the last.
type ChangeReader interface {
	Next() (Change, error)
}

// exportName names export i (from 0) of Build in messages: the reader's
// Name() (its URL) when it has one, else its number.
func exportName(i int, r ChangeReader) string {
	if n, ok := r.(interface{ Name() string }); ok && n.Name() != "" {
		return "incremental export " + n.Name()
	}
	return fmt.Sprintf("incremental export %d", i+1)
}

// at is " (at WHERE)" for a change whose place is known, else "".
func (c Change) at() string {
	if c.Where == "" {
		return ""
	}
	return " (at " + c.Where + ")"
}

// Window is the net change of consecutive incremental exports, which
// together cover one window: for each key changed in it, its state at the
// window's start (the Old image of the earliest export that has the key)
// and at its end (the New image of the latest). Its keys are numbered 0 to
// Len()-1 in the order first seen.
type Window struct {
	order   []string // KeyString, in the order first seen
	changes map[string]*change
	// unselected counts the changed keys a selection left out of the
	// window (see Build): read, never held.
	unselected int64
}

// change is one changed key and its images, each encoded by
// ddbjson.MarshalItem; a nil image is absent.
type change struct {
	key, start, end []byte
}

// Build reads the changes of exports given in time order (each reader is
// one export) into their window, keeping only the keys selected picks
// (nil: all): the others are counted (Unselected) and not held, so a
// selection bounds the window's memory too. An export listing a key twice
// (AWS lists each changed key once) and a key whose Old image in an export
// is not the New image the previous exports left (the exports do not
// chain) are usage errors: the export is refused.
func Build(selected func(key map[string]types.AttributeValue) bool, exports ...ChangeReader) (*Window, error) {
	w := &Window{changes: map[string]*change{}}
	left := map[[16]byte]struct{}{} // the keys left out, each counted once
	for i, r := range exports {
		seen := map[[16]byte]struct{}{} // every key of this export, to refuse one listed twice
		for {
			c, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", exportName(i, r), err)
			}
			ks := ddbjson.KeyString(c.Keys)
			h := hash(ks)
			if _, dup := seen[h]; dup {
				return nil, usage.Errorf("%s lists the key %s twice%s: an incremental export lists each changed key once; the export is refused",
					exportName(i, r), ks, c.at())
			}
			seen[h] = struct{}{}
			if selected != nil && !selected(c.Keys) {
				left[h] = struct{}{}
				continue
			}
			if err := w.add(ks, c); err != nil {
				return nil, fmt.Errorf("%s: key %s%s: %w", exportName(i, r), ks, c.at(), err)
			}
		}
	}
	w.unselected = int64(len(left))
	return w, nil
}

// add records c, a change of the key ks: its start image if the key is
// new to the window (the earliest export's old image), its end image in
// any case (the latest export's new image).
func (w *Window) add(ks string, c Change) error {
	ch, known := w.changes[ks]
	if known {
		if err := chains(ch.end, c.Old); err != nil {
			return err
		}
	} else {
		ch = &change{}
		var err error
		if ch.key, err = encode(c.Keys); err != nil {
			return err
		}
		if ch.start, err = encode(c.Old); err != nil {
			return err
		}
		w.order = append(w.order, ks)
		w.changes[ks] = ch
	}
	var err error
	ch.end, err = encode(c.New)
	return err
}

// hash identifies a key (its KeyString) in 16 bytes.
func hash(ks string) [16]byte {
	sum := sha256.Sum256([]byte(ks))
	return [16]byte(sum[:16])
}

// chains checks that a key's image at the start of an export (old) is the
// one the previous exports left (prevEnd, encoded; nil: absent): exports
// that do not follow each other, or of another table, would otherwise
// rewind the key to a state it never had at the window's start.
func chains(prevEnd []byte, old map[string]types.AttributeValue) error {
	prev, err := decode(prevEnd)
	if err != nil {
		return err
	}
	if (prev == nil) != (old == nil) || prev != nil && !itemeq.Items(prev, old) {
		return usage.Errorf("its OldImage is not the NewImage the previous export left (%s): the exports do not chain; give consecutive incremental exports of one table, in time order", presence(prev, old))
	}
	return nil
}

// presence says which of two differing images is absent, if one is.
func presence(prev, old map[string]types.AttributeValue) string {
	switch {
	case prev == nil:
		return "the previous export left no item, this one starts with one"
	case old == nil:
		return "the previous export left an item, this one starts with none"
	}
	return "the two items differ"
}

// encode encodes an image (nil: absent stays nil).
func encode(it map[string]types.AttributeValue) ([]byte, error) {
	if it == nil {
		return nil, nil
	}
	return ddbjson.MarshalItem(it)
}

// decode decodes what encode encoded.
func decode(data []byte) (map[string]types.AttributeValue, error) {
	if data == nil {
		return nil, nil
	}
	it, err := ddbjson.ParseItem(data)
	if err != nil {
		return nil, fmt.Errorf("incremental window: decode an image: %w", err)
	}
	return it, nil
}

// Len returns the number of keys the window holds: the keys it changed,
// or those of them a selection picked.
func (w *Window) Len() int { return len(w.order) }

// Unselected returns the number of changed keys a selection left out.
func (w *Window) Unselected() int64 { return w.unselected }

// Changed returns the number of keys the window changed, selected or not.
func (w *Window) Changed() int64 { return int64(len(w.order)) + w.unselected }

// KeyString returns key i's ddbjson.KeyString.
func (w *Window) KeyString(i int) string { return w.order[i] }

// Key returns key i, decoded.
func (w *Window) Key(i int) (map[string]types.AttributeValue, error) {
	return decode(w.changes[w.order[i]].key)
}

// Images returns key i and its start and end images (nil: absent).
func (w *Window) Images(i int) (key, start, end map[string]types.AttributeValue, err error) {
	ch := w.changes[w.order[i]]
	if key, err = decode(ch.key); err != nil {
		return nil, nil, nil, err
	}
	if start, err = decode(ch.start); err != nil {
		return nil, nil, nil, err
	}
	if end, err = decode(ch.end); err != nil {
		return nil, nil, nil, err
	}
	return key, start, end, nil
}

// Expected returns the item the window left for key (nil: absent, or a
// key the window does not hold).
func (w *Window) Expected(key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	ch := w.changes[ddbjson.KeyString(key)]
	if ch == nil {
		return nil, nil
	}
	return decode(ch.end)
}
