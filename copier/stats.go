package copier

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats holds the live counters of a copy. The copier only counts; a
// progress renderer polls Snapshot. Safe for concurrent use.
type Stats struct {
	Read      atomic.Int64 // items DynamoDB examined in the recovery table (before a filter), or keys looked up
	Matched   atomic.Int64 // items selected for writing: through the filter, found, or (undo) applied
	Written   atomic.Int64 // items put into the main table
	Skipped   atomic.Int64 // items left alone (dry run, condition false, already present)
	Deleted   atomic.Int64 // items deleted from the main table
	Failed    atomic.Int64 // items that could not be written
	Retries   atomic.Int64 // retried calls and resent unprocessed items' batches
	Throttles atomic.Int64 // throttling errors and UnprocessedItems responses
	Estimated atomic.Int64 // estimated final Read (0 = unknown)
	// NotInRecovery counts keys of a keys file the recovery table lacks.
	NotInRecovery atomic.Int64
	// Identical, Different, MissingInMain and ExtraInMain are a diff's
	// counts so far.
	Identical, Different, MissingInMain, ExtraInMain atomic.Int64
	// Conflicts counts keys an incremental rewind left alone because they
	// were written again after the export's window.
	Conflicts atomic.Int64
	// Clobbered counts keys an incremental rewind wrote over a concurrent
	// write its condition could not see (an attribute added between its
	// read and its write): the overwritten item is in the journal.
	Clobbered atomic.Int64
	// Changed counts written items whose main version differed or was
	// absent, where known: a dry run compares (overwrite, --only-missing);
	// a copy with --journal compares with the before-images it reads.
	Changed atomic.Int64
	// ReadUnits and WriteUnits are a dry run's plan, in thousandths of a
	// capacity unit: the read capacity its reads consumed, and the write
	// capacity its writes would consume.
	ReadUnits, WriteUnits atomic.Int64
	// Checked counts the main table's keys read as candidates for
	// deletion (--delete-extra, a diff's extras); DeletePhase is set while
	// the copy reads them, after its source.
	Checked     atomic.Int64
	DeletePhase atomic.Bool
	// Expired counts the items read whose TTL attribute had passed: left
	// out with --skip-expired (and then not matched), written otherwise.
	Expired atomic.Int64

	// throttled counts throttles by reason and resource (CountThrottle).
	throttleMu sync.Mutex
	throttled  map[ThrottleCount]int64 // keys have Count 0
}

// Reasons counted for throttles DynamoDB gave no reason for: a batch's
// unprocessed items or keys, and a throttling error without
// ThrottlingReasons (counted under its error code).
const (
	ReasonUnprocessedItems = "UnprocessedItems"
	ReasonUnprocessedKeys  = "UnprocessedKeys"
)

// ThrottleCount counts the throttles of one reason on one resource.
// Reason is DynamoDB's (such as "IndexWriteProvisionedThroughputExceeded",
// see awserr.ThrottleReason), ReasonUnprocessedItems or
// ReasonUnprocessedKeys (Resource is then the table), or the error code of
// a throttle without reasons (Resource empty). A throttle that gives two
// reasons counts under both, and once in Throttles.
type ThrottleCount struct {
	Reason   string `json:"reason"`
	Resource string `json:"resource,omitempty"`
	Count    int64  `json:"count"`
}

// CountThrottle counts one throttle for reason on resource and returns
// how many that pair has now.
func (s *Stats) CountThrottle(reason, resource string) int64 {
	s.throttleMu.Lock()
	defer s.throttleMu.Unlock()
	if s.throttled == nil {
		s.throttled = make(map[ThrottleCount]int64)
	}
	k := ThrottleCount{Reason: reason, Resource: resource}
	s.throttled[k]++
	return s.throttled[k]
}

// ThrottlesByReason returns the throttles by reason and resource, the
// most frequent first (then by reason and resource); nil when none.
func (s *Stats) ThrottlesByReason() []ThrottleCount {
	s.throttleMu.Lock()
	defer s.throttleMu.Unlock()
	if len(s.throttled) == 0 {
		return nil
	}
	out := make([]ThrottleCount, 0, len(s.throttled))
	for k, n := range s.throttled {
		k.Count = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b ThrottleCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason), cmp.Compare(a.Resource, b.Resource))
	})
	return out
}

