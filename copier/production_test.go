package copier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// ttlNow is the injected clock of the TTL tests.
var ttlNow = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// ttlItems are k0..k5: k0-k2 expired (exp before ttlNow, one by a
// fraction), k3 expires later, k4's exp is a string (not a TTL), k5 has no
// exp and the attributes of a 2017 global table.
func ttlItems() []map[string]types.AttributeValue {
	exp := []string{fmt.Sprint(ttlNow.Unix() - 100), fmt.Sprint(ttlNow.AddDate(-4, 0, 0).Unix()), fmt.Sprint(ttlNow.Unix()-1) + ".5", fmt.Sprint(ttlNow.Unix() + 3600)}
	var items []map[string]types.AttributeValue
	for i := range 6 {
		it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%d", i)}}
		switch {
		case i < 4:
			it["exp"] = &types.AttributeValueMemberN{Value: exp[i]}
		case i == 4:
			it["exp"] = &types.AttributeValueMemberS{Value: "1"}
		default:
			it["aws:rep:updateregion"] = &types.AttributeValueMemberS{Value: "eu-west-1"}
			it["aws:rep:updatetime"] = &types.AttributeValueMemberN{Value: "1700000000.123"}
			it["aws:rep:deleting"] = &types.AttributeValueMemberBOOL{Value: false}
		}
		items = append(items, it)
	}
	return items
}

// TestSkipExpiredEverySource: whatever the source (table scan, keys file,
// full export, incremental window), the items whose TTL has passed are
// counted as expired, and left out with SkipExpired; the aws:rep:*
// attributes are never written.
func TestSkipExpiredEverySource(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	var lines []string
	for i := range 6 {
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":"k%d"}}`, i))
	}
	if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sources := []struct {
		name string
		plan func(t *testing.T, m *memAPI, o Options) (*Plan, error)
	}{
		{"table", func(t *testing.T, m *memAPI, o Options) (*Plan, error) {
			o.From = "rec"
			return Prepare(context.Background(), m, o)
		}},
		{"keys file", func(t *testing.T, m *memAPI, o Options) (*Plan, error) {
			o.From, o.Selection.KeysFile = "rec", keys
			return Prepare(context.Background(), m, o)
		}},
		{"export", func(t *testing.T, m *memAPI, o Options) (*Plan, error) {
			s3 := ddbtest.NewMemS3()
			te := ddbtest.WriteExport(t, s3, "exports", "nightly", ttlItems(), ddbtest.ExportOptions{Files: 2, TableArn: tableArn(t, m, "main")})
			o.FromExport, o.Files = []string{te.URL}, &statefile.Store{S3: s3}
			return Prepare(context.Background(), m, o)
		}},
		{"incremental window", func(t *testing.T, m *memAPI, o Options) (*Plan, error) {
			// Every item was deleted in the window (by TTL, or by
			// anyone): the rewind puts the start images back.
			var ch changes
			for _, it := range ttlItems() {
				ch = append(ch, window.Change{Keys: keyOf(it, memKey), Old: it})
			}
			w, err := window.Build(nil, &ch)
			if err != nil {
				t.Fatal(err)
			}
			o.From = "export"
			return prepareWindowRewind(context.Background(), m, o, w)
		}},
	}
	for _, sc := range sources {
		for _, skip := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/skip=%v", sc.name, skip), func(t *testing.T) {
				m := newMemAPI()
				m.ttl = "exp"
				m.create("rec")
				m.create("main")
				for _, it := range ttlItems() {
					m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
				}
				p, err := sc.plan(t, m, Options{To: "main", SkipExpired: skip, Now: func() time.Time { return ttlNow }, Segments: 2, Writers: 2})
				if err != nil {
					t.Fatal(err)
				}
				sum, err := p.Run(context.Background(), m)
				if err != nil {
					t.Fatal(err)
				}
				wantKeys := []string{"k0", "k1", "k2", "k3", "k4", "k5"}
				if skip {
					wantKeys = wantKeys[3:]
				}
				got := m.tables["main"]
				if len(got) != len(wantKeys) {
					t.Errorf("main has %d items, want %v", len(got), wantKeys)
				}
				for _, k := range wantKeys {
					if _, ok := got[ddbjson.KeyString(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: k}})]; !ok {
						t.Errorf("main lacks %s", k)
					}
				}
				for ks, it := range got {
					for name := range it {
						if strings.HasPrefix(name, "aws:rep:") {
							t.Errorf("%s written with %s", ks, name)
						}
					}
				}
				c := sum.Counts
				if c.Expired != 3 || c.Written != int64(len(wantKeys)) || c.Pending() != 0 {
					t.Errorf("expired %d written %d pending %d; want 3 %d 0", c.Expired, c.Written, c.Pending(), len(wantKeys))
				}
				if sum.MainTable == nil || sum.MainTable.TTLAttribute != "exp" || sum.MainTable.SkipExpired != skip {
					t.Errorf("summary's main table %+v, want TTL attribute exp, skip %v", sum.MainTable, skip)
				}
			})
		}
	}
}

