package csvout_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/csvout"
)

// TestWrite turns spooled items into CSV: sorted columns, plain values as
// themselves, others as typed JSON, absent attributes empty, CSV quoting
// for commas, quotes and newlines.
func TestWrite(t *testing.T) {
	long := strings.Repeat("x", 300<<10) // longer than the scanner's first buffer
	tests := []struct {
		name  string
		names []string
		lines string
		want  string
	}{
		{name: "no items", names: nil, lines: "", want: "\n"},
		{name: "header sorted, absent attributes empty", names: []string{"sk", "pk", "a"},
			lines: `{"pk":{"S":"k1"},"sk":{"N":"1"}}` + "\n" + `{"pk":{"S":"k2"},"a":{"BOOL":true}}` + "\n",
			want:  "a,pk,sk\n,k1,1\ntrue,k2,\n"},
		{name: "numbers as spelled", names: []string{"n"},
			lines: `{"n":{"N":"7.00"}}` + "\n" + `{"n":{"N":"-1E+100"}}` + "\n",
			want:  "n\n7.00\n-1E+100\n"},
		{name: "quoting", names: []string{"s"},
			lines: `{"s":{"S":"a,b"}}` + "\n" + `{"s":{"S":"say \"hi\""}}` + "\n" + `{"s":{"S":"two\nlines"}}` + "\n",
			want:  "s\n\"a,b\"\n\"say \"\"hi\"\"\"\n\"two\nlines\"\n"},
		{name: "an empty string", names: []string{"s", "t"}, lines: `{"s":{"S":""},"t":{"S":"x"}}` + "\n", want: "s,t\n,x\n"},
		{name: "other types as typed JSON", names: []string{"b", "l", "m", "n", "ss", "f"},
			lines: `{"b":{"B":"AAH/"},"l":{"L":[{"N":"1"},{"S":"x"}]},"m":{"M":{"k":{"S":"v"}}},"n":{"NULL":true},"ss":{"SS":["a","b"]},"f":{"BOOL":false}}` + "\n",
			want:  "b,f,l,m,n,ss\n\"{\"\"B\"\":\"\"AAH/\"\"}\",false,\"{\"\"L\"\":[{\"\"N\"\":\"\"1\"\"},{\"\"S\"\":\"\"x\"\"}]}\",\"{\"\"M\"\":{\"\"k\"\":{\"\"S\"\":\"\"v\"\"}}}\",\"{\"\"NULL\"\":true}\",\"{\"\"SS\"\":[\"\"a\"\",\"\"b\"\"]}\"\n"},
		{name: "a long item", names: []string{"s"}, lines: `{"s":{"S":"` + long + `"}}` + "\n", want: "s\n" + long + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			if err := csvout.Write(&out, strings.NewReader(tt.lines), tt.names); err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestWriteErrors: a line that is not an item and a failing writer are
// errors, the writer's wrapped as a write error.
func TestWriteErrors(t *testing.T) {
	if err := csvout.Write(&strings.Builder{}, strings.NewReader("{\"s\":{\"S\":\"a\"}}\nnot json\n"), []string{"s"}); err == nil {
		t.Error("a line that is not an item: no error")
	}
	err := csvout.Write(failingWriter{}, strings.NewReader(`{"s":{"S":"a"}}`+"\n"), []string{"s"})
	if err == nil || !strings.HasPrefix(err.Error(), "write: ") || !errors.Is(err, errDiskFull) {
		t.Errorf("failing writer: err = %v, want a write error wrapping %v", err, errDiskFull)
	}
}

var errDiskFull = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }
