package copier

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// randomHashes returns n distinct pseudo-random key hashes.
func randomHashes(rng *rand.Rand, n int) [][16]byte {
	hs := make([][16]byte, n)
	for i := range hs {
		binary.LittleEndian.PutUint64(hs[i][:8], rng.Uint64())
		binary.LittleEndian.PutUint64(hs[i][8:], rng.Uint64())
	}
	return hs
}

// collectAcross runs the merge and returns the pairs of files it reports.
func collectAcross(t *testing.T, rs *keyRuns) [][2]int {
	t.Helper()
	var got [][2]int
	err := rs.acrossFiles(context.Background(), func(a, b keyEntry) (bool, error) {
		if !a.sameHash(b) {
			t.Errorf("reported entries with different hashes: %x %x", a, b)
		}
		got = append(got, [2]int{a.file(), b.file()})
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestKeyRunsAcrossFiles: the runs of many files (more than a merge reads
// at once, so the merge takes two passes; one file larger than a buffer,
// so it spills several runs) report no pair when every key is distinct,
// even with a file recorded twice (a resume's re-read), and report a key
// in the first and the last run, and one in two middle files, in hash
// order.
func TestKeyRunsAcrossFiles(t *testing.T) {
	const files = 3*keyRunFanIn + 7
	rng := rand.New(rand.NewPCG(1, 2))
	build := func(dups map[int][16]byte) *keyRuns {
		rs := newKeyRuns(t.TempDir(), files)
		for i := range files {
			n := 20
			if i == files/2 {
				n = 2*keyRunEntries + 100 // three runs
			}
			run := rs.file(i, true)
			for _, h := range randomHashes(rng, n) {
				run.add(h)
			}
			if h, ok := dups[i]; ok {
				run.add(h)
			}
			if err := run.done(); err != nil {
				t.Fatal(err)
			}
		}
		// File 3 recorded again, as when a file resumed in the middle is
		// re-read: the same file twice is not a key twice.
		again := rs.file(3, true)
		for _, h := range randomHashes(rand.New(rand.NewPCG(9, 9)), 5) {
			again.add(h)
			again.add(h) // twice in one run: one file
		}
		if err := again.done(); err != nil {
			t.Fatal(err)
		}
		return rs
	}

	rs := build(nil)
	if len(rs.runs) <= keyRunFanIn {
		t.Fatalf("%d runs: the test wants more than the fan-in (%d)", len(rs.runs), keyRunFanIn)
	}
	if got := collectAcross(t, rs); len(got) != 0 {
		t.Errorf("distinct keys: reported %v, want nothing", got)
	}
	rs.close()

	low, high := [16]byte{0x01, 0xaa}, [16]byte{0xfe, 0xbb}
	rs = build(map[int][16]byte{0: high, files - 1: high, 5: low, files / 2: low})
	defer rs.close()
	want := [][2]int{{5, files / 2}, {0, files - 1}}
	if got := collectAcross(t, rs); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("reported %v, want %v", got, want)
	}
}

// TestKeyRunsStopsAtFirst: the merge stops at the first pair its callback
// accepts, and a nil *keyRuns records nothing.
func TestKeyRunsStopsAtFirst(t *testing.T) {
	rs := newKeyRuns(t.TempDir(), 3)
	defer rs.close()
	for i := range 3 {
		run := rs.file(i, true)
		run.add([16]byte{1})
		run.add([16]byte{2})
		if err := run.done(); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	err := rs.acrossFiles(context.Background(), func(a, b keyEntry) (bool, error) {
		calls++
		return true, nil
	})
	if err != nil || calls != 1 {
		t.Errorf("acrossFiles = %v after %d calls, want nil after 1", err, calls)
	}
	var none *keyRuns
	if r := none.file(0, true); r != nil {
		t.Error("a nil *keyRuns returned a buffer")
	}
	if r := rs.file(0, false); r != nil {
		t.Error("a file not read whole got a buffer")
	}
}

// liveHeap returns the bytes of live heap after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestKeyRunsMemoryFlat: reading 4 files of n records and merging their
// runs holds as much live heap for n = 4N as for n = N (within 2 MiB),
// where a set of every key would grow by 16 bytes a key (12 MiB here).
func TestKeyRunsMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 16 MiB to $TMPDIR")
	}
	const N = 1 << 16
	measure := func(n int) (reading, merging uint64) {
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		rs := newKeyRuns(t.TempDir(), 4)
		defer rs.close()
		mid := [16]byte{0x80}
		for i := range 4 {
			run := rs.file(i, true)
			for j := range n {
				var h [16]byte
				binary.LittleEndian.PutUint64(h[:8], rng.Uint64())
				binary.LittleEndian.PutUint64(h[8:], uint64(j))
				run.add(h)
			}
			if i == 0 || i == 3 {
				run.add(mid) // a pair in the middle of the merge, to measure there
			}
			if i == 3 {
				reading = liveHeap()
			}
			if err := run.done(); err != nil {
				t.Fatal(err)
			}
		}
		err := rs.acrossFiles(context.Background(), func(a, b keyEntry) (bool, error) {
			merging = liveHeap()
			return true, nil
		})
		if err != nil || merging == 0 {
			t.Fatalf("acrossFiles = %v; the pair was not found", err)
		}
		return reading, merging
	}
	r1, m1 := measure(N)
	r4, m4 := measure(4 * N)
	t.Logf("live heap reading: %d KiB (N) %d KiB (4N); merging: %d KiB, %d KiB", r1>>10, r4>>10, m1>>10, m4>>10)
	const slack = 2 << 20
	if r4 > r1+slack || m4 > m1+slack {
		t.Errorf("the live heap grows with the records: reading %d → %d, merging %d → %d bytes", r1, r4, m1, m4)
	}
}

// TestExportKeyInTwoFilesPlainCopy: a plain copy (no key index) refuses a
// key in two data files after its copy phase, naming both places — also a
// dry run, a copy resumed after the file holding the first record was
// done (read again, keys only), and a rerun of a refused copy, which a
// checkpoint does not make complete; a copy whose check passed is
// complete. Workers each check their own files only.
func TestExportKeyInTwoFilesPlainCopy(t *testing.T) {
	files := [][]string{exportLines(0, 5), exportLines(10, 15), append(exportLines(5, 7), append([]string{exportLine("k002", "again")}, exportLines(7, 10)...)...)}
	written := "; the copy phase has written the export's items, one of the key's versions among them, and nothing is deleted (with --journal, undo puts them back)"
	for _, tt := range []struct {
		name    string
		edit    func(o *Options)
		done0   bool // a checkpoint says file 0 is done
		written bool
		refused bool
	}{
		{"copy", func(o *Options) {}, false, true, true},
		{"dry run", func(o *Options) { o.DryRun = true }, false, false, true},
		{"resumed after file 0", func(o *Options) {}, true, true, true},
		{"worker 0 of 2 reads files 0 and 2", func(o *Options) { o.WorkerCount, o.WorkerIndex = 2, 0 }, false, true, true},
		{"worker 1 of 2 reads file 1 (a documented limit)", func(o *Options) { o.WorkerCount, o.WorkerIndex = 2, 1 }, false, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newLinesEnv(t, files)
			o := e.opts
			o.Segments = 2
			o.Checkpoint = filepath.Join(t.TempDir(), "cp.json")
			tt.edit(&o)
			if tt.done0 {
				p, err := Prepare(context.Background(), e.api, o)
				if err != nil {
					t.Fatal(err)
				}
				p.state.Units["copy/0"] = checkpoint.Unit{Line: 5, Done: true}
				data, err := checkpoint.Encode(p.state)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(o.Checkpoint, data, 0o600); err != nil {
					t.Fatal(err)
				}
				p.Close()
			}
			for attempt := range 2 {
				p, err := Prepare(context.Background(), e.api, o)
				if err != nil {
					t.Fatal(err)
				}
				if attempt == 1 && !o.DryRun && p.Complete() != !tt.refused {
					t.Errorf("rerun: Complete() = %v, want %v", p.Complete(), !tt.refused)
				}
				_, err = p.Run(context.Background(), e.api)
				if !tt.refused {
					if err != nil {
						t.Errorf("attempt %d: Run = %v; want nil", attempt, err)
					}
					continue
				}
				want := fmt.Sprintf(`copy: the export %s has the key {"pk":{"S":"k002"}} twice, in s3://bkt/%s:3 and s3://bkt/%s:3: a key twice in a full export is refused (one version would win at random)`,
					e.te.URL, e.te.Keys[0], e.te.Keys[2])
				if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), written) != tt.written {
					t.Errorf("attempt %d: Run = %v; want a usage error saying %q (and, if it writes, %q)", attempt, err, want, written)
				}
			}
		})
	}
}

