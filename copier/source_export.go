package copier

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/keycond"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// DefaultExportSegments is how many data files of an export are read at
// once when Options.Segments is 0. It does not depend on the table's size,
// so every worker of a split copy (and every retry) uses the same value.
const DefaultExportSegments = 4

// exportJob is what a job knows of its export source: the manifests, the
// compiled key condition, and where to read the files.
type exportJob struct {
	exp *exportfile.Export
	s3  exportfile.S3API
	kc  *keycond.Cond // nil without --key-condition-expression
}

// checkExportOptions refuses, before anything is read, what a copy from an
// export cannot do.
func checkExportOptions(verb string, o *Options) error {
	if o.Selection.Filter != "" {
		return usage.Errorf("%s: --filter-expression cannot select from an export: ddbrewind does not evaluate filter expressions itself (DynamoDB does, on a table); select with --key-condition-expression or --keys-file, or restore the table and copy --from it", verb)
	}
	for _, u := range o.FromExport {
		if _, err := exportfile.ParseURL(u); err != nil {
			return err
		}
	}
	return nil
}

// exportSource reads a full export's data files: unit i is file i of the
// manifest (worker I of K reads the files i % K == I), read by at most
// parallel units at once; a unit's position is the last line of its last
// complete page (a page per pageSize lines). Each file is verified before
// any of its items is emitted (package exportfile). Items the selection
// does not match are counted in Read, not emitted; with index, the keys of
// the matched items are also added to the export's key index. A key twice
// in a file is refused before the page holding its second record is
// emitted (fileKeys); see export_dups.go.
type exportSource struct {
	job         *exportJob
	keys        keySchemaInfo
	keySet      map[[16]byte]struct{} // a keys file's keys; nil: none
	x           *executor             // its ledger counts what is read and matched
	log         *slog.Logger
	pageSize    int
	parallel    int
	workerIndex int
	workerCount int
	index       *keyIndex // nil: no lookups in the export
	verb        string
	writes      bool             // the copy writes (refusals say what may be written)
	seeds       *[2]maphash.Seed // of the per-file key sets (fileKeys)
	runs        *keyRuns         // a plain copy's key hashes, for a key in two files (export_keyruns.go); nil: none
}

func (s *exportSource) units(phase string) []unit {
	if phase != phaseCopy {
		return nil
	}
	var us []unit
	for i := range s.job.exp.Files {
		if i%s.workerCount == s.workerIndex {
			us = append(us, unit{phase: phase, idx: i})
		}
	}
	return us
}

// parallelism bounds the files read at once (see pipeline.run).
func (s *exportSource) parallelism() int { return s.parallel }

// selected reports whether the selection takes item.
func (s *exportSource) selected(item map[string]types.AttributeValue) bool {
	switch {
	case s.job.kc != nil:
		return s.job.kc.Match(item)
	case s.keySet != nil:
		_, ok := s.keySet[keyHash(keyOf(item, s.keys.names))]
		return ok
	}
	return true
}

// open opens and verifies data file i.
func (s *exportSource) open(ctx context.Context, i int) (*exportfile.FileReader, error) {
	r, err := s.job.exp.OpenFile(ctx, s.job.s3, i, exportfile.ReadOptions{})
	if err != nil {
		var ve *exportfile.VerifyError
		if errors.As(err, &ve) {
			s.log.Error("export file does not match its manifest", "file", ve.File, "check", ve.What)
		}
		return nil, err
	}
	return r, nil
}

// next returns the next record's item, checked against the key schema.
func (s *exportSource) next(r *exportfile.FileReader) (map[string]types.AttributeValue, int, error) {
	rec, err := r.Next()
	if err != nil {
		return nil, 0, err
	}
	if err := s.keys.checkItem(rec.Item); err != nil {
		return nil, 0, fmt.Errorf("export file %s:%d: %v: is the export of a table with another key schema?", r.Name(), rec.Line, err)
	}
	return rec.Item, rec.Line, nil
}

func (s *exportSource) read(ctx context.Context, u unit, from checkpoint.Unit, emit emitFunc) error {
	r, err := s.open(ctx, u.idx)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.Skip(from.Line); err != nil {
		return err
	}
	whole := from.Line == 0 // every key of the file goes through the index
	seen := newFileKeys(s.seeds, s.keys.names, r.Records()-int64(from.Line))
	run := s.runs.file(u.idx, whole)
	var items []map[string]types.AttributeValue
	var hashes [][16]byte
	start := from.Line
	err = s.records(r, seen, func(item map[string]types.AttributeValue, line int) error {
		s.x.read(1)
		if s.selected(item) {
			s.x.matched(1)
			items = append(items, item)
			run.add(seen.last)
			if s.index != nil {
				hashes = append(hashes, keyHash(keyOf(item, s.keys.names)))
			}
		}
		if line-start < s.pageSize {
			return nil
		}
		s.index.add(u.idx, hashes)
		hashes = hashes[:0]
		if err := emit(items, nil, checkpoint.Unit{Line: line}); err != nil {
			return err
		}
		items, start = nil, line
		return nil
	})
	if err != nil {
		return err
	}
	s.index.add(u.idx, hashes)
	if whole {
		s.index.fileDone(u.idx)
	}
	if err := run.done(); err != nil {
		return err
	}
	return emit(items, nil, checkpoint.Unit{Line: r.Line(), Done: true})
}

