package copier

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// A full export holds each key once: a key twice would make DynamoDB
// reject the BatchWriteItem holding both records, or, across pages and
// files, let whichever copy is written last win. Two checks refuse it:
//
//   - within a data file (where AWS, which writes each partition's keyspace
//     to its own files, could repeat a key), every record's key is hashed
//     into a set kept while the file is read (fileKeys: about 40 bytes a
//     record of the largest file, freed when the file is done), so a key
//     seen again stops the copy before the page holding it is emitted;
//   - across data files, where the export's key index is built (diff,
//     --delete-extra, a keys file), sealing it finds a key indexed from two
//     different files (keyIndex.seal).
//
// A plain copy keeps no set across files (its memory stays flat as the
// table grows): it sorts the keys' hashes into runs in a temporary file
// and merges them after its copy phase (export_keyruns.go).

// fileKeys is the set of the keys read so far from one data file, with the
// line of each; its zero value is not usable (newFileKeys).
type fileKeys struct {
	seeds *[2]maphash.Seed
	names []string
	lines map[[16]byte]uint32 // line numbers fit: a data file is far below 4G lines
	buf   []byte
	last  [16]byte // the hash of the key last added
}

// newFileKeys returns an empty set for a file's keys (schema names), sized
// for records of them (the file's verified record count).
func newFileKeys(seeds *[2]maphash.Seed, names []string, records int64) *fileKeys {
	return &fileKeys{seeds: seeds, names: names, lines: make(map[[16]byte]uint32, max(records, 0))}
}

// add records item's key at line; it returns the line the key was already
// at, or 0. Its hash (hash) is left in last.
func (f *fileKeys) add(item map[string]types.AttributeValue, line int) int {
	h := f.hash(item)
	f.last = h
	if first, ok := f.lines[h]; ok {
		return int(first)
	}
	f.lines[h] = uint32(line)
	return 0
}

// hash returns the hash of item's key (128 bits, seeded per copy) from its
// canonical form: type, length and bytes of each key attribute, numbers
// in their canonical spelling. Items have been checked against the key
// schema (checkItem).
func (f *fileKeys) hash(item map[string]types.AttributeValue) [16]byte {
	b := f.buf[:0]
	for _, n := range f.names {
		switch t := item[n].(type) {
		case *types.AttributeValueMemberS:
			b = binary.AppendUvarint(append(b, 'S'), uint64(len(t.Value)))
			b = append(b, t.Value...)
		case *types.AttributeValueMemberN:
			v := ddbjson.CanonicalNumber(t.Value)
			b = binary.AppendUvarint(append(b, 'N'), uint64(len(v)))
			b = append(b, v...)
		case *types.AttributeValueMemberB:
			b = binary.AppendUvarint(append(b, 'B'), uint64(len(t.Value)))
			b = append(b, t.Value...)
		}
	}
	f.buf = b
	var h [16]byte
	binary.LittleEndian.PutUint64(h[:8], maphash.Bytes(f.seeds[0], b))
	binary.LittleEndian.PutUint64(h[8:], maphash.Bytes(f.seeds[1], b))
	return h
}

// newDupSeeds returns the seeds of a copy's fileKeys hashes.
func newDupSeeds() *[2]maphash.Seed {
	return &[2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
}

// duplicateInFile is the refusal of a key found twice in one data file.
// With writes, it says that what was read before may be in the table.
func duplicateInFile(verb string, writes bool, r *exportfile.FileReader, key map[string]types.AttributeValue, first, line int) error {
	tail := ""
	if writes {
		tail = fmt.Sprintf("; the items read before line %d may already be written (with --journal, undo puts them back)", line)
	}
	return usage.Errorf("%s: export file %s: the key %s is on lines %d and %d: a key twice in a full export is refused (DynamoDB rejects both in one batch; across batches the last one written would win)%s",
		verb, r.Name(), ddbjson.KeyString(key), first, line, tail)
}

// duplicateAcrossFiles is the refusal of a key found in two data files.
func duplicateAcrossFiles(verb string, writes bool, exp *exportfile.Export, d *dupKey, key map[string]types.AttributeValue, lines [2]int) error {
	where := func(i int) string {
		if lines[i] > 0 {
			return fmt.Sprintf("%s:%d", exp.FileURL(d.files[i]), lines[i])
		}
		return exp.FileURL(d.files[i])
	}
	k := "a key"
	if key != nil {
		k = "the key " + ddbjson.KeyString(key)
	}
	tail := ""
	if writes {
		tail = "; the copy phase has written the export's items, one of the key's versions among them, and nothing is deleted (with --journal, undo puts them back)"
	}
	return usage.Errorf("%s: the export %s has %s twice, in %s and %s: a key twice in a full export is refused (one version would win at random)%s",
		verb, exp.URL(), k, where(0), where(1), tail)
}
