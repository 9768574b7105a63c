package ddbjson

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxDepth bounds the nesting of L and M values, so hostile input cannot make
// the recursion arbitrarily deep. DynamoDB itself allows 32 levels.
const maxDepth = 64

// typeList is what an unknown type is told to use instead.
const typeList = "S, N, B, BOOL, NULL, L, M, SS, NS, BS"

// ParseItem parses one typed DynamoDB JSON object such as
// {"pk":{"S":"a"},"n":{"N":"1.5"}} strictly (see the package documentation).
// Errors are *Error with an empty Source; the message names the attribute.
func ParseItem(data []byte) (map[string]types.AttributeValue, error) {
	item, f := parseDoc(data, `{"pk":{"S":"a"}}`, nil)
	if f != nil {
		return nil, f.toError("attribute", "", lineNone, 0, data)
	}
	return item, nil
}

// parser reads typed JSON from input that checkText accepted.
type parser struct {
	lexer
}

// parseDoc parses data as one JSON object of typed attribute values. example
// is shown when data is not an object; checkName, if not nil, returns what is
// wrong with a top-level name, or "".
func parseDoc(data []byte, example string, checkName func(string) string) (map[string]types.AttributeValue, *failure) {
	if f := checkText(data, example); f != nil {
		return nil, f
	}
	p := &parser{lexer{data: data}}
	if f := p.objectStart(example); f != nil {
		return nil, f
	}
	item, f := p.attributes(checkName, 0)
	if f != nil {
		return nil, f
	}
	if f := p.end(); f != nil {
		return nil, f
	}
	return item, nil
}

// fail returns a failure located at the current input offset.
func (p *parser) fail(format string, args ...any) *failure {
	return &failure{off: p.pos, msg: fmt.Sprintf(format, args...)}
}

// objectStart reads the '{' that opens the document.
func (p *parser) objectStart(example string) *failure {
	if tok := p.next(); !tok.is('{') {
		return p.fail("expected a JSON object such as %s, got %s", example, tok.describe())
	}
	return nil
}

// closing reads the '}' or ']' that must follow when more reports false.
func (p *parser) closing(want byte) *failure {
	if tok := p.next(); !tok.is(want) {
		return p.fail("expected %q, got %s", want, tok.describe())
	}
	return nil
}

// end checks that nothing but white space follows the document (checkText
// has made sure of it already; this keeps the parser safe on its own).
func (p *parser) end() *failure {
	if p.peek() != 0 {
		return &failure{off: p.pos + 1, msg: "unexpected data after the JSON object", locate: true,
			tail: " (give exactly one object; in a keys file, one object per line)"}
	}
	return nil
}

// name reads an object key and its ':'.
func (p *parser) name() (string, *failure) {
	tok := p.next()
	if tok.kind != tokString {
		return "", p.fail("expected a name in double quotes, got %s", tok.describe())
	}
	p.colon()
	return tok.str, nil
}

// attributes reads name/value pairs up to and including the closing '}'.
func (p *parser) attributes(checkName func(string) string, depth int) (map[string]types.AttributeValue, *failure) {
	item := make(map[string]types.AttributeValue)
	for p.more() {
		name, f := p.name()
		if f != nil {
			return nil, f
		}
		if name == "" {
			return nil, p.fail("empty attribute name (DynamoDB names are at least 1 character)").in(nameSeg(name))
		}
		if checkName != nil {
			if problem := checkName(name); problem != "" {
				return nil, p.fail("%s", problem).in(nameSeg(name))
			}
		}
		if _, dup := item[name]; dup {
			return nil, p.fail("appears twice in the same object (keep one)").in(nameSeg(name))
		}
		v, f := p.value(depth)
		if f != nil {
			return nil, f.in(nameSeg(name))
		}
		item[name] = v
	}
	if f := p.closing('}'); f != nil {
		return nil, f
	}
	return item, nil
}

// typeKey reads the type key of a typed value without allocating for the
// usual short, unescaped keys.
func (p *parser) typeKey() (string, *failure) {
	if p.peek() == '"' {
		rest := p.data[p.pos+1:]
		if n := bytes.IndexByte(rest, '"'); n >= 0 && n <= 4 && bytes.IndexByte(rest[:n], '\\') < 0 {
			var typ string
			switch string(rest[:n]) { // no allocation: compared, not kept
			case "S":
				typ = "S"
			case "N":
				typ = "N"
			case "B":
				typ = "B"
			case "BOOL":
				typ = "BOOL"
			case "NULL":
				typ = "NULL"
			case "L":
				typ = "L"
			case "M":
				typ = "M"
			case "SS":
				typ = "SS"
			case "NS":
				typ = "NS"
			case "BS":
				typ = "BS"
			}
			if typ != "" {
				p.pos += n + 2
				p.colon()
				return typ, nil
			}
		}
	}
	return p.name()
}

