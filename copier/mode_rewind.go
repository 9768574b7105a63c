package copier

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// maxConditionLen is DynamoDB's limit on an expression's length (4 KB).
const maxConditionLen = 4096

// rewindSink rewinds the keys an incremental export window changed to
// their state at the window's start: the start image is put back, a key
// created in the window is deleted (with --delete-extra; otherwise it is
// counted as kept). Each write is conditional on the item still being what
// the window left (its end image, or absent), checked atomically by
// DynamoDB; an item written again after the window is a conflict: left
// alone, counted and listed, unless overwrite (--overwrite-conflicts).
//
// Before writing, the batch's current items are read (consistently): an
// item already in its start state is done (a resumed rewind); one that
// differs from the window's end image is a conflict without a write. The
// batch's keys are then written in parallel (rewindWriters). The atomic
// condition guards the attributes the end image has; an attribute only
// added between that read and the write is the one change it cannot see
// (DynamoDB conditions cannot say "no other attribute"), so every write
// asks for the item it replaced (ReturnValues ALL_OLD): one that is not
// the item read is clobbered — journaled (undo puts it back), counted and
// listed, exit 3. A condition longer than DynamoDB allows makes the item a
// conflict: it is never overwritten blindly.
type rewindSink struct {
	t           *target
	w           *window.Window
	deleteExtra bool
	overwrite   bool
	// overwriteKey, if set, picks the conflicts to overwrite anyway
	// (--overwrite-conflicts-keys); the others are left alone.
	overwriteKey func(key map[string]types.AttributeValue) bool
}

// rewindWriters bounds the conditional writes of one batch in flight at
// once: a batch's keys are written in parallel, so that the gap between
// the batch's read and each key's write is one write, not up to 25.
const rewindWriters = 8

