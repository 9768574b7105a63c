package usage

import (
	"errors"
	"fmt"
	"testing"
)

type parseError struct{}

func (parseError) Error() string  { return "keys.jsonl:3: bad line" }
func (parseError) BadInput() bool { return true }

func TestIs(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"usage error", Errorf("--segments %d: use 1 to 1000000", 0), true},
		{"wrapped", fmt.Errorf("copy: %w", Errorf("refused")), true},
		{"bad input of another package", fmt.Errorf("copy: %w", parseError{}), true},
		{"other error", errors.New("AccessDeniedException"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Is(tt.err); got != tt.want {
				t.Errorf("Is(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
