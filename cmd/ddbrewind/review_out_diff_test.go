package main

import (
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// diffFields are the top-level fields of diff --output json for two
// tables or a full export: always all of them, the key lists [] when
// empty, so that a script can rely on each (jq '.different_keys[]').
var diffFields = []string{"different", "different_keys", "extra_in_main", "extra_in_main_keys", "from_table",
	"identical", "missing_in_main", "missing_in_main_keys", "to_table"}

// TestReviewOutDiffJSONSchema: diff --output json has the same fields
// whether the tables are equal or not; its keys are typed DynamoDB JSON
// objects that the AWS SDK reads back as the very keys (quotes, newlines,
// unicode, 38 digits); --show bounds each list, sorted.
func TestReviewOutDiffJSONSchema(t *testing.T) {
	t.Parallel()
	items := hostileItems()
	srv, c, from, to := copyPair(t, mixedSpec, items)
	ddbtest.PutItems(t, c, to, items)
	diff := func(t *testing.T, args ...string) (map[string]json.RawMessage, result) {
		t.Helper()
		r := ddb(t, append([]string{"diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "-o", "json"}, args...)...)
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.stdout), &fields); err != nil {
			t.Fatalf("not one JSON object: %v\n%s", err, r.stdout)
		}
		if got := slices.Sorted(maps.Keys(fields)); !slices.Equal(got, diffFields) {
			t.Errorf("fields %q, want %q", got, diffFields)
		}
		return fields, r
	}

	fields, r := diff(t)
	if r.code != 0 || string(fields["identical"]) != "4" || string(fields["different_keys"]) != "[]" {
		t.Errorf("equal tables: exit %d, %s", r.code, r.stdout)
	}

	// Change the first three items in main: all three differ.
	for _, it := range items[:3] {
		ch := maps.Clone(it)
		ch["changed"] = &types.AttributeValueMemberBOOL{Value: true}
		ddbtest.PutItems(t, c, to, []map[string]types.AttributeValue{ch})
	}
	fields, r = diff(t, "--show", "2")
	var keys []json.RawMessage
	if err := json.Unmarshal(fields["different_keys"], &keys); err != nil || r.code != 3 || string(fields["different"]) != "3" || len(keys) != 2 {
		t.Fatalf("3 different, --show 2: exit %d, %v, %s", r.code, err, r.stdout)
	}
	var prev string
	for _, raw := range keys {
		k, err := attributevalue.UnmarshalMapJSON(raw)
		if err != nil || len(k) != 2 {
			t.Fatalf("key %s: %v", raw, err)
		}
		found := false
		for _, it := range items[:3] {
			found = found || ddbtest.EqualValue(&types.AttributeValueMemberM{Value: k}, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}})
		}
		if !found {
			t.Errorf("listed key %s is none of the changed items' keys", raw)
		}
		if s := compactJSON(t, raw); s < prev {
			t.Errorf("keys not sorted: %s after %s", s, prev)
		} else {
			prev = s
		}
	}
	if fields, _ = diff(t, "--show", "0"); string(fields["different_keys"]) != "[]" {
		t.Errorf("--show 0: different_keys %s, want []", fields["different_keys"])
	}
	if strings.Contains(r.stdout, "changed") || strings.Contains(r.stderr, "@cmd") {
		t.Errorf("diff prints attribute values:\n%s\n%s", r.stdout, r.stderr)
	}
}

// TestReviewOutDiffJSONWindow: a window's part of diff --output json has
// every field, conflict_keys [] when there is none, and the counts and
// keys of the result as they are.
func TestReviewOutDiffJSONWindow(t *testing.T) {
	res := &copier.DiffResult{From: "s3://b/p/AWSDynamoDB/x/", To: "main", Identical: 1, Different: 2, MissingInMain: 3, ExtraInMain: 4,
		DifferentKeys: []string{`{"pk":{"S":"a\"b"}}`}, Window: &copier.WindowDiff{ChangedKeys: 9, NoNetChange: 1, WouldRewind: 5, WouldDelete: 4}}
	var out strings.Builder
	if err := printJSON(&out, newDiffJSON(res)); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"from_table": "s3://b/p/AWSDynamoDB/x/", "to_table": "main", "identical": 1.0, "different": 2.0, "missing_in_main": 3.0, "extra_in_main": 4.0,
		"different_keys": []any{map[string]any{"pk": map[string]any{"S": `a"b`}}}, "missing_in_main_keys": []any{}, "extra_in_main_keys": []any{},
		"window": map[string]any{"changed_keys": 9.0, "no_net_change": 1.0, "would_rewind": 5.0, "would_delete": 4.0, "conflicts": 0.0, "conflict_keys": []any{}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff --output json\n%s\nwant %v", out.String(), want)
	}
}

