package copier

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// UsageError is bad input or a refusal by a safety rule, found before any
// write. Its message says what is wrong and what to do.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

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
	return fmt.Sprintf("copy into %s: %d items could not be written (last error: %v); their keys are in the report (--report PATH); run the same command again to retry them", e.Table, e.Failed, e.Cause)
}

func (e *IncompleteError) Unwrap() error { return e.Cause }

// apiCode returns the AWS error code of err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

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
	switch apiCode(err) {
	case "InternalServerError", "ServiceUnavailable", "InternalFailure":
		return false, true
	}
	return false, false
}
