package ddbtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxDiffLines bounds DiffItemSets' output.
const maxDiffLines = 20

// KeyOf returns a canonical string for the item's key attributes, in the
// order given, e.g. `pk=S"a" sk=N1`. The same values give the same string
// in every run. With no names it uses every attribute, sorted by name.
func KeyOf(item map[string]types.AttributeValue, keyNames ...string) string {
	if len(keyNames) == 0 {
		keyNames = slices.Sorted(maps.Keys(item))
	}
	var b strings.Builder
	for i, name := range keyNames {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(formatName(name))
		b.WriteByte('=')
		if v, ok := item[name]; ok {
			writeValue(&b, v)
		} else {
			b.WriteString("<missing>")
		}
	}
	return b.String()
}

// FormatValue returns a compact, deterministic text form of v, such as
// S"a", N12.5, B<base64>, SS["a","b"] (sets sorted) or M{k:N1}.
func FormatValue(v types.AttributeValue) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

// writeValue writes FormatValue's form of v to b.
func writeValue(b *strings.Builder, v types.AttributeValue) {
	switch v := v.(type) {
	case nil:
		b.WriteString("<nil>")
	case *types.AttributeValueMemberS:
		b.WriteString("S")
		b.WriteString(strconv.Quote(v.Value))
	case *types.AttributeValueMemberN:
		b.WriteString("N")
		b.WriteString(v.Value)
	case *types.AttributeValueMemberB:
		b.WriteString("B<")
		b.WriteString(base64.StdEncoding.EncodeToString(v.Value))
		b.WriteString(">")
	case *types.AttributeValueMemberBOOL:
		b.WriteString("BOOL ")
		b.WriteString(strconv.FormatBool(v.Value))
	case *types.AttributeValueMemberNULL:
		b.WriteString("NULL")
	case *types.AttributeValueMemberSS:
		b.WriteString("SS[")
		for i, s := range slices.Sorted(slices.Values(v.Value)) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(s))
		}
		b.WriteString("]")
	case *types.AttributeValueMemberNS:
		b.WriteString("NS[")
		b.WriteString(strings.Join(slices.Sorted(slices.Values(v.Value)), ","))
		b.WriteString("]")
	case *types.AttributeValueMemberBS:
		enc := make([]string, len(v.Value))
		for i, e := range v.Value {
			enc[i] = base64.StdEncoding.EncodeToString(e)
		}
		slices.Sort(enc)
		b.WriteString("BS[")
		b.WriteString(strings.Join(enc, ","))
		b.WriteString("]")
	case *types.AttributeValueMemberL:
		b.WriteString("L[")
		for i, e := range v.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			writeValue(b, e)
		}
		b.WriteString("]")
	case *types.AttributeValueMemberM:
		b.WriteString("M{")
		for i, k := range slices.Sorted(maps.Keys(v.Value)) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(formatName(k))
			b.WriteByte(':')
			writeValue(b, v.Value[k])
		}
		b.WriteString("}")
	case *types.UnknownUnionMember:
		fmt.Fprintf(b, "%s<%s>", v.Tag, base64.StdEncoding.EncodeToString(v.Value))
	default:
		fmt.Fprintf(b, "%T", v)
	}
}

// formatName quotes an attribute name unless it is a plain identifier.
func formatName(name string) string {
	if name == "" {
		return `""`
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return strconv.Quote(name)
		}
	}
	return name
}

