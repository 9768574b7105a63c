// Package keycond evaluates a DynamoDB KeyConditionExpression on items, for
// the sources of ddbrewind that are not a table (an export, an incremental
// export's window): the partition key equal to a value and, optionally, one
// condition on the sort key (=, <, <=, >, >=, BETWEEN, begins_with). Values
// compare as DynamoDB compares them: numbers as numbers (exactly), binaries
// as unsigned bytes, strings as their UTF-8 bytes.
//
// Compile checks an expression as DynamoDB would against a table's key
// schema; whatever DynamoDB would reject, and whatever it accepts that this
// evaluator does not implement, is a usage error (exit code 2) naming
// --key-condition-expression.
package keycond

import (
	"bytes"
	"fmt"
	"math/big"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Cond is a KeyConditionExpression compiled for evaluation on items (see
// the package comment). Its zero value is not usable: build it with Compile.
type Cond struct {
	hash  string
	hashV types.AttributeValue
	hashN *big.Rat // the value of a number partition key
	// sort condition; op "" when there is none.
	sort     string
	op       string // "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with"
	lo, hi   types.AttributeValue
	loN, hiN *big.Rat // the bounds of a number sort key
}

// Compile parses expr, a KeyConditionExpression whose #name and :value
// placeholders are given by names and values
// (--expression-attribute-names, --expression-attribute-values), against a
// table's key schema: keyNames its key attributes, the partition key first,
// and keyTypes their types ("S", "N" or "B"). Whatever DynamoDB would
// reject, and whatever it accepts that this evaluator does not implement,
// is a usage error naming the expression.
func Compile(expr string, names map[string]string, values map[string]types.AttributeValue, keyNames []string, keyTypes map[string]string) (*Cond, error) {
	bad := func(format string, args ...any) error {
		return usage.Errorf("--key-condition-expression %q: %s", expr, fmt.Sprintf(format, args...))
	}
	toks, err := tokenize(expr)
	if err != nil {
		return nil, bad("%v", err)
	}
	p := &parser{toks: toks, names: names, values: values}
	conds, err := p.conditions()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	if err != nil {
		return nil, bad("%v (a key condition is `pk = :v`, optionally `AND` one of `sk = :v`, `<`, `<=`, `>`, `>=`, `sk BETWEEN :a AND :b`, `begins_with(sk, :v)`)", err)
	}
	hash := keyNames[0]
	var sortKey string
	if len(keyNames) > 1 {
		sortKey = keyNames[1]
	}
	kc := &Cond{hash: hash}
	for _, c := range conds {
		switch c.attr {
		case hash:
			if c.op != "=" {
				return nil, bad("the partition key %s can only be compared with =", hash)
			}
			if kc.hashV != nil {
				return nil, bad("the partition key %s has two conditions", hash)
			}
			kc.hashV = c.lo
		case sortKey:
			if kc.op != "" {
				return nil, bad("the sort key %s has two conditions", sortKey)
			}
			kc.sort, kc.op, kc.lo, kc.hi = c.attr, c.op, c.lo, c.hi
		default:
			return nil, bad("%s is not a key attribute of the table (its key is %s): a key condition names key attributes only; use --keys-file for other selections",
				c.attr, strings.Join(keyNames, " + "))
		}
		for _, v := range []types.AttributeValue{c.lo, c.hi} {
			if v != nil && ddbjson.TypeName(v) != keyTypes[c.attr] {
				return nil, bad("%s is of type %s but is compared with a value of type %s", c.attr, keyTypes[c.attr], ddbjson.TypeName(v))
			}
		}
	}
	if kc.hashV == nil {
		return nil, bad("no condition on the partition key %s (a key condition must have `%s = :value`)", hash, hash)
	}
	if kc.op == "begins_with" && keyTypes[kc.sort] == "N" {
		return nil, bad("begins_with needs a string or binary sort key; %s is a number", kc.sort)
	}
	if keyTypes[kc.sort] == "N" || keyTypes[hash] == "N" {
		for _, v := range []types.AttributeValue{kc.hashV, kc.lo, kc.hi} {
			if n, ok := v.(*types.AttributeValueMemberN); ok {
				if _, ok := ratOf(n.Value); !ok {
					return nil, bad("%q is not a number", n.Value)
				}
			}
		}
	}
	if n, ok := kc.hashV.(*types.AttributeValueMemberN); ok {
		kc.hashN, _ = ratOf(n.Value)
	}
	if kc.lo != nil && keyTypes[kc.sort] == "N" {
		kc.loN, _ = ratOf(kc.lo.(*types.AttributeValueMemberN).Value)
		if kc.hi != nil {
			kc.hiN, _ = ratOf(kc.hi.(*types.AttributeValueMemberN).Value)
		}
	}
	if kc.op == "BETWEEN" && kc.compare(kc.lo, kc.loN, kc.hi) > 0 {
		return nil, bad("BETWEEN's lower bound is greater than its upper bound (DynamoDB rejects it)")
	}
	return kc, nil
}

// Match reports whether item (an item or just its key) satisfies the
// condition.
func (kc *Cond) Match(item map[string]types.AttributeValue) bool {
	h, ok := item[kc.hash]
	if !ok || compareValues(h, kc.hashN, kc.hashV) != 0 {
		return false
	}
	if kc.op == "" {
		return true
	}
	v, ok := item[kc.sort]
	if !ok {
		return false
	}
	switch kc.op {
	case "begins_with":
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			y, ok := kc.lo.(*types.AttributeValueMemberS)
			return ok && strings.HasPrefix(x.Value, y.Value)
		case *types.AttributeValueMemberB:
			y, ok := kc.lo.(*types.AttributeValueMemberB)
			return ok && bytes.HasPrefix(x.Value, y.Value)
		}
		return false
	case "BETWEEN":
		lo, hi := compareValues(v, kc.loN, kc.lo), compareValues(v, kc.hiN, kc.hi)
		return lo != incomparable && hi != incomparable && lo >= 0 && hi <= 0
	}
	c := compareValues(v, kc.loN, kc.lo)
	if c == incomparable {
		return false
	}
	switch kc.op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	default: // ">="
		return c >= 0
	}
}

