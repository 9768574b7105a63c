package copier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/tempfile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// keysFile is a checked keys file: how to read it again (an s3:// file is
// downloaded once, by Prepare; a pipe or stdin is spooled once), the
// number of distinct keys, and the lines that repeat an earlier line's
// key, in any spelling.
type keysFile struct {
	loc     string // as given, for messages
	open    func() (io.ReadCloser, error)
	keys    int
	lines   int // the last line holding a key
	repeats map[int]bool
	// set holds the hashes of the keys (keyHash), kept only when an
	// export is selected by them.
	set map[[16]byte]struct{}
	// digest identifies the file's content (hex SHA-256 of its bytes): a
	// checkpoint's positions are its line numbers.
	digest string
}

// checkKeysFile reads the whole keys file once, checking every line's
// syntax and that each key has exactly the table's key attributes (ks), and
// notes the lines that repeat an earlier key (ddbjson.KeyString: "7" and
// "7.0" are one key). keep keeps the set of keys' hashes (for an export).
func checkKeysFile(loc string, open func() (io.ReadCloser, error), ks keySchemaInfo, log *slog.Logger, keep bool) (*keysFile, error) {
	return checkKeysFileOf("--keys-file", loc, open, ks, log, keep)
}

// checkKeysFileOf is checkKeysFile for a keys file given with flag.
func checkKeysFileOf(flag, loc string, open func() (io.ReadCloser, error), ks keySchemaInfo, log *slog.Logger, keep bool) (*keysFile, error) {
	f, err := open()
	if err != nil {
		return nil, usage.Errorf("%s %s: %v", flag, loc, err)
	}
	defer f.Close()
	sum := sha256.New()
	r := ddbjson.NewKeysReader(io.TeeReader(f, sum), loc)
	kf := &keysFile{loc: loc, open: open, repeats: map[int]bool{}}
	// 128 bits of SHA-256 per key: a collision (which would skip a key)
	// is as likely as a random 128-bit guess, and a million keys take
	// tens of MB only while the file is checked.
	seen := map[[16]byte]struct{}{}
	for {
		key, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := ks.check(key); err != nil {
			return nil, usage.Errorf("%s:%d: %v", loc, line, err)
		}
		kf.lines = line
		h := keyHash(key)
		if _, dup := seen[h]; dup {
			kf.repeats[line] = true
			continue
		}
		seen[h] = struct{}{}
		kf.keys++
	}
	kf.digest = hex.EncodeToString(sum.Sum(nil))
	if kf.keys == 0 {
		return nil, usage.Errorf("%s %s holds no keys: put one key per line, e.g. {\"pk\":{\"S\":\"a\"}}", flag, loc)
	}
	if keep {
		kf.set = seen
	}
	if len(kf.repeats) > 0 {
		log.Info("keys file lists some keys more than once (numbers compare as numbers: 7 and 7.0 are one key); each is copied once",
			"keys_file", loc, "flag", flag, "keys", kf.keys, "repeated_lines", len(kf.repeats))
	}
	return kf, nil
}

// openKeysFile makes the keys file at loc readable as often as the job
// needs (checked once, then read by the copy), always the same content: an
// s3:// object is downloaded (Files.Local); a file that can be read only
// once — a pipe from <(...), /dev/stdin, or "-" for stdin — is spooled
// first (spool), so that the copy never reads a stream the check already
// consumed; a regular file is kept open and read up to its size when
// opened, so that the copy reads the lines the check checked. release
// removes the local copy, or closes the file.
func openKeysFile(ctx context.Context, o *Options, loc string) (open func() (io.ReadCloser, error), release func(), err error) {
	if loc == "-" {
		in := o.Stdin
		if in == nil {
			in = os.Stdin
		}
		return spool(in, "stdin")
	}
	if !statefile.IsS3(loc) {
		f, err := os.Open(loc)
		if err != nil {
			return nil, nil, usage.Errorf("--keys-file %s: %v", loc, err)
		}
		fi, err := f.Stat()
		switch {
		case err != nil:
			f.Close()
			return nil, nil, usage.Errorf("--keys-file %s: %v", loc, err)
		case fi.IsDir():
			f.Close()
			return nil, nil, usage.Errorf("--keys-file %s is a directory: give a JSON Lines file of keys", loc)
		case !fi.Mode().IsRegular():
			defer f.Close()
			return spool(f, loc)
		}
		// A regular file is read through this one open file, up to its
		// size now: a file replaced (renamed over) or appended to after
		// the check does not change what the copy reads.
		size := fi.Size()
		release = sync.OnceFunc(func() { f.Close() })
		open = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(f, 0, size)), nil }
		return open, release, nil
	}
	path, release, err := o.Files.Local(ctx, loc)
	switch {
	case errors.Is(err, fs.ErrNotExist) || badS3(loc):
		return nil, nil, usage.Errorf("--keys-file %s: %v", loc, err)
	case err != nil:
		return nil, nil, fmt.Errorf("--keys-file: %w", err)
	}
	return func() (io.ReadCloser, error) { return os.Open(path) }, release, nil
}

// spool copies a stream that can be read only once into a private (0600)
// temporary file, unlinked at once where the system allows it (so that no
// exit path, not even a kill, leaves it behind; elsewhere release removes
// it), and returns readers of that copy. loc names the stream in messages.
func spool(r io.Reader, loc string) (open func() (io.ReadCloser, error), release func(), err error) {
	f, err := tempfile.Create("", "ddbrewind-keys-*", false)
	if err != nil {
		return nil, nil, fmt.Errorf("--keys-file %s: spool: %w", loc, err)
	}
	release = sync.OnceFunc(func() { f.Close() })
	n, err := io.Copy(f, r)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("--keys-file %s: read: %w", loc, err)
	}
	// Readers share the file through ReadAt: any number, at once.
	open = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(f, 0, n)), nil }
	return open, release, nil
}

