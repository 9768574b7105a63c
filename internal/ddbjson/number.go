package ddbjson

import "fmt"

// DynamoDB's number limits.
const (
	maxSignificantDigits = 38
	maxAdjustedExponent  = 125  // 9.99...E+125
	minAdjustedExponent  = -130 // 1E-130
)

// number is a syntactically valid decimal, described without allocating.
type number struct {
	neg      bool
	digits   string // mantissa digits and at most one '.'
	zero     bool
	first    int   // index in digits of the first non-zero digit
	last     int   // index in digits of the last non-zero digit
	sig      int   // significant digits: first..last, '.' not counted
	adjusted int64 // exponent of the first non-zero digit
}

// scanNumber parses s with the syntax DynamoDB accepts,
// -?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?, and reports whether it matched.
func scanNumber(s string) (number, bool) {
	var n number
	i := 0
	if i < len(s) && s[i] == '-' {
		n.neg = true
		i++
	}
	start := i
	intDigits, fracDigits, dot := 0, 0, -1
mantissa:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if dot < 0 {
				intDigits++
			} else {
				fracDigits++
			}
		case c == '.' && dot < 0:
			dot = i
		default:
			break mantissa
		}
	}
	if intDigits == 0 && fracDigits == 0 {
		return n, false
	}
	n.digits = s[start:i]
	var exp int64
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return n, false
		}
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		if i == len(s) {
			return n, false
		}
		for ; i < len(s); i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return n, false
			}
			if exp < 1e12 { // beyond any limit; stop growing
				exp = exp*10 + int64(c-'0')
			}
		}
		if expNeg {
			exp = -exp
		}
	}
	n.first, n.last = -1, -1
	pos := 0 // digit position, '.' not counted
	firstPos, lastPos := 0, 0
	for j := 0; j < len(n.digits); j++ {
		c := n.digits[j]
		if c == '.' {
			continue
		}
		if c != '0' {
			if n.first < 0 {
				n.first, firstPos = j, pos
			}
			n.last, lastPos = j, pos
		}
		pos++
	}
	if n.first < 0 {
		n.zero = true
		return n, true
	}
	n.sig = lastPos - firstPos + 1
	n.adjusted = exp + int64(intDigits-1-firstPos)
	return n, true
}

// checkNumber returns what is wrong with s as a DynamoDB number, or "".
func checkNumber(s string) string {
	n, ok := scanNumber(s)
	switch {
	case !ok:
		return fmt.Sprintf("invalid number %s (write a decimal such as 42, -1.5 or 6.02E23: digits, optional leading '-', '.', exponent; no spaces or '+' sign)", quoteShort(s))
	case n.zero:
		return ""
	case n.sig > maxSignificantDigits:
		return fmt.Sprintf("number %s has %d significant digits (DynamoDB keeps at most %d)", quoteShort(s), n.sig, maxSignificantDigits)
	case n.adjusted > maxAdjustedExponent:
		return fmt.Sprintf("number %s is too large (DynamoDB numbers are at most 9.9999999999999999999999999999999999999E+125 in magnitude)", quoteShort(s))
	case n.adjusted < minAdjustedExponent:
		return fmt.Sprintf("number %s is too small (DynamoDB numbers are zero or at least 1E-130 in magnitude)", quoteShort(s))
	}
	return ""
}

// CanonicalNumber returns the canonical spelling of the DynamoDB number s:
// the plain decimal DynamoDB itself stores and returns, without exponent,
// leading zeros, trailing fractional zeros or a sign on zero ("7.0", "007",
// "7E0" and "0.7e1" all give "7"; "-1.50E-2" gives "-0.015"). Equal numbers
// give equal strings and different numbers different strings, so it is what
// a number becomes wherever it is an identity (key strings, set members).
// An s that is not a valid DynamoDB number is returned unchanged.
func CanonicalNumber(s string) string {
	n, ok := scanNumber(s)
	if !ok || checkNumber(s) != "" {
		return s
	}
	if n.zero {
		return "0"
	}
	return string(appendCanonical(make([]byte, 0, len(s)+8), n))
}

// appendCanonical appends the plain decimal form of the non-zero n.
func appendCanonical(buf []byte, n number) []byte {
	if n.neg {
		buf = append(buf, '-')
	}
	// sig holds the significant digits, first to last non-zero.
	var arr [maxSignificantDigits + 1]byte
	sig := arr[:0]
	for j := n.first; j <= n.last; j++ {
		if c := n.digits[j]; c != '.' {
			sig = append(sig, c)
		}
	}
	// The value is 0.sig × 10^(adjusted+1).
	point := int(n.adjusted) + 1 // digits before the decimal point
	switch {
	case point <= 0:
		buf = append(buf, "0."...)
		for range -point {
			buf = append(buf, '0')
		}
		buf = append(buf, sig...)
	case point >= len(sig):
		buf = append(buf, sig...)
		for range point - len(sig) {
			buf = append(buf, '0')
		}
	default:
		buf = append(buf, sig[:point]...)
		buf = append(buf, '.')
		buf = append(buf, sig[point:]...)
	}
	return buf
}