// compare compares two bounds.
func (kc *Cond) compare(a types.AttributeValue, aN *big.Rat, b types.AttributeValue) int {
	if aN != nil {
		bn, _ := ratOf(b.(*types.AttributeValueMemberN).Value)
		return aN.Cmp(bn)
	}
	return compareValues(a, nil, b)
}

// incomparable is compareValues' answer for values of different types.
const incomparable = 2

// compareValues compares v with bound: -1, 0, 1, or incomparable when
// their types differ. boundN, if not nil, is bound's number, parsed once.
func compareValues(v types.AttributeValue, boundN *big.Rat, bound types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		if y, ok := bound.(*types.AttributeValueMemberS); ok {
			return strings.Compare(x.Value, y.Value)
		}
	case *types.AttributeValueMemberB:
		if y, ok := bound.(*types.AttributeValueMemberB); ok {
			return bytes.Compare(x.Value, y.Value)
		}
	case *types.AttributeValueMemberN:
		y, ok := bound.(*types.AttributeValueMemberN)
		if !ok {
			break
		}
		if x.Value == y.Value {
			return 0
		}
		xn, ok := ratOf(x.Value)
		if !ok {
			break
		}
		if boundN == nil {
			if boundN, ok = ratOf(y.Value); !ok {
				break
			}
		}
		return xn.Cmp(boundN)
	}
	return incomparable
}

// ratOf parses a DynamoDB number (already validated by ddbjson) exactly.
func ratOf(s string) (*big.Rat, bool) {
	return new(big.Rat).SetString(s)
}

// comparison is one parsed comparison.
type comparison struct {
	attr   string
	op     string
	lo, hi types.AttributeValue
}

// parser reads a tokenized expression, resolving its placeholders.
type parser struct {
	toks   []string
	pos    int
	names  map[string]string
	values map[string]types.AttributeValue
}

