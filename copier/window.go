package copier

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// windowSource reads a window's rewinds: the start image of each key whose
// state the window changed (items), and the keys created in it (absent),
// among the selected keys.
// Keys whose start and end state are equal (changed and changed back) need
// nothing. It is one unit, in pages of 100 keys; the position is the
// number of keys done.
type windowSource struct {
	x *executor
	w *window.Window
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
		s.x.read(s.w.Unselected()) // read from the exports, not selected
	}
	for i := from.Line; i < s.w.Len(); i++ {
		key, start, end, err := s.w.Images(i)
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
		if done := i + 1; done%keysPerGet == 0 || done == s.w.Len() {
			if err := emit(items, absent, checkpoint.Unit{Line: done, Done: done == s.w.Len()}); err != nil {
				return err
			}
			items, absent = nil, nil
		}
	}
	if s.w.Len() == 0 || from.Line >= s.w.Len() {
		return emit(nil, nil, checkpoint.Unit{Line: s.w.Len(), Done: true})
	}
	return nil
}
