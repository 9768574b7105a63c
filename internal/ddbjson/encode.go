package ddbjson

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MarshalItem encodes an item as compact typed DynamoDB JSON on one line:
// names sorted by their bytes at every level, N written as its string, B and
// BS as standard padded base64, set members and list elements in their given
// order. The same item always gives the same bytes.
//
// It rejects, with an *Error naming the attribute, any value ParseItem would
// reject (nil values, types.UnknownUnionMember, invalid numbers, invalid
// UTF-8, NULL false, empty or duplicate sets, ...), so whatever it writes can
// be read back: ParseItem(MarshalItem(x)) equals x. Nil L, M and B values
// are written as [], {} and "" and read back as empty, non-nil values.
func MarshalItem(item map[string]types.AttributeValue) ([]byte, error) {
	buf, f := appendItem(make([]byte, 0, 128), item, true, 0)
	if f != nil {
		return nil, f.toError("attribute", "", lineNone, 0, nil)
	}
	return buf, nil
}

// KeyString returns a canonical, deterministic one-line string for a key,
// for de-duplication, hashing, journals, checkpoints, logs and reports: the
// output of MarshalItem with every N value in its canonical spelling
// (CanonicalNumber), so that equal keys give equal strings whatever their
// spelling ("7", "7.0", "007" and "7E0" are one key, as to DynamoDB). It is
// the one way ddbrewind turns a key into a string: build none another way. For a key MarshalItem would reject (which
// DynamoDB never returns), it still returns a deterministic one-line string,
// though not necessarily one ParseItem accepts: values it cannot represent
// (nil, unknown types) are written as null, invalid UTF-8 as U+FFFD, and
// other problems (an invalid number, NULL false) as they are.
func KeyString(key map[string]types.AttributeValue) string {
	var arr [256]byte
	if buf, ok := appendKey(arr[:0], key); ok {
		return string(buf)
	}
	key = canonicalNumbers(key, 0)
	buf, f := appendItem(nil, key, true, 0)
	if f != nil {
		buf, _ = appendItem(nil, key, false, 0)
	}
	return string(buf)
}

// canonicalNumbers returns a copy of item whose N values and NS members,
// at every level, are in their canonical spelling, NS members sorted (a set
// has no order); everything else is shared. Invalid numbers stay as they are.
func canonicalNumbers(item map[string]types.AttributeValue, depth int) map[string]types.AttributeValue {
	if item == nil || depth > maxDepth {
		return item
	}
	out := make(map[string]types.AttributeValue, len(item))
	for name, v := range item {
		out[name] = canonicalValue(v, depth)
	}
	return out
}

func canonicalValue(v types.AttributeValue, depth int) types.AttributeValue {
	switch t := v.(type) {
	case *types.AttributeValueMemberN:
		if t != nil {
			return &types.AttributeValueMemberN{Value: CanonicalNumber(t.Value)}
		}
	case *types.AttributeValueMemberNS:
		if t != nil {
			ns := make([]string, len(t.Value))
			for i, s := range t.Value {
				ns[i] = CanonicalNumber(s)
			}
			slices.Sort(ns)
			return &types.AttributeValueMemberNS{Value: ns}
		}
	case *types.AttributeValueMemberL:
		if t != nil && depth < maxDepth {
			l := make([]types.AttributeValue, len(t.Value))
			for i, e := range t.Value {
				l[i] = canonicalValue(e, depth+1)
			}
			return &types.AttributeValueMemberL{Value: l}
		}
	case *types.AttributeValueMemberM:
		if t != nil {
			return &types.AttributeValueMemberM{Value: canonicalNumbers(t.Value, depth+1)}
		}
	}
	return v
}

// appendKey is appendItem for the usual keys (at most 4 attributes, all S, N
// or B and valid), without recursion so that KeyString's buffer can stay on
// the stack. It reports false for anything else.
func appendKey(buf []byte, key map[string]types.AttributeValue) ([]byte, bool) {
	var arr [4]string
	if len(key) > len(arr) {
		return nil, false
	}
	names := arr[:0]
	for name := range key {
		names = append(names, name)
	}
	slices.Sort(names)
	buf = append(buf, '{')
	for i, name := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		var ok bool
		if buf, ok = appendString(buf, name, true); !ok || name == "" {
			return nil, false
		}
		switch t := key[name].(type) {
		case *types.AttributeValueMemberS:
			if t == nil {
				return nil, false
			}
			buf = append(buf, `:{"S":`...)
			if buf, ok = appendString(buf, t.Value, true); !ok {
				return nil, false
			}
		case *types.AttributeValueMemberN:
			if t == nil {
				return nil, false
			}
			n, ok := scanNumber(t.Value)
			if !ok || checkNumber(t.Value) != "" {
				return nil, false
			}
			buf = append(buf, `:{"N":"`...)
			if n.zero {
				buf = append(buf, '0')
			} else {
				buf = appendCanonical(buf, n)
			}
			buf = append(buf, '"')
		case *types.AttributeValueMemberB:
			if t == nil {
				return nil, false
			}
			buf, _ = appendBase64(append(buf, `:{"B":`...), t.Value)
		default:
			return nil, false
		}
		buf = append(buf, '}')
	}
	return append(buf, '}'), true
}

