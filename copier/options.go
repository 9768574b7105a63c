package copier

import (
	"io"
	"log/slog"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// MaxReportedKeys bounds the keys kept for the report (unwritten, not in
// recovery table).
const MaxReportedKeys = 1000

// Options configures a copy.
type Options struct {
	// From is the recovery table read from; To the main table written to.
	From, To string
	// FromExport reads the past state from DynamoDB exports in S3 instead
	// of From: each an export directory s3://B/P/AWSDynamoDB/ID/ or its
	// manifest-summary.json: one full export, or incremental exports in
	// time order that form one window. The export files are read through
	// Files.S3. A plan of an export shows
	// the export's directory URL where it would show From.
	FromExport []string
	// OverwriteConflicts, in a rewind from incremental exports, rewinds
	// items written again after the window too (see rewindSink).
	OverwriteConflicts bool
	// OverwriteConflictsKeys, in a rewind from incremental exports, is a
	// keys file (JSON Lines, like Selection.KeysFile): only the conflicts
	// it names are rewound anyway, the others left alone.
	OverwriteConflictsKeys string
	// AcceptConflicts, in a rewind from incremental exports, leaves the
	// conflicts alone and succeeds: they are counted and listed in the
	// summary, not an error (clobbered keys still are).
	AcceptConflicts bool
	// AllowOtherTable accepts an export whose manifest names another table
	// than To.
	AllowOtherTable bool
	// Selection picks the items; the zero value copies the whole table.
	Selection Selection
	// OnlyMissing writes an item only where the main table has no item
	// with its key (conditional put; never clobbers).
	OnlyMissing bool
	// DeleteExtra also deletes main items of the selection that the
	// recovery table lacks.
	DeleteExtra bool
	// IfMain overwrites (or deletes) a main item only while its current
	// version satisfies this condition expression.
	IfMain string
	// Segments is the number of parallel Scan segments; 0 picks one from
	// the table's size and item count (see DefaultSegments), or, when a
	// checkpoint is resumed, takes the checkpoint's.
	Segments int
	// PageSize is the Limit of each Scan or Query page; 0 means
	// DefaultPageSize. DynamoDB still ends a page at 1 MB.
	PageSize int
	// Writers is the number of concurrent writers; 0 means DefaultWriters.
	Writers int
	// WorkerIndex and WorkerCount split the work between processes: this
	// one handles units u with u % WorkerCount == WorkerIndex.
	WorkerIndex, WorkerCount int
	// MaxWCU caps the write capacity units consumed per second; 0 = no cap.
	MaxWCU float64
	// MaxRetryTime bounds how long one batch is retried (its calls and its
	// unprocessed items, on one clock); 0 retries forever.
	MaxRetryTime time.Duration
	// DryRun reads and counts, writes nothing.
	DryRun bool
	// SkipExpired leaves out the items whose TTL attribute (the main
	// table's, DescribeTimeToLive) is already in the past at Now: DynamoDB
	// would delete them again. They are counted as Expired either way.
	SkipExpired bool
	// Checkpoint is a file path recording progress; empty = none.
	Checkpoint string
	// Journal is a file path where the main table's version of every item
	// is appended (durably) before the copy overwrites or deletes it, for
	// Undo; empty = none.
	Journal string
	// Stdin is read for --keys-file "-" (spooled once); nil means
	// os.Stdin.
	Stdin io.Reader
	// Files stores the checkpoint and the journal (local paths or s3://
	// URLs); nil handles local paths only.
	Files *statefile.Store
	// Backoff is the retry schedule; zero means DefaultBackoff.
	Backoff Backoff
	// DrainTimeout bounds how long batches in flight may take to finish
	// after an interrupt; 0 means 20 s.
	DrainTimeout time.Duration
	// Stats receives the live counters; nil allocates one.
	Stats *Stats
	// MemoryLimit is the process's memory limit in bytes (0: none known):
	// a rewind from incremental exports refuses a window whose changed
	// keys would not fit it (see windowBytesPerKey).
	MemoryLimit int64
	// Logger receives events; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultWriters is the number of concurrent writers when Options.Writers
// is 0.
const DefaultWriters = 8

// DefaultPageSize is the Scan/Query Limit when Options.PageSize is 0. A
// full 1 MB page of small items decodes into tens of MB of Go values (twice,
// briefly, while the SDK decodes it); 500 items keep a copy's peak memory
// flat and low at the same speed (docs/benchmark.md has the measurement).
const DefaultPageSize = 500

// DefaultSegments picks a segment count from the table's size and item
// count: one segment per 256 MiB or per million items, whichever gives more,
// at least 4, at most 256. DynamoDB serves each segment from one partition
// at a time, so big tables need many; and many small items make long
// segments, whose last one would finish alone.
func DefaultSegments(sizeBytes, itemCount int64) int {
	n := max(sizeBytes/(256<<20), itemCount/1_000_000)
	return int(min(max(n, 4), 256))
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Stats == nil {
		o.Stats = &Stats{}
	}
	if o.Backoff == (Backoff{}) {
		o.Backoff = DefaultBackoff
	}
	if o.Files == nil {
		o.Files = &statefile.Store{}
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = 20 * time.Second
	}
	if o.Writers == 0 {
		o.Writers = DefaultWriters
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.WorkerCount == 0 {
		o.WorkerCount = 1
	}
}

// check validates the options themselves, before defaults fill in zero
// values: the one place they are validated. needFrom is false for a job
// prepared before its source table exists (run checks before restoring).
func (o *Options) check(verb string, needFrom bool, toFlag string) error {
	exports := len(o.FromExport) > 0
	switch {
	case o.From != "" && exports:
		return usage.Errorf("%s: --from and --from-export both name the past state: give one of them", verb)
	case o.To == "" || (needFrom && o.From == "" && !exports):
		return usage.Errorf("%s needs --from RECOVERY_TABLE (or --from-export URL) and --to MAIN_TABLE", verb)
	case o.Segments < 0 || o.Segments > 1000000:
		return usage.Errorf("--segments %d: use 1 to 1000000 (or omit it to choose from the table size and item count)", o.Segments)
	case o.Writers < 0 || o.Writers > 1024:
		return usage.Errorf("--writers %d: use 1 to 1024", o.Writers)
	case o.WorkerCount < 0 || o.WorkerIndex < 0 || o.WorkerIndex >= max(o.WorkerCount, 1):
		return usage.Errorf("--worker-index %d --worker-count %d: the count must be at least 1 and the index in [0, count)", o.WorkerIndex, o.WorkerCount)
	case o.PageSize < 0:
		return usage.Errorf("--page-size %d: must be positive", o.PageSize)
	case o.MaxWCU < 0:
		return usage.Errorf("--max-wcu %v: must be positive", o.MaxWCU)
	case o.MaxRetryTime < 0:
		return usage.Errorf("--max-retry-time %s: must be positive (or omit it to retry forever)", o.MaxRetryTime)
	case o.OnlyMissing && o.IfMain != "":
		return usage.Errorf("--only-missing writes only absent items and --if-main only present ones: use one of them")
	case o.WorkerCount > 1 && o.Segments == 0 && o.Selection.KeysFile == "" && o.Selection.KeyCondition == "" && !exports:
		// The default follows DescribeTable's size and item count, which
		// DynamoDB refreshes about every six hours: two workers (or a
		// retried one) could split the table differently and miss items.
		return usage.Errorf("--worker-count %d needs --segments N, the same in every worker, so that all of them split the table the same way (e.g. --segments %d)", o.WorkerCount, 8*o.WorkerCount)
	}
	if exports {
		if err := checkExportOptions(verb, o); err != nil {
			return err
		}
	}
	names := []struct{ flag, name string }{{toFlag, o.To}}
	if needFrom && !exports {
		names = append([]struct{ flag, name string }{{"--from", o.From}}, names...)
	}
	for _, t := range names {
		if err := tables.ValidateName(t.flag, t.name); err != nil {
			return err
		}
	}
	return o.Selection.validate(o.IfMain)
}
