package copier

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/tempfile"
)

// A plain copy from a full export (no key index: no --delete-extra, no
// diff, no keys file) finds a key in two data files with an external sort
// of the selected keys' hashes, so that its memory stays flat however
// large the export:
//
//   - while a data file is read whole, each selected record's key hash
//     (fileKeys.hash, 128 bits seeded per copy) is appended, as a 16-byte
//     entry — its first indexHashLen bytes, then the file's number, as in
//     the key index — to the file's buffer (fileRun); every keyRunEntries
//     entries, and when the file is done, the buffer is sorted and written
//     as a run to one private temporary file (package tempfile: unlinked at
//     creation, nothing left after a kill);
//   - after the copy phase, the files of this worker that were not read
//     whole in this process (finished before a resume, or resumed in the
//     middle) are read once more, keys only, into runs;
//   - the runs are merged, keyRunFanIn at a time (a buffer of keyRunReadBuf
//     bytes each), in as many passes as needed; in the final pass two
//     adjacent entries with the same hash and different files are a key
//     in two files: both files are read again to find the records, and
//     the copy is refused naming both places — unless the two keys differ
//     (the 96-bit hashes collided), when the merge goes on.
//
// It costs 16 bytes of $TMPDIR per selected record (twice that at the
// peak of a merge pass, when there are more than keyRunFanIn runs), and
// memory bounded by the files read at once (keyRunEntries entries each)
// and the merge's buffers.

// Sizes of the external sort.
const (
	// keyRunEntryLen is the size of an entry: indexHashLen bytes of the
	// key's hash, then the file's number (uint32, big endian).
	keyRunEntryLen = 16
	// keyRunEntries bounds a file's buffer (128 KiB, and as much for the
	// sort's scratch): a larger file spills several runs.
	keyRunEntries = 1 << 13
	// keyRunFanIn is how many runs one merge reads at once.
	keyRunFanIn = 256
	// keyRunReadBuf is a merged run's read buffer.
	keyRunReadBuf = 4 << 10
	// keyRunWriteBuf is a run's write buffer.
	keyRunWriteBuf = 64 << 10
)

// keyRuns is the temporary file of a copy's sorted runs of key hashes, and
// which data files are wholly in it. Its zero value is not usable
// (newKeyRuns); a nil *keyRuns records nothing.
type keyRuns struct {
	dir  string // "" is os.TempDir()
	mu   sync.Mutex
	f    *tempfile.File // nil until the first run
	end  int64          // bytes reserved in f
	runs []keyRun
	done []bool // files whose selected keys are all in runs
}

// keyRun is a sorted run: n entries from byte off.
type keyRun struct{ off, n int64 }

// newKeyRuns returns the runs of an export of files data files, kept in a
// temporary file in dir ("" is $TMPDIR).
func newKeyRuns(dir string, files int) *keyRuns {
	return &keyRuns{dir: dir, done: make([]bool, files)}
}

// file returns the buffer of data file i's keys, or nil (which records
// nothing) when rs is nil or the file is not read whole.
func (rs *keyRuns) file(i int, whole bool) *fileRun {
	if rs == nil || !whole {
		return nil
	}
	return &fileRun{rs: rs, file: uint32(i)}
}

// isDone reports whether file i's keys are all in the runs.
func (rs *keyRuns) isDone(i int) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.done[i]
}

// write appends a sorted run.
func (rs *keyRuns) write(run []keyEntry) error {
	rs.mu.Lock()
	if rs.f == nil {
		f, err := tempfile.Create(rs.dir, "ddbrewind-keyruns-*", false)
		if err != nil {
			rs.mu.Unlock()
			return err
		}
		rs.f = f
	}
	f, off := rs.f, rs.end
	rs.end += int64(len(run)) * keyRunEntryLen
	rs.mu.Unlock()
	w := bufio.NewWriterSize(io.NewOffsetWriter(f, off), keyRunWriteBuf)
	var enc [keyRunEntryLen]byte
	for _, e := range run {
		w.Write(e.append(enc[:0])) // an error sticks: Flush reports it
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write the keys' hashes to a temporary file: %w", err)
	}
	rs.mu.Lock()
	rs.runs = append(rs.runs, keyRun{off: off, n: int64(len(run))})
	rs.mu.Unlock()
	return nil
}

