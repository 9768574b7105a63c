package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/progress"
)

// closingSentence says in one plain sentence how a successful step ended:
// what was written, deleted and kept, how long it took, and (check) the
// next command to check it.
//
// A dry run's sentence is its plan: the items it would write (and how many
// of them change, where known) and delete, the read capacity its reads
// took, the write capacity the writes would take, and how long that is at
// maxWCU (0: at 1,000 WCU/s).
//
// kept says why items were kept (left alone): "already present" for
// --only-missing, the --if-main condition, a rewind's items already in
// their state.
//
// Keys of a keys file that the recovery table lacks are said too: left
// alone, or with deleteExtra deleted from the main table (counted there).
func closingSentence(step string, sum *copier.Summary, check string, maxWCU float64, kept string, deleteExtra bool) string {
	n := sum.Counts
	took := progress.Duration(time.Duration(sum.Elapsed * float64(time.Second)))
	var b strings.Builder
	switch {
	case sum.DryRun:
		fmt.Fprintf(&b, "dry run: %s would be written", progress.CountNoun(n.Written, "item"))
		if n.Changed > 0 || (n.Written > 0 && step == "copy" && n.ReadUnits > 0) {
			fmt.Fprintf(&b, " (%s of them change)", progress.Count(n.Changed))
		}
		fmt.Fprintf(&b, " and %s deleted", progress.Count(n.Deleted))
		if n.Skipped > 0 {
			fmt.Fprintf(&b, ", %s kept", progress.Count(n.Skipped))
		}
		fmt.Fprintf(&b, "; %s read in %s", progress.CountNoun(n.Read, "item"), took)
		if n.ReadUnits > 0 {
			what := "the recovery table's reads and the main table's lookups"
			if strings.HasPrefix(sum.Source, "s3://") {
				what = "the main table's lookups; the export's files cost no read capacity"
			}
			fmt.Fprintf(&b, " (%s RCU: %s)", units(n.ReadUnits), what)
		}
		if n.WriteUnits > 0 {
			rate, at := maxWCU, fmt.Sprintf("at --max-wcu %g", maxWCU)
			if rate <= 0 {
				rate, at = 1000, "at an assumed 1,000 WCU/s (pass --max-wcu to plan at your cap)"
			}
			fmt.Fprintf(&b, "; writing would take about %s WCU, %s %s", units(n.WriteUnits),
				progress.Duration(time.Duration(n.WriteUnits/rate*float64(time.Second))), at)
		}
		b.WriteString(expiredText(sum, true))
		b.WriteString(notInRecoveryText(n.NotInRecovery, deleteExtra, true))
		if m := sum.MainTable; m != nil {
			// What the writes would reach: the stream's consumers and the
			// replicas (the TTL is said above).
			m := *m
			m.TTLAttribute = ""
			if notes := m.Notes(sum.Target, n.Written+n.Deleted); notes != "" {
				b.WriteString("; " + notes)
			}
		}
		b.WriteString("; nothing was written")
		return b.String()
	case step == "undo":
		fmt.Fprintf(&b, "undo: %s put back and %s deleted in %s", progress.CountNoun(n.Written, "item"), progress.Count(n.Deleted), took)
	default:
		fmt.Fprintf(&b, "%s: %s written", step, progress.CountNoun(n.Written, "item"))
		if n.Deleted > 0 {
			fmt.Fprintf(&b, ", %s deleted", progress.Count(n.Deleted))
		}
		if n.Skipped > 0 {
			fmt.Fprintf(&b, ", %s kept", progress.Count(n.Skipped))
			if kept != "" {
				fmt.Fprintf(&b, " (%s)", kept)
			}
		}
		fmt.Fprintf(&b, " in %s", took)
		b.WriteString(expiredText(sum, false))
		b.WriteString(notInRecoveryText(n.NotInRecovery, deleteExtra, false))
	}
	b.WriteString(throttleClosing(n, maxWCU))
	if check != "" {
		b.WriteString("; check with: " + check)
	}
	return b.String()
}

// expiredText says how many of the items a copy read had an expired TTL:
// left out (--skip-expired), or handed to the write mode (written unless
// its condition keeps them), for DynamoDB to delete again.
// It is empty when the main table has no TTL or none had expired.
func expiredText(sum *copier.Summary, dryRun bool) string {
	m, n := sum.MainTable, sum.Counts.Expired
	if m == nil || m.TTLAttribute == "" || n == 0 {
		return ""
	}
	switch {
	case m.SkipExpired:
		return fmt.Sprintf("; %s whose TTL attribute %s had passed left out (--skip-expired)", progress.CountNoun(n, "expired item"), m.TTLAttribute)
	case dryRun:
		return fmt.Sprintf("; %s had already expired (TTL attribute %s): DynamoDB would delete them again once written (--skip-expired leaves them out)", progress.CountNoun(n, "item"), m.TTLAttribute)
	}
	return fmt.Sprintf("; %s had already expired (TTL attribute %s): DynamoDB deletes them again once written (--skip-expired leaves them out)", progress.CountNoun(n, "item"), m.TTLAttribute)
}

