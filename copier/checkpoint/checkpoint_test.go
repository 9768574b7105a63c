package checkpoint

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cp.json")
	if s, err := Load(path); s != nil || err != nil {
		t.Fatalf("missing file: %v, %v; want nil, nil", s, err)
	}
	want := &State{Fingerprint: "abc", Describe: "copy a → b", Units: map[string]Unit{
		"copy/0": {Done: true},
		"copy/1": {After: json.RawMessage(`{"pk":{"S":"x"}}`)},
		"keys/0": {Line: 42},
	}}
	if err := Save(path, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint != "abc" || !got.Units["copy/0"].Done || string(got.Units["copy/1"].After) != `{"pk":{"S":"x"}}` || got.Units["keys/0"].Line != 42 {
		t.Errorf("round trip: %+v", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
}

func TestLoadRejectsForeignFiles(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not json", "hello", "not a ddbrewind checkpoint"},
		{"other version", `{"version": 99, "units": {}}`, "format version 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cp.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want %q", err, tt.want)
			}
		})
	}
}