// Snapshot is a point-in-time copy of Stats.
type Snapshot struct {
	Read      int64 `json:"read"`
	Matched   int64 `json:"matched"`
	Written   int64 `json:"written"`
	Skipped   int64 `json:"skipped"`
	Deleted   int64 `json:"deleted"`
	Failed    int64 `json:"failed"`
	Retries   int64 `json:"retries"`
	Throttles int64 `json:"throttles"`
	// ThrottlesByReason counts the throttles by DynamoDB's reason and the
	// resource (table or index ARN) it names, the most frequent first.
	ThrottlesByReason []ThrottleCount `json:"throttles_by_reason,omitempty"`
	Estimated         int64           `json:"estimated,omitempty"`
	NotInRecovery     int64           `json:"not_in_recovery"`
	Identical         int64           `json:"identical,omitempty"`
	Different         int64           `json:"different,omitempty"`
	MissingInMain     int64           `json:"missing_in_main,omitempty"`
	ExtraInMain       int64           `json:"extra_in_main,omitempty"`
	Changed           int64           `json:"changed,omitempty"`
	Conflicts         int64           `json:"conflicts,omitempty"`
	Clobbered         int64           `json:"clobbered,omitempty"`
	// ReadUnits and WriteUnits are a dry run's capacity plan, in units.
	ReadUnits  float64 `json:"read_capacity_units,omitempty"`
	WriteUnits float64 `json:"write_capacity_units,omitempty"`
	// Checked counts the main table's keys checked for deletion.
	Checked int64 `json:"main_keys_checked,omitempty"`
	// DeletePhase: the copy is in its --delete-extra phase.
	DeletePhase bool `json:"-"`
	// Expired counts the items whose TTL had passed (see Stats.Expired).
	Expired int64 `json:"expired,omitempty"`
}

// Pending returns the items read and selected whose write (or skip,
// delete, failure, conflict) has not ended yet: under --max-wcu the reads
// run ahead of the writes by up to the pipeline's buffer.
func (s Snapshot) Pending() int64 {
	return max(s.Matched-(s.Written+s.Skipped+s.Deleted+s.Failed+s.Conflicts), 0)
}

// Snapshot returns the current counters.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{
		Read:              s.Read.Load(),
		Matched:           s.Matched.Load(),
		Written:           s.Written.Load(),
		Skipped:           s.Skipped.Load(),
		Deleted:           s.Deleted.Load(),
		Failed:            s.Failed.Load(),
		Retries:           s.Retries.Load(),
		Throttles:         s.Throttles.Load(),
		ThrottlesByReason: s.ThrottlesByReason(),
		Estimated:         s.Estimated.Load(),
		NotInRecovery:     s.NotInRecovery.Load(),
		Identical:         s.Identical.Load(),
		Different:         s.Different.Load(),
		MissingInMain:     s.MissingInMain.Load(),
		ExtraInMain:       s.ExtraInMain.Load(),
		Changed:           s.Changed.Load(),
		Conflicts:         s.Conflicts.Load(),
		Clobbered:         s.Clobbered.Load(),
		Expired:           s.Expired.Load(),
		ReadUnits:         float64(s.ReadUnits.Load()) / 1000,
		WriteUnits:        float64(s.WriteUnits.Load()) / 1000,
		Checked:           s.Checked.Load(),
		DeletePhase:       s.DeletePhase.Load(),
	}
}

// Summary is the final report of a copy.
type Summary struct {
	Source    string    `json:"source_table"`
	Target    string    `json:"target_table"`
	DryRun    bool      `json:"dry_run"`
	Segments  int       `json:"segments"`
	Writers   int       `json:"writers"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	Elapsed   float64   `json:"elapsed_seconds"`
	Rate      float64   `json:"items_per_second"`
	Counts    Snapshot  `json:"counts"`
	Resumed   bool      `json:"resumed"`
	Unwritten []string  `json:"unwritten_keys,omitempty"`
	// NotInRecovery lists keys of a keys file the recovery table lacks.
	NotInRecovery []string `json:"not_in_recovery_keys,omitempty"`
	// Conflicts lists keys an incremental rewind left alone: written again
	// after the export's window (see --overwrite-conflicts).
	// Every key is listed (logs show a few).
	Conflicts []string `json:"conflicts,omitempty"`
	// Clobbered lists keys an incremental rewind wrote over a concurrent
	// write its condition could not see; the journal (--journal) holds
	// the overwritten item, so undo puts it back.
	Clobbered []string `json:"clobbered,omitempty"`
	// ConflictsAccepted: the conflicts were left alone on purpose
	// (--accept-conflicts); the outcome is then ok.
	ConflictsAccepted bool   `json:"conflicts_accepted,omitempty"`
	Outcome           string `json:"outcome"`
	// lastErr is the last give-up's cause, for IncompleteError.
	lastErr error

	// MainTable is what DynamoDB does around the main table's data: its
	// TTL attribute, stream and replica Regions (nil: none, or not a copy).
	MainTable *MainTable `json:"main_table,omitempty"`
}
