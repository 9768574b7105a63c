package ddbjson

import (
	"fmt"
	"strconv"
	"strings"
)

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

// canonicalNumber returns a form of s that is equal for equal numbers
// ("1", "1.0", "10E-1" and "0.1e1" all give "1e0"). s must be valid.
func canonicalNumber(s string) string {
	n, ok := scanNumber(s)
	if !ok {
		return "invalid:" + s
	}
	if n.zero {
		return "0"
	}
	var b strings.Builder
	if n.neg {
		b.WriteByte('-')
	}
	for j := n.first; j <= n.last; j++ {
		if c := n.digits[j]; c != '.' {
			b.WriteByte(c)
		}
	}
	b.WriteByte('e')
	b.WriteString(strconv.FormatInt(n.adjusted, 10))
	return b.String()
}