// appendItem appends item as a JSON object. strict rejects what ParseItem
// would reject; otherwise it never fails.
func appendItem(buf []byte, item map[string]types.AttributeValue, strict bool, depth int) ([]byte, *failure) {
	// Sort the names in a stack array for the common small items and keys.
	var arr [8]string
	names := arr[:0]
	if len(item) > len(arr) {
		names = make([]string, 0, len(item))
	}
	for name := range item {
		names = append(names, name)
	}
	slices.Sort(names)
	return appendItemNames(buf, item, names, strict, depth)
}

// MarshalItemKeysFirst is MarshalItem with the key attributes first, in
// the order of keyNames (hash key, then range key), then the other
// attributes in byte order: for output people read, where the key is
// what they look for (show).
func MarshalItemKeysFirst(item map[string]types.AttributeValue, keyNames []string) ([]byte, error) {
	names := make([]string, 0, len(item))
	isKey := map[string]bool{}
	for _, k := range keyNames {
		if _, ok := item[k]; ok && !isKey[k] {
			names = append(names, k)
			isKey[k] = true
		}
	}
	rest := len(names)
	for name := range item {
		if !isKey[name] {
			names = append(names, name)
		}
	}
	slices.Sort(names[rest:])
	buf, f := appendItemNames(make([]byte, 0, 128), item, names, true, 0)
	if f != nil {
		return nil, f.toError("attribute", "", lineNone, 0, nil)
	}
	return buf, nil
}

// appendItemNames appends item as a JSON object with its attributes in
// the order of names.
func appendItemNames(buf []byte, item map[string]types.AttributeValue, names []string, strict bool, depth int) ([]byte, *failure) {
	buf = append(buf, '{')
	for i, name := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		if strict && name == "" {
			return nil, &failure{msg: "empty attribute name (DynamoDB names are at least 1 character)"}
		}
		var ok bool
		if buf, ok = appendString(buf, name, strict); !ok {
			return nil, (&failure{msg: "name is not valid UTF-8"}).in(nameSeg(name))
		}
		buf = append(buf, ':')
		var f *failure
		if buf, f = appendValue(buf, item[name], strict, depth); f != nil {
			return nil, f.in(nameSeg(name))
		}
	}
	return append(buf, '}'), nil
}

