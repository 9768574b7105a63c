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
type ttyHandler struct {
	w     io.Writer
	level slog.Leveler
	attrs []slog.Attr
	mu    *sync.Mutex
}

func newTTYHandler(w io.Writer, level slog.Leveler) *ttyHandler {
	return &ttyHandler{w: w, level: level, mu: &sync.Mutex{}}
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
	b.WriteString("\n")
	h.mu.Lock()
	defer h.mu.Unlock()
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
