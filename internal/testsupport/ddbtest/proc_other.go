//go:build !linux

package ddbtest

import (
	"errors"
	"os"
	"syscall"
)

// sysProcAttr returns no special attributes: outside Linux only the
// emulator process itself is killed, not children of wrapper scripts.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills p. A process that is already gone is not an error.
func killGroup(p *os.Process) error {
	if err := p.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// groupAlive reports false: the process was reaped when killGroup's caller
// saw it exit.
func groupAlive(int) bool { return false }
