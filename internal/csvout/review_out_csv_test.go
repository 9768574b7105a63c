package csvout_test

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ddbrewind/ddbrewind/internal/csvout"
)

// TestReviewOutWriteReadErrors: when the spooled items cannot be read to
// the end (the temporary file fails, or a line is longer than any item
// can be), Write returns the error instead of a CSV that silently ends
// early.
func TestReviewOutWriteReadErrors(t *testing.T) {
	errRead := errors.New("read failed")
	first := `{"s":{"S":"a"}}` + "\n"
	for _, tc := range []struct {
		name  string
		lines io.Reader
		want  error
	}{
		{"a read error after the first item", io.MultiReader(strings.NewReader(first), iotest.ErrReader(errRead)), errRead},
		{"a line past the limit", strings.NewReader(first + `{"s":{"S":"` + strings.Repeat("x", 5<<20) + `"}}` + "\n"), bufio.ErrTooLong},
	} {
		var out strings.Builder
		if err := csvout.Write(&out, tc.lines, []string{"s"}); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}
