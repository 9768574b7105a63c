package copier

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// keysFile is a checked keys file: its local path (an s3:// file is
// downloaded once, by Prepare), the number of distinct keys, and the lines
// that repeat an earlier line's key, in any spelling.
type keysFile struct {
	loc     string // as given, for messages
	path    string // local copy
	keys    int
	repeats map[int]bool
}

// checkKeysFile reads the whole keys file once, checking every line's
// syntax and that each key has exactly the table's key attributes (ks), and
// notes the lines that repeat an earlier key (ddbjson.KeyString: "7" and
// "7.0" are one key).
func checkKeysFile(loc, path string, ks keySchemaInfo, log *slog.Logger) (*keysFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--keys-file %s: %v", loc, err)
	}
	defer f.Close()
	r := ddbjson.NewKeysReader(f, loc)
	kf := &keysFile{loc: loc, path: path, repeats: map[int]bool{}}
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
			return nil, usagef("%s:%d: %v", loc, line, err)
		}
		sum := sha256.Sum256([]byte(ddbjson.KeyString(key)))
		h := [16]byte(sum[:16])
		if _, dup := seen[h]; dup {
			kf.repeats[line] = true
			continue
		}
		seen[h] = struct{}{}
		kf.keys++
	}
	if kf.keys == 0 {
		return nil, usagef("--keys-file %s holds no keys: put one key per line, e.g. {\"pk\":{\"S\":\"a\"}}", loc)
	}
	if len(kf.repeats) > 0 {
		log.Info("keys file lists some keys more than once (numbers compare as numbers: 7 and 7.0 are one key); each is copied once",
			"keys_file", loc, "keys", kf.keys, "repeated_lines", len(kf.repeats))
	}
	return kf, nil
}

// keysSource reads the items of a keys file's keys from a table: chunks of
// 100 lines whose distinct keys are fetched with one BatchGetItem. Chunk k
// (lines 100k+1 to 100k+100) belongs to worker k % workerCount, whatever
// the resume point; the position is the line after the last complete
// chunk. Keys the table lacks are reported (noteNotInSource) and emitted as
// absent: a sink may delete them (--delete-extra) or look for them (diff).
type keysSource struct {
	x           *executor
	table       string
	file        *keysFile
	keyNames    []string
	workerIndex int
	workerCount int
}

// The keys file is one unit; its chunks are split between workers.
func (s *keysSource) units(phase string) []unit {
	if phase != phaseCopy {
		return nil // keys the table lacks are handled in the copy phase
	}
	return []unit{{phase: phase}}
}

func (s *keysSource) read(ctx context.Context, u unit, from checkpoint.Unit, emit emitFunc) error {
	f, err := os.Open(s.file.path)
	if err != nil {
		return usagef("--keys-file %s: %v", s.file.loc, err)
	}
	defer f.Close()
	r := ddbjson.NewKeysReader(f, s.file.loc)
	rng := rand.New(rand.NewPCG(uint64(u.idx), 11))
	var chunk []map[string]types.AttributeValue
	seen := map[string]bool{}
	mine := func(k int) bool { return k%s.workerCount == s.workerIndex }
	flush := func(k int, eof bool) error {
		var found, missing []map[string]types.AttributeValue
		if len(chunk) > 0 {
			var err error
			found, missing, err = s.x.batchGet(ctx, rng, s.table, chunk, false, false)
			if err != nil {
				return err
			}
			s.x.stats.Read.Add(int64(len(chunk))) // keys looked up
			s.x.stats.Matched.Add(int64(len(found)))
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
	for _, n := range ks.names {
		v, ok := key[n]
		if !ok {
			return fmt.Errorf("the key lacks attribute %q (the table's key is %s)", n, strings.Join(ks.names, " + "))
		}
		if got := ddbjson.TypeName(v); got != ks.types[n] {
			return fmt.Errorf("key attribute %q has type %s, the table says %s", n, got, ks.types[n])
		}
	}
	return nil
}
