package copier

import (
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// ledger is the one place a copy, diff or undo counts what happened to
// items: read, matched, written, kept (skipped), deleted, changed,
// conflicts, clobbered, not in the source, failed (given up), and a
// diff's comparisons. Each is counted once, in Stats (the live counters);
// the summary, the report and a diff's result are built from it. The
// sources, sinks and operations count through it; nothing else writes
// those counters. Safe for concurrent use.
type ledger struct {
	stats    *Stats
	keyNames []string
	log      *slog.Logger
	target   string // the table writes go to, for messages
	// base is the diff counts of stats when the ledger started: a diff's
	// result counts from there.
	base [numComparisons]int64

	mu          sync.Mutex
	unwritten   []string
	notInSource []string
	conflicts   []string // every one: the report lists them all
	clobbered   []string // every one
	lastErr     error
	// compared lists up to a diff's show keys of each comparison.
	compared [numComparisons][]string
}

// newLedger starts the ledger of a job's run.
func newLedger(o Options, keyNames []string, target string) *ledger {
	l := &ledger{stats: o.Stats, keyNames: keyNames, log: o.Logger, target: target}
	for c := range numComparisons {
		l.base[c] = l.comparisonCounter(c).Load()
	}
	return l
}

// read counts items (or keys) read from the source.
func (l *ledger) read(n int64) { l.stats.Read.Add(n) }

// matched counts items the selection picked for writing.
func (l *ledger) matched(n int64) { l.stats.Matched.Add(n) }

// checked counts the main table's keys read as candidates for deletion.
func (l *ledger) checked(n int64) { l.stats.Checked.Add(n) }

// expired counts items read whose TTL had passed; left out (skip), they
// are no longer matched.
func (l *ledger) expired(n int64, skip bool) {
	l.stats.Expired.Add(n)
	if skip {
		l.stats.Matched.Add(-n)
	}
}

// written counts items put into the main table.
func (l *ledger) written(n int64) { l.stats.Written.Add(n) }

// deleted counts items deleted from the main table.
func (l *ledger) deleted(n int64) { l.stats.Deleted.Add(n) }

// kept counts items left alone (a false condition, already there or
// already rewound).
func (l *ledger) kept(n int64) { l.stats.Skipped.Add(n) }

// changed counts written items whose main version differed or was absent.
func (l *ledger) changed(n int64) { l.stats.Changed.Add(n) }

// wroteIf counts one conditional write: written (or deleted, del) when its
// condition held, kept otherwise.
func (l *ledger) wroteIf(held, del bool) {
	switch {
	case !held:
		l.kept(1)
	case del:
		l.deleted(1)
	default:
		l.written(1)
	}
}

// countDone counts the requests of a BatchWriteItem that were processed (not
// in left) as written or deleted.
func (l *ledger) countDone(reqs, left []types.WriteRequest) {
	puts, dels := 0, 0
	for _, r := range reqs {
		if r.PutRequest != nil {
			puts++
		} else {
			dels++
		}
	}
	for _, r := range left {
		if r.PutRequest != nil {
			puts--
		} else {
			dels--
		}
	}
	l.written(int64(puts))
	l.deleted(int64(dels))
}

// wouldWrite counts, in a dry run, items as written and the write capacity
// they would take (the plan's WriteUnits).
func (l *ledger) wouldWrite(items []map[string]types.AttributeValue) {
	l.stats.WriteUnits.Add(int64(estimateWCU(items) * 1000))
	l.written(int64(len(items)))
}

// wouldDelete counts, in a dry run, n keys as deleted and the write
// capacity they would take (one unit each).
func (l *ledger) wouldDelete(n int) {
	l.stats.WriteUnits.Add(int64(n) * 1000)
	l.deleted(int64(n))
}

// readUnits adds read capacity a dry run consumed to its plan.
func (l *ledger) readUnits(units float64) { l.stats.ReadUnits.Add(int64(units * 1000)) }

// noteConflict records a key left alone because it was written again after
// an export's window (or, for undo, since ddbrewind wrote it), on page pg
// (nil: none): it is counted and reported (every key: logs show a few,
// the report all), and the checkpoint keeps it once it moves past pg.
func (l *ledger) noteConflict(pg *page, k map[string]types.AttributeValue) {
	pg.noteConflict(l.noteKey(&l.stats.Conflicts, &l.conflicts, k))
}

// noteClobbered records a key whose write overwrote a concurrent write
// that its condition could not see (an attribute added after the read):
// the overwritten item is journaled, the key counted and reported like a
// conflict.
func (l *ledger) noteClobbered(pg *page, k map[string]types.AttributeValue) {
	pg.noteClobbered(l.noteKey(&l.stats.Clobbered, &l.clobbered, k))
}

// noteKey counts k in counter and lists it (every one) in list; it
// returns its KeyString.
func (l *ledger) noteKey(counter *atomic.Int64, list *[]string, k map[string]types.AttributeValue) string {
	ks := ddbjson.KeyString(k)
	counter.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(*list, ks)
	return ks
}

// noteNotInSource records keys of a keys file that the source lacks.
func (l *ledger) noteNotInSource(table string, keys []map[string]types.AttributeValue) {
	if len(keys) == 0 {
		return
	}
	l.stats.NotInRecovery.Add(int64(len(keys)))
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.notInSource) >= MaxReportedKeys {
			break
		}
		l.notInSource = append(l.notInSource, ddbjson.KeyString(k))
	}
	l.log.Warn("keys not in recovery table", "table", table, "keys", len(keys))
}

