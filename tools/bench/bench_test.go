package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/itemsize"
)

// TestSmoke runs the whole benchmark on 2,000 items (4,000 for the scale
// copy) against dynalite with a freshly built ddbrewind.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dynalite and builds ddbrewind")
	}
	pool := ddbtest.NewPool()
	t.Cleanup(func() {
		if err := pool.Close(); err != nil {
			t.Error(err)
		}
	})
	srv := pool.Get(t, ddbtest.Dynalite) // skips, or fails under CI=true, without dynalite

	bin := filepath.Join(t.TempDir(), "ddbrewind")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/ddbrewind/ddbrewind/cmd/ddbrewind")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ddbrewind: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	var out bytes.Buffer
	res, err := run(ctx, Config{
		Bin: bin, Items: 2000, Scale: 2, Runs: 1, MaxWCU: 1000, Endpoint: srv.Endpoint,
		RSSTolerance: 10, // tiny tables: RSS is mostly the runtime's, and noisy
	}, &out)
	t.Logf("output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.RefRate <= 0 || res.DdbRate <= 0 || res.RSSKiB <= 0 || res.ScaleRSSKiB <= 0 {
		t.Errorf("missing figures: %+v", res)
	}
	if !res.SliceSkipped && (res.SliceItems != 20 || res.SliceRead != 20) {
		t.Errorf("key-range copy: read %d, slice %d; want 20 and 20", res.SliceRead, res.SliceItems)
	}
	// The cap must hold; reaching it depends on the machine's load (the
	// exact rate is pinned by copier's synctest test, not by wall time).
	if !res.WCUSkipped && res.WCURate > 1050 {
		t.Errorf("--max-wcu 1000: consumed %.0f WCU/s, over the cap", res.WCURate)
	}
	if !res.WCUSkipped && res.WCURate < 500 {
		t.Errorf("--max-wcu 1000: consumed only %.0f WCU/s: the limiter holds writes back", res.WCURate)
	}
	if !res.ExportSkipped && (res.ExportChanged != 20 || res.ExportItems != 200 || res.ExportRead != 20 || res.ExportWritten != 20 || res.ExportScans != 0) {
		t.Errorf("export rewind: %d changed of %d, read %d, wrote %d, %d Scan/Query; want 20 of 200, 20, 20, 0",
			res.ExportChanged, res.ExportItems, res.ExportRead, res.ExportWritten, res.ExportScans)
	}
	if !res.FullExportSkipped && (res.FullExportItems != 2000 || res.FullExportFiles != fullExportFiles ||
		res.FullExportRate <= 0 || res.FullExportRSSKiB <= 0 || res.FullExportCPU <= 0) {
		t.Errorf("full-export copy: %d items in %d files, %.0f items/s, RSS %d KiB, CPU %s; want 2000 items in %d files and every figure set",
			res.FullExportItems, res.FullExportFiles, res.FullExportRate, res.FullExportRSSKiB, res.FullExportCPU, fullExportFiles)
	}
	for _, want := range []string{"reference", "ddbrewind", "ratio", "verified", "key-range", "max-wcu", "incremental export", "full export"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestMainUsage checks that bad flags exit 2 before anything starts.
func TestMainUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-items", "10"},
		{"-scale", "1"},
		{"-runs", "0"},
		{"-nope"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if code := mainArgs(t.Context(), args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, errOut.String())
		}
	}
}

// TestRunDdbrewindFlagMissing checks that a binary rejecting a flag is
// told apart from a failing one.
func TestRunDdbrewindFlagMissing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a shell script")
	}
	dir := t.TempDir()
	script := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		return path
	}
	old := script("old", `echo "Incorrect Usage: flag provided but not defined: -max-wcu" >&2; echo "ddbrewind: ddbrewind copy: flag provided but not defined: -max-wcu (see ddbrewind copy --help)" >&2; exit 2`)
	broken := script("broken", `echo "ddbrewind: copy: scan src segment 0: boom" >&2; exit 1`)

	_, err := runDdbrewind(t.Context(), old, "http://127.0.0.1:1", "src", "dst", 4, 8, "--max-wcu", "10")
	if !errors.Is(err, errFlagMissing) {
		t.Errorf("old binary: err = %v, want errFlagMissing", err)
	}
	_, err = runDdbrewind(t.Context(), broken, "http://127.0.0.1:1", "src", "dst", 4, 8)
	if err == nil || errors.Is(err, errFlagMissing) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("broken binary: err = %v, want a failure quoting its stderr", err)
	}
}

// TestRunMissingBinary fails before launching anything.
func TestRunMissingBinary(t *testing.T) {
	_, err := run(t.Context(), Config{Bin: filepath.Join(t.TempDir(), "nope"), Items: 100, Runs: 1}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Errorf("err = %v, want one saying to run make build", err)
	}
}

// TestGenItems checks the data set: distinct keys, 1 % under HotPK, the
// same items for the same seed, items of a few hundred bytes.
func TestGenItems(t *testing.T) {
	const n = 25_000 // spans chunks
	keys := map[itemKey]bool{}
	hot, size := 0, 0
	var last digest
	genItems(0, n, 7, func(i int, it map[string]types.AttributeValue) bool {
		k, err := keyOf(it)
		if err != nil {
			t.Fatal(err)
		}
		if keys[k] {
			t.Fatalf("item %d: key %s repeated", i, k)
		}
		keys[k] = true
		if k.pk == HotPK {
			hot++
		}
		if i == n-1 {
			last = digestOf(it)
		}
		size += itemsize.Dynalite(it)
		return true
	})
	if hot != n/100 {
		t.Errorf("%d items under %s, want %d", hot, HotPK, n/100)
	}
	if avg := size / n; avg < 200 || avg > 600 {
		t.Errorf("average item size %d B, want a few hundred", avg)
	}
	var again digest
	genItems(0, n, 7, func(i int, it map[string]types.AttributeValue) bool {
		again = digestOf(it)
		return i < n-1
	})
	if again != last {
		t.Error("the same seed gave a different item")
	}
}