// BenchmarkKeyRunsSpill measures the per-record cost of the check for a
// key in two data files in a plain copy: buffering the record's key hash
// (already computed by fileKeys.add), sorting and writing the runs, and
// merging them after the copy phase (files of 100,000 records).
func BenchmarkKeyRunsSpill(b *testing.B) {
	const perFile = 100_000
	hs := randomHashes(rand.New(rand.NewPCG(3, 4)), b.N)
	rs := newKeyRuns(b.TempDir(), b.N/perFile+1)
	defer rs.close()
	b.ResetTimer()
	for i := 0; i < b.N; i += perFile {
		run := rs.file(i/perFile, true)
		for _, h := range hs[i:min(i+perFile, b.N)] {
			run.add(h)
		}
		if err := run.done(); err != nil {
			b.Fatal(err)
		}
	}
	if err := rs.acrossFiles(context.Background(), func(a, b keyEntry) (bool, error) { return true, nil }); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
}

// TestKeyEntry: an entry keeps the first 12 bytes of the hash and the
// file, orders by hash then file, and reads back what it wrote.
func TestKeyEntry(t *testing.T) {
	h := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	e := newKeyEntry(h, 7)
	if e.prefix() != [indexHashLen]byte(h[:indexHashLen]) || e.file() != 7 {
		t.Errorf("prefix %x file %d, want %x 7", e.prefix(), e.file(), h[:indexHashLen])
	}
	if d := decodeKeyEntry(e.append(nil)); d != e {
		t.Errorf("read back %v, want %v", d, e)
	}
	other := h
	other[15] = 99 // past the 12 bytes kept
	if f := newKeyEntry(other, 3); !f.sameHash(e) || compareKeyEntry(f, e) >= 0 {
		t.Errorf("the same 12 bytes in file 3: sameHash %v, compare %d; want true, -1", f.sameHash(e), compareKeyEntry(f, e))
	}
	other[11]++
	if f := newKeyEntry(other, 3); f.sameHash(e) || compareKeyEntry(f, e) <= 0 {
		t.Errorf("a larger hash in file 3: sameHash %v, compare %d; want false, 1", f.sameHash(e), compareKeyEntry(f, e))
	}
}

