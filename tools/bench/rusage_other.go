//go:build !unix

package main

import (
	"os"
	"time"
)

// peakRSSKiB returns 0: this system reports no peak RSS of a child.
func peakRSSKiB(*os.ProcessState) int64 { return 0 }

// selfCPU returns 0: not measured on this system.
func selfCPU() time.Duration { return 0 }
