package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/progress"
)

// countThrottle counts one throttle the SDK retried (a call outside the
// copier's executor) by its reasons, or its error code when it gives none,
// and logs the first of each, as the copier does with its own
// (copier.Stats.CountThrottle).
func countThrottle(stats *copier.Stats, log *slog.Logger, err error) {
	reasons := awserr.ThrottleReasons(err)
	if len(reasons) == 0 {
		reasons = []awserr.ThrottleReason{{Reason: awserr.Code(err)}}
	}
	for _, r := range reasons {
		if stats.CountThrottle(r.Reason, r.Resource) == 1 && log != nil {
			log.Info("throttled", "reason", r.Reason, "resource", r.Resource)
		}
	}
}

// throttleShort is the short form of a throttle's reason for the progress
// line: "table write provisioned", "index write hot key range",
// "unprocessed items", or the error code of a throttle without reasons.
func throttleShort(tc copier.ThrottleCount) string {
	switch tc.Reason {
	case copier.ReasonUnprocessedItems:
		return "unprocessed items"
	case copier.ReasonUnprocessedKeys:
		return "unprocessed keys"
	}
	if res, op, limit, ok := awserr.ReasonParts(tc.Reason); ok {
		return res + " " + op + " " + limit
	}
	return tc.Reason
}

// topThrottle returns the short form of the most frequent throttle
// reason, "" when there was none.
func topThrottle(counts []copier.ThrottleCount) string {
	if len(counts) == 0 {
		return ""
	}
	return throttleShort(counts[0])
}

// throttleWhere names the resource of a throttle: "index I of table T",
// "table T", or "" when DynamoDB named none.
func throttleWhere(tc copier.ThrottleCount) string {
	if tc.Resource == "" {
		return ""
	}
	table, index := awserr.ResourceName(tc.Resource)
	if index != "" {
		return "index " + index + " of table " + table
	}
	return "table " + table
}

// throttleFix says what to do about a throttle's reason: raise the
// capacity, the on-demand maximum or the account quota of the table or
// index named, spread a hot key range, or lower --max-wcu (maxWCU, 0:
// none given).
func throttleFix(tc copier.ThrottleCount, maxWCU float64) string {
	lower := "cap the writes with --max-wcu"
	if maxWCU > 0 {
		lower = fmt.Sprintf("lower --max-wcu (now %g)", maxWCU)
	}
	table, index := awserr.ResourceName(tc.Resource)
	switch tc.Reason {
	case copier.ReasonUnprocessedItems:
		return fmt.Sprintf("DynamoDB gives no reason for unprocessed items; usually table %s's write capacity is exceeded: raise it, or %s", tc.Resource, lower)
	case copier.ReasonUnprocessedKeys:
		return fmt.Sprintf("DynamoDB gives no reason for unprocessed keys; usually table %s's read capacity is exceeded: raise it, or use fewer --segments", tc.Resource)
	}
	res, op, limit, ok := awserr.ReasonParts(tc.Reason)
	if !ok {
		return "DynamoDB gave no reason: raise the table's capacity, or " + lower
	}
	what := "table " + table + "'s"
	if res == "index" {
		what = "index " + index + "'s"
	}
	slower := lower
	if op == "read" {
		slower = "use fewer --segments"
	}
	switch limit {
	case "provisioned":
		fix := fmt.Sprintf("raise %s %s capacity", what, op)
		if res == "index" && op == "write" {
			fix += fmt.Sprintf(" (every write to %s writes the index too)", table)
		}
		return fix + ", or " + slower
	case "on-demand maximum":
		units := "MaxWriteRequestUnits"
		if op == "read" {
			units = "MaxReadRequestUnits"
		}
		return fmt.Sprintf("raise %s on-demand maximum (%s), or %s", what, units, slower)
	case "account limit":
		return fmt.Sprintf("%s %s throughput reached the account's per-table quota in its Region: ask for a higher quota (Service Quotas), or %s", what, op, slower)
	}
	// A hot key range: the writer that met it backs off alone.
	return fmt.Sprintf("a hot key range of %s: many %ss to a few partition keys; only the calls to it slow down: spread the %ss over more --segments, or let them finish at its pace",
		strings.TrimSuffix(what, "'s"), op, op)
}

// throttleClosing is what the closing sentence says of throttles: their
// number, the most frequent reason with its table or index, and its fix;
// "" when nothing was throttled.
func throttleClosing(n copier.Snapshot, maxWCU float64) string {
	if n.Throttles == 0 || len(n.ThrottlesByReason) == 0 {
		return ""
	}
	top := n.ThrottlesByReason[0]
	var b strings.Builder
	b.WriteString("; " + progress.CountNoun(n.Throttles, "throttle"))
	switch {
	case n.Throttles == 1:
		b.WriteString(", ")
	case len(n.ThrottlesByReason) == 1 && top.Count == n.Throttles:
		b.WriteString(", all ")
	default:
		b.WriteString(", " + progress.Count(top.Count) + " of them ")
	}
	b.WriteString(top.Reason)
	if w := throttleWhere(top); w != "" {
		b.WriteString(" on " + w)
	}
	b.WriteString(": " + throttleFix(top, maxWCU))
	return b.String()
}

// logThrottles logs each throttle reason with its count and fix.
func logThrottles(log *slog.Logger, step string, n copier.Snapshot, maxWCU float64) {
	for _, tc := range n.ThrottlesByReason {
		log.Info("throttled", "step", step, "reason", tc.Reason, "resource", tc.Resource, "count", tc.Count, "fix", throttleFix(tc, maxWCU))
	}
}

// withThrottleFix adds to the error of a copy that gave up on items
// (*copier.IncompleteError, usually under sustained throttling) what its
// closing sentence would have said of the throttles and their fix; other
// errors are returned as they are.
func withThrottleFix(err error, n copier.Snapshot, maxWCU float64) error {
	var inc *copier.IncompleteError
	if !errors.As(err, &inc) {
		return err
	}
	if t := throttleClosing(n, maxWCU); t != "" {
		return fmt.Errorf("%w%s", err, t)
	}
	return err
}
