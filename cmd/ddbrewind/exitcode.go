package main

import (
	"context"
	"errors"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/poll"
	"github.com/ddbrewind/ddbrewind/internal/usage"
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

// errDifferent marks a finished run whose tables differ (diff, verify).
var errDifferent = errors.New("tables differ")

// exitCode maps an error to the contract's exit code: the one place that
// does so.
func exitCode(err error) int {
	var (
		ie *copier.IncompleteError
		ce *copier.ConflictError
	)
	switch {
	case err == nil:
		return exitOK
	case usage.Is(err):
		return exitUsage
	case errors.Is(err, copier.ErrInterrupted), errors.Is(err, poll.ErrInterrupted), errors.Is(err, context.Canceled):
		// poll.ErrInterrupted: Ctrl-C during any wait (restore, cleanup, export).
		return exitInterrupted
	case errors.As(err, &ie), errors.As(err, &ce), errors.Is(err, errDifferent), errors.Is(err, rewind.ErrVerifyFailed):
		return exitDifferences
	default:
		return exitFailure
	}
}
