package ddbjson

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestParseItem(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseItem([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParseItem(%s): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseItem(%s)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
		})
	}
}

// TestParseItemMatchesSDK checks that whatever ParseItem accepts decodes
// exactly as the SDK's own decoder decodes it.
func TestParseItemMatchesSDK(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			sdk, err := attributevalue.UnmarshalMapJSON([]byte(tc.in))
			if err != nil {
				t.Fatalf("attributevalue.UnmarshalMapJSON: %v", err)
			}
			if !reflect.DeepEqual(sdk, tc.want) {
				t.Errorf("SDK decodes %s as\n%#v\nwant %#v", tc.in, sdk, tc.want)
			}
		})
	}
}

func TestParseItemErrors(t *testing.T) {
	for _, tc := range parseErrorCases() {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseItem([]byte(tc.in))
			if err == nil {
				t.Fatalf("ParseItem(%q) = %#v, want an error", tc.in, got)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if e.Source != "" || e.Line != 0 {
				t.Errorf("Source, Line = %q, %d; want empty, 0", e.Source, e.Line)
			}
			checkMessage(t, err.Error(), tc.want, tc.exact)
		})
	}
}

// checkMessage asserts msg equals want[0] (exact) or contains every want.
func checkMessage(t *testing.T, msg string, want []string, exact bool) {
	t.Helper()
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("message is not one line: %q", msg)
	}
	if exact {
		if msg != want[0] {
			t.Errorf("message\n got %s\nwant %s", msg, want[0])
		}
		return
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message\n%s\ndoes not contain\n%s", msg, w)
		}
	}
}

func TestParseItemDepth(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
	}{
		{"64 levels of L", `{"a":` + deepL(64) + `}`, false},
		{"65 levels of L", `{"a":` + deepL(65) + `}`, true},
		{"64 levels of M", `{"a":` + deepM(64) + `}`, false},
		{"65 levels of M", `{"a":` + deepM(65) + `}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, err := ParseItem([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			// MarshalItem has the same limit.
			if _, err := MarshalItem(x); err != nil {
				t.Errorf("MarshalItem: %v", err)
			}
			deeper := item{"a": vL(x["a"])}
			if _, err := MarshalItem(deeper); err == nil || !strings.Contains(err.Error(), "nested more than 64 levels") {
				t.Errorf("MarshalItem one level deeper: err = %v, want nested more than 64 levels", err)
			}
		})
	}
}

// deepM returns n nested M values around a NULL.
func deepM(n int) string {
	s := `{"NULL":true}`
	for range n {
		s = `{"M":{"m":` + s + `}}`
	}
	return s
}

func TestCheckNumber(t *testing.T) {
	tests := []struct {
		in   string
		want string // substring of the problem; "" = valid
	}{
		{"0", ""},
		{"-0", ""},
		{"00000", ""},
		{"1", ""},
		{"-1", ""},
		{"1.", ""},
		{".1", ""},
		{"1e0", ""},
		{"1E-0", ""},
		{"1e+125", ""},
		{"9.9999999999999999999999999999999999999e125", ""},
		{"99999999999999999999999999999999999999e88", ""},
		{"1e-130", ""},
		{"0.0001e-126", ""},
		{"10000000000000000000000000000000000000000000000", ""}, // 1 significant digit
		{"12345678901234567890123456789012345678e-167", ""},     // adjusted exponent -130
		{"12345678901234567890123456789012345678e-168", "too small"},
		{"1e126", "too large"},
		{"99999999999999999999999999999999999999e89", "too large"},
		{"0.00001e-126", "too small"},
		{"1.00000000000000000000000000000000000001", "39 significant digits"},
		{"", "invalid number"},
		{"-", "invalid number"},
		{"+1", "invalid number"},
		{"1e", "invalid number"},
		{"1e+", "invalid number"},
		{"1e1.5", "invalid number"},
		{"1 ", "invalid number"},
		{"١", "invalid number"}, // Arabic-Indic digit one
		{"--1", "invalid number"},
		{"1-", "invalid number"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := checkNumber(tc.in)
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("checkNumber(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCanonicalNumber(t *testing.T) {
	max38 := strings.Repeat("9", 38)
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"7", "7.0", "007", "7E0", "7e+0", "0.7e1", "70E-1", "7.", "0007.000"}, "7"},
		{[]string{"1", "1.0", "01", "10e-1", "0.1E1", "1.", "1e+0"}, "1"},
		{[]string{"-1.5", "-15e-1", "-0.00015E4", "-01.50"}, "-1.5"},
		{[]string{"0", "-0", "0.000", "0e50", ".0", "-0.0E-5", "000"}, "0"},
		{[]string{"1200", "12E2", "1.2e3", "1200.00"}, "1200"},
		{[]string{"0.001", "1e-3", ".001", "0.0010"}, "0.001"},
		{[]string{"-1.50E-2", "-0.015"}, "-0.015"},
		{[]string{max38, max38 + ".000", "0." + max38 + "E38"}, max38},
		{[]string{"1E125"}, "1" + strings.Repeat("0", 125)},
		{[]string{"1E-130", "0.1e-129"}, "0." + strings.Repeat("0", 129) + "1"},
		{[]string{"-9.9999999999999999999999999999999999999E+125"}, "-" + max38 + strings.Repeat("0", 88)},
		// Not a valid DynamoDB number: unchanged.
		{[]string{"1,5"}, "1,5"},
		{[]string{"1e126"}, "1e126"},
		{[]string{"+1"}, "+1"},
	}
	for _, tc := range tests {
		t.Run(tc.want[:min(len(tc.want), 20)], func(t *testing.T) {
			for _, in := range tc.in {
				if got := CanonicalNumber(in); got != tc.want {
					t.Errorf("CanonicalNumber(%q) = %q, want %q", in, got, tc.want)
				}
			}
		})
	}
}

// TestParseItemAttributeValueTypes pins that values are the SDK's member
// types, never types.UnknownUnionMember.
func TestParseItemAttributeValueTypes(t *testing.T) {
	for _, tc := range parseCases() {
		got, err := ParseItem([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		walk(got, func(v types.AttributeValue) {
			if _, unknown := v.(*types.UnknownUnionMember); unknown || v == nil {
				t.Errorf("%s: got %#v", tc.name, v)
			}
		})
	}
}

func walk(m item, f func(types.AttributeValue)) {
	for _, v := range m {
		f(v)
		switch t := v.(type) {
		case *types.AttributeValueMemberM:
			walk(t.Value, f)
		case *types.AttributeValueMemberL:
			for i, e := range t.Value {
				walk(item{string(rune('a' + i%26)): e}, f)
			}
		}
	}
}
