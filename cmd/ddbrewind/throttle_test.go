package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

const (
	musicARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Music"
	indexARN = musicARN + "/index/AlbumTitle-index"
)

// TestThrottleFix: each kind of reason gets its fix, naming the table or
// index DynamoDB named.
func TestThrottleFix(t *testing.T) {
	tests := []struct {
		reason, resource string
		maxWCU           float64
		short, want      string
	}{
		{"TableWriteProvisionedThroughputExceeded", musicARN, 0, "table write provisioned",
			"raise table Music's write capacity, or cap the writes with --max-wcu"},
		{"IndexWriteProvisionedThroughputExceeded", indexARN, 500, "index write provisioned",
			"raise index AlbumTitle-index's write capacity (every write to Music writes the index too), or lower --max-wcu (now 500)"},
		{"TableReadProvisionedThroughputExceeded", musicARN, 0, "table read provisioned",
			"raise table Music's read capacity, or use fewer --segments"},
		{"TableWriteMaxOnDemandThroughputExceeded", musicARN, 500, "table write on-demand maximum",
			"raise table Music's on-demand maximum (MaxWriteRequestUnits), or lower --max-wcu (now 500)"},
		{"IndexWriteAccountLimitExceeded", indexARN, 0, "index write account limit",
			"index AlbumTitle-index's write throughput reached the account's per-table quota in its Region: ask for a higher quota (Service Quotas), or cap the writes with --max-wcu"},
		{"TableWriteKeyRangeThroughputExceeded", musicARN, 0, "table write hot key range",
			"a hot key range of table Music: many writes to a few partition keys; only the calls to it slow down: spread the writes over more --segments, or let them finish at its pace"},
		{copier.ReasonUnprocessedItems, "Music", 0, "unprocessed items",
			"DynamoDB gives no reason for unprocessed items; usually table Music's write capacity is exceeded: raise it, or cap the writes with --max-wcu"},
		{"ProvisionedThroughputExceededException", "", 100, "ProvisionedThroughputExceededException",
			"DynamoDB gave no reason: raise the table's capacity, or lower --max-wcu (now 100)"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			tc := copier.ThrottleCount{Reason: tt.reason, Resource: tt.resource, Count: 3}
			if got := throttleShort(tc); got != tt.short {
				t.Errorf("short %q, want %q", got, tt.short)
			}
			if got := throttleFix(tc, tt.maxWCU); got != tt.want {
				t.Errorf("fix\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestThrottleClosing(t *testing.T) {
	two := []copier.ThrottleCount{{Reason: "IndexWriteProvisionedThroughputExceeded", Resource: indexARN, Count: 7},
		{Reason: "TableWriteProvisionedThroughputExceeded", Resource: musicARN, Count: 7}}
	tests := []struct {
		name string
		n    copier.Snapshot
		want string
	}{
		{"none", copier.Snapshot{}, ""},
		{"one reason", copier.Snapshot{Throttles: 4, ThrottlesByReason: []copier.ThrottleCount{{Reason: copier.ReasonUnprocessedItems, Resource: "Music", Count: 4}}},
			"; 4 throttles, all UnprocessedItems on table Music: DynamoDB gives no reason for unprocessed items; usually table Music's write capacity is exceeded: raise it, or cap the writes with --max-wcu"},
		{"two reasons each", copier.Snapshot{Throttles: 7, ThrottlesByReason: two},
			"; 7 throttles, 7 of them IndexWriteProvisionedThroughputExceeded on index AlbumTitle-index of table Music: raise index AlbumTitle-index's write capacity (every write to Music writes the index too), or cap the writes with --max-wcu"},
		{"a single throttle", copier.Snapshot{Throttles: 1, ThrottlesByReason: []copier.ThrottleCount{{Reason: "TableWriteProvisionedThroughputExceeded", Resource: musicARN, Count: 1}}},
			"; 1 throttle, TableWriteProvisionedThroughputExceeded on table Music: raise table Music's write capacity, or cap the writes with --max-wcu"},
	}
	for _, tt := range tests {
		if got := throttleClosing(tt.n, 0); got != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// TestCopyThrottlesExplained injects DynamoDB's throttling error bodies
// (the corpus of internal/awserr/testdata/aws) through the fault proxy
// into a copy on dynalite: the report counts the throttles by reason and
// resource, as many as were injected, the log names each with its fix,
// and the closing sentence gives the fix of the most frequent. Writes get
// a ProvisionedThroughputExceededException naming the table and its index;
// reads a ThrottlingException spelled ThrottlingReasons, which the SDK's
// model drops (read from the raw body).
func TestCopyThrottlesExplained(t *testing.T) {
	t.Parallel()
	corpus := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "internal", "awserr", "testdata", "aws", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		op      string
		body    string
		args    []string
		reasons []string // "reason resource", once per injected throttle each
		closing string
	}{
		{"writes, table and index provisioned", "BatchWriteItem", "provisioned-throughput-exceeded-reasons.json", []string{"--max-wcu", "100000"},
			[]string{"IndexWriteProvisionedThroughputExceeded " + indexARN, "TableWriteProvisionedThroughputExceeded " + musicARN},
			"of them IndexWriteProvisionedThroughputExceeded on index AlbumTitle-index of table Music: raise index AlbumTitle-index's write capacity (every write to Music writes the index too), or lower --max-wcu (now 100000)"},
		{"reads, a hot key range from the raw body", "Scan", "throttling-exception-reasons.json", []string{"--page-size", "20"},
			[]string{"TableReadKeyRangeThroughputExceeded arn:aws:dynamodb:us-east-1:123456789012:table/metadata"},
			"all TableReadKeyRangeThroughputExceeded on table metadata: a hot key range of table metadata: many reads to a few partition keys; only the calls to it slow down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			items := ddbtest.MixedItems(400, 61, ddbtest.WithLargeEvery(0))
			srv, c, from, to := copyPair(t, mixedSpec, items)
			proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Seed: 7, Ops: []string{tt.op}, Throttle: 0.5,
				ThrottleBodies: map[string][]byte{tt.op: corpus(tt.body)}})
			rep := filepath.Join(t.TempDir(), "report.json")
			args := append([]string{"copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--report", rep}, tt.args...)
			r := ddb(t, args...)
			if r.code != 0 {
				t.Fatalf("copy: exit %d\n%s", r.code, r.stderr)
			}
			if n := len(ddbtest.ScanAll(t, c, to)); n != len(items) {
				t.Errorf("%d items copied, want %d", n, len(items))
			}
			injected := proxy.Stats().Ops[tt.op].Throttles
			if injected == 0 {
				t.Fatal("no throttle injected: the test proves nothing")
			}
			s := report(t, rep)
			if s.Counts.Throttles != injected {
				t.Errorf("throttles %d, want the %d injected", s.Counts.Throttles, injected)
			}
			var got []string
			for _, tc := range s.Counts.ThrottlesByReason {
				if tc.Count != injected {
					t.Errorf("%s on %s counted %d times, want %d", tc.Reason, tc.Resource, tc.Count, injected)
				}
				got = append(got, tc.Reason+" "+tc.Resource)
			}
			if !slices.Equal(got, tt.reasons) {
				t.Errorf("by reason %q, want %q", got, tt.reasons)
			}
			if !strings.Contains(lastLine(r.stderr), tt.closing) {
				t.Errorf("the closing sentence lacks the fix %q:\n%s", tt.closing, lastLine(r.stderr))
			}
			for _, want := range tt.reasons {
				reason, resource, _ := strings.Cut(want, " ")
				if !strings.Contains(r.stderr, "msg=throttled step=copy reason="+reason+" resource="+resource) {
					t.Errorf("no log line names %s on %s:\n%s", reason, resource, r.stderr)
				}
			}
		})
	}
}

// TestCopyGivenUpUnderThrottlingSaysTheFix: a copy whose writes are
// throttled until --max-retry-time gives up ends (exit 3) with a line that
// still says which reason throttled it and the fix.
func TestCopyGivenUpUnderThrottlingSaysTheFix(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile(filepath.Join("..", "..", "internal", "awserr", "testdata", "aws", "throttling-exception-reasons-model.json"))
	if err != nil {
		t.Fatal(err)
	}
	items := ddbtest.MixedItems(60, 62, ddbtest.WithLargeEvery(0))
	srv, _, from, to := copyPair(t, mixedSpec, items)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true,
		ThrottleBodies: map[string][]byte{"BatchWriteItem": body}})
	rep := filepath.Join(t.TempDir(), "report.json")
	r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--report", rep, "--max-retry-time", "1s", "--segments", "1")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
	}
	last := lastLine(r.stderr)
	for _, want := range []string{"could not be written", "throttles, all TableWriteAccountLimitExceeded on table Music: table Music's write throughput reached the account's per-table quota in its Region: ask for a higher quota (Service Quotas), or cap the writes with --max-wcu"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last line lacks %q:\n%s", want, last)
		}
	}
	s := report(t, rep)
	if len(s.Counts.ThrottlesByReason) != 1 || s.Counts.ThrottlesByReason[0].Count != s.Counts.Throttles || s.Counts.Throttles == 0 {
		t.Errorf("by reason %+v, throttles %d", s.Counts.ThrottlesByReason, s.Counts.Throttles)
	}
}
