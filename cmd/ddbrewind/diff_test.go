package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(500, 11, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	ddbtest.PutItems(t, c, to, items)

	r := ddb(t, "diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--segments", "3")
	if r.code != 0 || !strings.Contains(r.stdout, "identical:        500") {
		t.Fatalf("equal tables: exit %d, %q", r.code, r.stdout)
	}

	changed := map[string]types.AttributeValue{}
	for k, v := range items[10] {
		changed[k] = v
	}
	changed["status"] = &types.AttributeValueMemberS{Value: "changed"}
	extra := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "extra"}, "sk": &types.AttributeValueMemberN{Value: "1"}}
	ddbtest.PutItems(t, c, to, []map[string]types.AttributeValue{changed, extra})

	r = ddb(t, "diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--output", "json", "--show", "5")
	if r.code != 3 {
		t.Fatalf("different tables: exit %d, want 3", r.code)
	}
	var res struct {
		copier.DiffResult
		DifferentKeys []json.RawMessage `json:"different_keys"`
		ExtraKeys     []json.RawMessage `json:"extra_in_main_keys"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Identical != 499 || res.Different != 1 || res.ExtraInMain != 1 || res.MissingInMain != 0 {
		t.Fatalf("diff %+v", res)
	}
	// Keys are typed DynamoDB JSON objects, not strings holding JSON.
	wantKey := ddbtestKeyString(items[10])
	if len(res.DifferentKeys) != 1 || compactJSON(t, res.DifferentKeys[0]) != wantKey {
		t.Errorf("different keys %s, want [%s]", res.DifferentKeys, wantKey)
	}
	if len(res.ExtraKeys) != 1 || compactJSON(t, res.ExtraKeys[0]) != `{"pk":{"S":"extra"},"sk":{"N":"1"}}` {
		t.Errorf("extra keys %s, want [{\"pk\":{\"S\":\"extra\"},\"sk\":{\"N\":\"1\"}}]", res.ExtraKeys)
	}
	if strings.Contains(r.stdout+r.stderr, "changed") {
		t.Errorf("diff output leaks attribute values")
	}
	// A key range restricted to one item sees only that item.
	r = ddb(t, "diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to,
		"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":`+attrJSON(items[10]["pk"])+`}`)
	if r.code != 3 || !strings.Contains(r.stdout, "different:        1") {
		t.Errorf("key range diff: exit %d %q", r.code, r.stdout)
	}
}

// ddbtestKeyString is the key of a MixedItems item as ddbrewind reports it.
func ddbtestKeyString(item map[string]types.AttributeValue) string {
	return ddbjson.KeyString(map[string]types.AttributeValue{"pk": item["pk"], "sk": item["sk"]})
}

// attrJSON encodes one value as typed JSON.
func attrJSON(v types.AttributeValue) string {
	s := ddbjson.KeyString(map[string]types.AttributeValue{"v": v})
	return strings.TrimSuffix(strings.TrimPrefix(s, `{"v":`), "}")
}

// compactJSON returns raw without insignificant white space.
func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return b.String()
}
