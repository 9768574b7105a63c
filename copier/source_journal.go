package copier

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/journalfmt"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// journalFile is a checked journal: its local path, the number of lines
// to read (a torn last line, from a copy killed while writing it, is left
// out), and what undo puts back per key.
//
// A key with one record (the usual case) is undone from that line as the
// journal is read. A key with several lines — journaled again by a resumed
// copy or a rerun, or amended (a write that did not happen, or that
// replaced another item than the one recorded) — is resolved once, in
// memory: undo puts back the before-image of the first record that was
// written, on condition that the item is still what the last one wrote.
type journalFile struct {
	loc     string // as given, for messages
	path    string
	lines   int // lines to read, header included
	records int
	// multi holds the keys with several lines (a 16-byte hash each);
	// resolved is what undo does with them (nothing for a key whose
	// writes all did not happen).
	multi    map[[16]byte]bool
	resolved []undoEntry
}

// undoEntry is what undo does with one key: put before back (nil: delete
// the key), on condition that the item is still after (nil: absent), if
// afterKnown (journals written before records had an after image are
// undone without a condition).
type undoEntry struct {
	key, before, after map[string]types.AttributeValue
	afterKnown         bool
}

// indexJournal validates every line of the journal at path against the
// key schema and finds the keys with several lines (a 16-byte hash per key
// while it reads), then resolves those (see journalFile).
func indexJournal(loc, path string, ks keySchemaInfo) (*journalFile, error) {
	jf := &journalFile{loc: loc, path: path, multi: map[[16]byte]bool{}}
	seen := map[[16]byte]struct{}{}
	err := jf.scan(ks, 0, func(line int, l *journalfmt.Line) error {
		if !l.Amend {
			jf.records++
		}
		h := keyHash(l.Key)
		if _, dup := seen[h]; dup {
			jf.multi[h] = true
		}
		seen[h] = struct{}{}
		return nil
	})
	if err != nil || len(jf.multi) == 0 {
		return jf, err
	}
	// The keys with several lines: each line in turn, in memory.
	type keyLines struct {
		key  map[string]types.AttributeValue
		recs []*journalfmt.Line
	}
	byKey := map[[16]byte]*keyLines{}
	var order [][16]byte
	err = jf.scan(ks, jf.lines, func(line int, l *journalfmt.Line) error {
		h := keyHash(l.Key)
		if !jf.multi[h] {
			return nil
		}
		kl := byKey[h]
		if kl == nil {
			kl = &keyLines{key: l.Key}
			byKey[h] = kl
			order = append(order, h)
		}
		switch {
		case !l.Amend:
			kl.recs = append(kl.recs, l)
		case len(kl.recs) == 0:
			// An amendment of a record this journal does not hold.
		case l.NotWritten:
			kl.recs = kl.recs[:len(kl.recs)-1]
		default:
			kl.recs[len(kl.recs)-1].Before = l.Before
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, h := range order {
		kl := byKey[h]
		if len(kl.recs) == 0 {
			continue // no write happened: nothing to undo
		}
		first, last := kl.recs[0], kl.recs[len(kl.recs)-1]
		jf.resolved = append(jf.resolved, undoEntry{key: kl.key, before: first.Before, after: last.After, afterKnown: last.AfterKnown})
	}
	return jf, nil
}

// scan reads the journal's lines after the header, calling fn with each
// parsed line; it sets jf.lines. A torn last line is ignored. With limit
// > 0 it stops after line limit (lines appended since the journal was
// indexed are not undone).
func (jf *journalFile) scan(ks keySchemaInfo, limit int, fn func(line int, l *journalfmt.Line) error) error {
	f, err := os.Open(jf.path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for line := 1; limit <= 0 || line <= limit; line++ {
		data, err := r.ReadBytes('\n')
		if len(data) > 0 && line > 1 {
			l, perr := parseLine(data, ks)
			if perr != nil {
				if err == io.EOF && !strings.HasSuffix(string(data), "\n") {
					// A torn last line: the copy was killed while writing
					// it, before the write it protects. Ignore it.
					return nil
				}
				return usage.Errorf("%s:%d: %v", jf.loc, line, perr)
			}
			if ferr := fn(line, l); ferr != nil {
				return ferr
			}
		}
		if len(data) > 0 && limit <= 0 {
			jf.lines = line
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read journal %s: %w", jf.loc, err)
		}
	}
	return nil
}

// parseLine decodes one line after the header (a record or an amendment)
// and checks its key against the key schema.
func parseLine(data []byte, ks keySchemaInfo) (*journalfmt.Line, error) {
	l, err := journalfmt.ParseLine(data)
	if err != nil {
		return nil, err
	}
	if err := ks.check(l.Key); err != nil {
		return nil, err
	}
	// What undo puts back never carries the attributes DynamoDB manages
	// for 2017 global tables (the copy's writes pass mainTableSink).
	l.Before = stripReplication(l.Before)
	return l, nil
}

// journalSource reads what undo does per key, in pages of 100: the keys
// with one record as the journal is read, then the resolved ones; before-
// images as items, keys that did not exist as absent. What each key's
// undo expects to find goes to expect (by KeyString), for the sink. It is
// one unit, read from the start (undo can simply be repeated).
type journalSource struct {
	x      *executor
	file   *journalFile
	keys   keySchemaInfo
	expect *sync.Map
}

func (s *journalSource) units(phase string) []unit { return []unit{{phase: phase}} }

func (s *journalSource) read(ctx context.Context, u unit, _ checkpoint.Unit, emit emitFunc) error {
	var items, absent []map[string]types.AttributeValue
	last := 0
	flush := func(done bool) error {
		err := emit(items, absent, checkpoint.Unit{Line: last, Done: done})
		items, absent = nil, nil
		return err
	}
	add := func(e undoEntry) error {
		s.x.read(1)
		s.expect.Store(ddbjson.KeyString(e.key), e)
		if e.before == nil {
			absent = append(absent, e.key)
		} else {
			items = append(items, e.before)
		}
		if len(items)+len(absent) == keysPerGet {
			return flush(false)
		}
		return nil
	}
	if s.file.lines <= 1 {
		return flush(true)
	}
	err := s.file.scan(s.keys, s.file.lines, func(line int, l *journalfmt.Line) error {
		last = line
		if l.Amend || s.file.multi[keyHash(l.Key)] {
			return nil
		}
		return add(undoEntry{key: l.Key, before: l.Before, after: l.After, afterKnown: l.AfterKnown})
	})
	if err != nil {
		return fmt.Errorf("undo: %w", err)
	}
	for _, e := range s.file.resolved {
		if err := add(e); err != nil {
			return err
		}
	}
	return flush(true)
}
