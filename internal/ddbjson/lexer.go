package ddbjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// checkText rejects empty input, invalid UTF-8, invalid JSON and unpaired
// surrogate escapes, which encoding/json would silently replace with U+FFFD.
// Only input that passes is given to a lexer, which can then rely on it
// being one well-formed JSON text.
func checkText(data []byte, example string) *failure {
	if len(bytes.TrimSpace(data)) == 0 {
		return &failure{msg: "empty input (expected a JSON object such as " + example + ")"}
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return &failure{off: i + 1, msg: "invalid UTF-8", locate: true, tail: " (save the input as UTF-8)"}
	}
	if !json.Valid(data) {
		return syntaxFailure(data, example)
	}
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		// The JSON is valid, so this backslash starts an escape in a string.
		if data[i+1] != 'u' {
			i++ // skip the escaped character, e.g. the second '\' of "\\"
			continue
		}
		r := hex4(data[i+2 : i+6])
		if !utf16.IsSurrogate(r) {
			continue
		}
		if r <= 0xDBFF && i+11 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
			if lo := hex4(data[i+8 : i+12]); lo >= 0xDC00 && lo <= 0xDFFF {
				i += 11 // a valid pair
				continue
			}
		}
		return &failure{off: i + 1, msg: fmt.Sprintf("unpaired UTF-16 surrogate escape \\u%04x in a string", r),
			locate: true, tail: " (DynamoDB strings must be valid Unicode; escape characters above U+FFFF as a surrogate pair)"}
	}
	return nil
}

// syntaxFailure describes why data, which json.Valid rejected, is not JSON.
// encoding/json's scanner errors locate the offending byte consistently.
func syntaxFailure(data []byte, example string) *failure {
	var raw json.RawMessage
	err := json.Unmarshal(data, &raw)
	var se *json.SyntaxError
	switch {
	case !errors.As(err, &se):
		return &failure{msg: fmt.Sprintf("invalid JSON: %v", err)}
	case strings.HasSuffix(se.Error(), "after top-level value"):
		if first := bytes.TrimLeft(data, " \t\r\n"); first[0] != '{' {
			return &failure{msg: "expected a JSON object such as " + example + ", got " + startOf(first[0])}
		}
		// se.Offset counts the offending byte, as for every scanner error.
		return &failure{off: int(se.Offset), msg: "unexpected data after the JSON object", locate: true,
			tail: " (give exactly one object; in a keys file, one object per line)"}
	case se.Offset >= int64(len(data)) && strings.Contains(se.Error(), "end of JSON input"):
		return &failure{off: int(se.Offset), msg: "incomplete JSON: the input ends too early (check for a missing closing quote, '}' or ']')"}
	}
	return &failure{off: int(se.Offset), msg: "invalid JSON", locate: true,
		tail: ": " + se.Error() + " (check quotes, commas, colons and braces)"}
}

// startOf names the JSON value that starts with byte c.
func startOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '"':
		return "a string"
	case '[':
		return "an array"
	case 't':
		return "true"
	case 'f':
		return "false"
	case 'n':
		return "null"
	}
	return "a number"
}

// hex4 decodes four hex digits; the JSON was validated, so they are.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// lexer reads tokens from JSON that checkText accepted. It does no syntax
// checking of its own: json.Valid has done it.
type lexer struct {
	data []byte
	pos  int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// peek returns the next byte that is not white space, or 0 at the end.
func (l *lexer) peek() byte {
	for l.pos < len(l.data) && isSpace(l.data[l.pos]) {
		l.pos++
	}
	if l.pos == len(l.data) {
		return 0
	}
	return l.data[l.pos]
}

// more reports whether another member or element follows in the current
// object or array, consuming the ',' before it.
func (l *lexer) more() bool {
	switch l.peek() {
	case ',':
		l.pos++
		return true
	case '}', ']', 0:
		return false
	}
	return true
}

// colon consumes the ':' after an object key.
func (l *lexer) colon() {
	if l.peek() == ':' {
		l.pos++
	}
}

// readString reads the string at l.pos, unescaping it as encoding/json does.
func (l *lexer) readString() string {
	start := l.pos + 1
	i := start
	for i < len(l.data) && l.data[i] != '"' && l.data[i] != '\\' {
		i++
	}
	if i >= len(l.data) || l.data[i] == '"' {
		l.pos = i + 1
		return string(l.data[start:i])
	}
	buf := make([]byte, 0, i-start+16)
	buf = append(buf, l.data[start:i]...)
	for i < len(l.data) && l.data[i] != '"' {
		c := l.data[i]
		if c != '\\' || i+1 >= len(l.data) {
			buf = append(buf, c)
			i++
			continue
		}
		esc := l.data[i+1]
		i += 2
		switch esc {
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			if i+4 > len(l.data) {
				break
			}
			r := hex4(l.data[i : i+4])
			i += 4
			if utf16.IsSurrogate(r) {
				// As encoding/json: a valid pair is one character,
				// anything else U+FFFD (checkText rejects those).
				dec := utf8.RuneError
				if i+6 <= len(l.data) && l.data[i] == '\\' && l.data[i+1] == 'u' {
					dec = utf16.DecodeRune(r, hex4(l.data[i+2:i+6]))
				}
				if dec != utf8.RuneError {
					i += 6
				}
				r = dec
			}
			buf = utf8.AppendRune(buf, r)
		default: // '"', '\\', '/'
			buf = append(buf, esc)
		}
	}
	l.pos = i + 1
	return string(buf)
}

// tokKind is the kind of a token.
type tokKind byte

const (
	tokEnd tokKind = iota
	tokDelim
	tokString
	tokNumber
	tokBool
	tokNull
)

// token is one JSON token. For tokNumber, str is its text (for messages).
type token struct {
	kind  tokKind
	delim byte
	str   string
	b     bool
}

// next reads the next token; for '{' and '[' only the delimiter.
func (l *lexer) next() token {
	c := l.peek()
	switch c {
	case 0:
		return token{kind: tokEnd}
	case '{', '}', '[', ']', ',', ':':
		l.pos++
		return token{kind: tokDelim, delim: c}
	case '"':
		return token{kind: tokString, str: l.readString()}
	case 't':
		l.pos += 4
		return token{kind: tokBool, b: true}
	case 'f':
		l.pos += 5
		return token{kind: tokBool}
	case 'n':
		l.pos += 4
		return token{kind: tokNull}
	}
	start := l.pos
	for l.pos < len(l.data) && strings.IndexByte("+-.0123456789eE", l.data[l.pos]) >= 0 {
		l.pos++
	}
	return token{kind: tokNumber, str: string(l.data[start:l.pos])}
}

// describe names a token for messages, without repeating string contents.
func (t token) describe() string {
	switch t.kind {
	case tokDelim:
		if t.delim == '{' || t.delim == '[' {
			return startOf(t.delim)
		}
		return fmt.Sprintf("%q", t.delim)
	case tokString:
		return "a string"
	case tokNumber:
		return "the number " + shorten(t.str)
	case tokBool:
		if t.b {
			return "true"
		}
		return "false"
	case tokNull:
		return "null"
	}
	return "the end of the input"
}

// is reports whether t is the delimiter d.
func (t token) is(d byte) bool { return t.kind == tokDelim && t.delim == d }
