// Package usage defines the one error type for bad input and for refusals by
// a safety rule — what the CLI maps to exit code 2. Every package returns it
// (directly or wrapped) for such errors, so the exit-code switch knows one
// type, not one per package. It does not decide anything itself.
package usage

import (
	"errors"
	"fmt"
)

// Error is bad input or a refusal by a safety rule, found before anything
// was written, created or deleted. Its message says what is wrong and what
// to do.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Errorf returns an *Error with a formatted message.
func Errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// BadInput is implemented by errors of other packages that describe bad
// input (a parser's error with a line number, say) without being an *Error.
type BadInput interface {
	error
	BadInput() bool
}

// Is reports whether err, or an error it wraps, is an *Error or reports
// BadInput.
func Is(err error) bool {
	var ue *Error
	if errors.As(err, &ue) {
		return true
	}
	var bi BadInput
	return errors.As(err, &bi) && bi.BadInput()
}