// value reads one typed attribute value such as {"S":"text"}.
func (p *parser) value(depth int) (types.AttributeValue, *failure) {
	if tok := p.next(); !tok.is('{') {
		if tok.kind == tokNull {
			return nil, p.fail(`is null (write {"NULL":true} for a null value)`)
		}
		return nil, p.fail(`expected an object with one type key such as {"S":"text"}, got %s`, tok.describe())
	}
	if !p.more() {
		if f := p.closing('}'); f != nil {
			return nil, f
		}
		return nil, p.fail(`has no type (write exactly one type key, such as {"S":"text"}; types: %s)`, typeList)
	}
	typ, f := p.typeKey()
	if f != nil {
		return nil, f
	}
	var v types.AttributeValue
	switch typ {
	case "S":
		s, f := p.str("S", `{"S":"text"}`)
		if f != nil {
			return nil, f
		}
		v = &types.AttributeValueMemberS{Value: s}
	case "N":
		s, f := p.str("N", `{"N":"1.5"}`)
		if f != nil {
			return nil, f
		}
		if problem := checkNumber(s); problem != "" {
			return nil, p.fail("%s", problem)
		}
		v = &types.AttributeValueMemberN{Value: s}
	case "B":
		s, f := p.str("B", `{"B":"AAH/"}`)
		if f != nil {
			return nil, f
		}
		b, problem := decodeBase64(s)
		if problem != "" {
			return nil, p.fail("B %s", problem)
		}
		v = &types.AttributeValueMemberB{Value: b}
	case "BOOL":
		b, f := p.boolean("BOOL", `true or false, such as {"BOOL":true}`)
		if f != nil {
			return nil, f
		}
		v = &types.AttributeValueMemberBOOL{Value: b}
	case "NULL":
		b, f := p.boolean("NULL", `true: {"NULL":true}`)
		if f != nil {
			return nil, f
		}
		if !b {
			return nil, p.fail(`NULL must be true (write {"NULL":true}, or omit the attribute)`)
		}
		v = &types.AttributeValueMemberNULL{Value: true}
	case "L":
		l, f := p.list(depth + 1)
		if f != nil {
			return nil, f
		}
		v = &types.AttributeValueMemberL{Value: l}
	case "M":
		if depth+1 > maxDepth {
			return nil, p.fail("is nested more than %d levels deep (DynamoDB allows 32)", maxDepth)
		}
		if tok := p.next(); !tok.is('{') {
			return nil, p.fail(`M needs an object of attributes, such as {"M":{"a":{"S":"x"}}}, got %s`, tok.describe())
		}
		m, f := p.attributes(nil, depth+1)
		if f != nil {
			return nil, f
		}
		v = &types.AttributeValueMemberM{Value: m}
	case "SS":
		ss, f := p.set("SS", `{"SS":["a","b"]}`, nil)
		if f != nil {
			return nil, f
		}
		if problem := checkSet("SS", len(ss), func(i int) string { return ss[i] }); problem != "" {
			return nil, p.fail("%s", problem)
		}
		v = &types.AttributeValueMemberSS{Value: ss}
	case "NS":
		ns, f := p.set("NS", `{"NS":["1","2.5"]}`, checkNumber)
		if f != nil {
			return nil, f
		}
		if problem := checkSet("NS", len(ns), func(i int) string { return CanonicalNumber(ns[i]) }); problem != "" {
			return nil, p.fail("%s", problem)
		}
		v = &types.AttributeValueMemberNS{Value: ns}
	case "BS":
		var bs [][]byte
		_, f := p.set("BS", `{"BS":["AAE=","/w=="]}`, func(s string) string {
			b, problem := decodeBase64(s)
			bs = append(bs, b)
			return problem
		})
		if f != nil {
			return nil, f
		}
		if problem := checkSet("BS", len(bs), func(i int) string { return string(bs[i]) }); problem != "" {
			return nil, p.fail("%s", problem)
		}
		v = &types.AttributeValueMemberBS{Value: bs}
	default:
		return nil, p.fail("unknown type %s (use one of %s)", quoteShort(typ), typeList)
	}
	if p.more() {
		other, f := p.name()
		if f != nil {
			return nil, f
		}
		return nil, p.fail("has more than one type key (%q and %s); write exactly one", typ, quoteShort(other))
	}
	if f := p.closing('}'); f != nil {
		return nil, f
	}
	return v, nil
}

