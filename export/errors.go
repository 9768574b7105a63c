package export

import (
	"fmt"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/poll"
)

// ErrWaitInterrupted is returned when the wait for an export was interrupted
// (Ctrl-C): the export itself goes on in DynamoDB. It is poll.ErrInterrupted,
// the one "stopped waiting" of every wait.
var ErrWaitInterrupted = poll.ErrInterrupted

// FailedError is an export that DynamoDB reports FAILED, with its reason.
type FailedError struct {
	// Table is the exported table's name; What says which export ("full
	// export at …", "incremental export of […, …)").
	Table, What string
	// ExportARN names the export.
	ExportARN string
	// Code and Message are the export's FailureCode and FailureMessage.
	Code, Message string
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("export %s: the %s (%s) FAILED: %s: %s; fix the cause and run the same command again: it starts a new export rather than adopting the failed one",
		e.Table, e.What, e.ExportARN, orUnknown(e.Code), orUnknown(e.Message))
}

func orUnknown(s string) string {
	if s == "" {
		return "(no reason given)"
	}
	return s
}

// isNotFound reports whether err says the table does not exist.
func isNotFound(err error) bool { return awserr.IsNotFound(err) }
