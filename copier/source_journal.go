package copier

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// journalFile is a checked journal: its local path, the number of record
// lines to read (a torn last line, from a copy killed while writing it, is
// left out), and the records that repeat an earlier record's key — undo
// applies only the first record of each key, the item as it was before the
// copy first touched it.
type journalFile struct {
	loc     string // as given, for messages
	path    string
	lines   int // lines to read, header included
	records int
	repeats map[int]bool
}

// indexJournal validates every record of the journal at path against the
// key schema and notes the repeated keys (ddbjson.KeyString; a 16-byte
// hash per key while it reads).
func indexJournal(loc, path string, ks keySchemaInfo) (*journalFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	jf := &journalFile{loc: loc, path: path, repeats: map[int]bool{}}
	seen := map[[16]byte]struct{}{}
	r := bufio.NewReaderSize(f, 1<<20)
	for line := 1; ; line++ {
		data, err := r.ReadBytes('\n')
		if len(data) > 0 && line > 1 {
			key, _, perr := parseRecord(data, ks)
			if perr != nil {
				if err == io.EOF && !strings.HasSuffix(string(data), "\n") {
					// A torn last line: the copy was killed while writing
					// it, before the write it protects. Ignore it.
					return jf, nil
				}
				return nil, usagef("%s:%d: %v", loc, line, perr)
			}
			jf.records++
			sum := sha256.Sum256([]byte(ddbjson.KeyString(key)))
			if _, dup := seen[[16]byte(sum[:16])]; dup {
				jf.repeats[line] = true
			}
			seen[[16]byte(sum[:16])] = struct{}{}
		}
		if len(data) > 0 {
			jf.lines = line
		}
		if err == io.EOF {
			return jf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read journal %s: %w", loc, err)
		}
	}
}

// parseRecord decodes one record: the key and the before-image (nil:
// absent).
func parseRecord(line []byte, ks keySchemaInfo) (key, before map[string]types.AttributeValue, err error) {
	var rec journalRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, nil, fmt.Errorf("not a journal record: %v", err)
	}
	if key, err = ddbjson.ParseItem(rec.Key); err != nil {
		return nil, nil, err
	}
	if err := ks.check(key); err != nil {
		return nil, nil, err
	}
	if string(rec.Before) == "null" || len(rec.Before) == 0 {
		return key, nil, nil
	}
	if before, err = ddbjson.ParseItem(rec.Before); err != nil {
		return nil, nil, err
	}
	return key, before, nil
}

// journalSource reads a journal's first record of each key, in pages of
// 100 records: before-images as items, keys that did not exist as absent.
// It is one unit, read from the start (undo can simply be repeated).
type journalSource struct {
	x    *executor
	file *journalFile
	keys keySchemaInfo
}

func (s *journalSource) units(phase string) []unit { return []unit{{phase: phase}} }

func (s *journalSource) read(ctx context.Context, u unit, _ checkpoint.Unit, emit emitFunc) error {
	f, err := os.Open(s.file.path)
	if err != nil {
		return fmt.Errorf("undo: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var items, absent []map[string]types.AttributeValue
	flush := func(line int, done bool) error {
		err := emit(items, absent, checkpoint.Unit{Line: line, Done: done})
		items, absent = nil, nil
		return err
	}
	for line := 1; line <= s.file.lines; line++ {
		data, err := r.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("undo: read %s: %w", s.file.loc, err)
		}
		if line == 1 || s.file.repeats[line] {
			if line > 1 {
				s.x.stats.Read.Add(1)
			}
			continue
		}
		key, before, err := parseRecord(data, s.keys)
		if err != nil {
			return usagef("%s:%d: %v", s.file.loc, line, err)
		}
		s.x.stats.Read.Add(1)
		if before == nil {
			absent = append(absent, key)
		} else {
			items = append(items, before)
		}
		if len(items)+len(absent) == keysPerGet {
			if err := flush(line, false); err != nil {
				return err
			}
		}
	}
	return flush(s.file.lines, true)
}
