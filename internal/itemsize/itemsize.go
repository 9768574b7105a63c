// Package itemsize computes the size of a DynamoDB item the way DynamoDB
// counts it for capacity units and for its 400 KB item limit: attribute
// names plus values; strings by their encoded length, numbers by their
// significant digits, binary by its bytes, 1 for BOOL and NULL, and 3 bytes
// plus 1 an element for lists and maps.
package itemsize

import (
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item returns the item's size by DynamoDB's rules (strings counted in
// UTF-8 bytes).
func Item(item map[string]types.AttributeValue) int {
	return sizer(utf8Len).item(item)
}

// Dynalite returns the item's size as dynalite counts it (db/index.js
// itemSize), which differs from DynamoDB only in counting strings in UTF-16
// code units (JavaScript's length): what the benchmark needs to predict the
// capacity dynalite reports.
func Dynalite(item map[string]types.AttributeValue) int {
	return sizer(utf16Len).item(item)
}

// WriteUnits returns the write capacity units of putting an item of size
// bytes: one per started KiB, at least one.
func WriteUnits(size int) int64 {
	return int64(max(1, (size+1023)/1024))
}

// sizer measures with a given string length.
type sizer func(string) int

func (strLen sizer) item(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += strLen(name) + strLen.value(v)
	}
	return n
}

func (strLen sizer) value(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return strLen(v.Value)
	case *types.AttributeValueMemberN:
		return Number(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		return sum(v.Value, strLen)
	case *types.AttributeValueMemberNS:
		return sum(v.Value, Number)
	case *types.AttributeValueMemberBS:
		return sum(v.Value, func(b []byte) int { return len(b) })
	case *types.AttributeValueMemberL:
		return 3 + len(v.Value) + sum(v.Value, strLen.value)
	case *types.AttributeValueMemberM:
		return 3 + len(v.Value) + strLen.item(v.Value)
	default:
		return 0
	}
}

// sum is the size of a set's or list's elements, each measured by size.
func sum[T any](elems []T, size func(T) int) int {
	n := 0
	for _, e := range elems {
		n += size(e)
	}
	return n
}

func utf8Len(s string) int { return len(s) }

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 && r <= utf8.MaxRune {
			n++
		}
	}
	return n
}

// Number is the size of a number (DynamoDB: "about one byte per two
// significant digits, plus one"; exactly as dynalite computes it): 1 + ceil(digits/2), plus 1
// when the digit count and the exponent are both even, plus 1 if negative.
func Number(s string) int {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, ok := new(big.Int).SetString(s[i+1:], 10)
		if !ok || !e.IsInt64() {
			return len(s)
		}
		exp = int(e.Int64())
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	point := len(intPart) + exp // the decimal point is after `point` digits
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
		point--
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return 1
	}
	e := point - 1 // big.js exponent: value = d.ddd × 10^e
	n := 1 + (len(digits)+1)/2
	if len(digits)%2 == 0 && e%2 == 0 {
		n++
	}
	if neg {
		n++
	}
	return n
}
