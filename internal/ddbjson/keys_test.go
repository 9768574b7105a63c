package ddbjson

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// keyLine is what KeysReader.Next returns for one call.
type keyLine struct {
	key  item
	line int
	err  string // exact Error(); "" for a key
}

// readAll calls Next until io.EOF, at most limit times.
func readAll(t *testing.T, r *KeysReader, limit int) []keyLine {
	t.Helper()
	var got []keyLine
	for range limit {
		key, line, err := r.Next()
		if errors.Is(err, io.EOF) {
			if line != 0 || key != nil {
				t.Errorf("at EOF Next = %v, %d; want nil, 0", key, line)
			}
			return got
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if e.Line != line {
				t.Errorf("Error.Line = %d, Next's line = %d", e.Line, line)
			}
			got = append(got, keyLine{line: line, err: err.Error()})
			continue
		}
		got = append(got, keyLine{key: key, line: line})
	}
	return got
}

func TestKeysReaderFile(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "keys.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := readAll(t, NewKeysReader(f, "keys.jsonl"), 20)
	want := []keyLine{
		{key: item{"pk": vS("tenant#1"), "sk": vN("1")}, line: 1},
		{key: item{"pk": vS("tenant#2"), "sk": vN("2.50")}, line: 3},
		{key: item{"pk": vB(0x00, 0xff)}, line: 5},
		{line: 7, err: `keys.jsonl:7: attribute "pk": unknown type "X" (use one of S, N, B, BOOL, NULL, L, M, SS, NS, BS)`},
		{key: item{"pk": vS("tenant#4"), "sk": vN("4")}, line: 8},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestKeysReader(t *testing.T) {
	const typeHint = "(use one of S, N, B, BOOL, NULL, L, M, SS, NS, BS)"
	long := strings.Repeat("x", 2049)
	tests := []struct {
		name string
		in   string
		want []keyLine
	}{
		{"empty file", "", nil},
		{"only blank lines", "\n  \n\t\n\r\n", nil},
		{"no final newline", `{"pk":{"S":"a"}}`, []keyLine{{key: item{"pk": vS("a")}, line: 1}}},
		{"CRLF", "{\"pk\":{\"S\":\"a\"}}\r\n\r\n{\"pk\":{\"N\":\"1\"}}\r\n",
			[]keyLine{{key: item{"pk": vS("a")}, line: 1}, {key: item{"pk": vN("1")}, line: 3}}},
		{"broken JSON", "{\"pk\":{\"S\":\"a\"}}\n{\"pk\":{\"S\":\"b\"}\n", []keyLine{
			{key: item{"pk": vS("a")}, line: 1},
			{line: 2, err: `k.jsonl:2: incomplete JSON: the input ends too early (check for a missing closing quote, '}' or ']')`}}},
		{"syntax error column", `{"pk":{"S":"a"},}`, []keyLine{
			{line: 1, err: `k.jsonl:1: invalid JSON at column 17: invalid character '}' looking for beginning of object key string (check quotes, commas, colons and braces)`}}},
		{"two keys on one line", `{"pk":{"S":"a"}} {"pk":{"S":"b"}}`, []keyLine{
			{line: 1, err: `k.jsonl:1: unexpected data after the JSON object at column 18 (give exactly one object; in a keys file, one object per line)`}}},
		{"pretty-printed JSON is not JSON Lines", "{\n\"pk\":{\"S\":\"a\"}\n}", []keyLine{
			{line: 1, err: `k.jsonl:1: incomplete JSON: the input ends too early (check for a missing closing quote, '}' or ']')`},
			{line: 2, err: `k.jsonl:2: expected a JSON object such as {"pk":{"S":"a"}}, got a string`},
			{line: 3, err: `k.jsonl:3: invalid JSON at column 1: invalid character '}' looking for beginning of value (check quotes, commas, colons and braces)`}}},
		{"unknown type", `{"pk":{"Q":"a"}}`, []keyLine{{line: 1, err: `k.jsonl:1: attribute "pk": unknown type "Q" ` + typeHint}}},
		{"empty key", `{}`, []keyLine{{line: 1, err: `k.jsonl:1: a primary key has 1 attribute (partition key) or 2 (partition and sort key), this line has 0`}}},
		{"three attributes", `{"a":{"S":"1"},"b":{"S":"2"},"c":{"S":"3"}}`, []keyLine{
			{line: 1, err: `k.jsonl:1: a primary key has 1 attribute (partition key) or 2 (partition and sort key), this line has 3`}}},
		{"BOOL key", `{"pk":{"S":"a"},"sk":{"BOOL":true}}`, []keyLine{
			{line: 1, err: `k.jsonl:1: attribute "sk": type BOOL cannot be part of a primary key (key attributes are S, N or B)`}}},
		{"M key", `{"pk":{"M":{}}}`, []keyLine{{line: 1, err: `k.jsonl:1: attribute "pk": type M cannot be part of a primary key (key attributes are S, N or B)`}}},
		{"SS key", `{"pk":{"SS":["a"]}}`, []keyLine{{line: 1, err: `k.jsonl:1: attribute "pk": type SS cannot be part of a primary key (key attributes are S, N or B)`}}},
		{"empty S", `{"pk":{"S":""}}`, []keyLine{{line: 1, err: `k.jsonl:1: attribute "pk": key values cannot be empty`}}},
		{"empty B", `{"pk":{"B":""}}`, []keyLine{{line: 1, err: `k.jsonl:1: attribute "pk": key values cannot be empty`}}},
		{"key too long", `{"pk":{"S":"` + long + `"}}`, []keyLine{
			{line: 1, err: `k.jsonl:1: attribute "pk": key value is 2049 bytes, DynamoDB allows at most 2048`}}},
		{"invalid number", "\n\n{\"pk\":{\"N\":\"1e999\"}}", []keyLine{
			{line: 3, err: `k.jsonl:3: attribute "pk": number "1e999" is too large (DynamoDB numbers are at most 9.9999999999999999999999999999999999999E+125 in magnitude)`}}},
		{"byte order mark", "\xef\xbb\xbf{\"pk\":{\"S\":\"a\"}}\n{\"pk\":{\"S\":\"b\"}}", []keyLine{
			{line: 1, err: `k.jsonl:1: file starts with a UTF-8 byte order mark (save it as UTF-8 without BOM)`},
			{key: item{"pk": vS("b")}, line: 2}}},
		{"invalid UTF-8", "{\"pk\":{\"S\":\"\xc3\"}}", []keyLine{{line: 1, err: `k.jsonl:1: invalid UTF-8 at column 13 (save the input as UTF-8)`}}},
		{"reading goes on after a broken line", "x\n{\"pk\":{\"S\":\"a\"}}\ny\n", []keyLine{
			{line: 1, err: `k.jsonl:1: invalid JSON at column 1: invalid character 'x' looking for beginning of value (check quotes, commas, colons and braces)`},
			{key: item{"pk": vS("a")}, line: 2},
			{line: 3, err: `k.jsonl:3: invalid JSON at column 1: invalid character 'y' looking for beginning of value (check quotes, commas, colons and braces)`}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, NewKeysReader(strings.NewReader(tc.in), "k.jsonl"), 20)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestKeysReaderLongLines(t *testing.T) {
	// A line of exactly 1 MiB is read (and refused for its key size); one
	// byte more is too long. Both errors carry the line number.
	line := func(n int) string {
		prefix, suffix := `{"pk":{"S":"`, `"}}`
		return prefix + strings.Repeat("a", n-len(prefix)-len(suffix)) + suffix
	}
	tests := []struct {
		name  string
		in    string
		want  string
		final bool
	}{
		{"1 MiB", `{"pk":{"S":"a"}}` + "\n" + line(maxLineSize) + "\n",
			`k.jsonl:2: attribute "pk": key value is 1048561 bytes, DynamoDB allows at most 2048`, false},
		{"1 MiB with CRLF", `{"pk":{"S":"a"}}` + "\r\n" + line(maxLineSize) + "\r\n",
			`k.jsonl:2: attribute "pk": key value is 1048561 bytes, DynamoDB allows at most 2048`, false},
		{"1 MiB + 1", `{"pk":{"S":"a"}}` + "\n" + line(maxLineSize+1) + "\n",
			`k.jsonl:2: line is longer than 1 MiB (a keys file has one primary key per line)`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewKeysReader(strings.NewReader(tc.in), "k.jsonl")
			if _, line, err := r.Next(); err != nil || line != 1 {
				t.Fatalf("first Next = %d, %v", line, err)
			}
			_, line, err := r.Next()
			if err == nil || err.Error() != tc.want || line != 2 {
				t.Fatalf("second Next = %d, %v; want 2, %s", line, err, tc.want)
			}
			_, _, err = r.Next()
			if tc.final && (err == nil || err.Error() != tc.want) {
				t.Errorf("after a too-long line Next = %v, want the same error again", err)
			}
			if !tc.final && !errors.Is(err, io.EOF) {
				t.Errorf("third Next = %v, want io.EOF", err)
			}
		})
	}
}

func TestKeysReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewKeysReader(io.MultiReader(strings.NewReader("{\"pk\":{\"S\":\"a\"}}\n"), iotest.ErrReader(boom)), "k.jsonl")
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the error is final
		_, line, err := r.Next()
		var e *Error
		if !errors.As(err, &e) || !errors.Is(err, boom) || err.Error() != "k.jsonl:2: cannot read: boom" || line != 2 {
			t.Fatalf("Next = %d, %v; want k.jsonl:2: cannot read: boom, wrapping boom", line, err)
		}
	}
}
