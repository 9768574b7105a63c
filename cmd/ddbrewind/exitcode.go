package main

import (
	"context"
	"errors"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/restore"
	"github.com/ddbrewind/ddbrewind/rewind"
)

// Exit codes of the contract.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitDifferences = 3
	exitInterrupted = 130
)

// usageError is bad usage found by the CLI itself (flags, confirmation).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errDifferent marks a finished run whose tables differ (diff, verify).
var errDifferent = errors.New("tables differ")

// exitCode maps an error to the contract's exit code: the one place that
// does so.
func exitCode(err error) int {
	var (
		cu *usageError
		ru *restore.UsageError
		pu *copier.UsageError
		ju *ddbjson.Error
		ie *copier.IncompleteError
		wu *rewind.UsageError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &cu), errors.As(err, &ru), errors.As(err, &pu), errors.As(err, &ju), errors.As(err, &wu):
		return exitUsage
	case errors.Is(err, copier.ErrInterrupted), errors.Is(err, restore.ErrWaitInterrupted), errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ie), errors.Is(err, errDifferent), errors.Is(err, rewind.ErrVerifyFailed):
		return exitDifferences
	default:
		return exitFailure
	}
}
