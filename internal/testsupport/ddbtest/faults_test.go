package ddbtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// viaProxy returns options that point a client at the proxy with the given
// number of attempts per call (0 keeps the SDK's default) and no backoff.
func viaProxy(p *FaultProxy, attempts int) func(*dynamodb.Options) {
	return func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(p.URL())
		if attempts > 0 {
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}
	}
}

// mixedTable creates a MixedSpec table on the shared dynalite.
func mixedTable(t *testing.T) (*Server, *dynamodb.Client, string) {
	t.Helper()
	srv := pool.Get(t, Dynalite)
	c := srv.Client(t)
	table := UniqueName(t, "fp")
	CreateTable(t, c, table, MixedSpec())
	return srv, c, table
}

func TestFaultProxyPartialBatchWrite(t *testing.T) {
	t.Parallel()
	srv, direct, table := mixedTable(t)
	p := NewFaultProxy(t, srv.Endpoint, FaultConfig{Seed: 1, Ops: []string{"BatchWriteItem"}, Partial: 1})
	c := srv.Client(t, viaProxy(p, 1))

	items := MixedItems(25, 3)
	pending := make([]types.WriteRequest, len(items))
	for i, it := range items {
		pending[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	written := 0
	for call := 1; len(pending) > 0; call++ {
		if call > 40 {
			t.Fatalf("still %d unprocessed after 40 calls", len(pending))
		}
		out, err := c.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: pending}})
		if err != nil {
			t.Fatalf("BatchWriteItem call %d: %v", call, err)
		}
		left := out.UnprocessedItems[table]
		if len(pending) > 1 && (len(left) == 0 || len(left) >= len(pending)) {
			t.Fatalf("call %d: %d of %d unprocessed, want a non-empty strict subset", call, len(left), len(pending))
		}
		// Honest: exactly what was not returned unprocessed is in the table.
		written += len(pending) - len(left)
		if got := len(ScanAll(t, direct, table)); got != written {
			t.Fatalf("call %d: table holds %d items, want %d", call, got, written)
		}
		pending = left
	}

	want := make(map[string]map[string]types.AttributeValue)
	for _, it := range items {
		want[KeyOf(it, "pk", "sk")] = it
	}
	if d := DiffItemSets(want, ScanAll(t, direct, table)); d != nil {
		t.Fatalf("after retries:\n%s", strings.Join(d, "\n"))
	}
	st := p.Stats().Ops["BatchWriteItem"]
	if st.Partials == 0 || st.Unprocessed == 0 || st.Partials >= st.Calls || st.Forwarded != st.Calls {
		t.Errorf("BatchWriteItem stats %+v: want partials on all calls but the last (a single item)", st)
	}
	if ops := p.Operations(); !slices.Equal(ops, []string{"BatchWriteItem"}) {
		t.Errorf("Operations = %q, want [BatchWriteItem]", ops)
	}
}

