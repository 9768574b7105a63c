package restore

import (
	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/poll"
)

// ErrWaitInterrupted is returned when the wait for a restore or a deletion was
// interrupted (Ctrl-C): the operation itself goes on in DynamoDB. It is
// poll.ErrInterrupted, the one "stopped waiting" of every wait.
var ErrWaitInterrupted = poll.ErrInterrupted

// isNotFound reports whether err says the table does not exist.
func isNotFound(err error) bool { return awserr.IsNotFound(err) }
