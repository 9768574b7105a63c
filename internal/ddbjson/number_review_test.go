package ddbjson

import (
	"strings"
	"testing"
)

// TestCanonicalNumberLongExponents: an exponent of many digits is read in
// full, so a long run of leading zeros that it compensates still gives
// the number's value; one out of range, however spelled, is refused.
func TestCanonicalNumberLongExponents(t *testing.T) {
	zeros := strings.Repeat("0", 1000)
	for _, tt := range []struct{ in, want string }{
		{"0." + zeros + "1E1001", "1"},
		{"0." + zeros + "15E+1002", "15"},
		{"1" + zeros + "E-1000", "1"},
		{"1E0000000000000000000000000000002", "100"},
		{"0." + zeros + "1E1127", "0." + zeros + "1E1127"}, // 1E+126: too large, unchanged
	} {
		if got := CanonicalNumber(tt.in); got != tt.want {
			t.Errorf("CanonicalNumber(%.40q…) = %.40q…, want %.40q…", tt.in, got, tt.want)
		}
	}
	if checkNumber("0."+zeros+"1E1127") == "" || checkNumber("0."+zeros+"1E1126") != "" {
		t.Error("the range check must use the whole exponent")
	}
}
