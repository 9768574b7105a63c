package copier

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Change is one changed key of an incremental export: the key and the
// item's image at the start (Old) and at the end (New) of the export's
// window; nil is absent (created, or deleted, in the window).
type Change struct {
	Keys, Old, New map[string]types.AttributeValue
}

// ChangeReader yields the changes of one incremental export, in any order;
// io.EOF after the last.
type ChangeReader interface {
	Next() (Change, error)
}

// Window is the net change of consecutive incremental exports, which
// together cover one window: for each key changed in it, its state at the
// window's start (the Old image of the earliest export that has the key)
// and at its end (the New image of the latest). It holds those images in
// memory, as typed DynamoDB JSON (decoded when used: decoded, an item of
// every attribute type takes about four times its JSON), so its size
// follows the damage, not the table.
type Window struct {
	order   []string // KeyString, in the order first seen
	changes map[string]*windowChange
	// unselected counts the changed keys a selection left out of the
	// window (see buildWindow): read, never held.
	unselected int64
	// manifests identifies the exports' files (their digests), for
	// checkpoints; "" for a window not read from exports.
	manifests string
}

// windowChange is one changed key and its images, each encoded by
// ddbjson.MarshalItem; a nil image is absent.
type windowChange struct {
	key, start, end []byte
}

// buildWindow reads the changes of exports given in time order (each
// reader is one export) into their window, keeping only the keys selected
// picks (nil: all): the others are counted in unselected and not held, so a selection
// bounds the window's memory too.
func buildWindow(selected func(key map[string]types.AttributeValue) bool, exports ...ChangeReader) (*Window, error) {
	w := &Window{changes: map[string]*windowChange{}}
	left := map[[16]byte]struct{}{} // the keys left out, each counted once
	for i, r := range exports {
		seen := map[[16]byte]struct{}{} // every key of this export, to refuse one listed twice
		for {
			c, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("incremental export %d: %w", i+1, err)
			}
			h := keyHash(c.Keys)
			if _, dup := seen[h]; dup {
				return nil, fmt.Errorf("incremental export %d lists key %s twice", i+1, ddbjson.KeyString(c.Keys))
			}
			seen[h] = struct{}{}
			if selected != nil && !selected(c.Keys) {
				left[h] = struct{}{}
				continue
			}
			ks := ddbjson.KeyString(c.Keys)
			ch, known := w.changes[ks]
			if known {
				if err := chains(ch.end, c.Old); err != nil {
					return nil, fmt.Errorf("incremental export %d: key %s: %w", i+1, ks, err)
				}
			}
			if !known {
				ch = &windowChange{}
				if ch.key, err = encodeImage(c.Keys); err != nil {
					return nil, fmt.Errorf("incremental export %d: key %s: %w", i+1, ks, err)
				}
				if ch.start, err = encodeImage(c.Old); err != nil { // the earliest export's old image
					return nil, fmt.Errorf("incremental export %d: key %s: %w", i+1, ks, err)
				}
				w.order = append(w.order, ks)
				w.changes[ks] = ch
			}
			if ch.end, err = encodeImage(c.New); err != nil { // the latest export's new image
				return nil, fmt.Errorf("incremental export %d: key %s: %w", i+1, ks, err)
			}
		}
	}
	w.unselected = int64(len(left))
	return w, nil
}

// chains checks that a key's image at the start of an export (old) is the
// one the previous exports left (prevEnd, encoded; nil: absent): exports
// that do not follow each other, or of another table, would otherwise
// rewind the key to a state it never had at the window's start.
func chains(prevEnd []byte, old map[string]types.AttributeValue) error {
	prev, err := decodeImage(prevEnd)
	if err != nil {
		return err
	}
	if !sameState(prev, old) {
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

// encodeImage encodes an image (nil: absent stays nil).
func encodeImage(it map[string]types.AttributeValue) ([]byte, error) {
	if it == nil {
		return nil, nil
	}
	return ddbjson.MarshalItem(it)
}

// decodeImage decodes what encodeImage encoded.
func decodeImage(data []byte) (map[string]types.AttributeValue, error) {
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

// changed returns the number of keys the window changed, selected or not.
func (w *Window) changed() int64 { return int64(len(w.order)) + w.unselected }

// key returns the key ks (a KeyString of the window), decoded.
func (w *Window) key(ks string) (map[string]types.AttributeValue, error) {
	return decodeImage(w.changes[ks].key)
}

// images returns the key ks (a KeyString of the window) and its start and
// end images (nil: absent).
func (w *Window) images(ks string) (key, start, end map[string]types.AttributeValue, err error) {
	ch := w.changes[ks]
	if key, err = w.key(ks); err != nil {
		return nil, nil, nil, err
	}
	if start, err = decodeImage(ch.start); err != nil {
		return nil, nil, nil, err
	}
	if end, err = decodeImage(ch.end); err != nil {
		return nil, nil, nil, err
	}
	return key, start, end, nil
}

// expected returns the item the window left for key (nil: absent).
func (w *Window) expected(key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	ch := w.changes[ddbjson.KeyString(key)]
	if ch == nil {
		return nil, nil
	}
	return decodeImage(ch.end)
}

// windowSource reads a window's rewinds: the start image of each key whose
// state the window changed (items), and the keys created in it (absent),
// among the selected keys.
// Keys whose start and end state are equal (changed and changed back) need
// nothing. It is one unit, in pages of 100 keys; the position is the
// number of keys done.
type windowSource struct {
	x *executor
	w *Window
	// selected, if set, picks the keys to rewind (the selection); the
	// others are counted as read, not matched.
	selected func(key map[string]types.AttributeValue) bool
	// past: yield the start image of every selected key that had an item
	// at the window's start, changed back or not, and no absent keys (what
	// show prints: the items as they were).
	past bool
}

func (s *windowSource) units(phase string) []unit {
	if phase != phaseCopy {
		return nil
	}
	return []unit{{phase: phase}}
}

func (s *windowSource) read(ctx context.Context, u unit, from checkpoint.Unit, emit emitFunc) error {
	var items, absent []map[string]types.AttributeValue
	if from.Line == 0 {
		s.x.read(s.w.unselected) // read from the exports, not selected
	}
	for i := from.Line; i < len(s.w.order); i++ {
		key, start, end, err := s.w.images(s.w.order[i])
		if err != nil {
			return err
		}
		s.x.read(1)
		switch {
		case s.selected != nil && !s.selected(key):
			// Not selected.
		case s.past:
			if start != nil {
				s.x.matched(1)
				items = append(items, start)
			}
		case start == nil && end == nil, start != nil && end != nil && itemeq.Items(start, end):
			// No net change.
		case start == nil:
			s.x.matched(1)
			absent = append(absent, key)
		default:
			s.x.matched(1)
			items = append(items, start)
		}
		if done := i + 1; done%keysPerGet == 0 || done == len(s.w.order) {
			if err := emit(items, absent, checkpoint.Unit{Line: done, Done: done == len(s.w.order)}); err != nil {
				return err
			}
			items, absent = nil, nil
		}
	}
	if len(s.w.order) == 0 || from.Line >= len(s.w.order) {
		return emit(nil, nil, checkpoint.Unit{Line: len(s.w.order), Done: true})
	}
	return nil
}
