package statefile

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestLocalWriteReadAppend(t *testing.T) {
	ctx := context.Background()
	var s Store
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if _, err := s.Read(ctx, p); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v, want fs.ErrNotExist", err)
	}
	if err := s.Write(ctx, p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	data, err := s.Read(ctx, p)
	if err != nil || string(data) != "two" {
		t.Fatalf("Read = %q, %v", data, err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temp files left: %v", entries)
	}

	j := filepath.Join(dir, "journal")
	a, err := s.OpenAppend(ctx, j)
	if err != nil || !a.Empty() {
		t.Fatalf("OpenAppend new: %v, empty %v", err, a.Empty())
	}
	a.Append(ctx, []byte("header\n"))
	a.Append(ctx, []byte("rec1\n"))
	a.Close()
	a, err = s.OpenAppend(ctx, j)
	if err != nil || a.Empty() || string(a.FirstLine()) != "header\n" {
		t.Fatalf("reopen: %v, empty %v, first %q", err, a.Empty(), a.FirstLine())
	}
	a.Append(ctx, []byte("rec2\n"))
	a.Close()
	path, cleanup, err := s.Fetch(ctx, j)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	data, _ = os.ReadFile(path)
	if string(data) != "header\nrec1\nrec2\n" {
		t.Errorf("journal %q", data)
	}
	if fi, _ := os.Stat(j); fi.Mode().Perm() != 0o600 {
		t.Errorf("journal mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestParseS3(t *testing.T) {
	tests := []struct {
		in          string
		bucket, key string
		ok          bool
	}{
		{"s3://b/k.json", "b", "k.json", true},
		{"s3://b/dir/k", "b", "dir/k", true},
		{"s3://b", "", "", false},
		{"s3://b/", "", "", false},
		{"s3:///k", "", "", false},
		{"s3://b/dir/", "", "", false},
	}
	for _, tt := range tests {
		b, k, err := ParseS3(tt.in)
		if (err == nil) != tt.ok || b != tt.bucket || k != tt.key {
			t.Errorf("ParseS3(%q) = %q, %q, %v", tt.in, b, k, err)
		}
	}
	var s Store
	if _, err := s.Read(context.Background(), "s3://b/k"); err == nil {
		t.Errorf("an S3 location without an S3 client must be refused")
	}
}
