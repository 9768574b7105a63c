//go:build !unix || aix

package statefile

import "os"

// lockFile does nothing on this platform: without flock, two processes
// given the same local journal are not kept apart here (S3 journals are).
func lockFile(*os.File) error { return nil }

// unlockFile does nothing on this platform.
func unlockFile(*os.File) error { return nil }

// syncDir does nothing on this platform: directories cannot be synced
// (Windows) or need no sync for a rename to be durable.
func syncDir(string) error { return nil }