// close releases the temporary file; nil-safe, idempotent.
func (rs *keyRuns) close() {
	if rs == nil {
		return
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.f != nil {
		rs.f.Close()
		rs.f = nil
	}
}

// fileRun buffers the entries of one data file being read. Its methods do
// nothing on a nil *fileRun.
type fileRun struct {
	rs   *keyRuns
	file uint32
	buf  []keyEntry
	tmp  []keyEntry // sortKeyEntries' scratch
	err  error      // the first spill's error, returned by done
}

// add adds the entry of a key whose hash (fileKeys.hash) is h.
func (r *fileRun) add(h [16]byte) {
	if r == nil || r.err != nil {
		return
	}
	r.buf = append(r.buf, newKeyEntry(h, r.file))
	if len(r.buf) == keyRunEntries {
		r.err = r.spill()
	}
}

// spill sorts the buffer and writes it as a run.
func (r *fileRun) spill() error {
	if len(r.buf) == 0 {
		return nil
	}
	r.tmp = slices.Grow(r.tmp[:0], len(r.buf))[:len(r.buf)]
	sortKeyEntries(r.buf, r.tmp)
	err := r.rs.write(r.buf)
	r.buf = r.buf[:0]
	return err
}

// done spills what is left and records that the file's keys are all in
// the runs.
func (r *fileRun) done() error {
	if r == nil {
		return nil
	}
	if r.err == nil {
		r.err = r.spill()
	}
	if r.err != nil {
		dir := r.rs.dir
		if dir == "" {
			dir = os.TempDir()
		}
		return fmt.Errorf("the check for a key in two data files (16 bytes a record in %s; set TMPDIR to use another directory): %w", dir, r.err)
	}
	r.rs.mu.Lock()
	r.rs.done[r.file] = true
	r.rs.mu.Unlock()
	return nil
}

// keyEntry is an entry of a run: hi holds the first 8 bytes of the key's
// hash, lo the next 4 then the data file's number, both big endian, so
// that entries order by hash, then file. On disk it is those 16 bytes.
type keyEntry struct{ hi, lo uint64 }

// newKeyEntry returns the entry of the key whose hash is h, read from
// data file file.
func newKeyEntry(h [16]byte, file uint32) keyEntry {
	return keyEntry{hi: binary.BigEndian.Uint64(h[:8]), lo: uint64(binary.BigEndian.Uint32(h[8:indexHashLen]))<<32 | uint64(file)}
}

// append appends the entry's 16 bytes to b.
func (e keyEntry) append(b []byte) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(b, e.hi), e.lo)
}

// decodeKeyEntry reads an entry from its 16 bytes.
func decodeKeyEntry(b []byte) keyEntry {
	return keyEntry{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:keyRunEntryLen])}
}

// file is the entry's data file.
func (e keyEntry) file() int { return int(uint32(e.lo)) }

// prefix is the entry's indexHashLen bytes of hash.
func (e keyEntry) prefix() [indexHashLen]byte {
	var p [indexHashLen]byte
	binary.BigEndian.PutUint64(p[:8], e.hi)
	binary.BigEndian.PutUint32(p[8:], uint32(e.lo>>32))
	return p
}

// sameHash reports whether two entries have the same hash.
func (e keyEntry) sameHash(o keyEntry) bool { return e.hi == o.hi && e.lo>>32 == o.lo>>32 }

// sortKeyEntries sorts es (compareKeyEntry), using tmp (as long) as
// scratch: two stable counting passes on the top 16 bits of the hash,
// then an insertion sort, which has little left to do since the hashes
// are uniform (a run of keyRunEntries entries has about one entry for
// every two values of 16 bits): about ten times as fast as
// slices.SortFunc on runs of keyRunEntries.
func sortKeyEntries(es, tmp []keyEntry) {
	src, dst := es, tmp
	for _, shift := range []uint{48, 56} {
		var start [257]int
		for _, e := range src {
			start[int(byte(e.hi>>shift))+1]++
		}
		for d := 1; d < len(start); d++ {
			start[d] += start[d-1]
		}
		for _, e := range src {
			d := byte(e.hi >> shift)
			dst[start[d]] = e
			start[d]++
		}
		src, dst = dst, src
	}
	// Two passes: src is es again.
	for i := 1; i < len(es); i++ {
		e := es[i]
		j := i
		for j > 0 && compareKeyEntry(es[j-1], e) > 0 {
			es[j] = es[j-1]
			j--
		}
		es[j] = e
	}
}

