package copier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// TestExpiredFollowsDynamoDBTTL: an item counts as expired (and
// --skip-expired leaves it out) only when DynamoDB's TTL would delete it:
// a top-level Number of epoch seconds before now and not more than five
// years before it. DynamoDB ignores older values (0 or 1 as "never
// expires" among them) and keeps those items: leaving them out of a rewind
// would lose them.
func TestExpiredFollowsDynamoDBTTL(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	sec := func(t time.Time) string { return fmt.Sprint(t.Unix()) }
	n := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
	tests := []struct {
		name string
		v    types.AttributeValue // nil: no TTL attribute
		want bool
	}{
		{"a second ago", n(sec(now.Add(-time.Second))), true},
		{"now", n(sec(now)), false},
		{"in an hour", n(sec(now.Add(time.Hour))), false},
		{"half a second ago", n(fmt.Sprint(now.Unix()-1) + ".5"), true},
		{"exponent form", n("1.7965e9"), true},
		{"four years ago", n(sec(now.AddDate(-4, 0, 0))), true},
		{"just within five years", n(sec(now.AddDate(-5, 0, 1))), true},
		{"more than five years ago", n(sec(now.AddDate(-5, 0, -1))), false},
		{"zero: never", n("0"), false},
		{"one", n("1"), false},
		{"negative", n("-1700000000"), false},
		{"milliseconds (far future)", n(fmt.Sprint(now.UnixMilli())), false},
		{"38 digits", n("99999999999999999999999999999999999999"), false},
		{"huge exponent", n("1E+125"), false},
		{"tiny", n("1E-130"), false},
		{"a string", &types.AttributeValueMemberS{Value: sec(now.Add(-time.Hour))}, false},
		{"a number set", &types.AttributeValueMemberNS{Value: []string{sec(now.Add(-time.Hour))}}, false},
		{"missing", nil, false},
	}
	for _, tt := range tests {
		item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
		if tt.v != nil {
			item["exp"] = tt.v
		}
		if got := expired(item, "exp", now); got != tt.want {
			t.Errorf("%s: expired = %v, want %v", tt.name, got, tt.want)
		}
		if expired(item, "", now) {
			t.Errorf("%s: expired with TTL off", tt.name)
		}
	}
}

// TestStripReplicationOnlyAWSRep: only the attributes DynamoDB manages for
// 2017 global tables (aws:rep:*, exactly so spelled) are stripped; a user's
// attribute that merely starts alike is data and is kept; the source item
// is never modified.
func TestStripReplicationOnlyAWSRep(t *testing.T) {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := map[string]types.AttributeValue{
		"pk": s("k"), "aws:rep:updatetime": s("1"), "aws:rep:updateregion": s("eu-west-1"), "aws:rep:deleting": s("x"),
		"aws:report": s("q3"), "aws:rep": s("a"), "AWS:REP:x": s("b"), "x:aws:rep:y": s("c"),
	}
	got := stripReplication(item)
	want := []string{"AWS:REP:x", "aws:rep", "aws:report", "pk", "x:aws:rep:y"}
	var names []string
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("kept %v, want %v", names, want)
	}
	if len(item) != 8 {
		t.Errorf("the source item was modified: %d attributes", len(item))
	}
	plain := map[string]types.AttributeValue{"pk": s("k"), "aws:report": s("q3")}
	if got := stripReplication(plain); len(got) != 2 {
		t.Errorf("an item without aws:rep:* lost attributes: %v", got)
	}
	if !sameCopied(item, got) || sameCopied(item, plain) {
		t.Error("sameCopied must ignore aws:rep:* only")
	}
}

// ttlStatusAPI is memAPI answering DescribeTimeToLive with a given
// description.
type ttlStatusAPI struct {
	*memAPI
	d *types.TimeToLiveDescription
}

func (a ttlStatusAPI) DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	return &dynamodb.DescribeTimeToLiveOutput{TimeToLiveDescription: a.d}, nil
}

// TestReadTTLStatus: the TTL attribute counts while TTL is ENABLED or
// ENABLING (DynamoDB is starting to delete expired items); DISABLING,
// DISABLED or no description is off.
func TestReadTTLStatus(t *testing.T) {
	for _, tt := range []struct {
		d    *types.TimeToLiveDescription
		want string
	}{
		{&types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusEnabled, AttributeName: aws.String("exp")}, "exp"},
		{&types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusEnabling, AttributeName: aws.String("exp")}, "exp"},
		{&types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusDisabling, AttributeName: aws.String("exp")}, ""},
		{&types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusDisabled}, ""},
		{nil, ""},
	} {
		got, err := readTTL(context.Background(), ttlStatusAPI{newMemAPI(), tt.d}, "main", "copy")
		if err != nil || got != tt.want {
			t.Errorf("%+v: readTTL = %q, %v; want %q", tt.d, got, err, tt.want)
		}
	}
}

