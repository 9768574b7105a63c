package export

import (
	"time"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// The window limits of one incremental export, as DynamoDB enforces them.
const (
	MinWindow = 15 * time.Minute
	MaxWindow = 24 * time.Hour
)

// Window is the time range [From, To) of one incremental export.
type Window struct {
	From, To time.Time
}

// Duration is the window's length.
func (w Window) Duration() time.Duration { return w.To.Sub(w.From) }

// Split splits [from, to) into the fewest consecutive windows DynamoDB
// accepts: one window when it lasts MinWindow to MaxWindow, else n =
// ⌈length / MaxWindow⌉ windows of equal length (rounded up to a whole
// second, the last one taking the rest), so that none is shorter than
// MinWindow — with two or more parts each lasts more than 12 hours. A window
// shorter than MinWindow is refused with a *usage.Error: DynamoDB would
// refuse it.
func Split(from, to time.Time) ([]Window, error) {
	total := to.Sub(from)
	if total < MinWindow {
		return nil, usage.Errorf("the window from %s to %s lasts %s: DynamoDB exports windows of 15 minutes to 24 hours (longer ones are split), so widen it (an earlier --since or a later --until)",
			tables.FormatTime(from), tables.FormatTime(to), total)
	}
	n := int64((total + MaxWindow - 1) / MaxWindow)
	if n == 1 {
		return []Window{{From: from, To: to}}, nil
	}
	step := (total + time.Duration(n) - 1) / time.Duration(n) // ⌈total/n⌉ ≤ MaxWindow
	if r := step.Truncate(time.Second); r < step {
		step = r + time.Second // still ≤ MaxWindow, a whole number of seconds
	}
	parts := make([]Window, 0, n)
	for i := int64(0); i < n; i++ {
		w := Window{From: from.Add(time.Duration(i) * step), To: from.Add(time.Duration(i+1) * step)}
		if i == n-1 {
			w.To = to
		}
		parts = append(parts, w)
	}
	return parts, nil
}
