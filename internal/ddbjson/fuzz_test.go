package ddbjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
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
		canon, err := MarshalItem(canonicalNumbers(x, 0))
		if err != nil {
			t.Fatalf("MarshalItem(canonicalNumbers(%q)): %v", data, err)
		}
		if ks := KeyString(x); ks != string(canon) {
			t.Fatalf("KeyString = %q, MarshalItem of its canonical form = %q", ks, canon)
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

// FuzzCanonicalNumber checks CanonicalNumber against math/big: for valid
// DynamoDB numbers it is idempotent, valid, equal in value to its input,
// the same for every spelling of a number (leading and trailing zeros,
// exponents, signs), and different for different numbers.
func FuzzCanonicalNumber(f *testing.F) {
	seeds := [][2]string{
		{"7", "7.0"}, {"007", "7E0"}, {"-0", "0.000"}, {"1e-130", "0.1E-129"},
		{"9.9999999999999999999999999999999999999E+125", "99999999999999999999999999999999999999e88"},
		{"12345678901234567890123456789012345678", "1.2345678901234567890123456789012345678e37"},
		{"-1.5", "-15e-1"}, {"1", "2"}, {".5", "5."}, {"100", "1e2"}, {"0.1", "0.01"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	rat := func(t *testing.T, s string) *big.Rat {
		if n, _ := scanNumber(s); n.zero {
			return new(big.Rat) // math/big refuses 0E10000000000000000000
		}
		r, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("math/big cannot read the valid number %q", s)
		}
		return r
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if checkNumber(a) != "" {
			if got := CanonicalNumber(a); got != a {
				t.Fatalf("CanonicalNumber(invalid %q) = %q, want it unchanged", a, got)
			}
			return
		}
		ca := CanonicalNumber(a)
		if problem := checkNumber(ca); problem != "" {
			t.Fatalf("CanonicalNumber(%q) = %q, not a valid number: %s", a, ca, problem)
		}
		if again := CanonicalNumber(ca); again != ca {
			t.Fatalf("not idempotent: %q → %q → %q", a, ca, again)
		}
		if rat(t, a).Cmp(rat(t, ca)) != 0 {
			t.Fatalf("CanonicalNumber(%q) = %q, another number", a, ca)
		}
		if r := respell(a); checkNumber(r) == "" && CanonicalNumber(r) != ca {
			t.Fatalf("%q and its respelling %q give %q and %q", a, r, ca, CanonicalNumber(r))
		}
		if checkNumber(b) != "" {
			return
		}
		cb := CanonicalNumber(b)
		if equal := rat(t, a).Cmp(rat(t, b)) == 0; equal != (ca == cb) {
			t.Fatalf("%q and %q: equal numbers %v, but canonical forms %q and %q", a, b, equal, ca, cb)
		}
	})
}

// respell writes the number s another way: leading zeros, a decimal point
// and trailing zeros, and an explicit exponent.
func respell(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	if !strings.Contains(mant, ".") {
		mant += "."
	}
	if exp == "" {
		exp = "0"
	}
	return sign + "00" + mant + "000E" + exp
}