// compareKeyEntry orders entries by hash, then file.
func compareKeyEntry(a, b keyEntry) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// acrossFiles merges the runs and calls found for each pair of adjacent
// entries with the same hash from different data files, in hash order;
// it stops at the first pair found reports true for, or at an error.
// Merge passes replace the temporary file; the runs are consumed.
func (rs *keyRuns) acrossFiles(ctx context.Context, found func(a, b keyEntry) (bool, error)) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	runs := rs.runs
	rs.runs = nil
	for len(runs) > keyRunFanIn {
		if err := ctx.Err(); err != nil {
			return err
		}
		dst, err := tempfile.Create(rs.dir, "ddbrewind-keyruns-*", false)
		if err != nil {
			return fmt.Errorf("the check for a key in two data files: %w", err)
		}
		var next []keyRun
		var off int64
		enc := make([]byte, 0, keyRunEntryLen)
		for g := 0; g < len(runs); g += keyRunFanIn {
			m, err := newKeyMerge(rs.f, runs[g:min(g+keyRunFanIn, len(runs))])
			if err != nil {
				dst.Close()
				return err
			}
			w := bufio.NewWriterSize(io.NewOffsetWriter(dst, off), keyRunWriteBuf)
			var n int64
			for {
				e, ok := m.next()
				if !ok {
					break
				}
				if _, err := w.Write(e.append(enc[:0])); err != nil {
					break // reported by Flush
				}
				n++
			}
			if err := m.err; err != nil {
				dst.Close()
				return err
			}
			if err := w.Flush(); err != nil {
				dst.Close()
				return fmt.Errorf("the check for a key in two data files: merge the keys' hashes into a temporary file: %w", err)
			}
			next = append(next, keyRun{off: off, n: n})
			off += n * keyRunEntryLen
		}
		rs.f.Close() // its disk space is freed
		rs.f, runs = dst, next
	}
	if len(runs) == 0 {
		return nil
	}
	m, err := newKeyMerge(rs.f, runs)
	if err != nil {
		return err
	}
	var prev keyEntry
	for n := 0; ; n++ {
		e, ok := m.next()
		if !ok {
			return m.err
		}
		if n > 0 && prev.sameHash(e) && prev.file() != e.file() {
			stop, err := found(prev, e)
			if err != nil || stop {
				return err
			}
		}
		if n%(1<<16) == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		prev = e
	}
}

// keyMerge yields the entries of sorted runs in order: a min-heap of one
// cursor per run.
type keyMerge struct {
	heap []*keyCursor
	err  error
}

// keyCursor reads one run, keyRunReadBuf bytes at a time.
type keyCursor struct {
	r    *io.SectionReader
	buf  []byte // entries read
	pos  int    // of the next entry in buf
	left int64  // entries not read yet
	cur  keyEntry
}

// advance reads the cursor's next entry; false at the end of the run.
func (c *keyCursor) advance() (bool, error) {
	if c.pos == len(c.buf) {
		if c.left == 0 {
			return false, nil
		}
		n := min(c.left, keyRunReadBuf/keyRunEntryLen)
		c.buf, c.pos = c.buf[:n*keyRunEntryLen], 0
		if _, err := io.ReadFull(c.r, c.buf); err != nil {
			return false, fmt.Errorf("the check for a key in two data files: read the keys' hashes back from a temporary file: %w", err)
		}
		c.left -= n
	}
	c.cur = decodeKeyEntry(c.buf[c.pos:])
	c.pos += keyRunEntryLen
	return true, nil
}

