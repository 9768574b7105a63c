package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReleaseConfig checks what `goreleaser check` (make goreleaser-check)
// cannot know: that the release build stamps the version through the
// variable the binary reads (main.version, see version.go), as the
// Dockerfile and make build do, and builds the promised targets: static
// binaries for linux, darwin and windows on amd64 and arm64, with
// checksums.
func TestReleaseConfig(t *testing.T) {
	_ = version // the variable -X sets: renaming it breaks this test's premise
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	stamp := regexp.MustCompile(`-X main\.version=`)
	for _, path := range []string{"../../.goreleaser.yaml", "../../Dockerfile", "../../Makefile"} {
		if !stamp.MatchString(read(path)) {
			t.Errorf("%s does not stamp the version with -X main.version=", path)
		}
	}
	cfg := read("../../.goreleaser.yaml")
	for _, want := range []string{
		"version: 2", "main: ./cmd/ddbrewind", "CGO_ENABLED=0", "-trimpath",
		"- linux", "- darwin", "- windows", "- amd64", "- arm64",
		"checksum:", "algorithm: sha256",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf(".goreleaser.yaml lacks %q", want)
		}
	}
}
