package exportfile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// Record is one line of a data file.
//
// A full export's record is one item: Item. An incremental export's record
// is one key the window changed: Keys, its item before the window (OldImage,
// nil for an item created in the window) and after it (NewImage, nil for an
// item deleted in the window), and when the last write happened.
type Record struct {
	// Line is the line number in the (uncompressed) file, from 1.
	Line int
	// Item is a full export's item.
	Item map[string]types.AttributeValue
	// Keys, OldImage and NewImage are an incremental export's.
	Keys, OldImage, NewImage map[string]types.AttributeValue
	// WriteTimestampMicros is the time of the key's last write in the
	// window, in microseconds since the Unix epoch (incremental only).
	WriteTimestampMicros int64
}

// field is one name and raw value of a line's top-level object.
type field struct {
	name  string
	value []byte
}

// parseRecord parses one line; a non-empty message says what is wrong.
// The line's top-level object is split without decoding (its values are
// the exact typed JSON that ddbjson.ParseItem reads).
func parseRecord(line []byte, incremental bool) (Record, string) {
	fields, msg := splitObject(line)
	if msg != "" {
		return Record{}, msg
	}
	var rec Record
	if !incremental {
		if len(fields) != 1 || fields[0].name != "Item" {
			return rec, `not a full export's record: want {"Item":{…}}`
		}
		item, err := ddbjson.ParseItem(fields[0].value)
		if err != nil {
			return rec, "Item: " + withoutValues(err)
		}
		rec.Item = item
		return rec, ""
	}
	for _, f := range fields {
		var err error
		switch f.name {
		case "Keys":
			rec.Keys, err = ddbjson.ParseItem(f.value)
		case "OldImage":
			rec.OldImage, err = ddbjson.ParseItem(f.value)
		case "NewImage":
			rec.NewImage, err = ddbjson.ParseItem(f.value)
		case "Metadata":
			rec.WriteTimestampMicros, err = writeTimestamp(f.value)
		default:
			return rec, fmt.Sprintf("unknown field %q in an incremental export's record (want Metadata, Keys, OldImage, NewImage)", f.name)
		}
		switch {
		case err != nil && f.name == "Metadata":
			return rec, f.name + ": " + err.Error() // not an item: nothing to hide
		case err != nil:
			return rec, f.name + ": " + withoutValues(err)
		}
	}
	if len(rec.Keys) == 0 {
		return rec, `not an incremental export's record: no "Keys"`
	}
	for _, img := range []struct {
		name  string
		image map[string]types.AttributeValue
	}{{"OldImage", rec.OldImage}, {"NewImage", rec.NewImage}} {
		if msg := keysIn(rec.Keys, img.name, img.image); msg != "" {
			return rec, msg
		}
	}
	return rec, ""
}

// keysIn returns what is wrong when image (named name; nil when the record
// has none) does not hold every attribute of keys with an equal value, as
// DynamoDB compares keys: numbers by value ("10.10" is "10.1"), strings
// and binaries exactly. A record whose Keys say one item and whose image
// another would select by one and write the other. The message names
// attributes, never their values.
func keysIn(keys map[string]types.AttributeValue, name string, image map[string]types.AttributeValue) string {
	if image == nil {
		return ""
	}
	names := make([]string, 0, len(keys))
	for n := range keys {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		v, ok := image[n]
		if !ok {
			return fmt.Sprintf("Keys has the attribute %s but %s has not: the record's key and its image disagree", strconv.Quote(n), name)
		}
		if ddbjson.KeyString(map[string]types.AttributeValue{n: keys[n]}) != ddbjson.KeyString(map[string]types.AttributeValue{n: v}) {
			return fmt.Sprintf("Keys and %s hold different values of the key attribute %s: the record's key and its image disagree", name, strconv.Quote(n))
		}
	}
	return ""
}