func TestFaultProxyPartialBatchGet(t *testing.T) {
	t.Parallel()
	srv, direct, table := mixedTable(t)
	// Simple numbers: with a projection moto rewrites numbers in Python's
	// notation (0.0000000000000000000000000000000000000007 as 7E-40) and
	// fails on numbers longer than 38 digits.
	var items []map[string]types.AttributeValue
	for i, it := range MixedItems(25, 4) {
		items = append(items, map[string]types.AttributeValue{"pk": it["pk"], "sk": attrN(strconv.Itoa(i)), "name": it["name"]})
	}
	PutItems(t, direct, table, items)
	p := NewFaultProxy(t, srv.Endpoint, FaultConfig{Seed: 2, Partial: 1})
	c := srv.Client(t, viaProxy(p, 1))

	keys := make([]map[string]types.AttributeValue, len(items))
	for i, it := range items {
		keys[i] = map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}
	}
	pending := map[string]types.KeysAndAttributes{table: {
		Keys:                     keys,
		ProjectionExpression:     aws.String("pk, sk, #n"),
		ExpressionAttributeNames: map[string]string{"#n": "name"},
		ConsistentRead:           aws.Bool(true),
	}}
	got := make(map[string]map[string]types.AttributeValue)
	for call := 1; len(pending) > 0; call++ {
		if call > 40 {
			t.Fatalf("still unprocessed keys after 40 calls")
		}
		out, err := c.BatchGetItem(t.Context(), &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			t.Fatalf("BatchGetItem call %d: %v", call, err)
		}
		for _, it := range out.Responses[table] {
			got[KeyOf(it, "pk", "sk")] = it
		}
		if left, ok := out.UnprocessedKeys[table]; ok {
			if aws.ToString(left.ProjectionExpression) != "pk, sk, #n" || left.ExpressionAttributeNames["#n"] != "name" || !aws.ToBool(left.ConsistentRead) {
				t.Fatalf("call %d: UnprocessedKeys lost the request's fields: %+v", call, left)
			}
			if len(left.Keys)+len(out.Responses[table]) != len(pending[table].Keys) {
				t.Fatalf("call %d: %d returned + %d unprocessed != %d asked", call, len(out.Responses[table]), len(left.Keys), len(pending[table].Keys))
			}
		}
		pending = out.UnprocessedKeys
	}
	want := make(map[string]map[string]types.AttributeValue)
	for _, it := range items {
		want[KeyOf(it, "pk", "sk")] = map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"], "name": it["name"]}
	}
	if d := DiffItemSets(want, got); d != nil {
		t.Fatalf("BatchGetItem results:\n%s", strings.Join(d, "\n"))
	}
	if st := p.Stats().Ops["BatchGetItem"]; st.Partials == 0 || st.Unprocessed == 0 {
		t.Errorf("BatchGetItem stats %+v, want partials", st)
	}
}

func TestFaultProxyErrors(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, Dynalite)
	throttleCodes := []string{"ProvisionedThroughputExceededException", "ThrottlingException"}
	tests := []struct {
		name     string
		cfg      FaultConfig
		attempts int
		check    func(t *testing.T, call int, err error)
		want     OpStats // for ListTables
	}{
		{
			name: "throttle", cfg: FaultConfig{Throttle: 1}, attempts: 1,
			check: func(t *testing.T, call int, err error) {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != throttleCodes[call%2] {
					t.Errorf("call %d: error %v, want API error %s", call, err, throttleCodes[call%2])
				}
				if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) != aws.TrueTernary {
					t.Errorf("call %d: the SDK does not classify %v as throttling", call, err)
				}
			},
			want: OpStats{Calls: 2, Throttles: 2},
		},
		{
			name: "fail all, with SDK retries", cfg: FaultConfig{FailAll: true, Ops: []string{"ListTables"}}, attempts: 3,
			check: func(t *testing.T, call int, err error) {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || !slices.Contains(throttleCodes, apiErr.ErrorCode()) {
					t.Errorf("call %d: error %v, want a throttle", call, err)
				}
			},
			want: OpStats{Calls: 6, Throttles: 6},
		},
		{
			name: "500", cfg: FaultConfig{Error500: 1}, attempts: 1,
			check: wantHTTPStatus(500),
			want:  OpStats{Calls: 2, Errors500: 2},
		},
		{
			name: "503", cfg: FaultConfig{Error503: 1}, attempts: 1,
			check: wantHTTPStatus(503),
			want:  OpStats{Calls: 2, Errors503: 2},
		},
		{
			name: "drop", cfg: FaultConfig{Drop: 1}, attempts: 1,
			check: func(t *testing.T, call int, err error) {
				var apiErr smithy.APIError
				if err == nil || errors.As(err, &apiErr) {
					t.Errorf("call %d: error %v, want a connection error", call, err)
				}
				if retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) != aws.TrueTernary {
					t.Errorf("call %d: the SDK would not retry %v", call, err)
				}
			},
			want: OpStats{Calls: 2, Drops: 2},
		},
		{
			// A given body (DynamoDB's, with ThrottlingReasons) is sent
			// as it is for its operation.
			name: "throttle with a given body", cfg: FaultConfig{Throttle: 1, ThrottleBodies: map[string][]byte{"ListTables": []byte(
				`{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"over","ThrottlingReasons":[{"reason":"TableWriteProvisionedThroughputExceeded","resource":"arn:aws:dynamodb:us-east-1:123456789012:table/Music"}]}`)}},
			attempts: 1,
			check: func(t *testing.T, call int, err error) {
				var pe *types.ProvisionedThroughputExceededException
				if !errors.As(err, &pe) || aws.ToString(pe.Message) != "over" || len(pe.ThrottlingReasons) != 1 ||
					aws.ToString(pe.ThrottlingReasons[0].Reason) != "TableWriteProvisionedThroughputExceeded" {
					t.Errorf("call %d: error %v, want the given body", call, err)
				}
			},
			want: OpStats{Calls: 2, Throttles: 2},
		},
		{
			name: "answer lost", cfg: FaultConfig{LoseAnswer: 1}, attempts: 1,
			check: wantHTTPStatus(500),
			want:  OpStats{Calls: 2, Forwarded: 2, Lost: 2},
		},
		{
			name: "other operations only", cfg: FaultConfig{Throttle: 1, Ops: []string{"BatchWriteItem"}}, attempts: 1,
			check: func(t *testing.T, call int, err error) {
				if err != nil {
					t.Errorf("call %d: %v, want no fault", call, err)
				}
			},
			want: OpStats{Calls: 2, Forwarded: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := NewFaultProxy(t, srv.Endpoint, tt.cfg)
			c := srv.Client(t, viaProxy(p, tt.attempts))
			for call := range 2 {
				_, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{})
				tt.check(t, call, err)
			}
			if got := p.Stats().Ops["ListTables"]; got != tt.want {
				t.Errorf("ListTables stats %+v, want %+v", got, tt.want)
			}
			// The proxy still works once the faults are off.
			p.SetConfig(FaultConfig{})
			if _, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
				t.Errorf("ListTables without faults: %v", err)
			}
		})
	}
}

