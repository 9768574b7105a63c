package checkpoint

import (
	"strings"
	"testing"
)

// TestReviewKeysFormat: checkpoints as ddbrewind has written them —
// before conflicts, manifests and keys were recorded, and today with all
// of them — decode with their positions; a file that is not a version-1
// checkpoint (no version, another version) is refused naming the file;
// a checkpoint without units decodes to an empty, writable set of units.
func TestReviewKeysFormat(t *testing.T) {
	tests := []struct {
		name, data string
		check      func(*State) bool
	}{
		{"first format", `{"version":1,"fingerprint":"f","describe":"d","segments":4,"units":{"copy/0":{"done":true},"copy/1":{"after":{"pk":{"S":"x"}}},"copy/2":{"line":200}},"updated":"2026-01-01T00:00:00Z"}`,
			func(s *State) bool {
				return s.Units["copy/0"].Done && string(s.Units["copy/1"].After) == `{"pk":{"S":"x"}}` && s.Units["copy/2"].Line == 200 && s.Segments == 4 && s.Keys == ""
			}},
		{"today's format", `{"version":1,"fingerprint":"f","describe":"d","units":{"copy/0":{"line":100}},"conflicts":["a"],"clobbered":["b"],"manifests":"m","keys":"k","updated":"2026-01-01T00:00:00Z"}`,
			func(s *State) bool {
				return s.Units["copy/0"].Line == 100 && s.Manifests == "m" && s.Keys == "k" && len(s.Conflicts) == 1 && len(s.Clobbered) == 1
			}},
		{"no units", `{"version":1,"fingerprint":"f"}`, func(s *State) bool {
			s.Units["copy/0"] = Unit{Line: 1} // a nil map would panic
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Decode([]byte(tt.data), "cp.json")
			if err != nil || !tt.check(s) {
				t.Fatalf("Decode = %+v, %v", s, err)
			}
			data, err := Encode(s)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Decode(data, "cp.json")
			if err != nil || !tt.check(again) {
				t.Errorf("after a round trip: %+v, %v", again, err)
			}
		})
	}
	for _, bad := range []string{`{}`, `{"version":0,"units":{}}`, `{"version":2,"units":{}}`, `[]`, ``} {
		if _, err := Decode([]byte(bad), "cp.json"); err == nil || !strings.Contains(err.Error(), "cp.json") {
			t.Errorf("Decode(%q) = %v, want an error naming the file", bad, err)
		}
	}
}
