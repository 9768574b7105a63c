package restore

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// UsageError is bad input or a refusal by a safety rule: nothing was created
// or deleted. Its message says what is wrong and what to do.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// ErrWaitInterrupted is returned when the wait for a restore or a deletion was
// interrupted (Ctrl-C): the operation itself goes on in DynamoDB.
var ErrWaitInterrupted = errors.New("stopped waiting")

// apiCode returns the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isNotFound reports whether err says the table does not exist.
func isNotFound(err error) bool {
	return apiCode(err) == "ResourceNotFoundException"
}