// notInRecoveryText says how many keys of a keys file the recovery table
// lacks and what became of them in the main table: left alone, or deleted
// with --delete-extra (the slice is exactly those keys). It is empty when
// there are none.
func notInRecoveryText(n int64, deleteExtra, dryRun bool) string {
	if n == 0 {
		return ""
	}
	what := "left alone in the main table (--delete-extra deletes them)"
	switch {
	case deleteExtra && dryRun:
		what = "would be deleted from the main table where present (--delete-extra)"
	case deleteExtra:
		what = "deleted from the main table where present (--delete-extra)"
	}
	verb := "are"
	if n == 1 {
		verb = "is"
	}
	return fmt.Sprintf("; %s of the keys file %s not in the recovery table: %s", progress.CountNoun(n, "key"), verb, what)
}

// units formats capacity units: thousands separators, a decimal only
// below 10 (0.5, 3, 3,961).
func units(u float64) string {
	if u < 10 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", u), ".0")
	}
	return progress.Count(int64(u + 0.5))
}

// sayDone prints the closing sentence on stderr, whatever --log-level: as
// plain text, or as one JSON log line with --log-format json (every stderr
// line is then JSON).
func sayDone(c *cli.Context, env *Env, log *slog.Logger, sentence string) {
	if gString(c, "log-format") == "json" {
		log.Info(sentence)
		return
	}
	fmt.Fprintln(env.Err, sentence)
}

// diffCommandLine is the diff that checks a copy: the same source and table,
// selection and connection flags.
func diffCommandLine(c *cli.Context, from, to string) string {
	parts := []string{"ddbrewind", "diff"}
	for _, g := range []string{"endpoint-url", "region", "profile"} {
		if v := gString(c, g); v != "" {
			parts = append(parts, "--"+g, v)
		}
	}
	if exports := c.StringSlice("from-export"); len(exports) > 0 {
		for _, e := range exports {
			parts = append(parts, "--from-export", e)
		}
		if c.Bool("allow-other-table") {
			parts = append(parts, "--allow-other-table")
		}
	} else {
		parts = append(parts, "--from", from)
	}
	parts = append(parts, "--to", to)
	stdinKeys := false
	for _, f := range []string{"key-condition-expression", "filter-expression", "keys-file"} {
		if v := c.String(f); v != "" && c.IsSet(f) {
			if f == "keys-file" && readOnce(v) {
				// stdin or a pipe (<(…)) is gone once read: the check
				// reads the same keys from stdin again.
				v, stdinKeys = "-", true
			}
			parts = append(parts, "--"+f, v)
		}
	}
	if c.Bool("skip-expired") {
		parts = append(parts, "--skip-expired")
	}
	line := shellJoin(append(parts, selectionPlaceholders(c)...))
	if stdinKeys {
		line += " (with the same keys on stdin)"
	}
	return line
}

// readOnce reports whether a keys file can be read only once: "-"
// (stdin), or a local path that is not a regular file (a pipe such as
// <(jq …), /dev/stdin).
func readOnce(path string) bool {
	if path == "-" {
		return true
	}
	if strings.HasPrefix(path, "s3://") {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && !fi.Mode().IsRegular()
}

var (
	namePlaceholder  = regexp.MustCompile(`#[A-Za-z0-9_]+`)
	valuePlaceholder = regexp.MustCompile(`:[A-Za-z0-9_]+`)
)

// selectionPlaceholders returns the placeholder flags of a copy's check
// command: as given when the selection uses them all, else (some are
// --if-main's, which diff does not take and would refuse as unused) only
// the selection's, inline.
func selectionPlaceholders(c *cli.Context) []string {
	var out []string
	sel, err := selection(c, &Env{}) // its keys file is not read here
	if err != nil {
		return nil
	}
	exprs := sel.KeyCondition + " " + sel.Filter
	usedNames, usedValues := map[string]string{}, map[string]types.AttributeValue{}
	for _, n := range namePlaceholder.FindAllString(exprs, -1) {
		if v, ok := sel.Names[n]; ok {
			usedNames[n] = v
		}
	}
	for _, n := range valuePlaceholder.FindAllString(exprs, -1) {
		if v, ok := sel.Values[n]; ok {
			usedValues[n] = v
		}
	}
	if len(usedNames) > 0 {
		v := c.String("expression-attribute-names")
		if len(usedNames) < len(sel.Names) {
			data, _ := json.Marshal(usedNames)
			v = string(data)
		}
		out = append(out, "--expression-attribute-names", v)
	}
	if len(usedValues) > 0 {
		v := c.String("expression-attribute-values")
		if len(usedValues) < len(sel.Values) {
			data, err := ddbjson.MarshalItem(usedValues)
			if err != nil {
				return out
			}
			v = string(data)
		}
		out = append(out, "--expression-attribute-values", v)
	}
	return out
}

// shellJoin quotes args for a POSIX shell where needed.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t'\"$#&|;<>(){}*?![]`~\\") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
