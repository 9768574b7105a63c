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

// tryLockFile does nothing on this platform: two runs given the same
// local state file are not kept apart here (S3 state files are).
func tryLockFile(*os.File) (bool, error) { return true, nil }

// pidNamespace is unknown on this platform: a lease's holder is never
// taken for dead, only its expiry counts.
func pidNamespace() string { return "" }

// processAlive is not asked on this platform (see pidNamespace).
func processAlive(int) bool { return true }
