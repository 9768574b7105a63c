package ddbjson

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	// maxLineSize is the longest line a keys file may have.
	maxLineSize = 1 << 20
	// maxKeyValueSize is DynamoDB's limit for a partition key value (a sort
	// key's is 1024 bytes; which attribute is which is the caller's to know).
	maxKeyValueSize = 2048
)

// utf8BOM is what some editors put at the start of a UTF-8 file.
const utf8BOM = "\xef\xbb\xbf"

// KeysReader streams a JSON Lines file of primary keys in typed DynamoDB
// JSON, one key per line, such as
//
//	{"pk":{"S":"tenant#42"},"sk":{"N":"7"}}
//
// Lines holding only white space are skipped, a trailing "\r" is ignored.
// Each key must parse as ParseItem does and have 1 or 2 attributes of type
// S, N or B, with non-empty S and B values of at most 2048 bytes; whether the
// names and types match the table's key schema is the caller's to check.
// Memory does not grow with the file: lines are read through one bufio
// buffer and may be up to 1 MiB long.
type KeysReader struct {
	sc   *bufio.Scanner
	name string
	line int
	err  error // final error, returned by every later call
}

// NewKeysReader returns a KeysReader reading r; name (usually the path)
// is the Source of its errors.
func NewKeysReader(r io.Reader, name string) *KeysReader {
	sc := bufio.NewScanner(r)
	// +2 so that a line of maxLineSize bytes still fits with its "\r\n".
	sc.Buffer(make([]byte, 0, 64*1024), maxLineSize+2)
	return &KeysReader{sc: sc, name: name}
}

// Next returns the next key and its 1-based line number, or io.EOF (and line
// 0) after the last one. A broken line returns an *Error naming name:line;
// Next may then be called again to go on with the following line. A read
// error or a line longer than 1 MiB is also an *Error, and final: every later
// call returns it again.
func (k *KeysReader) Next() (map[string]types.AttributeValue, int, error) {
	if k.err != nil {
		return nil, k.line, k.err
	}
	for k.sc.Scan() {
		k.line++
		b := k.sc.Bytes()
		if len(b) > maxLineSize { // the buffer has room for a "\r\n" more
			k.err = k.tooLong(k.line, nil)
			return nil, k.line, k.err
		}
		if k.line == 1 && len(b) >= len(utf8BOM) && string(b[:len(utf8BOM)]) == utf8BOM {
			return nil, k.line, &Error{Source: k.name, Line: k.line,
				Msg: "file starts with a UTF-8 byte order mark (save it as UTF-8 without BOM)"}
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		key, f := parseDoc(b, `{"pk":{"S":"a"}}`, nil)
		if f == nil {
			f = checkKey(key)
		}
		if f != nil {
			return nil, k.line, f.toError("attribute", k.name, lineFixed, k.line, b)
		}
		return key, k.line, nil
	}
	err := k.sc.Err()
	if err == nil {
		return nil, 0, io.EOF
	}
	k.line++
	if errors.Is(err, bufio.ErrTooLong) {
		k.err = k.tooLong(k.line, err)
	} else {
		k.err = &Error{Source: k.name, Line: k.line, Err: err, Msg: "cannot read: " + reason(err)}
	}
	return nil, k.line, k.err
}

func (k *KeysReader) tooLong(line int, err error) *Error {
	return &Error{Source: k.name, Line: line, Err: err,
		Msg: "line is longer than 1 MiB (a keys file has one primary key per line)"}
}

// checkKey rejects what cannot be a primary key, whatever the table.
func checkKey(key map[string]types.AttributeValue) *failure {
	if n := len(key); n == 0 || n > 2 {
		return &failure{msg: fmt.Sprintf("a primary key has 1 attribute (partition key) or 2 (partition and sort key), this line has %d", n)}
	}
	names := make([]string, 0, 2)
	for name := range key {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		var size int
		switch t := key[name].(type) {
		case *types.AttributeValueMemberS:
			size = len(t.Value)
		case *types.AttributeValueMemberB:
			size = len(t.Value)
		case *types.AttributeValueMemberN:
			continue
		default:
			return (&failure{msg: fmt.Sprintf("type %s cannot be part of a primary key (key attributes are S, N or B)", TypeName(t))}).in(nameSeg(name))
		}
		if size == 0 {
			return (&failure{msg: "key values cannot be empty"}).in(nameSeg(name))
		}
		if size > maxKeyValueSize {
			return (&failure{msg: fmt.Sprintf("key value is %d bytes, DynamoDB allows at most %d", size, maxKeyValueSize)}).in(nameSeg(name))
		}
	}
	return nil
}

// TypeName returns the type key of a value, such as "S" or "BOOL".
func TypeName(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberM:
		return "M"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	}
	return fmt.Sprintf("%T", v)
}
