package ddbjson

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is a bad-input error: one line saying what is wrong, where (file:line
// or flag) and what to do, for example
//
//	keys.jsonl:7: attribute "pk": unknown type "X" (use one of S, N, B, BOOL, NULL, L, M, SS, NS, BS)
//
// Callers map it to the "bad usage" exit code: it is always detected before
// anything is written.
type Error struct {
	// Source is the flag name (with its file:// argument, if any) or the
	// file path; empty for ParseItem and MarshalItem.
	Source string
	// Line is the 1-based line in Source, or 0 if not applicable.
	Line int
	// Msg says what is wrong and what to do.
	Msg string
	// Err is the underlying error, such as an *fs.PathError, or nil.
	Err error
}

// Error returns "Source:Line: Msg", leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source)
		if e.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error, if any.
func (e *Error) Unwrap() error { return e.Err }

// BadInput reports that the error describes bad input (exit code 2 in the
// CLI): a value or a line the user supplied does not parse.
func (e *Error) BadInput() bool { return true }

// pathSeg is one step of an attribute path: a name, or a list index when
// index >= 0.
type pathSeg struct {
	name  string
	index int
}

func nameSeg(name string) pathSeg { return pathSeg{name: name, index: -1} }

// failure is the internal form of a bad-input error. The attribute path is
// collected while the recursion unwinds, so the happy path pays nothing.
type failure struct {
	off  int       // byte offset in the input, just after the problem
	path []pathSeg // innermost first
	msg  string
	// locate: the message is msg+" at <line/column>"+tail (JSON syntax,
	// UTF-8 and trailing-data errors, which cannot name an attribute).
	locate bool
	tail   string
}

// in records that the failure happened inside seg.
func (f *failure) in(seg pathSeg) *failure {
	f.path = append(f.path, seg)
	return f
}

// lineMode says how a failure's position becomes Error.Line.
type lineMode int

const (
	lineNone     lineMode = iota // no line (inline flag value, ParseItem)
	lineFromData                 // Line is computed from the offset (a file)
	lineFixed                    // Line is given by the caller (keys file)
)

// toError converts f into an *Error. kind names the top-level path entries
// ("attribute", "value", "name").
func (f *failure) toError(kind, source string, mode lineMode, line int, data []byte) *Error {
	e := &Error{Source: source}
	l, col := position(data, f.off)
	switch mode {
	case lineFixed:
		e.Line = line
	case lineFromData:
		e.Line = l
	}
	var b strings.Builder
	if len(f.path) > 0 {
		b.WriteString(kind)
		b.WriteByte(' ')
		for i := len(f.path) - 1; i >= 0; i-- {
			s := f.path[i]
			if s.index >= 0 {
				b.WriteByte('[')
				b.WriteString(strconv.Itoa(s.index))
				b.WriteByte(']')
				continue
			}
			if i != len(f.path)-1 {
				b.WriteByte('.')
			}
			b.WriteString(strconv.Quote(s.name))
		}
		b.WriteString(": ")
	}
	b.WriteString(f.msg)
	if f.locate {
		b.WriteString(" at ")
		if e.Line == 0 && hasNewline(data) {
			b.WriteString("line ")
			b.WriteString(strconv.Itoa(l))
			b.WriteString(", ")
		}
		b.WriteString("column ")
		b.WriteString(strconv.Itoa(col))
		b.WriteString(f.tail)
	}
	e.Msg = b.String()
	return e
}

func hasNewline(data []byte) bool {
	for _, c := range data {
		if c == '\n' {
			return true
		}
	}
	return false
}

// position returns the 1-based line and column (in characters) of the byte
// just before offset off, which is where encoding/json reports problems.
func position(data []byte, off int) (line, col int) {
	off = min(off, len(data))
	if off < 1 {
		return 1, 1
	}
	line, start := 1, 0
	for i := range off - 1 {
		if data[i] == '\n' {
			line++
			start = i + 1
		}
	}
	col = utf8.RuneCount(data[start:off])
	if col < 1 {
		col = 1
	}
	return line, col
}

// shortLen is how much of an offending value a message repeats.
const shortLen = 48

// shorten cuts s to a readable length for a message, marking the cut.
func shorten(s string) string {
	if len(s) <= shortLen {
		return s
	}
	cut := shortLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// quoteShort quotes s for a message, cut to a readable length.
func quoteShort(s string) string {
	if short := shorten(s); short != s {
		return strconv.Quote(short[:len(short)-len("...")]) + "..."
	}
	return strconv.Quote(s)
}