// keyHash is a key's identity in sets that must stay small: the first 128
// bits of the SHA-256 of its KeyString. A collision (which would take one
// key for another) is as likely as a random 128-bit guess.
func keyHash(key map[string]types.AttributeValue) [16]byte {
	sum := sha256.Sum256([]byte(ddbjson.KeyString(key)))
	return [16]byte(sum[:16])
}

// keysSource reads the items of a keys file's keys from a table: chunks of
// 100 lines whose distinct keys are fetched with one BatchGetItem. Chunk k
// (lines 100k+1 to 100k+100) belongs to worker k % workerCount, whatever
// the resume point; the position is the line after the last complete
// chunk. Keys the table lacks are reported (noteNotInSource) and emitted as
// absent: a sink may delete them (--delete-extra) or look for them (diff).
//
// With index (an export's key index) it reads no table: it is the delete
// phase of a copy from an export selected by a keys file, and emits only
// the keys the export lacks (their items were read in the copy phase).
type keysSource struct {
	x           *executor
	table       string // the table, or the export's URL (index)
	index       *keyIndex
	file        *keysFile
	keyNames    []string
	workerIndex int
	workerCount int
}

// The keys file is one unit; its chunks are split between workers. Keys
// a table lacks are found in the copy phase; keys an export lacks in the
// delete phase, once the export's key index is complete.
func (s *keysSource) units(phase string) []unit {
	if (s.index == nil) != (phase == phaseCopy) {
		return nil
	}
	return []unit{{phase: phase}}
}

func (s *keysSource) read(ctx context.Context, u unit, from checkpoint.Unit, emit emitFunc) error {
	f, err := s.file.open()
	if err != nil {
		return usage.Errorf("--keys-file %s: %v", s.file.loc, err)
	}
	defer f.Close()
	r := ddbjson.NewKeysReader(f, s.file.loc)
	rng := rand.New(rand.NewPCG(uint64(u.idx), 11))
	var chunk []map[string]types.AttributeValue
	seen := map[string]bool{}
	mine := func(k int) bool { return k%s.workerCount == s.workerIndex }
	flush := func(k int, eof bool) error {
		var found, missing []map[string]types.AttributeValue
		switch {
		case len(chunk) > 0 && s.index != nil:
			s.x.checked(int64(len(chunk)))
			missing = s.index.missing(chunk)
			s.x.noteNotInSource(s.table, missing)
		case len(chunk) > 0:
			var err error
			found, missing, err = s.x.batchGet(ctx, rng, s.table, chunk, false, false)
			if err != nil {
				return err
			}
			s.x.read(int64(len(chunk))) // keys looked up
			s.x.matched(int64(len(found)))
			s.x.noteNotInSource(s.table, missing)
		}
		chunk, seen = chunk[:0], map[string]bool{}
		return emit(found, missing, checkpoint.Unit{Line: (k + 1) * keysPerGet, Done: eof})
	}
	cur := -1
	for {
		key, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if line <= from.Line {
			continue
		}
		k := (line - 1) / keysPerGet
		if k != cur && cur >= 0 {
			if err := flush(cur, false); err != nil {
				return err
			}
		}
		cur = k
		if !mine(k) || s.file.repeats[line] {
			continue // another worker's chunk, or a key listed earlier
		}
		ks := ddbjson.KeyString(key)
		if seen[ks] {
			continue // cannot happen after repeats; BatchGetItem rejects duplicates
		}
		seen[ks] = true
		chunk = append(chunk, key)
	}
	if cur < 0 {
		cur = from.Line / keysPerGet
	}
	return flush(cur, true)
}

// keySchemaInfo is a table's key: attribute names (hash first) and types.
type keySchemaInfo struct {
	names []string
	types map[string]string
}

// check checks a key against the key schema.
func (ks keySchemaInfo) check(key map[string]types.AttributeValue) error {
	if len(key) != len(ks.names) {
		return fmt.Errorf("the key has %d attributes, the table's key is %s", len(key), strings.Join(ks.names, " + "))
	}
	for i, n := range ks.names {
		v, ok := key[n]
		if !ok {
			return fmt.Errorf("the key lacks attribute %q (the table's key is %s)", n, strings.Join(ks.names, " + "))
		}
		if got := ddbjson.TypeName(v); got != ks.types[n] {
			return fmt.Errorf("key attribute %q has type %s, the table says %s", n, got, ks.types[n])
		}
		if i > 0 {
			if size := keyValueSize(v); size > maxSortKeySize {
				return fmt.Errorf("key attribute %q (the sort key) is %d bytes, DynamoDB allows at most %d for a sort key: no item has this key", n, size, maxSortKeySize)
			}
		}
	}
	return nil
}

// maxSortKeySize is DynamoDB's limit for a sort key value (a partition
// key's, 2048 bytes, is checked by ddbjson.KeysReader): BatchGetItem
// rejects a longer one, in the middle of a copy.
const maxSortKeySize = 1024

// keyValueSize is the size DynamoDB counts for an S or B key value; 0 for
// a number (at most 38 digits).
func keyValueSize(v types.AttributeValue) int {
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		return len(t.Value)
	case *types.AttributeValueMemberB:
		return len(t.Value)
	}
	return 0
}
