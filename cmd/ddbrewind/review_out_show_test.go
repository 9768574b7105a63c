package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// hostileItems are items whose every value is a trap for an output
// format: 38-digit and tiny numbers (in DynamoDB's canonical spelling, so
// a table and an export of them hold the same bytes), binary with 0x00 and
// 0xff at the top and nested in maps, lists and sets, empty strings,
// lists and maps, NULL, both booleans, unicode and U+2028, strings a CSV
// must quote or a spreadsheet would take for a formula, and keys and
// attribute names with quotes, commas, newlines and spaces.
func hostileItems() []map[string]types.AttributeValue {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	b := func(v ...byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }
	return []map[string]types.AttributeValue{
		{"pk": s("a,b\"c\nd"), "sk": n("12345678901234567890123456789012345678"),
			"n":   n("-0.00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"),
			"e":   s(""),
			"b":   b(0, 0xff, 0x10),
			"m":   &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"bb": b(1, 2), "l": &types.AttributeValueMemberL{Value: []types.AttributeValue{b(0xfe), &types.AttributeValueMemberBS{Value: [][]byte{{0}, {1}}}, &types.AttributeValueMemberNULL{Value: true}}}}},
			"big": n("99999999999999999999999999999999999999")},
		{"pk": s("=SUM(A1)"), "sk": n("1"),
			"ss": &types.AttributeValueMemberSS{Value: []string{"x", "\u2028", "é", "", "-1"}},
			"ns": &types.AttributeValueMemberNS{Value: []string{"1", "99999999999999999999999999999999999999", "-0.5"}},
			"bs": &types.AttributeValueMemberBS{Value: [][]byte{{0xff}, {0}}},
			"t":  &types.AttributeValueMemberBOOL{Value: true}, "f": &types.AttributeValueMemberBOOL{Value: false},
			"nl": &types.AttributeValueMemberNULL{Value: true},
			"st": s("true"), "sn": s("12")},
		{"pk": s("日本語 🎉"), "sk": n("-0.5"),
			"weird name, \"q\"\n": s("+1"), "@at": s("@cmd"), "emptyl": &types.AttributeValueMemberL{}, "emptym": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			"dash": s("-2+3"), "lead space": s(" x "), "tab": s("\tq\r\n")},
		{"pk": s(" "), "sk": n("0")},
	}
}

// sdkItems parses show's jsonl (or one json array) with the AWS SDK's own
// DynamoDB JSON parser (attributevalue), not ddbrewind's, keyed as
// ddbtest.ScanAll keys a table's items.
func sdkItems(t *testing.T, out, format string) map[string]map[string]types.AttributeValue {
	t.Helper()
	var raws []json.RawMessage
	if format == "json" {
		if err := json.Unmarshal([]byte(out), &raws); err != nil {
			t.Fatalf("show -o json is not one JSON array: %v\n%s", err, out)
		}
	} else {
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			raws = append(raws, json.RawMessage(line))
		}
	}
	got := map[string]map[string]types.AttributeValue{}
	for _, raw := range raws {
		it, err := attributevalue.UnmarshalMapJSON(raw)
		if err != nil {
			t.Fatalf("the SDK cannot read %s: %v", raw, err)
		}
		got[ddbtest.KeyOf(it, "pk", "sk")] = it
	}
	return got
}

// TestReviewOutShowRoundTrip: what show -o jsonl and -o json print reads
// back, with the AWS SDK's own parser, as exactly the table's items
// (numbers digit for digit, binary byte for byte at every depth), each
// item on its line with its key first.
func TestReviewOutShowRoundTrip(t *testing.T) {
	t.Parallel()
	srv, c, from, _ := copyPair(t, mixedSpec, hostileItems())
	want := ddbtest.ScanAll(t, c, from)
	for _, format := range []string{"jsonl", "json"} {
		r := ddb(t, "show", "--endpoint-url", srv.Endpoint, "--from", from, "-o", format)
		if r.code != 0 {
			t.Fatalf("-o %s: exit %d", format, r.code)
		}
		if d := ddbtest.DiffItemSets(want, sdkItems(t, r.stdout, format)); len(d) > 0 {
			t.Errorf("-o %s does not read back as the table:\n%s", format, strings.Join(d, "\n"))
		}
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			if line == "[" || line == "]" {
				continue
			}
			if !strings.HasPrefix(line, `{"pk":{"S":`) || !strings.Contains(line, `},"sk":{"N":`) {
				t.Errorf("-o %s: line %s: want the key (pk, then sk) first", format, line)
			}
		}
	}
}

