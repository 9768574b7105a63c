// Package itemeq compares DynamoDB items and attribute values as DynamoDB
// itself does: numbers by value ("10.10" = "10.1", "1E2" = "100", "007" =
// "7"), string, number and binary sets as sets (member order and number
// spelling ignored), binaries by their bytes, maps by attribute name, lists
// element by element in order.
//
// It is the one comparison behind every decision ddbrewind takes about
// whether two versions of an item are the same: a window rewind's
// conflicts, verification, diff and undo checks. A spelling that differs
// but means the same value to DynamoDB (an export writes numbers as the
// table's writer sent them; DynamoDB returns them canonical) is never a
// difference. It does not compare exactly byte for byte: tests that check
// that a copy kept every byte use ddbtest's exact comparison instead.
package itemeq

import (
	"bytes"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// Items reports whether two items hold the same attributes with equal
// values (see Values). Two nil or empty items are equal.
func Items(a, b map[string]types.AttributeValue) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok || !Values(av, bv) {
			return false
		}
	}
	return true
}

// Values reports whether two attribute values are equal to DynamoDB: of
// the same type, numbers by value, sets as sets, lists in order, maps by
// name. A value of a type the SDK does not know equals nothing.
func Values(a, b types.AttributeValue) bool {
	switch x := a.(type) {
	case *types.AttributeValueMemberS:
		y, ok := b.(*types.AttributeValueMemberS)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberN:
		y, ok := b.(*types.AttributeValueMemberN)
		return ok && sameNumber(x.Value, y.Value)
	case *types.AttributeValueMemberB:
		y, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(x.Value, y.Value)
	case *types.AttributeValueMemberBOOL:
		y, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberNULL:
		y, ok := b.(*types.AttributeValueMemberNULL)
		return ok && x.Value == y.Value
	case *types.AttributeValueMemberSS:
		y, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameSet(x.Value, y.Value, nil)
	case *types.AttributeValueMemberNS:
		y, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameSet(x.Value, y.Value, ddbjson.CanonicalNumber)
	case *types.AttributeValueMemberBS:
		y, ok := b.(*types.AttributeValueMemberBS)
		return ok && sameByteSet(x.Value, y.Value)
	case *types.AttributeValueMemberL:
		y, ok := b.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(x.Value, y.Value, Values)
	case *types.AttributeValueMemberM:
		y, ok := b.(*types.AttributeValueMemberM)
		return ok && Items(x.Value, y.Value)
	}
	return false
}

// sameNumber compares two DynamoDB numbers by value; the same text is the
// common case and costs no allocation.
func sameNumber(a, b string) bool {
	return a == b || ddbjson.CanonicalNumber(a) == ddbjson.CanonicalNumber(b)
}

// sameSet compares two string or number sets as sets, each member first
// put in its canonical form by canon (nil: as it is). DynamoDB sets have no
// duplicate members; two lists with the same members in another order, or
// spelled otherwise, are the same set.
func sameSet(a, b []string, canon func(string) string) bool {
	if len(a) != len(b) {
		return false
	}
	if slices.Equal(a, b) {
		return true
	}
	x, y := slices.Clone(a), slices.Clone(b)
	if canon != nil {
		for i := range x {
			x[i], y[i] = canon(x[i]), canon(y[i])
		}
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// sameByteSet compares two binary sets as sets of byte strings.
func sameByteSet(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	if slices.EqualFunc(a, b, bytes.Equal) {
		return true
	}
	x, y := slices.Clone(a), slices.Clone(b)
	slices.SortFunc(x, bytes.Compare)
	slices.SortFunc(y, bytes.Compare)
	return slices.EqualFunc(x, y, bytes.Equal)
}
