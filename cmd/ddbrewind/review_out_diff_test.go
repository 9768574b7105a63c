package main

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