// TestReviewOutShowCSVCells: show -o csv has a header of every attribute
// name seen (sorted, quoted as CSV needs) and a row per item whose cells
// are, exactly: a string, a number or a boolean as itself (a leading =,
// +, - or @ left as it is), anything else typed DynamoDB JSON that the
// SDK reads back as the very value, and an absent attribute empty.
func TestReviewOutShowCSVCells(t *testing.T) {
	t.Parallel()
	srv, c, from, _ := copyPair(t, mixedSpec, hostileItems())
	want := ddbtest.ScanAll(t, c, from)
	r := ddb(t, "show", "--endpoint-url", srv.Endpoint, "--from", from, "-o", "csv")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || len(rows) != len(want)+1 {
		t.Fatalf("%v; %d rows, want a header and %d", err, len(rows), len(want))
	}
	names := map[string]bool{}
	for _, it := range want {
		for name := range it {
			names[name] = true
		}
	}
	if header := rows[0]; !slices.Equal(header, slices.Sorted(maps.Keys(names))) {
		t.Fatalf("header %q, want every name sorted", header)
	}
	for _, row := range rows[1:] {
		var it map[string]types.AttributeValue
		for _, w := range want {
			if w["pk"].(*types.AttributeValueMemberS).Value == row[slices.Index(rows[0], "pk")] {
				it = w
			}
		}
		if it == nil {
			t.Fatalf("row %q: no such item", row)
		}
		for i, name := range rows[0] {
			cell, v := row[i], it[name]
			switch v := v.(type) {
			case nil:
				if cell != "" {
					t.Errorf("%s of %q: absent, printed %q", name, row[0], cell)
				}
			case *types.AttributeValueMemberS:
				if cell != strings.ReplaceAll(v.Value, "\r\n", "\n") { // csv.Reader reads \r\n in a quoted field as \n
					t.Errorf("%s: string %q printed %q", name, v.Value, cell)
				}
			case *types.AttributeValueMemberN:
				if cell != v.Value {
					t.Errorf("%s: number %s printed %q", name, v.Value, cell)
				}
			case *types.AttributeValueMemberBOOL:
				if want := map[bool]string{true: "true", false: "false"}[v.Value]; cell != want {
					t.Errorf("%s: %v printed %q", name, v.Value, cell)
				}
			default:
				got, err := attributevalue.UnmarshalJSON([]byte(cell))
				if err != nil || !ddbtest.EqualValue(v, got) {
					t.Errorf("%s: %s printed %q (%v)", name, ddbtest.FormatValue(v), cell, err)
				}
			}
		}
	}
	// The formula-like strings are not defused (docs/copy.md says so).
	if !strings.Contains(r.stdout, "\n=SUM(A1),") && !strings.Contains(r.stdout, ",=SUM(A1),") {
		t.Errorf("=SUM(A1) not printed as it is:\n%s", r.stdout)
	}
}

// TestReviewOutShowTableAndExportAgree: the same items shown from a table
// and from a full export of them print the same bytes, line for line, in
// every format (the order of items aside).
func TestReviewOutShowTableAndExportAgree(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	items := hostileItems()
	ddbtest.PutItems(t, s.c, s.table, items)
	te := s.export(t, items, ddbtest.ExportOptions{Files: 2})
	// sortedLines sorts the lines, less a JSON array's commas between
	// items (the last item has none).
	sortedLines := func(out string) string {
		lines := strings.Split(out, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimSuffix(l, ",")
		}
		slices.Sort(lines)
		return strings.Join(lines, "\n")
	}
	for _, format := range []string{"jsonl", "json", "csv"} {
		fromTable := s.run(t, "show", "--from", s.table, "-o", format)
		fromExport := s.run(t, "show", "--from-export", te.URL, "-o", format)
		if fromTable.code != 0 || fromExport.code != 0 {
			t.Fatalf("-o %s: exit %d from the table, %d from the export", format, fromTable.code, fromExport.code)
		}
		if format == "csv" {
			// Rows may span lines (quoted newlines): compare records.
			a, errA := csv.NewReader(strings.NewReader(fromTable.stdout)).ReadAll()
			b, errB := csv.NewReader(strings.NewReader(fromExport.stdout)).ReadAll()
			if errA != nil || errB != nil || len(a) != len(b) || !slices.Equal(a[0], b[0]) {
				t.Fatalf("csv: %v %v, headers %q and %q", errA, errB, a[0], b[0])
			}
			key := func(r []string) string { return strings.Join(r, "\x00") }
			ka, kb := []string{}, []string{}
			for i := range a {
				ka, kb = append(ka, key(a[i])), append(kb, key(b[i]))
			}
			slices.Sort(ka)
			slices.Sort(kb)
			if !slices.Equal(ka, kb) {
				t.Errorf("csv differs:\ntable:\n%s\nexport:\n%s", fromTable.stdout, fromExport.stdout)
			}
			continue
		}
		if sortedLines(fromTable.stdout) != sortedLines(fromExport.stdout) {
			t.Errorf("-o %s differs:\ntable:\n%s\nexport:\n%s", format, fromTable.stdout, fromExport.stdout)
		}
	}
}

// TestReviewOutShowClosedPipe: show | head -1 ends quietly: once the
// reader has gone, show stops (the SIGPIPE every Unix filter dies of, or
// exit 0), printing no error, in every format.
func TestReviewOutShowClosedPipe(t *testing.T) {
	t.Parallel()
	var items []map[string]types.AttributeValue
	for i := range 3000 { // about 700 KB of output, far more than a pipe holds
		items = append(items, map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%05d", i)}, "sk": &types.AttributeValueMemberN{Value: "1"},
			"v": &types.AttributeValueMemberS{Value: strings.Repeat("x", 200)}})
	}
	srv, _, from, _ := copyPair(t, mixedSpec, items)
	for _, format := range []string{"jsonl", "json", "csv"} {
		cmd := binaryCommand(t, "show", "--endpoint-url", srv.Endpoint, "--from", from, "-o", format)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		first, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || first == "" {
			t.Fatalf("-o %s: first line %q: %v", format, first, err)
		}
		out.Close() // head -1 exits
		err = cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGPIPE:
		default:
			t.Errorf("-o %s: after the reader went: %v, want SIGPIPE or exit 0", format, err)
		}
		if strings.Contains(stderr.String(), "ddbrewind:") || strings.Contains(stderr.String(), "broken pipe") {
			t.Errorf("-o %s: an error on a closed pipe:\n%s", format, stderr.String())
		}
	}
}
