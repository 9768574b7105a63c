// Command ddbrewind rewinds an Amazon DynamoDB table, or a slice of it, to a
// point in time: restore → copy → cleanup. See README.md and docs/.
package main

import "os"

func main() { os.Exit(Main()) }