func (p *parser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *parser) next() string {
	t := p.peek()
	if t != "" {
		p.pos++
	}
	return t
}

func (p *parser) expect(want string) error {
	if got := p.next(); !strings.EqualFold(got, want) {
		if got == "" {
			got = "the end"
		}
		return fmt.Errorf("expected %s, got %q", want, got)
	}
	return nil
}

// conditions parses cond {AND cond}, flattening parentheses.
func (p *parser) conditions() ([]comparison, error) {
	var out []comparison
	for {
		cs, err := p.condition()
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if !strings.EqualFold(p.peek(), "AND") {
			return out, nil
		}
		p.next()
	}
}

func (p *parser) condition() ([]comparison, error) {
	t := p.peek()
	switch {
	case t == "(":
		p.next()
		cs, err := p.conditions()
		if err != nil {
			return nil, err
		}
		return cs, p.expect(")")
	case t == "begins_with":
		p.next()
		if err := p.expect("("); err != nil {
			return nil, err
		}
		attr, err := p.attr()
		if err != nil {
			return nil, err
		}
		if err := p.expect(","); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		return []comparison{{attr: attr, op: "begins_with", lo: v}}, p.expect(")")
	}
	attr, err := p.attr()
	if err != nil {
		return nil, err
	}
	op := p.next()
	switch {
	case op == "=" || op == "<" || op == "<=" || op == ">" || op == ">=":
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		return []comparison{{attr: attr, op: op, lo: v}}, nil
	case strings.EqualFold(op, "BETWEEN"):
		lo, err := p.value()
		if err != nil {
			return nil, err
		}
		if err := p.expect("AND"); err != nil {
			return nil, err
		}
		hi, err := p.value()
		if err != nil {
			return nil, err
		}
		return []comparison{{attr: attr, op: "BETWEEN", lo: lo, hi: hi}}, nil
	case op == "":
		return nil, fmt.Errorf("expected a comparison after %s", attr)
	default:
		return nil, fmt.Errorf("%q is not a key condition operator", op)
	}
}

// attr reads an attribute name or a #placeholder.
func (p *parser) attr() (string, error) {
	t := p.next()
	switch {
	case strings.HasPrefix(t, "#"):
		n, ok := p.names[t]
		if !ok {
			return "", fmt.Errorf("placeholder %s is not in --expression-attribute-names", t)
		}
		return n, nil
	case t != "" && isNameChar(t[0]) && !strings.EqualFold(t, "AND") && !strings.EqualFold(t, "BETWEEN"):
		return t, nil
	case t == "":
		return "", fmt.Errorf("expected a key attribute name, got the end")
	}
	return "", fmt.Errorf("expected a key attribute name, got %q", t)
}

// value reads a :placeholder's value (DynamoDB takes no literals).
func (p *parser) value() (types.AttributeValue, error) {
	t := p.next()
	if !strings.HasPrefix(t, ":") {
		if t == "" {
			t = "the end"
		}
		return nil, fmt.Errorf("expected a :value placeholder, got %q", t)
	}
	v, ok := p.values[t]
	if !ok {
		return nil, fmt.Errorf("placeholder %s is not in --expression-attribute-values", t)
	}
	switch v.(type) {
	case *types.AttributeValueMemberS, *types.AttributeValueMemberN, *types.AttributeValueMemberB:
		return v, nil
	}
	return nil, fmt.Errorf("%s is of type %s; key values are S, N or B", t, ddbjson.TypeName(v))
}

func isNameChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// tokenize splits a key condition into names, placeholders, operators,
// parentheses and commas.
func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == ',' || c == '=':
			toks = append(toks, s[i:i+1])
			i++
		case c == '<' || c == '>':
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '<' && s[j] == '>')) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case c == '#' || c == ':' || isNameChar(c):
			j := i + 1
			for j < len(s) && isNameChar(s[j]) {
				j++
			}
			if j == i+1 && (c == '#' || c == ':') {
				return nil, fmt.Errorf("%q must be followed by a name", string(c))
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q", string(c))
		}
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty expression")
	}
	return toks, nil
}
