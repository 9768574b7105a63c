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
