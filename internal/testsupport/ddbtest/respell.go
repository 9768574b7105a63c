package ddbtest

import (
	mrand "math/rand/v2"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Respell returns a copy of item that means the same to DynamoDB but is
// written otherwise, as an export or another client may write it: every
// number in another of its spellings (leading zeros, an exponent, trailing
// fractional zeros: see RespellNumber), the members of every set in
// another order. The item must hold canonical numbers (as MixedItems
// makes and DynamoDB returns them). Maps and lists are respelled inside;
// nothing else changes.
func Respell(rng *mrand.Rand, item map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(item))
	for k, v := range item {
		out[k] = respellValue(rng, v)
	}
	return out
}

func respellValue(rng *mrand.Rand, v types.AttributeValue) types.AttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: RespellNumber(rng, x.Value)}
	case *types.AttributeValueMemberNS:
		ns := make([]string, len(x.Value))
		for i, n := range x.Value {
			ns[i] = RespellNumber(rng, n)
		}
		shuffle(rng, ns)
		return &types.AttributeValueMemberNS{Value: ns}
	case *types.AttributeValueMemberSS:
		ss := append([]string(nil), x.Value...)
		shuffle(rng, ss)
		return &types.AttributeValueMemberSS{Value: ss}
	case *types.AttributeValueMemberBS:
		bs := append([][]byte(nil), x.Value...)
		shuffle(rng, bs)
		return &types.AttributeValueMemberBS{Value: bs}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(x.Value))
		for i, e := range x.Value {
			l[i] = respellValue(rng, e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: Respell(rng, x.Value)}
	}
	return v
}

// shuffle reorders s so that, with two members or more, it is never in
// its original order.
func shuffle[T any](rng *mrand.Rand, s []T) {
	if len(s) < 2 {
		return
	}
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	// A rotation by one guarantees a change of order after an identity
	// shuffle (the members are distinct: they are a set's).
	first := s[0]
	copy(s, s[1:])
	s[len(s)-1] = first
}

// RespellNumber returns the canonical DynamoDB number n written in another
// way of the same value, picked at random: with leading zeros ("7" →
// "007"), with an exponent ("123.45" → "1.2345E2", "0.015" → "15E-3"), or
// with trailing fractional zeros ("1.5" → "1.50", "7" → "7.0"). The number
// of significant digits is unchanged.
func RespellNumber(rng *mrand.Rand, n string) string {
	neg := strings.HasPrefix(n, "-")
	abs := strings.TrimPrefix(n, "-")
	sign := ""
	if neg {
		sign = "-"
	}
	switch rng.IntN(3) {
	case 0: // leading zeros
		return sign + strings.Repeat("0", 1+rng.IntN(3)) + abs
	case 1: // trailing fractional zeros
		if !strings.Contains(abs, ".") {
			abs += "."
		}
		return sign + abs + strings.Repeat("0", 1+rng.IntN(3))
	}
	// An exponent: the significant digits with the point after the first
	// (upper- or lower-case E), or as an integer mantissa.
	intPart, frac, _ := strings.Cut(abs, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return sign + "0E0"
	}
	point := len(intPart) - (len(intPart+frac) - len(strings.TrimLeft(intPart+frac, "0"))) // digits before the point, from the first significant one
	digits = strings.TrimRight(digits, "0")
	if rng.IntN(2) == 0 {
		e := "E"
		if rng.IntN(2) == 0 {
			e = "e"
		}
		mant := digits[:1]
		if len(digits) > 1 {
			mant += "." + digits[1:]
		}
		return sign + mant + e + strconv.Itoa(point-1)
	}
	return sign + digits + "E" + strconv.Itoa(point-len(digits))
}
