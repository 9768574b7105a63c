package copier

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
)

// ErrInterrupted means the copy was stopped by a signal after finishing the
// batches in flight.
var ErrInterrupted = errors.New("interrupted")

// IncompleteError means the copy finished but some items could not be
// written (retries gave up after MaxRetryTime). Their keys are in Unwritten
// (at most MaxReportedKeys of them) and in the summary.
type IncompleteError struct {
	Table     string
	Failed    int64
	Unwritten []string
	Cause     error
}

func (e *IncompleteError) Error() string {
	verb := "items could not be written"
	if e.Failed == 1 {
		verb = "item could not be written"
	}
	return fmt.Sprintf("copy into %s: %s %s (last error: %v); their keys are in the report (--report PATH); run the same command again to retry them", e.Table, countText(e.Failed), verb, e.Cause)
}

func (e *IncompleteError) Unwrap() error { return e.Cause }

var (
	throttles  = retry.IsErrorThrottles(retry.DefaultThrottles)
	retryables = retry.IsErrorRetryables(retry.DefaultRetryables)
)

// classify says whether err is throttling, another transient error worth
// retrying (5xx, connection), or permanent.
func classify(err error) (throttle, transient bool) {
	if throttles.IsErrorThrottle(err).Bool() {
		return true, true
	}
	if retryables.IsErrorRetryable(err).Bool() {
		return false, true
	}
	switch awserr.Code(err) {
	case "InternalServerError", "ServiceUnavailable", "InternalFailure":
		return false, true
	}
	return false, false
}

// ConflictError means an incremental rewind finished but left keys alone
// that were written again after the export's window (their keys in Keys
// and the report), or wrote over a concurrent write its condition could
// not see (Clobbered, ClobberedKeys: journaled, so undo puts it back).
type ConflictError struct {
	Table     string
	Conflicts int64
	Keys      []string
	// Clobbered counts keys whose concurrent write (an attribute added
	// between the rewind's read and its write) was overwritten.
	Clobbered     int64
	ClobberedKeys []string
	// Undo: the conflicts are an undo's — items changed since ddbrewind
	// wrote them, left alone.
	Undo bool
}

func (e *ConflictError) Error() string {
	if e.Undo {
		return fmt.Sprintf("undo of %s: %d items were changed since ddbrewind wrote them and were left alone (undo conflicts, listed in the report with --report PATH): check them and put back what they need by hand", e.Table, e.Conflicts)
	}
	if e.Clobbered > 0 {
		return fmt.Sprintf("rewind of %s: %d items were written by someone else between the rewind's read and its write and were overwritten (clobbered; listed in the report with --report PATH; the journal holds what was overwritten: ddbrewind undo puts it back), and %d items written again after the export's window were left alone (conflicts)",
			e.Table, e.Clobbered, e.Conflicts)
	}
	what := "items were written again after the export's window and were left alone (conflicts"
	if e.Conflicts == 1 {
		what = "item was written again after the export's window and was left alone (a conflict"
	}
	return fmt.Sprintf("rewind of %s: %s %s, listed in the report with --report PATH); check them, then rerun with --overwrite-conflicts to rewind them anyway (--overwrite-conflicts-keys FILE: only those keys), or --accept-conflicts to leave them", e.Table, countText(e.Conflicts), what)
}
