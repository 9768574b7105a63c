package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestDemo runs the whole demo, as make demo does, against a ddbrewind
// built for the test. Without moto_server it skips, except under CI
// (CI=true), where a missing emulator is a failure.
func TestDemo(t *testing.T) {
	if _, err := exec.LookPath("moto_server"); err != nil {
		noMoto(t, err)
	}
	bin := filepath.Join(t.TempDir(), "ddbrewind")
	build := exec.Command("go", "build", "-o", bin, "github.com/ddbrewind/ddbrewind/cmd/ddbrewind")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ddbrewind: %v\n%s", err, out)
	}
	// The demo starts its own moto_server even when the tests share one.
	t.Setenv(ddbtest.EndpointEnv, "")

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	err := run(ctx, bin, &out)
	t.Logf("demo output (%s):\n%s", time.Since(start).Round(time.Millisecond), out.String())
	if errors.Is(err, ddbtest.ErrUnavailable) {
		noMoto(t, err)
	}
	if err != nil {
		t.Fatalf("demo failed: %v", err)
	}
	for _, want := range []string{
		"$ ddbrewind restore --endpoint-url http://127.0.0.1:",
		"set status=CANCELLED_BY_BUG and total=0 on 50 orders, deleted 20 orders",
		"orders now differs from the restore point: 50 items changed, 20 missing, 0 extra",
		"$ ddbrewind copy --endpoint-url ",
		"msg=summary step=copy outcome=ok",
		"orders matches the restore point: 300 items, 0 differences",
		"deleted orders-rewind-",
		"(no recovery tables left)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

// noMoto ends a test that needs moto_server, which is missing.
func noMoto(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("moto_server is needed (pip install \"moto[server]\"): %v", err)
	}
	t.Skipf("moto_server not available (set CI=true to fail instead): %v", err)
}

// TestRunMissingBinary checks the demo explains a missing binary before
// starting anything.
func TestRunMissingBinary(t *testing.T) {
	err := run(t.Context(), filepath.Join(t.TempDir(), "nope"), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "make build") {
		t.Fatalf("run with a missing binary: %v, want an error that says make build", err)
	}
}

// TestCompareItems checks the demo's final check catches every kind of
// difference and ignores set order.
func TestCompareItems(t *testing.T) {
	orders := makeOrders(30, 5)
	keyed := func(items []item) map[string]item {
		m := make(map[string]item, len(items))
		for _, it := range items {
			m[ddbtest.KeyOf(it, "pk", "sk")] = it
		}
		return m
	}
	clone := func() map[string]item { return keyed(makeOrders(30, 5)) }
	want := keyed(orders)
	firstKey := ddbtest.KeyOf(orders[0], "pk", "sk")

	tests := []struct {
		name                    string
		change                  func(map[string]item)
		changed, missing, extra int
	}{
		{name: "same", change: func(map[string]item) {}},
		{name: "sets in another order", change: func(m map[string]item) {
			for _, it := range m {
				ss := it["tags"].(*types.AttributeValueMemberSS)
				for i, j := 0, len(ss.Value)-1; i < j; i, j = i+1, j-1 {
					ss.Value[i], ss.Value[j] = ss.Value[j], ss.Value[i]
				}
			}
		}},
		{name: "number as another string", changed: 1, change: func(m map[string]item) {
			n := m[firstKey]["total"].(*types.AttributeValueMemberN)
			// 12.5 and 12.50 are equal numbers but not the same string.
			if strings.Contains(n.Value, ".") {
				n.Value += "0"
			} else {
				n.Value += ".0"
			}
		}},
		{name: "one byte of a binary", changed: 1, change: func(m map[string]item) {
			m[firstKey]["receiptHash"].(*types.AttributeValueMemberB).Value[31] ^= 1
		}},
		{name: "nested map value", changed: 1, change: func(m map[string]item) {
			shipTo := m[firstKey]["shipTo"].(*types.AttributeValueMemberM)
			shipTo.Value["city"] = &types.AttributeValueMemberS{Value: "elsewhere"}
		}},
		{name: "NULL became a string", changed: 1, change: func(m map[string]item) {
			m[firstKey]["couponCode"] = &types.AttributeValueMemberS{Value: ""}
		}},
		{name: "attribute removed", changed: 1, change: func(m map[string]item) {
			delete(m[firstKey], "giftWrap")
		}},
		{name: "missing and extra items", missing: 1, extra: 1, change: func(m map[string]item) {
			delete(m, firstKey)
			m["new"] = item{"pk": &types.AttributeValueMemberS{Value: "customer#999"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clone()
			tt.change(got)
			d := compareItems(want, got)
			if d.Items != len(want) || d.Changed != tt.changed || d.Missing != tt.missing || d.Extra != tt.extra {
				t.Errorf("compareItems = %d items, %d changed, %d missing, %d extra; want %d, %d, %d, %d",
					d.Items, d.Changed, d.Missing, d.Extra, len(want), tt.changed, tt.missing, tt.extra)
			}
			if d.Equal() != (tt.changed+tt.missing+tt.extra == 0) {
				t.Errorf("Equal() = %v with %+v", d.Equal(), d)
			}
			if !d.Equal() && len(d.Lines) == 0 {
				t.Error("differences without lines describing them")
			}
		})
	}
}

// TestDecimal checks totals are written in DynamoDB's canonical number
// form.
func TestDecimal(t *testing.T) {
	for cents, want := range map[int64]string{0: "0", 5: "0.05", 50: "0.5", 100: "1", 12990: "129.9", 12999: "129.99", 10000: "100", 100010: "1000.1"} {
		if got := decimal(cents); got != want {
			t.Errorf("decimal(%d) = %q, want %q", cents, got, want)
		}
	}
}

// TestChildEnv checks ddbrewind's processes get the emulator's
// credentials and none of the user's AWS settings.
func TestChildEnv(t *testing.T) {
	env := childEnv([]string{"PATH=/bin", "AWS_PROFILE=prod", "AWS_ENDPOINT_URL=https://example.com", "AWS_SESSION_TOKEN=x", "HOME=/h"})
	joined := "\n" + strings.Join(env, "\n") + "\n"
	for _, want := range []string{"PATH=/bin", "HOME=/h", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1"} {
		if !strings.Contains(joined, "\n"+want+"\n") {
			t.Errorf("childEnv lacks %s: %q", want, env)
		}
	}
	for _, bad := range []string{"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"} {
		if strings.Contains(joined, "\n"+bad+"=") {
			t.Errorf("childEnv keeps %s: %q", bad, env)
		}
	}
}