// TestSortKeyEntries: the radix-then-insertion sort orders as
// compareKeyEntry does, for uniform hashes and for hashes that share
// their top 16 bits (all left to the insertion sort).
func TestSortKeyEntries(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tt := range []struct {
		name string
		n    int
		mask uint64
	}{
		{"uniform", 5000, ^uint64(0)},
		{"same top 16 bits", 700, 1<<48 - 1},
		{"empty", 0, 0},
		{"one", 1, 0},
	} {
		es := make([]keyEntry, tt.n)
		for i := range es {
			es[i] = keyEntry{hi: rng.Uint64() & tt.mask, lo: rng.Uint64() % 4}
		}
		want := slices.Clone(es)
		slices.SortFunc(want, compareKeyEntry)
		sortKeyEntries(es, make([]keyEntry, len(es)))
		if !slices.Equal(es, want) {
			t.Errorf("%s: not sorted as compareKeyEntry orders", tt.name)
		}
	}
}

// TestKeyRunsTempFile: the runs' temporary file has no name in its
// directory (nothing is left after a kill), and a directory where it
// cannot be created stops the file's read with an error naming it.
func TestKeyRunsTempFile(t *testing.T) {
	dir := t.TempDir()
	rs := newKeyRuns(dir, 1)
	run := rs.file(0, true)
	run.add([16]byte{1})
	if err := run.done(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); runtime.GOOS == "linux" && len(entries) != 0 {
		t.Errorf("%d names left in $TMPDIR while the runs are open", len(entries))
	}
	rs.close()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d names left in $TMPDIR after close", len(entries))
	}

	gone := filepath.Join(dir, "gone")
	rs = newKeyRuns(gone, 1)
	defer rs.close()
	run = rs.file(0, true)
	run.add([16]byte{1})
	err := run.done()
	if want := "the check for a key in two data files (16 bytes a record in " + gone; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("done = %v; want an error saying %q", err, want)
	}
}