// withoutValues describes a typed-JSON error of a data line without what
// the parser quotes of the offending value (an export's items are
// customers' data, and error messages end up in logs): the attribute path
// — names, not values — and that the value is not valid.
func withoutValues(err error) string {
	const what = "not valid typed DynamoDB JSON (details not shown: they could hold attribute values)"
	rest, ok := strings.CutPrefix(err.Error(), "attribute ")
	if !ok {
		return what
	}
	var path strings.Builder
	for len(rest) > 0 {
		switch rest[0] {
		case '"':
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return what
			}
			path.WriteString(q)
			rest = rest[len(q):]
			continue
		case '.':
			path.WriteByte('.')
			rest = rest[1:]
			continue
		case '[':
			if i := strings.IndexByte(rest, ']'); i > 0 {
				path.WriteString(rest[:i+1])
				rest = rest[i+1:]
				continue
			}
		}
		break
	}
	if path.Len() == 0 || !strings.HasPrefix(rest, ": ") {
		return what
	}
	return "attribute " + path.String() + ": " + what
}

// writeTimestamp reads Metadata's WriteTimestampMicros: typed JSON
// ({"N":"…"}), as AWS writes it, or a bare JSON string or number of
// digits (as some descriptions of the format show it).
func writeTimestamp(data []byte) (int64, error) {
	var raw struct {
		W json.RawMessage `json:"WriteTimestampMicros"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return 0, fmt.Errorf("not a JSON object")
	}
	w := bytes.TrimSpace(raw.W)
	var text string
	switch {
	case len(w) == 0 || string(w) == "null":
		return 0, fmt.Errorf(`no WriteTimestampMicros number`)
	case w[0] == '{':
		m, err := ddbjson.ParseItem(data)
		if err != nil {
			return 0, err
		}
		v, ok := m["WriteTimestampMicros"].(*types.AttributeValueMemberN)
		if !ok {
			return 0, fmt.Errorf(`no WriteTimestampMicros number`)
		}
		text = v.Value
	case w[0] == '"':
		if err := json.Unmarshal(w, &text); err != nil {
			return 0, fmt.Errorf("WriteTimestampMicros is not a string")
		}
	default:
		text = string(w)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("WriteTimestampMicros %q is not an integer", text)
	}
	return n, nil
}

// splitObject splits a JSON object into its members without decoding
// their values: each value's extent is found by matching brackets outside
// strings. Values are checked later by whoever parses them; a duplicate
// name is refused here.
func splitObject(b []byte) ([]field, string) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, "not a JSON object"
	}
	i = skipSpace(b, i+1)
	var fields []field
	if i < len(b) && b[i] == '}' {
		return nil, "empty record"
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, "expected a field name"
		}
		end := stringEnd(b, i)
		if end < 0 {
			return nil, "unterminated string"
		}
		var name string
		if err := json.Unmarshal(b[i:end], &name); err != nil {
			return nil, "bad field name: " + err.Error()
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return nil, "expected ':' after " + strconv.Quote(name)
		}
		i = skipSpace(b, i+1)
		vend := valueEnd(b, i)
		if vend < 0 {
			return nil, "bad value of " + strconv.Quote(name)
		}
		for _, f := range fields {
			if f.name == name {
				return nil, "duplicate field " + strconv.Quote(name)
			}
		}
		fields = append(fields, field{name: name, value: b[i:vend]})
		i = skipSpace(b, vend)
		if i >= len(b) {
			return nil, "unterminated object"
		}
		if b[i] == '}' {
			if skipSpace(b, i+1) != len(b) {
				return nil, "data after the record"
			}
			return fields, ""
		}
		if b[i] != ',' {
			return nil, "expected ',' or '}'"
		}
		i = skipSpace(b, i+1)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index after the string starting at b[i] ('"'),
// or -1.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the index after the JSON value starting at b[i], or -1.
// Objects and arrays end at their matching bracket (brackets inside
// strings do not count); other values at the next delimiter.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := stringEnd(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' && b[j] != '\n' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}
