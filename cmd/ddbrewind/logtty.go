package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// ttyHandler is the log format on a terminal when --log-format is not
// given: one short line per record, so that an INFO line does not wrap
// over two to four lines of an 80-column terminal as logfmt does. It
// prints the level only when it is not INFO, the message, then the
// attributes that say something: zero numbers, false, empty strings and
// zero durations are left out, and no timestamp (the user watches it
// happen). Scripts and logs keep logfmt (--log-format text) or JSON.
//
// A wait's progress record (waitProgress: a restore's or an export's poll,
// every 30 s for hours) is drawn in place instead, as a progress line: no
// newline, fitted to the terminal's width, replaced by the next record
// (w erases the line first, see clearLine). line.end ends it where other
// output follows (an error, a name printed on stdout).
type ttyHandler struct {
	w     io.Writer
	level slog.Leveler
	attrs []slog.Attr
	line  *partialLine
	width func() int
}

func newTTYHandler(w io.Writer, level slog.Leveler, line *partialLine, width func() int) *ttyHandler {
	if line == nil {
		line = &partialLine{}
	}
	line.w = w
	if cl, ok := w.(clearLine); ok {
		line.w = cl.w // the newline that ends the line must not erase it first
	}
	if width == nil {
		width = func() int { return 0 }
	}
	return &ttyHandler{w: w, level: level, line: line, width: width}
}

// partialLine is the terminal line a wait's progress record left open
// (drawn without its newline), shared by the loggers of one command.
type partialLine struct {
	mu      sync.Mutex
	w       io.Writer
	pending bool
}

// end ends the open line, if any, so that what follows starts on a line
// of its own. It is safe on a nil *partialLine.
func (p *partialLine) end() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending && p.w != nil {
		io.WriteString(p.w, "\n")
	}
	p.pending = false
}

// waitProgress reports whether a log message is a wait's progress, drawn
// in place on a terminal.
func waitProgress(msg string) bool {
	switch msg {
	case "waiting for recovery table", "waiting for export", "waiting for AWS Backup restore job":
		return true
	}
	return false
}

// Enabled reports whether the level is logged.
func (h *ttyHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs returns a handler adding attrs to every record.
func (h *ttyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append(append([]slog.Attr{}, h.attrs...), attrs...)
	return &h2
}

// WithGroup is not used by ddbrewind: the group's attributes are printed
// as they are.
func (h *ttyHandler) WithGroup(string) slog.Handler { return h }

// Handle writes one line.
func (h *ttyHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	first := true
	add := func(a slog.Attr) {
		v := a.Value.Resolve()
		if !meaningful(v) {
			return
		}
		if first {
			b.WriteString(":")
			first = false
		}
		s := v.String()
		if v.Kind() == slog.KindDuration {
			s = v.Duration().Round(time.Millisecond).String()
		}
		if s == "" || strings.ContainsAny(s, " \t\"=") {
			s = fmt.Sprintf("%q", s)
		}
		b.WriteString(" " + a.Key + "=" + s)
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool { add(a); return true })
	h.line.mu.Lock()
	defer h.line.mu.Unlock()
	if waitProgress(r.Message) {
		// In place: cut to the width (a wrapped line could not be
		// redrawn) and left open.
		width := h.width()
		if width <= 0 {
			width = 80
		}
		text := b.String()
		if runes := []rune(text); len(runes) > width-1 {
			text = string(runes[:width-1])
		}
		h.line.pending = true
		_, err := io.WriteString(h.w, text)
		return err
	}
	b.WriteString("\n")
	h.line.pending = false
	_, err := io.WriteString(h.w, b.String())
	return err
}

// meaningful reports whether an attribute's value says something: not
// zero, false or empty.
func meaningful(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindInt64:
		return v.Int64() != 0
	case slog.KindUint64:
		return v.Uint64() != 0
	case slog.KindFloat64:
		return v.Float64() != 0
	case slog.KindBool:
		return v.Bool()
	case slog.KindDuration:
		return v.Duration() != 0
	case slog.KindString:
		return v.String() != ""
	}
	return true
}
