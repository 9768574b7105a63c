package main

import (
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

// version is the release tag, stamped at build time by the release build
// (.goreleaser.yaml), the Dockerfile and make build:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/ddbrewind
//
// Left empty, the version comes from the build info (see versionOf). It
// is a variable only because -X can set nothing else; nothing assigns it.
var version = ""

// appVersion is the version --version and the version command print.
func appVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(version, bi)
}

// versionOf returns, in this order: the version stamped with -ldflags -X;
// the module version of a `go install …@vX.Y.Z` (or the pseudo-version Go
// 1.24+ derives from the git checkout); the commit the binary was built
// from (vcs.revision, with -dirty when the tree had local changes); and
// only failing all three, a text saying the build carries no version —
// never Go's bare "(devel)".
func versionOf(stamped string, bi *debug.BuildInfo) string {
	if stamped != "" {
		return stamped
	}
	if bi == nil {
		return unknownVersion
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return unknownVersion
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// unknownVersion is the version of a build that carries none: built with
// -buildvcs=false (or outside a git checkout) and without -ldflags -X.
const unknownVersion = "unknown (built without version control information)"

// versionCommand is `ddbrewind version`, the same as --version.
func versionCommand() *cli.Command {
	cmd := printingCommand("version", "print the version: the release tag, or the commit the binary was built from", "ddbrewind version")
	cmd.Action = func(c *cli.Context) error {
		cli.ShowVersion(c)
		return nil
	}
	return cmd
}
