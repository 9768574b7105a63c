// Command ddbrewind rewinds an Amazon DynamoDB table, or a slice of it, to a
// point in time: restore → copy → cleanup. See README.md and docs/.
package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is ddbrewind's GOGC when the environment sets none. A copy's
// live heap is small (the pages and batches in flight, about 15 MB) and
// churns fast, so at Go's default of 100 the collector takes about a fifth
// of the process's CPU; 200 cuts that by about 20 % of the total for about
// 15 MiB more peak memory (docs/tuning.md).
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(Main())
}