func newKeyMerge(f io.ReaderAt, runs []keyRun) (*keyMerge, error) {
	m := &keyMerge{}
	for _, run := range runs {
		c := &keyCursor{r: io.NewSectionReader(f, run.off, run.n*keyRunEntryLen), buf: make([]byte, 0, keyRunReadBuf), left: run.n}
		ok, err := c.advance()
		if err != nil {
			return nil, err
		}
		if ok {
			m.heap = append(m.heap, c)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m, nil
}

// next returns the smallest entry left; false when none is left or on an
// error (m.err).
func (m *keyMerge) next() (keyEntry, bool) {
	if len(m.heap) == 0 || m.err != nil {
		return keyEntry{}, false
	}
	c := m.heap[0]
	e := c.cur
	ok, err := c.advance()
	switch {
	case err != nil:
		m.err = err
		return keyEntry{}, false
	case !ok:
		last := len(m.heap) - 1
		m.heap[0] = m.heap[last]
		m.heap = m.heap[:last]
	}
	if len(m.heap) > 0 {
		m.down(0)
	}
	return e, true
}

func (m *keyMerge) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && compareKeyEntry(h[r].cur, h[l].cur) < 0 {
			j = r
		}
		if compareKeyEntry(h[j].cur, h[i].cur) >= 0 {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

// keysCheckedUnit is the checkpoint entry that records that the check
// across files passed: a resumed copy whose files are all done is complete
// only with it, so that a copy refused by the check (or killed during it)
// is checked again, not taken as done. Checkpoints without it (from
// before the check, or of a copy stopped before it) get the check on
// their next run.
const keysCheckedUnit = "check/keys-across-files"

// checksKeysAcrossFiles reports whether the plan is a copy from this full
// export without a key index (whose sealing finds a key in two files):
// the runs check it.
func (e *exportPast) checksKeysAcrossFiles(p *Plan) bool {
	return e.index == nil && p.purpose == forCopy
}

// checked reports whether the checkpoint st records that the check across
// files passed, when the source makes it (see finisher).
func (s *exportSource) checked(st *checkpoint.State) bool {
	return s.runs == nil || st.Units[keysCheckedUnit].Done
}

// finish ends the copy phase of a plain copy from a full export (a source
// with runs): unless err (the copy phase's error) is set, ctx is done or
// the checkpoint records that the check passed, it reads keys only the
// files of this worker not read whole yet, merges the runs and refuses a
// key found in two data files, naming both places; it records a pass in
// tr's state. It releases the runs' temporary file, and returns err when
// set.
func (s *exportSource) finish(ctx context.Context, tr *tracker, err error) error {
	if s.runs == nil {
		return err
	}
	defer s.runs.close()
	if err != nil || ctx.Err() != nil || tr.checked(keysCheckedUnit) {
		return err
	}
	if err := s.readRuns(ctx); err != nil {
		return err
	}
	err = s.runs.acrossFiles(ctx, func(a, b keyEntry) (bool, error) {
		d := &dupKey{prefix: a.prefix(), files: [2]int{a.file(), b.file()}}
		var keys [2]map[string]types.AttributeValue
		var lines [2]int
		for n, i := range d.files {
			k, line, err := s.findKeyByHash(ctx, i, d.prefix)
			if err != nil {
				return false, err
			}
			keys[n], lines[n] = k, line
		}
		if keys[0] != nil && keys[1] != nil && ddbjson.KeyString(keys[0]) != ddbjson.KeyString(keys[1]) {
			s.log.Debug("two keys share a 96-bit hash: not a key twice", "export", s.job.exp.URL())
			return false, nil
		}
		return true, duplicateAcrossFiles(s.verb, s.writes, s.job.exp, d, keys[0], lines)
	})
	if err == nil && ctx.Err() == nil {
		tr.check(keysCheckedUnit)
	}
	return err
}

// checked reports whether the state records unit key as done.
func (t *tracker) checked(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state.Units[key].Done
}

// check records unit key as done, for the next save.
func (t *tracker) check(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.state.Units[key] = checkpoint.Unit{Done: true}
	t.dirty = true
}

// readRuns reads, keys only, this worker's data files whose keys are not
// all in the runs: those finished before a resume and the one resumed in
// the middle.
func (s *exportSource) readRuns(ctx context.Context) error {
	var todo []int
	for _, u := range s.units(phaseCopy) {
		if !s.runs.isDone(u.idx) {
			todo = append(todo, u.idx)
		}
	}
	if len(todo) > 0 {
		s.log.Info("reading the keys of the export files read before the resume, to find a key in two files", "export", s.job.exp.URL(), "files", len(todo))
	}
	return s.readKeys(ctx, todo, func(i int) keyReader {
		run := s.runs.file(i, true)
		return keyReader{
			add:  func(_ map[string]types.AttributeValue, seen *fileKeys) { run.add(seen.last) },
			done: run.done,
		}
	})
}

// findKeyByHash reads data file i for the first selected record whose key
// hash (fileKeys.hash) starts with prefix: its key and line (nil, 0: none).
func (s *exportSource) findKeyByHash(ctx context.Context, i int, prefix [indexHashLen]byte) (map[string]types.AttributeValue, int, error) {
	h := newFileKeys(s.seeds, s.keys.names, 0)
	return s.findIn(ctx, i, func(item map[string]types.AttributeValue) bool {
		k := h.hash(item)
		return [indexHashLen]byte(k[:indexHashLen]) == prefix
	})
}