// EqualValue reports whether a and b are exactly the same value: same type,
// S and N as identical strings (N "1" and "1.0" differ), B as identical
// bytes, SS, NS and BS as unordered multisets (emulators may reorder sets),
// L element by element in order and M recursively.
func EqualValue(a, b types.AttributeValue) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberB:
		b, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(a.Value, b.Value)
	case *types.AttributeValueMemberBOOL:
		b, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberNULL:
		b, ok := b.(*types.AttributeValueMemberNULL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberSS:
		b, ok := b.(*types.AttributeValueMemberSS)
		return ok && sameMultiset(a.Value, b.Value)
	case *types.AttributeValueMemberNS:
		b, ok := b.(*types.AttributeValueMemberNS)
		return ok && sameMultiset(a.Value, b.Value)
	case *types.AttributeValueMemberBS:
		b, ok := b.(*types.AttributeValueMemberBS)
		return ok && sameMultiset(bytesToStrings(a.Value), bytesToStrings(b.Value))
	case *types.AttributeValueMemberL:
		b, ok := b.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(a.Value, b.Value, EqualValue)
	case *types.AttributeValueMemberM:
		b, ok := b.(*types.AttributeValueMemberM)
		return ok && maps.EqualFunc(a.Value, b.Value, EqualValue)
	case *types.UnknownUnionMember:
		b, ok := b.(*types.UnknownUnionMember)
		return ok && a.Tag == b.Tag && bytes.Equal(a.Value, b.Value)
	default:
		return false
	}
}

// sameMultiset reports whether a and b hold the same strings the same
// number of times, in any order.
func sameMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := make(map[string]int, len(a))
	for _, s := range a {
		count[s]++
	}
	for _, s := range b {
		if count[s] == 0 {
			return false
		}
		count[s]--
	}
	return true
}

// bytesToStrings converts each byte slice to a string.
func bytesToStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

// DiffItem returns the differences between two items, one line per
// differing attribute path (such as `nested.level1.tags: want …, got …`),
// compared as by EqualValue; nil when they are equal.
func DiffItem(want, got map[string]types.AttributeValue) []string {
	var out []string
	diffMap("", want, got, &out)
	return out
}

// DiffItemSets compares two sets of items keyed alike (as ScanAll keys
// them) and returns keys missing from got, keys got has in excess, and
// the differing attribute paths of common keys, at most about 20 lines;
// nil when the sets are equal.
func DiffItemSets(want, got map[string]map[string]types.AttributeValue) []string {
	keys := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys[len(want):])

	var out []string
	total := 0
	add := func(line string) {
		total++
		if len(out) < maxDiffLines {
			out = append(out, line)
		}
	}
	for _, k := range keys {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			add("missing item " + k)
		case !inWant:
			add("unexpected item " + k)
		default:
			for _, d := range DiffItem(w, g) {
				add("item " + k + ": " + d)
			}
		}
	}
	if total > len(out) {
		out = append(out, fmt.Sprintf("… and %d more differences (%d items wanted, %d got)", total-len(out), len(want), len(got)))
	}
	return out
}

// diffMap appends the differences between two maps under path to out.
func diffMap(path string, want, got map[string]types.AttributeValue, out *[]string) {
	names := slices.Sorted(maps.Keys(want))
	for k := range got {
		if _, ok := want[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names[len(want):])
	for _, k := range names {
		p := formatName(k)
		if path != "" {
			p = path + "." + p
		}
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			*out = append(*out, fmt.Sprintf("%s: missing, want %s", p, short(w)))
		case !inWant:
			*out = append(*out, fmt.Sprintf("%s: unexpected %s", p, short(g)))
		default:
			diffValue(p, w, g, out)
		}
	}
}

// diffValue appends the differences between two values at path to out.
func diffValue(path string, want, got types.AttributeValue, out *[]string) {
	switch w := want.(type) {
	case *types.AttributeValueMemberM:
		if g, ok := got.(*types.AttributeValueMemberM); ok {
			diffMap(path, w.Value, g.Value, out)
			return
		}
	case *types.AttributeValueMemberL:
		if g, ok := got.(*types.AttributeValueMemberL); ok {
			if len(w.Value) != len(g.Value) {
				*out = append(*out, fmt.Sprintf("%s: list of %d, got %d: want %s, got %s", path, len(w.Value), len(g.Value), short(want), short(got)))
				return
			}
			for i := range w.Value {
				diffValue(fmt.Sprintf("%s[%d]", path, i), w.Value[i], g.Value[i], out)
			}
			return
		}
	}
	if !EqualValue(want, got) {
		*out = append(*out, fmt.Sprintf("%s: want %s, got %s", path, short(want), short(got)))
	}
}

// short returns FormatValue(v), cut to about 80 bytes.
func short(v types.AttributeValue) string {
	const limit = 80
	s := FormatValue(v)
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}
