package ddbjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
)

// FuzzParseItem checks that ParseItem never panics, that its errors are one
// line, and that whatever it accepts survives MarshalItem and ParseItem
// unchanged, gives the same bytes twice and decodes as the SDK decodes it.
func FuzzParseItem(f *testing.F) {
	for _, tc := range parseCases() {
		f.Add([]byte(tc.in))
	}
	for _, tc := range parseErrorCases() {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ParseItem(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err.Error())
			}
			return
		}
		out, err := MarshalItem(x)
		if err != nil {
			t.Fatalf("MarshalItem(ParseItem(%q)): %v", data, err)
		}
		y, err := ParseItem(out)
		if err != nil {
			t.Fatalf("ParseItem(MarshalItem(x)) of %q: %v", out, err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Fatalf("round trip changed the item:\n in %q\nout %q\n%#v\n%#v", data, out, x, y)
		}
		again, err := MarshalItem(y)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("MarshalItem not deterministic: %q then %q (%v)", out, again, err)
		}
		if ks := KeyString(x); ks != string(out) {
			t.Fatalf("KeyString = %q, MarshalItem = %q", ks, out)
		}
		if bytes.ContainsAny(out, "\n\r") {
			t.Fatalf("MarshalItem output is not one line: %q", out)
		}
		sdk, err := attributevalue.UnmarshalMapJSON(data)
		if err != nil || !reflect.DeepEqual(sdk, x) {
			t.Fatalf("SDK decodes %q differently: %#v, %v\nwe have %#v", data, sdk, err, x)
		}
	})
}

// FuzzKeysReader checks that KeysReader never panics or loops, that line
// numbers grow, that every error is an *Error naming the file and its line,
// and that every key has 1 or 2 attributes and round-trips.
func FuzzKeysReader(f *testing.F) {
	if data, err := os.ReadFile(filepath.Join("testdata", "keys.jsonl")); err == nil {
		f.Add(data)
	}
	for _, tc := range parseCases() {
		f.Add([]byte(tc.in + "\n\n" + tc.in))
	}
	for _, tc := range parseErrorCases() {
		f.Add([]byte("\n" + tc.in + "\r\n" + `{"pk":{"S":"a"}}`))
	}
	f.Add([]byte("\xef\xbb\xbf{\"pk\":{\"N\":\"1\"}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.jsonl"
		r := NewKeysReader(bytes.NewReader(data), name)
		prev := 0
		for range bytes.Count(data, []byte("\n")) + 3 {
			key, line, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Source != name || e.Line != line {
					t.Fatalf("error %v (%T) does not name %s:%d", err, err, name, line)
				}
				if !strings.HasPrefix(err.Error(), fmt.Sprintf("%s:%d: ", name, line)) || strings.ContainsAny(err.Error(), "\n\r") {
					t.Fatalf("bad message %q", err.Error())
				}
				if line == prev { // a final error, repeated
					return
				}
				if line < prev {
					t.Fatalf("line %d after line %d", line, prev)
				}
				prev = line
				continue
			}
			if line <= prev {
				t.Fatalf("line %d after line %d", line, prev)
			}
			prev = line
			if len(key) < 1 || len(key) > 2 {
				t.Fatalf("line %d: key with %d attributes", line, len(key))
			}
			out, err := MarshalItem(key)
			if err != nil {
				t.Fatalf("MarshalItem(key): %v", err)
			}
			back, err := ParseItem(out)
			if err != nil || !reflect.DeepEqual(back, key) {
				t.Fatalf("key round trip: %#v, %v; want %#v", back, err, key)
			}
		}
		t.Fatalf("Next did not reach io.EOF or a final error")
	})
}