// completeIndex reads, keys only, the data files whose keys are not all in
// the index yet — those of other workers, and those a resumed copy skipped
// or started in the middle — so that the index holds every selected key of
// the export; then seals it for lookups.
func (s *exportSource) completeIndex(ctx context.Context) error {
	var todo []int
	for i := range s.job.exp.Files {
		if !s.index.isDone(i) {
			todo = append(todo, i)
		}
	}
	if len(todo) > 0 {
		s.log.Info("reading the export's keys to find extras", "export", s.job.exp.URL(), "files", len(todo))
	}
	err := s.readKeys(ctx, todo, func(i int) keyReader {
		var hashes [][16]byte
		return keyReader{
			add: func(item map[string]types.AttributeValue, _ *fileKeys) {
				hashes = append(hashes, keyHash(keyOf(item, s.keys.names)))
			},
			done: func() error {
				s.index.add(i, hashes)
				s.index.fileDone(i)
				return nil
			},
		}
	})
	if err != nil {
		return err
	}
	if d := s.index.seal(); d != nil {
		var key map[string]types.AttributeValue
		var lines [2]int
		for n, i := range d.files {
			k, line, err := s.findKey(ctx, i, d.prefix)
			if err != nil {
				return err
			}
			key, lines[n] = k, line
		}
		return duplicateAcrossFiles(s.verb, s.writes, s.job.exp, d, key, lines)
	}
	return nil
}

// findKey reads data file i for the first selected record whose key hash
// starts with prefix: its key and line (nil, 0: none).
func (s *exportSource) findKey(ctx context.Context, i int, prefix [indexHashLen]byte) (map[string]types.AttributeValue, int, error) {
	return s.findIn(ctx, i, func(item map[string]types.AttributeValue) bool {
		h := keyHash(keyOf(item, s.keys.names))
		return [indexHashLen]byte(h[:indexHashLen]) == prefix
	})
}