// TestSkipExpiredFingerprint: --skip-expired changes what a copy writes, so
// a checkpoint made without it is refused with it (and the other way
// round); without it the fingerprint is the one today's checkpoints carry.
func TestSkipExpiredFingerprint(t *testing.T) {
	m := newMemAPI()
	m.ttl = "exp"
	m.create("rec")
	m.create("main")
	for _, it := range ttlItems() {
		m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	ckpt := filepath.Join(t.TempDir(), "copy.ckpt")
	o := Options{From: "rec", To: "main", Segments: 2, Checkpoint: ckpt, Now: func() time.Time { return ttlNow }}
	p, err := Prepare(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	// Without the flag: the description (and so the hash) of before.
	if _, desc := p.fingerprint(); strings.Contains(desc, "skip-expired") || !strings.HasPrefix(desc, "from=rec to=main segments=2 worker=0/1 only-missing=false delete-extra=false if-main=\n") {
		t.Errorf("fingerprint without --skip-expired changed: %q", desc)
	}
	if _, err := p.Run(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	o.SkipExpired = true
	_, err = Prepare(context.Background(), m, o)
	var ue *usage.Error
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "was made for another copy") || !strings.Contains(err.Error(), "skip-expired=true") {
		t.Fatalf("resume with --skip-expired of a checkpoint made without it: %v, want a usage error naming skip-expired", err)
	}
	o.SkipExpired = false
	p, err = Prepare(context.Background(), m, o)
	if err != nil || !p.Resumed() {
		t.Fatalf("resume without --skip-expired: %v (resumed %v)", err, p != nil && p.Resumed())
	}
	p.Close()
}

// TestMainTableNotes: what the confirmation and the plan say of a stream,
// replicas and TTL.
func TestMainTableNotes(t *testing.T) {
	tests := []struct {
		name   string
		m      MainTable
		writes int64
		want   string
	}{
		{"nothing", MainTable{}, 10, ""},
		{"stream with estimate", MainTable{StreamViewType: "NEW_AND_OLD_IMAGES"}, 1650,
			"orders has a stream (NEW_AND_OLD_IMAGES): each write and delete will reach its consumers (Lambda triggers, replicas, pipelines): expect up to about 1,650 stream records"},
		{"stream, unknown count", MainTable{StreamViewType: "KEYS_ONLY"}, 0,
			"orders has a stream (KEYS_ONLY): each write and delete will reach its consumers (Lambda triggers, replicas, pipelines)"},
		{"kinesis, unknown count, after the stream", MainTable{StreamViewType: "KEYS_ONLY", KinesisStreamARNs: []string{"arn:aws:kinesis:eu-west-1:111122223333:stream/orders-cdc"}}, 0,
			"orders has a stream (KEYS_ONLY): each write and delete will reach its consumers (Lambda triggers, replicas, pipelines); orders streams to Kinesis (stream orders-cdc): each write and delete will also reach that stream and its consumers"},
		{"kinesis unread", MainTable{KinesisUnread: true}, 40,
			"the Kinesis Data Streams destination of orders could not be read (missing permission dynamodb:DescribeKinesisStreamingDestination): if it streams to Kinesis, each write and delete reaches that stream too"},
		{"replicas", MainTable{ReplicaRegions: []string{"eu-west-1", "us-west-2"}}, 0,
			"orders is a global table: the writes replicate to eu-west-1, us-west-2 (the last writer wins there)"},
		{"replicas unread", MainTable{ReplicasUnread: true}, 0,
			"whether orders is a global table version 2017.11.29 could not be read (missing permission dynamodb:DescribeGlobalTable): if it is, each write and delete replicates to its other Regions too"},
		{"ttl", MainTable{TTLAttribute: "exp"}, 0,
			"items whose TTL attribute exp has passed are written back, and DynamoDB deletes them again (add --skip-expired to leave them out)"},
		{"ttl skipped", MainTable{TTLAttribute: "exp", SkipExpired: true}, 0,
			"items whose TTL attribute exp has passed are left out (--skip-expired)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Notes("orders", tt.writes); got != tt.want {
				t.Errorf("Notes:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestMainTableOf: the replicas are the Regions other than the table's
// own, sorted; a disabled stream is no stream.
func TestMainTableOf(t *testing.T) {
	arn := "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
	enabled, disabled := true, false
	d := &types.TableDescription{TableArn: &arn,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: &enabled, StreamViewType: types.StreamViewTypeNewImage},
		Replicas:            []types.ReplicaDescription{{RegionName: strPtr("us-west-2")}, {RegionName: strPtr("us-east-1")}, {RegionName: strPtr("eu-west-1")}}}
	m := mainTableOf(d)
	if m.StreamViewType != "NEW_IMAGE" || strings.Join(m.ReplicaRegions, ",") != "eu-west-1,us-west-2" {
		t.Errorf("mainTableOf: %+v", m)
	}
	d.StreamSpecification.StreamEnabled, d.Replicas = &disabled, nil
	if m := mainTableOf(d); !m.empty() {
		t.Errorf("a disabled stream and no replicas: %+v", m)
	}
}

func strPtr(s string) *string { return &s }

// TestUndoNeverPutsBackReplicationAttributes: a journal's before-image of
// a 2017 global table's item carries aws:rep:*; undo puts the item back
// without them.
func TestUndoNeverPutsBackReplicationAttributes(t *testing.T) {
	m := newMemAPI()
	m.create("rec")
	m.create("main")
	before := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}, "v": &types.AttributeValueMemberS{Value: "before"},
		"aws:rep:updateregion": &types.AttributeValueMemberS{Value: "eu-west-1"}, "aws:rep:updatetime": &types.AttributeValueMemberN{Value: "1700000000.5"}}
	m.tables["main"][ddbjson.KeyString(keyOf(before, memKey))] = before
	m.tables["rec"][ddbjson.KeyString(keyOf(before, memKey))] = map[string]types.AttributeValue{"pk": before["pk"], "v": &types.AttributeValueMemberS{Value: "past"}}
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	p, err := Prepare(context.Background(), m, Options{From: "rec", To: "main", Journal: journal})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	u, err := PrepareUndo(context.Background(), m, UndoOptions{Options{To: "main", Journal: journal}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Run(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := m.tables["main"][ddbjson.KeyString(keyOf(before, memKey))]
	if len(got) != 2 || got["v"].(*types.AttributeValueMemberS).Value != "before" {
		t.Errorf("after undo: %v, want pk and v=before only", got)
	}
}

// TestKinesisDestination: a copy into the main table reads its Kinesis
// Data Streams destinations once; the active (or enabling) ones are named
// in the notes with the estimate; AccessDenied gives a note naming the
// missing permission and the copy proceeds; an endpoint that does not
// serve the operation has none; another error stops the preparation. A
// diff never asks.
func TestKinesisDestination(t *testing.T) {
	arn := func(name string) *string { return strPtr("arn:aws:kinesis:us-east-1:111122223333:stream/" + name) }
	tests := []struct {
		name    string
		dests   []types.KinesisDataStreamDestination
		err     error
		want    string // Job.Notes
		streams int    // the summary's Kinesis streams
		wantErr string
	}{
		{name: "none"},
		{name: "one active", dests: []types.KinesisDataStreamDestination{{StreamArn: arn("orders-changes"), DestinationStatus: types.DestinationStatusActive}},
			want: "main streams to Kinesis (stream orders-changes): each write and delete will also reach that stream and its consumers: expect up to about 3 Kinesis records", streams: 1},
		{name: "active and enabling, others not", dests: []types.KinesisDataStreamDestination{
			{StreamArn: arn("b-audit"), DestinationStatus: types.DestinationStatusEnabling},
			{StreamArn: arn("old"), DestinationStatus: types.DestinationStatusDisabled},
			{StreamArn: arn("broken"), DestinationStatus: types.DestinationStatusEnableFailed},
			{StreamArn: arn("a-changes"), DestinationStatus: types.DestinationStatusActive},
		}, want: "main streams to Kinesis (streams a-changes, b-audit): each write and delete will also reach those streams and their consumers: expect up to about 3 Kinesis records", streams: 2},
		{name: "all disabled", dests: []types.KinesisDataStreamDestination{{StreamArn: arn("old"), DestinationStatus: types.DestinationStatusDisabling}}},
		{name: "access denied", err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::1:assumed-role/r is not authorized to perform: dynamodb:DescribeKinesisStreamingDestination"},
			want: "the Kinesis Data Streams destination of main could not be read (missing permission dynamodb:DescribeKinesisStreamingDestination): if it streams to Kinesis, each write and delete reaches that stream too"},
		{name: "not served", err: &smithy.GenericAPIError{Code: "UnknownOperationException"}},
		{name: "not a DynamoDB answer", err: &smithy.DeserializationError{Err: errors.New("failed to decode response body")}},
		{name: "other error", err: &smithy.GenericAPIError{Code: "InternalServerError", Message: "boom"},
			wantErr: "run: read the Kinesis Data Streams destination of main (dynamodb:DescribeKinesisStreamingDestination, see docs/iam.md): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemAPI()
			m.create("rec")
			m.create("main")
			for i := range 3 {
				it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%d", i)}}
				m.tables["rec"][ddbjson.KeyString(it)] = it
				m.tables["main"][ddbjson.KeyString(it)] = it
			}
			m.kinesis, m.kinesisErr = tt.dests, tt.err
			j, err := PrepareJob(context.Background(), m, Options{To: "main"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("PrepareJob: %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if got := j.Notes(); got != tt.want {
				t.Errorf("Notes:\n got %q\nwant %q", got, tt.want)
			}
			if m.kinesisCalls != 1 {
				t.Errorf("%d DescribeKinesisStreamingDestination calls, want 1", m.kinesisCalls)
			}
			// The copy itself proceeds, and its summary keeps what was
			// learned.
			p, err := Prepare(context.Background(), m, Options{From: "rec", To: "main"})
			if err != nil {
				t.Fatal(err)
			}
			sum, err := p.Run(context.Background(), m)
			if err != nil || sum.Counts.Written != 3 {
				t.Fatalf("copy: %v, %d written", err, sum.Counts.Written)
			}
			got := MainTable{}
			if sum.MainTable != nil {
				got = *sum.MainTable
			}
			if want := tt.err != nil && accessDenied(tt.err); got.KinesisUnread != want || len(got.KinesisStreamARNs) != tt.streams {
				t.Errorf("summary's main table %+v", got)
			}
			// A diff never reads it.
			m.kinesisCalls = 0
			if _, err := PrepareDiff(context.Background(), m, DiffOptions{Options: Options{From: "rec", To: "main"}}); err != nil {
				t.Fatal(err)
			}
			if m.kinesisCalls != 0 {
				t.Errorf("diff called DescribeKinesisStreamingDestination %d times", m.kinesisCalls)
			}
		})
	}
}

// TestUnservedNotRetried: the call's retryer gives up at once on an
// endpoint that does not serve the operation, and retries the rest as
// usual.
func TestUnservedNotRetried(t *testing.T) {
	o := dynamodb.Options{Retryer: retry.NewStandard()}
	notRetryingUnserved(&o)
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&smithy.GenericAPIError{Code: "UnknownOperationException"}, false},
		{&smithy.DeserializationError{Err: errors.New("failed to decode response body")}, false},
		{&types.ProvisionedThroughputExceededException{}, true},
		{&smithy.GenericAPIError{Code: "ThrottlingException"}, true},
	} {
		if got := o.Retryer.IsErrorRetryable(tt.err); got != tt.want {
			t.Errorf("IsErrorRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