// wantHTTPStatus checks for an error response with that HTTP status.
func wantHTTPStatus(status int) func(t *testing.T, call int, err error) {
	return func(t *testing.T, call int, err error) {
		var respErr *awshttp.ResponseError
		if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != status {
			t.Errorf("call %d: error %v, want HTTP %d", call, err, status)
		}
	}
}

func TestFaultProxyDeterministic(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, Dynalite)
	cfg := FaultConfig{Seed: 99, Throttle: 0.3, Error500: 0.2, Latency: 3 * time.Millisecond}
	run := func() string {
		p := NewFaultProxy(t, srv.Endpoint, cfg)
		c := srv.Client(t, viaProxy(p, 1))
		var outcome strings.Builder
		for range 30 {
			_, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{})
			var apiErr smithy.APIError
			switch {
			case err == nil:
				outcome.WriteByte('.')
			case errors.As(err, &apiErr):
				outcome.WriteString(apiErr.ErrorCode()[:1])
			default:
				t.Fatalf("ListTables: %v", err)
			}
		}
		return outcome.String()
	}
	first, second := run(), run()
	if first != second {
		t.Errorf("same seed, different faults:\n%s\n%s", first, second)
	}
	if !strings.Contains(first, ".") || !strings.ContainsAny(first, "PT") || !strings.Contains(first, "I") {
		t.Errorf("faults %s: want successes, throttles and internal errors", first)
	}
}

func TestFaultProxyLatency(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, Dynalite)
	p := NewFaultProxy(t, srv.Endpoint, FaultConfig{Seed: 5, Latency: 40 * time.Millisecond})
	c := srv.Client(t, viaProxy(p, 1))
	start := time.Now()
	for range 5 {
		if _, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	// Five draws of up to 40 ms: seed 5 gives far more than 10 ms in total.
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Errorf("5 calls with up to 40ms latency each took %v", d)
	}
}