// TestReviewOutDiffText: diff's text output, exactly: the four counts,
// the window's line for incremental exports, then each kind's listed keys
// one a line with how many more there are, conflicts included; the line
// about a selection that matched nothing only for a selection (key
// condition, filter or keys file) that matched nothing in either table.
func TestReviewOutDiffText(t *testing.T) {
	k := func(s string) string { return `{"pk":{"S":"` + s + `"}}` }
	for _, tc := range []struct {
		name     string
		res      copier.DiffResult
		selected bool
		want     string
	}{
		{"equal", copier.DiffResult{Identical: 3}, false, "identical:        3\ndifferent:        0\nmissing in main:  0\nextra in main:    0\n"},
		{"empty tables", copier.DiffResult{}, false, "identical:        0\ndifferent:        0\nmissing in main:  0\nextra in main:    0\n"},
		{"a selection matching nothing", copier.DiffResult{}, true,
			"identical:        0\ndifferent:        0\nmissing in main:  0\nextra in main:    0\nthe selection matched no item in either table: check the key condition, filter or keys file\n"},
		{"a selection matching extras only", copier.DiffResult{ExtraInMain: 1, ExtraKeys: []string{k("x")}}, true,
			"identical:        0\ndifferent:        0\nmissing in main:  0\nextra in main:    1\nextra in main:\n  " + k("x") + "\n"},
		{"every kind, some not listed", copier.DiffResult{Identical: 1, Different: 3, MissingInMain: 2, ExtraInMain: 1,
			DifferentKeys: []string{k("a"), k("b")}, MissingKeys: []string{k("m"), k("n")}, ExtraKeys: []string{k("x")}}, false,
			"identical:        1\ndifferent:        3\nmissing in main:  2\nextra in main:    1\n" +
				"different:\n  " + k("a") + "\n  " + k("b") + "\n  … and 1 more (--show N lists more)\n" +
				"missing in main:\n  " + k("m") + "\n  " + k("n") + "\n" +
				"extra in main:\n  " + k("x") + "\n"},
		{"a window", copier.DiffResult{Different: 2, MissingInMain: 1, ExtraInMain: 0, DifferentKeys: []string{k("a")},
			Window: &copier.WindowDiff{ChangedKeys: 5, NoNetChange: 1, WouldRewind: 3, WouldDelete: 0, Conflicts: 2, ConflictKeys: []string{k("c")}}}, true,
			"identical:        0\ndifferent:        2\nmissing in main:  1\nextra in main:    0\n" +
				"window: 5 keys changed (1 changed back); a rewind (--delete-extra) would rewind 3, delete 0, and leave 2 conflicts\n" +
				"different:\n  " + k("a") + "\n  … and 1 more (--show N lists more)\n" +
				"conflicts (written after the window):\n  " + k("c") + "\n  … and 1 more (--show N lists more)\n"},
		{"an empty window", copier.DiffResult{Window: &copier.WindowDiff{}}, true,
			"identical:        0\ndifferent:        0\nmissing in main:  0\nextra in main:    0\n" +
				"window: 0 keys changed (0 changed back); a rewind (--delete-extra) would rewind 0, delete 0, and leave 0 conflicts\n"},
	} {
		var out strings.Builder
		printDiff(&Env{Out: &out}, &tc.res, tc.selected)
		if out.String() != tc.want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.name, out.String(), tc.want)
		}
	}
}

// TestReviewOutDiffVerdict: diff exits 3 (errDifferent) whenever anything
// differs — a different, missing or extra item alone, for tables and for
// an incremental window — and 0 only when all three counts are 0.
func TestReviewOutDiffVerdict(t *testing.T) {
	c := cli.NewContext(cli.NewApp(), flag.NewFlagSet("diff", flag.ContinueOnError), nil)
	for _, window := range []*copier.WindowDiff{nil, {ChangedKeys: 1}} {
		for _, res := range []copier.DiffResult{{Different: 1}, {MissingInMain: 1}, {ExtraInMain: 1}, {Identical: 5}} {
			res.Window = window
			err := diffVerdict(c, &res)
			if differs := res.Different+res.MissingInMain+res.ExtraInMain > 0; differs != errors.Is(err, errDifferent) || !differs && err != nil {
				t.Errorf("%+v (window %v): %v", res, window != nil, err)
			}
			// A window's verdict says what a rewind would do.
			if err != nil && (window != nil) != strings.Contains(err.Error(), "a rewind would rewind") {
				t.Errorf("%+v (window %v): %v", res, window != nil, err)
			}
		}
	}
}