// TestUnservedRetryer: an endpoint that does not serve the operation is not
// retried (even with a status the SDK retries); throttling and 5xx still
// are.
func TestUnservedRetryer(t *testing.T) {
	r := unservedRetryer{retry.NewStandard()}
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&smithy.GenericAPIError{Code: "UnknownOperationException"}, false},
		{&smithy.DeserializationError{Err: errors.New("<html>")}, false},
		// moto's HTML error page with a 500: a status the SDK retries.
		{&awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}},
			Err: &smithy.DeserializationError{Err: errors.New("<html>")}}}, false},
		{&awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500}},
			Err: errors.New("internal")}}, true},
		{&types.ThrottlingException{}, true},
		{&types.ProvisionedThroughputExceededException{}, true},
	} {
		if got := r.IsErrorRetryable(tt.err); got != tt.want {
			t.Errorf("%T: retryable = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// TestJobNotesWrites: the writes a confirmation made before the source
// exists announces are a keys file's keys, or the table's item count for
// the whole table; unknown (not said) for a key condition, a filter or an
// incremental window.
func TestJobNotesWrites(t *testing.T) {
	enabled := true
	target := &types.TableDescription{ItemCount: aws.Int64(1234),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: &enabled, StreamViewType: types.StreamViewTypeNewAndOldImages}}
	for _, tt := range []struct {
		name string
		job  Job
		want string // "" : no count
	}{
		{"whole table", Job{}, "expect up to about 1,234 stream records"},
		{"keys file", Job{keysFile: &keysFile{keys: 7}}, "expect up to about 7 stream records"},
		{"key condition", Job{opts: Options{Selection: Selection{KeyCondition: "pk = :p"}}}, ""},
		{"filter", Job{opts: Options{Selection: Selection{Filter: "a = :a"}}}, ""},
		{"window", Job{window: true}, ""},
	} {
		j := tt.job
		j.target, j.opts.To = target, "main"
		got := j.Notes()
		if !strings.HasPrefix(got, "main has a stream (NEW_AND_OLD_IMAGES)") {
			t.Errorf("%s: %q", tt.name, got)
		}
		if tt.want == "" && strings.Contains(got, "expect") || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want the count %q", tt.name, got, tt.want)
		}
	}
}

// TestConsumedAndCharge: the units of a response are each entry's total
// (table and indexes), or its write units when no total is given; the cap
// charges a started unit as a whole one.
func TestConsumedAndCharge(t *testing.T) {
	cc := []types.ConsumedCapacity{
		{TableName: aws.String("a"), CapacityUnits: aws.Float64(3), WriteCapacityUnits: aws.Float64(1)},
		{TableName: aws.String("b"), WriteCapacityUnits: aws.Float64(2.5)},
		{TableName: aws.String("c")},
	}
	if got := consumed(cc); got != 5.5 {
		t.Errorf("consumed = %v, want 5.5", got)
	}
	w := newWCULimiter(1e9)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A canceled context ends any wait at once: an error says the
	// charge waited for at least one unit.
	if err := w.charge(ctx, 0.4); err == nil {
		t.Error("0.4 units charged nothing: a started unit is a whole one")
	}
	if err := w.charge(ctx, 0); err != nil {
		t.Errorf("0 units: %v", err)
	}
	if err := (*wcuLimiter)(nil).charge(ctx, 5); err != nil || newWCULimiter(0) != nil {
		t.Error("no cap: nothing charged")
	}
}

// TestDiffVerifiesASkipExpiredCopy: the verification of a copy that left
// the expired items out (diff with SkipExpired) finds the tables equal;
// without it the expired items are missing in main.
func TestDiffVerifiesASkipExpiredCopy(t *testing.T) {
	m := newMemAPI()
	m.ttl = "exp"
	m.create("rec")
	m.create("main")
	for _, it := range ttlItems() {
		m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	o := Options{From: "rec", To: "main", SkipExpired: true, Now: func() time.Time { return ttlNow }, Segments: 2, Writers: 2}
	p, err := Prepare(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	for _, skip := range []bool{true, false} {
		o.SkipExpired = skip
		dp, err := PrepareDiff(context.Background(), m, DiffOptions{Options: o})
		if err != nil {
			t.Fatal(err)
		}
		d, err := dp.Diff(context.Background(), m, 10)
		if err != nil {
			t.Fatal(err)
		}
		// k5's aws:rep:* attributes were not written: still identical.
		wantMissing := int64(3)
		if skip {
			wantMissing = 0
		}
		if d.Identical != 3 || d.MissingInMain != wantMissing || d.Different != 0 || d.ExtraInMain != 0 {
			t.Errorf("skip=%v: %+v", skip, d)
		}
	}
}