func TestFaultProxyCRC32(t *testing.T) {
	t.Parallel()
	srv, direct, table := mixedTable(t)
	p := NewFaultProxy(t, srv.Endpoint, FaultConfig{Seed: 3, Partial: 1})

	// A rewritten response carries the CRC32 and length of its new body.
	items := MixedItems(5, 5)
	var reqs []map[string]any
	for i := range items {
		reqs = append(reqs, map[string]any{"PutRequest": map[string]any{"Item": map[string]any{
			"pk": map[string]string{"S": "raw"}, "sk": map[string]string{"N": strconv.Itoa(i)},
		}}})
	}
	body, err := json.Marshal(map[string]any{"RequestItems": map[string]any{table: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.URL(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.BatchWriteItem")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	req.Header.Set("X-Amz-Date", "20200101T000000Z")
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(respBody, []byte(`"UnprocessedItems":{"`+table)) {
		t.Fatalf("status %d, body %s: want a partial BatchWriteItem answer", resp.StatusCode, respBody)
	}
	if got, want := resp.Header.Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(respBody)), 10); got != want {
		t.Errorf("X-Amz-Crc32 = %s, want %s", got, want)
	}
	if resp.ContentLength != int64(len(respBody)) || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("Content-Length %d, Content-Encoding %q for a %d-byte body", resp.ContentLength, resp.Header.Get("Content-Encoding"), len(respBody))
	}

	// The SDK checks the checksum of rewritten responses and finds it right.
	// (This SDK version logs a mismatch as a warning when it closes the
	// body instead of failing the call, so the test watches the log.)
	var log checksumLog
	c := srv.Client(t, viaProxy(p, 1), func(o *dynamodb.Options) { o.Logger = &log })
	PutItems(t, c, table, items)
	if st := p.Stats().Ops["BatchWriteItem"]; st.Partials < 2 {
		t.Errorf("stats %+v, want partial responses through the SDK", st)
	}
	if got := len(ScanAll(t, direct, table)); got < len(items) {
		t.Errorf("table has %d items, want at least %d", got, len(items))
	}
	if msgs := log.messages(); len(msgs) > 0 {
		t.Errorf("the SDK found bad checksums in the proxy's responses: %q", msgs)
	}

	// ... and it does check: a wrong checksum is reported.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amz-Crc32", "12345")
		_, _ = io.WriteString(w, `{"TableNames":[]}`)
	}))
	defer bad.Close()
	var badLog checksumLog
	badClient := srv.Client(t, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(bad.URL)
		o.RetryMaxAttempts = 1
		o.Logger = &badLog
	})
	_, err = badClient.ListTables(t.Context(), &dynamodb.ListTablesInput{})
	if msgs := badLog.messages(); err == nil && len(msgs) == 0 {
		t.Errorf("ListTables with a wrong X-Amz-Crc32: no error and no checksum warning")
	}
}

// checksumLog is an SDK logger that keeps the messages about checksums.
type checksumLog struct {
	mu   sync.Mutex
	msgs []string
}

// Logf implements logging.Logger.
func (l *checksumLog) Logf(_ logging.Classification, format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.Contains(msg, "checksum") {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.msgs = append(l.msgs, msg)
	}
}

// messages returns the messages kept so far.
func (l *checksumLog) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

