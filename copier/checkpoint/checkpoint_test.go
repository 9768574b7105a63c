package checkpoint

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	want := &State{Fingerprint: "abc", Describe: "copy a → b", Units: map[string]Unit{
		"copy/0": {Done: true},
		"copy/1": {After: json.RawMessage(`{"pk":{"S":"x"}}`)},
		"keys/0": {Line: 42},
	}}
	data, err := Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data, "cp.json")
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint != "abc" || !got.Units["copy/0"].Done || string(got.Units["copy/1"].After) != `{"pk":{"S":"x"}}` || got.Units["keys/0"].Line != 42 {
		t.Errorf("round trip: %+v", got)
	}
}

func TestDecodeRejectsForeignFiles(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"not json", "hello", "not a ddbrewind checkpoint"},
		{"other version", `{"version": 99, "units": {}}`, "format version 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.content), "cp.json")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestConflictsFieldOptional: a checkpoint keeps the conflicts and
// clobbered keys of the pages it moved past, and one written before those
// fields existed still loads.
func TestConflictsFieldOptional(t *testing.T) {
	data, err := Encode(&State{Fingerprint: "f", Units: map[string]Unit{"copy/0": {Line: 100}}, Conflicts: []string{`{"pk":{"S":"a"}}`}, Clobbered: []string{`{"pk":{"S":"b"}}`}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(data, "cp.json")
	if err != nil || len(got.Conflicts) != 1 || got.Conflicts[0] != `{"pk":{"S":"a"}}` || len(got.Clobbered) != 1 {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	old, err := Decode([]byte(`{"version":1,"fingerprint":"f","describe":"d","units":{"copy/0":{"line":100}},"updated":"2026-01-01T00:00:00Z"}`), "old.json")
	if err != nil || old.Conflicts != nil || old.Units["copy/0"].Line != 100 {
		t.Fatalf("old checkpoint: %+v, %v", old, err)
	}
}
