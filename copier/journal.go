package copier

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// JournalHeader is the first line of a journal: which table it is for.
type JournalHeader struct {
	Journal string    `json:"journal"` // always "ddbrewind"
	Version int       `json:"version"`
	Table   string    `json:"table"`
	Keys    []string  `json:"keys"`
	Created time.Time `json:"created"`
}

// journalRecord is one line after the header: an item's key and its
// version in the main table just before the copy wrote or deleted it
// (null when it did not exist).
type journalRecord struct {
	Key    json.RawMessage `json:"key"`
	Before json.RawMessage `json:"before"`
}

// journal appends before-images durably (fsync) before the writes they
// protect. Resumed copies append to the same file.
type journal struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// openJournal opens or creates the journal of table. An existing journal
// must be for the same table.
func openJournal(path, table string, keys []string, now time.Time) (*journal, error) {
	if h, err := readJournalHeader(path); err == nil {
		if h.Table != table {
			return nil, usagef("--journal %s records table %s, not %s: use another --journal path", path, h.Table, table)
		}
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, usagef("--journal %s: %v", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	j := &journal{f: f, path: path}
	if fi.Size() == 0 {
		line, _ := json.Marshal(JournalHeader{Journal: "ddbrewind", Version: 1, Table: table, Keys: keys, Created: now.UTC()})
		if err := j.write(append(line, '\n')); err != nil {
			f.Close()
			return nil, err
		}
	}
	return j, nil
}

// readJournalHeader reads and checks the first line of a journal.
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
	var h JournalHeader
	if json.Unmarshal(line, &h) != nil || h.Journal != "ddbrewind" {
		return nil, usagef("--journal %s is not a ddbrewind journal (its first line must be the journal header)", path)
	}
	if h.Version != 1 {
		return nil, usagef("--journal %s has version %d; this ddbrewind reads version 1", path, h.Version)
	}
	return &h, nil
}

// record appends the before-images of keys (nil before = absent) and syncs.
func (j *journal) record(keys []map[string]types.AttributeValue, before map[string]map[string]types.AttributeValue) error {
	var buf []byte
	for _, k := range keys {
		ks := ddbjson.KeyString(k)
		rec := journalRecord{Key: json.RawMessage(ks), Before: json.RawMessage("null")}
		if it, ok := before[ks]; ok {
			data, err := ddbjson.MarshalItem(it)
			if err != nil {
				return fmt.Errorf("journal %s: encode item %s: %w", j.path, ks, err)
			}
			rec.Before = data
		}
		line, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		buf = append(append(buf, line...), '\n')
	}
	return j.write(buf)
}

func (j *journal) write(data []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(data); err != nil {
		return fmt.Errorf("write journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal %s: %w", j.path, err)
	}
	return nil
}

func (j *journal) close() error {
	if j == nil {
		return nil
	}
	return j.f.Close()
}
