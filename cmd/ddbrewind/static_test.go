package main

import (
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestStaticBinary builds ddbrewind the way the Dockerfile does (CGO off,
// -trimpath, stripped, version stamped with -X main.version) and checks that
// it runs and is statically linked, so that it works in a distroless or
// scratch image that has no C library.
func TestStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skipf("checks an ELF binary; GOOS is %s", runtime.GOOS)
	}
	bin := filepath.Join(t.TempDir(), "ddbrewind")
	const version = "v0.0.0-static-test"
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}

	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("ddbrewind --version: %v\n%s", err, out)
	}
	if want := "ddbrewind version " + version; !strings.Contains(string(out), want) {
		t.Errorf("ddbrewind --version printed %q, want %q (is -X main.version still honoured?)", out, want)
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary has a PT_INTERP program header: it needs a dynamic loader")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		t.Fatalf("read DT_NEEDED: %v", err)
	}
	if len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
	if f.Section(".dynamic") != nil {
		needed, err := f.DynString(elf.DT_NEEDED)
		if err != nil {
			t.Fatalf("read .dynamic: %v", err)
		}
		if len(needed) > 0 {
			t.Errorf("DT_NEEDED entries: %v", needed)
		}
	}
}