// giveUp records items (or keys) as failed and returns *IncompleteError;
// an error already recorded is returned as it is.
func (l *ledger) giveUp(items []map[string]types.AttributeValue, cause error) error {
	var inc *IncompleteError
	if errors.As(cause, &inc) {
		return cause
	}
	l.stats.Failed.Add(int64(len(items)))
	l.mu.Lock()
	for _, it := range items {
		if len(l.unwritten) >= MaxReportedKeys {
			break
		}
		l.unwritten = append(l.unwritten, ddbjson.KeyString(keyOf(it, l.keyNames)))
	}
	l.lastErr = cause
	l.mu.Unlock()
	l.log.Warn("items could not be written", "table", l.target, "items", len(items), "error", cause.Error())
	return &IncompleteError{Table: l.target, Failed: int64(len(items)), Cause: cause}
}

// giveUpRest records, when err is a give-up, the items a per-item loop had
// not written yet (items[0] is the one that failed; those before it are
// written or kept and counted as such), so the report lists exactly the
// keys left undone. Other errors pass through.
func (l *ledger) giveUpRest(items []map[string]types.AttributeValue, err error) error {
	if errors.Is(err, errGaveUp) {
		return l.giveUp(items, err)
	}
	return err
}

// snapshot returns the counters (Stats) now.
func (l *ledger) snapshot() Snapshot { return l.stats.Snapshot() }

// report returns what the ledger recorded: unwritten keys, keys not in
// the source, conflicts, clobbered keys, and the last give-up's cause.
func (l *ledger) report() (unwritten, notInSource, conflicts, clobbered []string, last error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.unwritten), slices.Clone(l.notInSource), slices.Clone(l.conflicts), slices.Clone(l.clobbered), l.lastErr
}

// comparison is what a diff found for one key.
type comparison int

const (
	identical      comparison = iota
	different                 // in both tables, not equal
	missingInMain             // in the source only
	extraInMain               // in the main table only (of the selection)
	windowConflict            // a window diff's key written again after the window
	numComparisons
)

// comparisonCounter is the counter of Stats that counts c.
func (l *ledger) comparisonCounter(c comparison) *atomic.Int64 {
	switch c {
	case identical:
		return &l.stats.Identical
	case different:
		return &l.stats.Different
	case missingInMain:
		return &l.stats.MissingInMain
	case extraInMain:
		return &l.stats.ExtraInMain
	}
	return &l.stats.Conflicts
}

// compare counts one key of a diff as c, and lists it while fewer than
// show keys of c are listed (identical keys are never listed).
func (l *ledger) compare(c comparison, k map[string]types.AttributeValue, show int) {
	l.comparisonCounter(c).Add(1)
	if c == identical {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.compared[c]) < show {
		l.compared[c] = append(l.compared[c], ddbjson.KeyString(k))
	}
}

// diffCounts fills in res's counts and listed keys (sorted) from what the
// ledger counted since it started.
func (l *ledger) diffCounts(res *DiffResult) {
	n := func(c comparison) int64 { return l.comparisonCounter(c).Load() - l.base[c] }
	keys := func(c comparison) []string {
		l.mu.Lock()
		defer l.mu.Unlock()
		return slices.Sorted(slices.Values(l.compared[c]))
	}
	res.Identical, res.Different, res.MissingInMain, res.ExtraInMain = n(identical), n(different), n(missingInMain), n(extraInMain)
	res.DifferentKeys, res.MissingKeys, res.ExtraKeys = keys(different), keys(missingInMain), keys(extraInMain)
	if res.Window != nil {
		res.Window.Conflicts, res.Window.ConflictKeys = n(windowConflict), keys(windowConflict)
	}
}
