package copier

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// JournalHeader is the first line of a journal: which table it is for.
type JournalHeader struct {
	Journal string    `json:"journal"` // always "ddbrewind"
	Version int       `json:"version"`
	Table   string    `json:"table"`
	Keys    []string  `json:"keys"`
	Created time.Time `json:"created"`
}

// journalRecord is one line after the header, of one of two kinds.
//
// A record has Key: an item's key, its version in the main table just
// before the copy wrote or deleted it (Before, null when it did not
// exist), and what the copy writes (After, null for a delete; absent in
// journals written before it existed, whose records undo puts back
// without a condition).
//
// An amendment has Amend (a key instead of Key, so that a ddbrewind that
// does not know amendments refuses the journal instead of misreading it)
// and changes the latest record of that key: Written false when the
// write did not happen (its condition failed: the record is void), or
// Before when the write returned another old item than the one recorded
// (a concurrent write between the read and the write: undo must put
// that one back).
type journalRecord struct {
	Key     json.RawMessage `json:"key,omitempty"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
	Amend   json.RawMessage `json:"amend,omitempty"`
	Written *bool           `json:"written,omitempty"`
}

// journal appends before-images durably (fsync, or one S3 part object per
// append) before the writes they protect. Resumed copies append to the same
// journal; so may other copies running at the same time (statefile.Appender
// keeps their records apart and cuts a torn last line).
type journal struct {
	ctx context.Context
	mu  sync.Mutex
	a   *statefile.Appender
	loc string
	log *slog.Logger
	cut int64 // bytes of torn lines already logged
}

// openJournal opens or creates the journal of table. An existing journal
// — or one another copy created at the same moment — must be for the same
// table.
func openJournal(ctx context.Context, files *statefile.Store, loc, table string, keys []string, now time.Time, log *slog.Logger) (*journal, error) {
	a, err := files.OpenAppend(ctx, loc)
	if err != nil {
		return nil, usage.Errorf("--journal %s: %v", loc, err)
	}
	j := &journal{ctx: context.WithoutCancel(ctx), a: a, loc: loc, log: log}
	line, _ := json.Marshal(JournalHeader{Journal: "ddbrewind", Version: 1, Table: table, Keys: keys, Created: now.UTC()})
	created, err := a.Init(j.ctx, append(line, '\n'))
	j.logCut()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("journal: %w", err)
	}
	if created {
		return j, nil
	}
	h, err := parseJournalHeader(a.FirstLine(), loc)
	if err != nil {
		a.Close()
		return nil, err
	}
	if h.Table != table {
		a.Close()
		return nil, usage.Errorf("--journal %s records table %s, not %s: use another --journal path", loc, h.Table, table)
	}
	return j, nil
}

// readJournalHeader reads and checks the first line of a local journal.
func readJournalHeader(path string) (*JournalHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return parseJournalHeader(line, path)
}

func parseJournalHeader(line []byte, where string) (*JournalHeader, error) {
	var h JournalHeader
	if json.Unmarshal(line, &h) != nil || h.Journal != "ddbrewind" {
		return nil, usage.Errorf("--journal %s is not a ddbrewind journal (its first line must be the journal header)", where)
	}
	if h.Version != 1 {
		return nil, usage.Errorf("--journal %s has version %d; this ddbrewind reads version 1", where, h.Version)
	}
	return &h, nil
}

// record appends the before-images of keys (nil before = absent) and what
// the copy writes in their place (after[i] for keys[i], nil = a delete),
// and syncs.
func (j *journal) record(keys []map[string]types.AttributeValue, before map[string]map[string]types.AttributeValue, after []map[string]types.AttributeValue) error {
	var buf []byte
	for i, k := range keys {
		ks := ddbjson.KeyString(k)
		rec := journalRecord{Key: json.RawMessage(ks)}
		var err error
		if rec.Before, err = j.image(ks, before[ks]); err != nil {
			return err
		}
		if rec.After, err = j.image(ks, after[i]); err != nil {
			return err
		}
		line, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	return j.write(buf)
}

// image encodes an item of a record (nil: null, absent).
func (j *journal) image(ks string, it map[string]types.AttributeValue) (json.RawMessage, error) {
	if it == nil {
		return json.RawMessage("null"), nil
	}
	data, err := ddbjson.MarshalItem(it)
	if err != nil {
		return nil, fmt.Errorf("journal %s: encode item %s: %w", j.loc, ks, err)
	}
	return data, nil
}

// notWritten amends the latest record of key: its write did not happen
// (the condition failed), so undo must not put anything back for it.
func (j *journal) notWritten(key map[string]types.AttributeValue) error {
	no := false
	return j.amend(journalRecord{Amend: json.RawMessage(ddbjson.KeyString(key)), Written: &no})
}

// overwrote amends the latest record of key: the write replaced old (nil:
// absent), not the item recorded, so undo puts old back.
func (j *journal) overwrote(key, old map[string]types.AttributeValue) error {
	ks := ddbjson.KeyString(key)
	before, err := j.image(ks, old)
	if err != nil {
		return err
	}
	return j.amend(journalRecord{Amend: json.RawMessage(ks), Before: before})
}

func (j *journal) amend(rec journalRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return j.write(append(line, '\n'))
}

func (j *journal) write(data []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	err := j.a.Append(j.ctx, data)
	j.logCut()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}

// logCut warns about torn last lines the appender cut off since the last
// call: a copy sharing the journal was killed while appending.
func (j *journal) logCut() {
	if n := j.a.Cut(); n > j.cut {
		j.log.Warn("cut a torn last line off the journal", "journal", j.loc, "bytes", n-j.cut)
		j.cut = n
	}
}

func (j *journal) close() error {
	if j == nil {
		return nil
	}
	return j.a.Close()
}