// str reads the JSON string payload of type typ.
func (p *parser) str(typ, example string) (string, *failure) {
	tok, f := p.payload(typ, tokString, "a JSON string such as "+example, tokNumber, " (quote it)")
	return tok.str, f
}

// boolean reads the JSON true/false payload of type typ.
func (p *parser) boolean(typ, want string) (bool, *failure) {
	tok, f := p.payload(typ, tokBool, want, tokString, " (write true without quotes)")
	return tok.b, f
}

// payload reads the next token, the payload of type typ, which must be of
// kind kind: else a failure saying what typ needs (want), with hint when
// the token is of kind hintKind (a quoted boolean, an unquoted number).
func (p *parser) payload(typ string, kind tokKind, want string, hintKind tokKind, hint string) (token, *failure) {
	tok := p.next()
	if tok.kind == kind {
		return tok, nil
	}
	if tok.kind != hintKind {
		hint = ""
	}
	return token{}, p.fail("%s needs %s, got %s%s", typ, want, tok.describe(), hint)
}

// list reads the array payload of an L value.
func (p *parser) list(depth int) ([]types.AttributeValue, *failure) {
	if depth > maxDepth {
		return nil, p.fail("is nested more than %d levels deep (DynamoDB allows 32)", maxDepth)
	}
	if tok := p.next(); !tok.is('[') {
		return nil, p.fail(`L needs an array of typed values, such as {"L":[{"S":"a"},{"N":"1"}]}, got %s`, tok.describe())
	}
	l := []types.AttributeValue{}
	for i := 0; p.more(); i++ {
		v, f := p.value(depth)
		if f != nil {
			return nil, f.in(pathSeg{index: i})
		}
		l = append(l, v)
	}
	if f := p.closing(']'); f != nil {
		return nil, f
	}
	return l, nil
}

// set reads the array of strings of an SS, NS or BS value; check, if not
// nil, returns what is wrong with a member, or "".
func (p *parser) set(typ, example string, check func(string) string) ([]string, *failure) {
	if tok := p.next(); !tok.is('[') {
		return nil, p.fail("%s needs an array of strings such as %s, got %s", typ, example, tok.describe())
	}
	members := []string{}
	for i := 0; p.more(); i++ {
		tok := p.next()
		if tok.kind != tokString {
			return nil, p.fail("%s member %d must be a JSON string as in %s, got %s", typ, i, example, tok.describe())
		}
		if check != nil {
			if problem := check(tok.str); problem != "" {
				return nil, p.fail("%s member %d: %s", typ, i, problem)
			}
		}
		members = append(members, tok.str)
	}
	if f := p.closing(']'); f != nil {
		return nil, f
	}
	if len(members) == 0 {
		return nil, p.fail("%s must not be empty (DynamoDB has no empty sets: omit the attribute, or use {\"L\":[]})", typ)
	}
	return members, nil
}

// decodeBase64 decodes standard, padded, canonical base64, so that each byte
// string has exactly one accepted spelling (as base64.StdEncoding.Strict(),
// and without the line breaks that encoding/base64 skips).
func decodeBase64(s string) ([]byte, string) {
	const hint = "; use standard base64 with '+', '/' and '=' padding, as the AWS CLI prints it, e.g. \"AAH/\")"
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return nil, "value is not valid base64 (it contains a line break" + hint
		}
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, "value is not valid base64 (" + err.Error() + hint
	}
	// The bits after the last byte must be zero: "AB==" would also decode
	// to 0x00, but only "AA==" is its spelling.
	var last byte
	var unused uint
	switch {
	case strings.HasSuffix(s, "=="):
		last, unused = s[len(s)-3], 4
	case strings.HasSuffix(s, "="):
		last, unused = s[len(s)-2], 2
	}
	if unused > 0 && strings.IndexByte(base64Alphabet, last)&(1<<unused-1) != 0 {
		return nil, fmt.Sprintf("value is not valid base64 (non-zero padding bits at input byte %d%s", len(s)-int(unused)/2-1, hint)
	}
	return b, ""
}

// base64Alphabet is the standard base64 alphabet, in value order.
const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// firstDuplicate returns the first pair i < j with key(i) == key(j).
func firstDuplicate(n int, key func(int) string) (int, int, bool) {
	if n < 2 {
		return 0, 0, false
	}
	seen := make(map[string]int, n)
	for j := range n {
		k := key(j)
		if i, ok := seen[k]; ok {
			return i, j, true
		}
		seen[k] = j
	}
	return 0, 0, false
}
