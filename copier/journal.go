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
		return nil, usagef("--journal %s: %v", loc, err)
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
		return nil, usagef("--journal %s records table %s, not %s: use another --journal path", loc, h.Table, table)
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
		return nil, usagef("--journal %s is not a ddbrewind journal (its first line must be the journal header)", where)
	}
	if h.Version != 1 {
		return nil, usagef("--journal %s has version %d; this ddbrewind reads version 1", where, h.Version)
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
				return fmt.Errorf("journal %s: encode item %s: %w", j.loc, ks, err)
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