func (s *rewindSink) handle(ctx context.Context, rng *rand.Rand, b *batch) error {
	if b.kind == kindCandidates {
		return nil
	}
	x, t := s.t.x, s.t
	deleting := b.kind == kindAbsent
	keys := b.items
	if !deleting {
		keys = keysOf(b.items, t.keyNames)
	}
	if deleting && !s.deleteExtra {
		// Created in the window: an extra, deleted only with --delete-extra.
		x.kept(int64(len(keys)))
		return nil
	}
	current, err := t.current(ctx, rng, keys)
	if err != nil {
		// A read given up after --max-retry-time gives up the batch's
		// keys, as a write would: failed and listed, the rewind going on.
		return x.giveUpRest(keys, err)
	}
	var todo []int
	left := make([]map[string]types.AttributeValue, len(keys))     // what the window left, per key
	overwrite := make([]bool, len(keys))                           // a conflict to overwrite anyway
	wants := make([]map[string]types.AttributeValue, 0, len(keys)) // what is written, per todo key
	for i, k := range keys {
		cur := current[ddbjson.KeyString(k)]
		var want map[string]types.AttributeValue
		if !deleting {
			want = b.items[i]
		}
		if left[i], err = s.w.Expected(k); err != nil {
			return err
		}
		overwrite[i] = s.overwrite || s.overwriteKey != nil && s.overwriteKey(k)
		switch rewindActionOf(cur, want, left[i], overwrite[i]) {
		case rewindDone:
			x.kept(1) // already rewound
		case rewindConflict:
			x.noteConflict(b.pg, k)
		default:
			todo = append(todo, i)
			wants = append(wants, want)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	if t.dryRun {
		s.countDry(b, keys, todo, left, overwrite)
		return nil
	}
	if t.journal != nil {
		todoKeys := make([]map[string]types.AttributeValue, len(todo))
		for j, i := range todo {
			todoKeys[j] = keys[i]
		}
		if err := t.journal.record(todoKeys, current, wants); err != nil {
			return err
		}
	}
	// Keys whose write was given up are failed (the report lists them);
	// another error ends the copy.
	return x.parallel(rng, len(todo), func(n int) map[string]types.AttributeValue { return keys[todo[n]] },
		func(n int, rng *rand.Rand) error {
			i := todo[n]
			var want map[string]types.AttributeValue
			if !deleting {
				want = b.items[i]
			}
			return s.write(ctx, rng, b.pg, keys[i], want, left[i], current[ddbjson.KeyString(keys[i])], overwrite[i])
		})
}

// countDry counts, for a dry run, what handle would do with the batch's
// keys todo: a conflict where a write would meet one (its condition not
// expressible, and not to be overwritten anyway), else a write or a
// delete.
func (s *rewindSink) countDry(b *batch, keys []map[string]types.AttributeValue, todo []int, left []map[string]types.AttributeValue, overwrite []bool) {
	x, t := s.t.x, s.t
	n := int64(0)
	for _, i := range todo {
		if !overwrite[i] {
			if _, _, _, ok := stillAsLeft(left[i], t.keyNames); !ok {
				x.noteConflict(b.pg, keys[i]) // as write would: never overwritten blindly
				continue
			}
		}
		if b.kind == kindAbsent {
			x.wouldDelete(1)
		} else {
			x.wouldWrite(b.items[i : i+1])
		}
		n++
	}
	x.changed(n)
}

// write writes one key of a rewind: want (nil: delete) while the item is
// still what the window left (left; no condition when overwrite), asking
// DynamoDB for the item it replaced. A false condition is a conflict (the
// journal's record is amended: not written); a replaced item that is not
// the one read before (cur, which the journal recorded) is a write the
// condition could not see — an attribute added since the read — and is
// clobbered: the journal is amended with it, the key reported.
func (s *rewindSink) write(ctx context.Context, rng *rand.Rand, pg *page, k, want, left, cur map[string]types.AttributeValue, overwrite bool) error {
	x, t := s.t.x, s.t
	var cond *string
	var names map[string]string
	var values map[string]types.AttributeValue
	if !overwrite {
		var ok bool
		cond, names, values, ok = stillAsLeft(left, t.keyNames)
		if !ok {
			x.noteConflict(pg, k) // the check cannot be expressed: never overwrite blindly
			return t.notWritten(k)
		}
	}
	res, err := x.write(ctx, rng, condWrite{what: writeWhat("rewind", t.table, want == nil), table: t.table,
		key: k, item: want, cond: cond, names: names, values: values, old: true})
	switch {
	case err != nil:
		return err
	case !res.held:
		// Written between our read and our write: a conflict — unless it
		// is in its start state now (the same rewind running twice at
		// once, a retried job overlapping the previous attempt): already
		// rewound.
		done, err := x.isNow(ctx, rng, t.table, k, want, res)
		if err != nil {
			return err
		}
		if done {
			x.kept(1)
		} else {
			x.noteConflict(pg, k)
		}
		return t.notWritten(k)
	}
	if !res.earlier && !sameState(res.old, cur) {
		x.noteClobbered(pg, k)
		if t.journal != nil {
			if err := t.journal.overwrote(k, res.old); err != nil {
				return err
			}
		}
	}
	x.changed(1)
	x.wroteIf(true, want == nil)
	return nil
}

// rewindAction is what a rewind does with one key.
type rewindAction int

const (
	rewindWrite    rewindAction = iota // put the start image back, or delete
	rewindDone                         // already in its start state
	rewindConflict                     // written again after the window: left alone
)

// rewindActionOf decides, from the key's current item (cur), its state at
// the window's start and at its end (nil: absent), what a rewind does:
// nothing when it is in its start state already, leave it when it is not
// what the window left (unless overwrite), else write. Both the rewind and
// the diff of a window decide with it.
func rewindActionOf(cur, start, end map[string]types.AttributeValue, overwrite bool) rewindAction {
	switch {
	case sameState(cur, start):
		return rewindDone
	case !overwrite && !sameState(cur, end):
		return rewindConflict
	}
	return rewindWrite
}

// sameState reports whether two states of an item are equal (nil:
// absent), as DynamoDB compares them, but for the aws:rep:* attributes of
// a 2017 global table: DynamoDB sets them on every write (the rewind's,
// the copy's, undo's own included), ddbrewind never writes them.
func sameState(a, b map[string]types.AttributeValue) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return sameCopied(a, b)
}

// stillAsLeft builds the condition that the item is still what the window
// left: absent (attribute_not_exists of the hash key), or present with
// every attribute of end but the aws:rep:* ones equal (DynamoDB's = compares every type, lists
// and maps included, numbers as numbers). ok is false when the condition
// would exceed DynamoDB's expression length.
func stillAsLeft(end map[string]types.AttributeValue, keyNames []string) (*string, map[string]string, map[string]types.AttributeValue, bool) {
	names := map[string]string{"#rk": keyNames[0]}
	if end == nil {
		return aws.String("attribute_not_exists(#rk)"), names, nil, true
	}
	values := map[string]types.AttributeValue{}
	parts := []string{"attribute_exists(#rk)"}
	attrs := make([]string, 0, len(end))
	for a := range end {
		// aws:rep:* change when the item is only replicated again: the
		// condition is on what ddbrewind compares (sameState).
		if !slices.Contains(keyNames, a) && !strings.HasPrefix(a, replicationPrefix) {
			attrs = append(attrs, a)
		}
	}
	slices.Sort(attrs)
	for i, a := range attrs {
		n, v := fmt.Sprintf("#r%d", i), fmt.Sprintf(":r%d", i)
		names[n], values[v] = a, end[a]
		parts = append(parts, n+" = "+v)
	}
	cond := strings.Join(parts, " AND ")
	if len(cond) > maxConditionLen {
		return nil, nil, nil, false
	}
	if len(values) == 0 {
		values = nil
	}
	return aws.String(cond), names, values, true
}
