package copier

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/journalfmt"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

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
	created, err := a.Init(j.ctx, journalfmt.EncodeHeader(table, keys, now))
	j.logCut()
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("journal: %w", err)
	}
	if created {
		return j, nil
	}
	if err := headerOf(a.FirstLine(), loc, table); err != nil {
		a.Close()
		return nil, err
	}
	return j, nil
}

// checkJournalTable refuses, before anything is written, a journal at loc
// that exists and records another table than table. openJournal checks it
// again when the copy opens the journal (another copy may create one in
// between).
func checkJournalTable(ctx context.Context, files *statefile.Store, loc, table string) error {
	line, err := files.FirstLine(ctx, loc)
	if err != nil {
		return usage.Errorf("--journal %s: %v", loc, err)
	}
	if line == nil {
		return nil
	}
	return headerOf(line, loc, table)
}

// headerOf checks that the first line of the journal at loc is a header
// recording table.
func headerOf(line []byte, loc, table string) error {
	h, err := journalfmt.ParseHeader(line, loc)
	if err != nil {
		return err
	}
	if h.Table != table {
		return usage.Errorf("--journal %s records table %s, not %s: use another --journal path", loc, h.Table, table)
	}
	return nil
}

// record appends the before-images of keys (nil before = absent) and what
// the copy writes in their place (after[i] for keys[i], nil = a delete),
// and syncs.
func (j *journal) record(keys []map[string]types.AttributeValue, before map[string]map[string]types.AttributeValue, after []map[string]types.AttributeValue) error {
	var buf []byte
	for i, k := range keys {
		var err error
		if buf, err = journalfmt.AppendRecord(buf, k, before[ddbjson.KeyString(k)], after[i]); err != nil {
			return fmt.Errorf("journal %s: %w", j.loc, err)
		}
	}
	return j.write(buf)
}

// notWritten amends the latest record of key: its write did not happen
// (the condition failed), so undo must not put anything back for it.
func (j *journal) notWritten(key map[string]types.AttributeValue) error {
	return j.write(journalfmt.NotWritten(key))
}

// overwrote amends the latest record of key: the write replaced old (nil:
// absent), not the item recorded, so undo puts old back.
func (j *journal) overwrote(key, old map[string]types.AttributeValue) error {
	line, err := journalfmt.Overwrote(key, old)
	if err != nil {
		return fmt.Errorf("journal %s: %w", j.loc, err)
	}
	return j.write(line)
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