func TestMergeUnprocessed(t *testing.T) {
	fields := map[string]json.RawMessage{"Keys": json.RawMessage(`[]`), "ProjectionExpression": json.RawMessage(`"pk"`)}
	tests := []struct {
		name, op, resp string
		sp             *split
		want           string
	}{
		{
			name: "write, none unprocessed", op: "BatchWriteItem", resp: `{"UnprocessedItems":{}}`,
			sp:   &split{withheld: map[string][]json.RawMessage{"t": {json.RawMessage(`{"PutRequest":{"Item":{"a":{"S":"<&>"}}}}`)}}},
			want: `{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"a":{"S":"<&>"}}}}]}}`,
		},
		{
			name: "write, merged with the real ones", op: "BatchWriteItem",
			resp: `{"ConsumedCapacity":[{"TableName":"t"}],"UnprocessedItems":{"t":[{"DeleteRequest":{"Key":{"a":{"N":"1"}}}}],"u":[1]}}`,
			sp:   &split{withheld: map[string][]json.RawMessage{"t": {json.RawMessage(`2`)}, "v": {json.RawMessage(`3`)}}},
			want: `{"ConsumedCapacity":[{"TableName":"t"}],"UnprocessedItems":{"t":[{"DeleteRequest":{"Key":{"a":{"N":"1"}}}},2],"u":[1],"v":[3]}}`,
		},
		{
			name: "get, new entry keeps the fields", op: "BatchGetItem", resp: `{"Responses":{"t":[]}}`,
			sp: &split{
				withheld: map[string][]json.RawMessage{"t": {json.RawMessage(`{"a":{"S":"x"}}`)}},
				entries:  map[string]map[string]json.RawMessage{"t": fields},
			},
			want: `{"Responses":{"t":[]},"UnprocessedKeys":{"t":{"Keys":[{"a":{"S":"x"}}],"ProjectionExpression":"pk"}}}`,
		},
		{
			name: "get, merged with the real entry", op: "BatchGetItem",
			resp: `{"UnprocessedKeys":{"t":{"Keys":[1],"ConsistentRead":true}}}`,
			sp: &split{
				withheld: map[string][]json.RawMessage{"t": {json.RawMessage(`2`)}},
				entries:  map[string]map[string]json.RawMessage{"t": fields},
			},
			want: `{"UnprocessedKeys":{"t":{"ConsistentRead":true,"Keys":[1,2]}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mergeUnprocessed(tt.op, []byte(tt.resp), tt.sp)
			if err != nil || string(got) != tt.want {
				t.Errorf("mergeUnprocessed = %s, %v\nwant %s", got, err, tt.want)
			}
		})
	}
	if _, err := mergeUnprocessed("BatchWriteItem", []byte(`{"UnprocessedItems":[]}`), &split{}); err == nil {
		t.Error("mergeUnprocessed of a malformed response succeeded")
	}
}

func TestSplitBatch(t *testing.T) {
	tests := []struct {
		name, op, body string
		wantNil        bool
	}{
		{name: "one entry", op: "BatchWriteItem", body: `{"RequestItems":{"t":[1]}}`, wantNil: true},
		{name: "not JSON", op: "BatchWriteItem", body: `{`, wantNil: true},
		{name: "two tables", op: "BatchWriteItem", body: `{"RequestItems":{"a":[1,2,3],"b":[4,5]},"ReturnConsumedCapacity":"TOTAL"}`},
		{name: "get", op: "BatchGetItem", body: `{"RequestItems":{"a":{"Keys":[1,2,3],"ConsistentRead":true},"b":{"Keys":[4]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(20) {
				sp := splitBatch(mrand.New(mrand.NewPCG(seed, 0)), tt.op, []byte(tt.body))
				if (sp == nil) != tt.wantNil {
					t.Fatalf("splitBatch = %v, want nil: %v", sp, tt.wantNil)
				}
				if sp == nil {
					return
				}
				// The forwarded entries and the withheld ones together
				// are the request's, each once.
				var fwd struct {
					RequestItems           map[string]json.RawMessage
					ReturnConsumedCapacity string
				}
				if err := json.Unmarshal(sp.body, &fwd); err != nil {
					t.Fatal(err)
				}
				var all []string
				forwarded := 0
				for _, raw := range fwd.RequestItems {
					var entries []json.RawMessage
					if tt.op == "BatchGetItem" {
						var e struct{ Keys []json.RawMessage }
						if err := json.Unmarshal(raw, &e); err != nil {
							t.Fatal(err)
						}
						entries = e.Keys
					} else if err := json.Unmarshal(raw, &entries); err != nil {
						t.Fatal(err)
					}
					forwarded += len(entries)
					for _, e := range entries {
						all = append(all, string(e))
					}
				}
				for _, entries := range sp.withheld {
					for _, e := range entries {
						all = append(all, string(e))
					}
				}
				slices.Sort(all)
				if fmt.Sprint(all) != "[1 2 3 4 5]" && fmt.Sprint(all) != "[1 2 3 4]" || forwarded == 0 || sp.count == 0 || forwarded+sp.count != len(all) {
					t.Errorf("seed %d: forwarded %d, withheld %d, entries %v", seed, forwarded, sp.count, all)
				}
				if tt.op == "BatchWriteItem" && fwd.ReturnConsumedCapacity != "TOTAL" {
					t.Errorf("seed %d: other request fields lost: %s", seed, sp.body)
				}
			}
		})
	}
}

// TestFaultProxyRespond: Respond answers its operation itself — a response
// the SDK decodes, or an error body — without forwarding it and before any
// fault; other operations go through.
func TestFaultProxyRespond(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, Dynalite)
	var denied atomic.Bool
	p := NewFaultProxy(t, srv.Endpoint, FaultConfig{Throttle: 1, Ops: []string{"DescribeKinesisStreamingDestination"},
		Respond: map[string]func() (int, []byte){"DescribeKinesisStreamingDestination": func() (int, []byte) {
			if denied.Load() {
				return http.StatusBadRequest, []byte(`{"__type":"com.amazon.coral.service#AccessDeniedException","message":"not authorized"}`)
			}
			return http.StatusOK, []byte(`{"TableName":"orders","KinesisDataStreamDestinations":[{"StreamArn":"arn:aws:kinesis:us-east-1:1:stream/s","DestinationStatus":"ACTIVE"}]}`)
		}}})
	c := srv.Client(t)
	out, err := c.DescribeKinesisStreamingDestination(t.Context(), &dynamodb.DescribeKinesisStreamingDestinationInput{TableName: aws.String("orders")}, viaProxy(p, 1))
	if err != nil || len(out.KinesisDataStreamDestinations) != 1 || out.KinesisDataStreamDestinations[0].DestinationStatus != types.DestinationStatusActive {
		t.Fatalf("DescribeKinesisStreamingDestination: %+v, %v", out, err)
	}
	denied.Store(true)
	_, err = c.DescribeKinesisStreamingDestination(t.Context(), &dynamodb.DescribeKinesisStreamingDestinationInput{TableName: aws.String("orders")}, viaProxy(p, 1))
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Errorf("error %v, want AccessDeniedException", err)
	}
	if _, err := c.ListTables(t.Context(), &dynamodb.ListTablesInput{}, viaProxy(p, 1)); err != nil {
		t.Errorf("ListTables through the proxy: %v", err)
	}
	st := p.Stats().Ops
	if got := st["DescribeKinesisStreamingDestination"]; got != (OpStats{Calls: 2, Responded: 2}) {
		t.Errorf("DescribeKinesisStreamingDestination stats %+v, want 2 calls answered, none forwarded or throttled", got)
	}
	if got := st["ListTables"]; got.Forwarded != 1 {
		t.Errorf("ListTables stats %+v, want forwarded", got)
	}
}

// TestFaultProxyLoseAnswer: a write whose answer is lost was done all the
// same: the client gets a 500, and the item is in the table.
func TestFaultProxyLoseAnswer(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, Dynalite)
	direct := srv.Client(t)
	table := UniqueName(t, "lost")
	CreateTable(t, direct, table, MixedSpec())
	p := NewFaultProxy(t, srv.Endpoint, FaultConfig{Ops: []string{"PutItem"}, LoseAnswer: 1})
	c := srv.Client(t, viaProxy(p, 1))
	item := MixedItems(1, 1)[0]
	_, err := c.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	wantHTTPStatus(500)(t, 0, err)
	if got := ScanAll(t, direct, table); len(got) != 1 {
		t.Errorf("the table holds %d items after a put whose answer was lost, want 1", len(got))
	}
	if st := p.Stats().Ops["PutItem"]; st != (OpStats{Calls: 1, Forwarded: 1, Lost: 1}) {
		t.Errorf("PutItem stats %+v", st)
	}
}