// findIn reads data file i for the first selected record match takes: its
// key and line (nil, 0: none).
func (s *exportSource) findIn(ctx context.Context, i int, match func(item map[string]types.AttributeValue) bool) (map[string]types.AttributeValue, int, error) {
	r, err := s.open(ctx, i)
	if err != nil {
		return nil, 0, err
	}
	defer r.Close()
	for {
		item, line, err := s.next(r)
		if err == io.EOF {
			return nil, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if s.selected(item) && match(item) {
			return keyOf(item, s.keys.names), line, nil
		}
	}
}

// records hands each of r's remaining records to fn, with its line, after
// checking that its key is not in the file twice (seen).
func (s *exportSource) records(r *exportfile.FileReader, seen *fileKeys, fn func(item map[string]types.AttributeValue, line int) error) error {
	for {
		item, line, err := s.next(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if first := seen.add(item, line); first != 0 {
			return duplicateInFile(s.verb, s.writes, r, keyOf(item, s.keys.names), first, line)
		}
		if err := fn(item, line); err != nil {
			return err
		}
	}
}

// keyReader is what readKeys does with one data file's selected records:
// add each (seen holds the file's key hashes, the record's last), then done.
type keyReader struct {
	add  func(item map[string]types.AttributeValue, seen *fileKeys)
	done func() error
}

// readKeys reads the data files todo, keys only, at most parallel at once:
// each file's records are checked for a key twice within the file, and
// its selected records handed to its reader, of(i).
func (s *exportSource) readKeys(ctx context.Context, todo []int, of func(i int) keyReader) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.parallel)
	for _, i := range todo {
		g.Go(func() error {
			r, err := s.open(gctx, i)
			if err != nil {
				return err
			}
			defer r.Close()
			seen := newFileKeys(s.seeds, s.keys.names, r.Records())
			kr := of(i)
			err = s.records(r, seen, func(item map[string]types.AttributeValue, _ int) error {
				if s.selected(item) {
					kr.add(item, seen)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return kr.done()
		})
	}
	return g.Wait()
}

// checkItem checks that an item has the key attributes of the schema, with
// their types.
func (ks keySchemaInfo) checkItem(item map[string]types.AttributeValue) error {
	for _, n := range ks.names {
		v, ok := item[n]
		if !ok {
			return fmt.Errorf("the item lacks the key attribute %q", n)
		}
		if got := ddbjson.TypeName(v); got != ks.types[n] {
			return fmt.Errorf("key attribute %q has type %s, the table says %s", n, got, ks.types[n])
		}
	}
	return nil
}

// keyIndex is the set of an export's selected keys, for the lookups a
// source table would answer with BatchGetItem (is this main key an extra?
// is this keys-file key in the export?): 16 bytes per key — the first 12 of
// its keyHash (indexHashLen), then the index of the data file it was read
// from — appended while the files are read, then sorted once and searched
// by the 12 bytes. It costs 16 bytes of memory per selected item of the
// export. Sorted, one key's entries are adjacent: the same file twice (a
// file read again on a resume) is one entry; two files are a key twice in
// the export, which seal reports.
type keyIndex struct {
	mu     sync.Mutex
	hashes [][16]byte
	done   []bool // files whose keys are all in
	sealed bool
}

func newKeyIndex(files int, capacity int64) *keyIndex {
	return &keyIndex{hashes: make([][16]byte, 0, max(capacity, 0)), done: make([]bool, files)}
}

// indexHashLen is how many bytes of a keyHash the index keeps: 96 bits, so
// that two of 10^10 keys share them with a probability under 10^-9.
const indexHashLen = 12

// add adds the hashes (keyHash) of keys read from data file file; it
// overwrites their last 4 bytes with file. nil-safe.
func (ix *keyIndex) add(file int, hs [][16]byte) {
	if ix == nil || len(hs) == 0 {
		return
	}
	for n := range hs {
		binary.BigEndian.PutUint32(hs[n][indexHashLen:], uint32(file))
	}
	ix.mu.Lock()
	ix.hashes = append(ix.hashes, hs...)
	ix.mu.Unlock()
}

// fileDone records that file i's keys are all in; nil-safe.
func (ix *keyIndex) fileDone(i int) {
	if ix == nil {
		return
	}
	ix.mu.Lock()
	ix.done[i] = true
	ix.mu.Unlock()
}

func (ix *keyIndex) isDone(i int) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.done[i]
}

// dupKey is a key found in two data files of an export: the first
// indexHashLen bytes of its keyHash, and the files.
type dupKey struct {
	prefix [indexHashLen]byte
	files  [2]int
}

// seal sorts the index, dropping the entries of a file read twice, and
// returns the first key it finds in two different files (nil: none).
func (ix *keyIndex) seal() *dupKey {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	slices.SortFunc(ix.hashes, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
	ix.hashes = slices.Compact(ix.hashes)
	ix.sealed = true
	for n := 1; n < len(ix.hashes); n++ {
		a, b := ix.hashes[n-1], ix.hashes[n]
		if [indexHashLen]byte(a[:indexHashLen]) == [indexHashLen]byte(b[:indexHashLen]) {
			return &dupKey{prefix: [indexHashLen]byte(a[:indexHashLen]),
				files: [2]int{int(binary.BigEndian.Uint32(a[indexHashLen:])), int(binary.BigEndian.Uint32(b[indexHashLen:]))}}
		}
	}
	return nil
}

func (ix *keyIndex) has(h [16]byte) bool {
	_, ok := slices.BinarySearchFunc(ix.hashes, h, func(a, b [16]byte) int {
		return bytes.Compare(a[:indexHashLen], b[:indexHashLen])
	})
	return ok
}

// missing returns the keys not in the sealed index.
func (ix *keyIndex) missing(keys []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.sealed {
		panic("copier: lookup in an export's key index before it is complete")
	}
	var out []map[string]types.AttributeValue
	for _, k := range keys {
		if !ix.has(keyHash(k)) {
			out = append(out, k)
		}
	}
	return out
}

// A sourceLookup says which keys the source lacks: a table (BatchGetItem)
// or an export (its key index). The delete phase asks it about the main
// table's keys.
type sourceLookup interface {
	missing(ctx context.Context, rng *rand.Rand, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error)
}

// tableLookup looks keys up in a table, keys only.
type tableLookup struct {
	x     *executor
	table string
}

func (l tableLookup) missing(ctx context.Context, rng *rand.Rand, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	_, missing, err := l.x.batchGet(ctx, rng, l.table, keys, true, false)
	return missing, err
}

// indexLookup looks keys up in an export's key index.
type indexLookup struct{ ix *keyIndex }

func (l indexLookup) missing(_ context.Context, _ *rand.Rand, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	return l.ix.missing(keys), nil
}