// appendValue appends one typed value such as {"S":"text"}.
func appendValue(buf []byte, v types.AttributeValue, strict bool, depth int) ([]byte, *failure) {
	fail := func(format string, args ...any) ([]byte, *failure) {
		if !strict {
			return append(buf, "null"...), nil
		}
		return nil, &failure{msg: fmt.Sprintf(format, args...)}
	}
	const isNil = "is a nil %T (the item was built incorrectly)"
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		if t == nil {
			return fail(isNil, t)
		}
		buf = append(buf, `{"S":`...)
		var ok bool
		if buf, ok = appendString(buf, t.Value, strict); !ok {
			return nil, &failure{msg: "S value is not valid UTF-8 (DynamoDB strings are UTF-8)"}
		}
	case *types.AttributeValueMemberN:
		if t == nil {
			return fail(isNil, t)
		}
		if strict {
			if problem := checkNumber(t.Value); problem != "" {
				return nil, &failure{msg: problem}
			}
		}
		buf = append(buf, `{"N":`...)
		buf, _ = appendString(buf, t.Value, false)
	case *types.AttributeValueMemberB:
		if t == nil {
			return fail(isNil, t)
		}
		buf, _ = appendBase64(append(buf, `{"B":`...), t.Value)
	case *types.AttributeValueMemberBOOL:
		if t == nil {
			return fail(isNil, t)
		}
		buf = strconv.AppendBool(append(buf, `{"BOOL":`...), t.Value)
	case *types.AttributeValueMemberNULL:
		if t == nil {
			return fail(isNil, t)
		}
		if strict && !t.Value {
			return nil, &failure{msg: "NULL must be true (DynamoDB rejects NULL false)"}
		}
		buf = strconv.AppendBool(append(buf, `{"NULL":`...), t.Value)
	case *types.AttributeValueMemberL:
		if t == nil {
			return fail(isNil, t)
		}
		if depth+1 > maxDepth {
			return fail("is nested more than %d levels deep (or contains itself)", maxDepth)
		}
		buf = append(buf, `{"L":[`...)
		for i, e := range t.Value {
			if i > 0 {
				buf = append(buf, ',')
			}
			var f *failure
			if buf, f = appendValue(buf, e, strict, depth+1); f != nil {
				return nil, f.in(pathSeg{index: i})
			}
		}
		buf = append(buf, ']')
	case *types.AttributeValueMemberM:
		if t == nil {
			return fail(isNil, t)
		}
		if depth+1 > maxDepth {
			return fail("is nested more than %d levels deep (or contains itself)", maxDepth)
		}
		buf = append(buf, `{"M":`...)
		var f *failure
		if buf, f = appendItem(buf, t.Value, strict, depth+1); f != nil {
			return nil, f
		}
	case *types.AttributeValueMemberSS:
		if t == nil {
			return fail(isNil, t)
		}
		if strict {
			if problem := checkSet("SS", len(t.Value), func(i int) string { return t.Value[i] }); problem != "" {
				return nil, &failure{msg: problem}
			}
		}
		var bad int
		if buf, bad = appendMembers(buf, `{"SS":[`, t.Value, func(b []byte, s string) ([]byte, bool) { return appendString(b, s, strict) }); bad >= 0 {
			return nil, &failure{msg: fmt.Sprintf("SS member %d is not valid UTF-8 (DynamoDB strings are UTF-8)", bad)}
		}
	case *types.AttributeValueMemberNS:
		if t == nil {
			return fail(isNil, t)
		}
		if strict {
			for i, s := range t.Value {
				if problem := checkNumber(s); problem != "" {
					return nil, &failure{msg: fmt.Sprintf("NS member %d: %s", i, problem)}
				}
			}
			if problem := checkSet("NS", len(t.Value), func(i int) string { return CanonicalNumber(t.Value[i]) }); problem != "" {
				return nil, &failure{msg: problem}
			}
		}
		buf, _ = appendMembers(buf, `{"NS":[`, t.Value, func(b []byte, s string) ([]byte, bool) { return appendString(b, s, false) })
	case *types.AttributeValueMemberBS:
		if t == nil {
			return fail(isNil, t)
		}
		if strict {
			if problem := checkSet("BS", len(t.Value), func(i int) string { return string(t.Value[i]) }); problem != "" {
				return nil, &failure{msg: problem}
			}
		}
		buf, _ = appendMembers(buf, `{"BS":[`, t.Value, appendBase64)
	case *types.UnknownUnionMember:
		if t == nil {
			return fail(isNil, t)
		}
		return fail("unknown type %s (use one of %s)", quoteShort(t.Tag), typeList)
	case nil:
		return fail("is nil (the item was built incorrectly)")
	default:
		return fail("has unsupported Go type %T (use one of %s)", v, typeList)
	}
	return append(buf, '}'), nil
}

// checkSet returns what is wrong with a set of n members, or "".
func checkSet(typ string, n int, key func(int) string) string {
	if n == 0 {
		return typ + " is empty (DynamoDB has no empty sets)"
	}
	if i, j, dup := firstDuplicate(n, key); dup {
		same := "are equal"
		if typ == "NS" {
			same = "are the same number"
		}
		return fmt.Sprintf("%s members %d and %d %s (set members must be unique)", typ, i, j, same)
	}
	return ""
}

// appendMembers appends open (`{"SS":[`, …), the members, each with one,
// separated by commas, and ']'. It returns the index of the first member
// one refuses (buf then unfinished), or -1.
func appendMembers[T any](buf []byte, open string, members []T, one func([]byte, T) ([]byte, bool)) ([]byte, int) {
	buf = append(buf, open...)
	for i, m := range members {
		if i > 0 {
			buf = append(buf, ',')
		}
		var ok bool
		if buf, ok = one(buf, m); !ok {
			return buf, i
		}
	}
	return append(buf, ']'), -1
}

// appendBase64 appends b as a JSON string in standard base64, as
// DynamoDB JSON writes binary values.
func appendBase64(buf, b []byte) ([]byte, bool) {
	buf = append(buf, '"')
	buf = base64.StdEncoding.AppendEncode(buf, b)
	return append(buf, '"'), true
}

// appendString appends s as a JSON string. Control characters, '"', '\'
// and U+2028/U+2029 are escaped, everything else is written as is, so the
// output is one line. Invalid UTF-8 fails when strict, else becomes U+FFFD.
func appendString(buf []byte, s string, strict bool) ([]byte, bool) {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			if strict {
				return buf, false
			}
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"'), true
}
