package tables

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{"2026-11-25T08:30:00Z", time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC), false},
		{"2026-11-25T09:30:00+01:00", time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC), false},
		{"2026-11-25T08:30:00.250Z", time.Date(2026, 11, 25, 8, 30, 0, 250e6, time.UTC), false},
		{"1795595400", time.Unix(1795595400, 0).UTC(), false},
		{"yesterday", time.Time{}, true},
		{"12abc", time.Time{}, true},
		{"", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if (err != nil) != tt.wantErr || !got.Equal(tt.want) {
				t.Errorf("ParseTime(%q) = %v, %v", tt.in, got, err)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"orders", true}, {"a.b-c_d", true}, {"ab", false}, {"has space", false}, {strings.Repeat("x", 256), false}, {"ünï", false},
	}
	for _, tt := range tests {
		err := ValidateName("--table", tt.name)
		if (err == nil) != tt.ok || (err != nil && !usage.Is(err)) {
			t.Errorf("ValidateName(%q) = %v", tt.name, err)
		}
	}
}

func TestNameAndRegion(t *testing.T) {
	tests := []struct {
		in, name, region string
	}{
		{"orders", "orders", ""},
		{"arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "orders", "eu-west-1"},
		{"arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026", "orders", "eu-west-1"},
		{"arn:aws:s3:::bucket", "arn:aws:s3:::bucket", ""},
	}
	for _, tt := range tests {
		if got := Name(tt.in); got != tt.name {
			t.Errorf("Name(%q) = %q, want %q", tt.in, got, tt.name)
		}
		if got := Region(tt.in); got != tt.region {
			t.Errorf("Region(%q) = %q, want %q", tt.in, got, tt.region)
		}
	}
}

// tagPages serves tags in pages of one.
type tagPages []types.Tag

func (p tagPages) ListTagsOfResource(_ context.Context, in *dynamodb.ListTagsOfResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	i := 0
	if in.NextToken != nil {
		i = int((*in.NextToken)[0] - '0')
	}
	out := &dynamodb.ListTagsOfResourceOutput{}
	if i < len(p) {
		out.Tags = p[i : i+1]
	}
	if i+1 < len(p) {
		out.NextToken = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

func TestIsRecoveryReadsEveryPage(t *testing.T) {
	tag := func(k string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String("v")} }
	tests := []struct {
		name string
		tags tagPages
		want bool
	}{
		{"no tags", nil, false},
		{"other tags", tagPages{tag("team"), tag(TagCreatedAt)}, false},
		{"source tag on the last page", tagPages{tag("team"), tag("env"), tag(TagSourceTable)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := IsRecovery(context.Background(), tt.tags, "arn:aws:dynamodb:us-east-1:1:table/t")
			if err != nil || got != tt.want {
				t.Errorf("IsRecovery = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestWindowString: the window names both ends, and the recovery period
// only when DynamoDB returned it.
func TestWindowString(t *testing.T) {
	e, l := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 8, 0, 0, 0, 0, time.UTC)
	for days, want := range map[int32]string{
		0:  "[2026-11-01T00:00:00Z, 2026-11-08T00:00:00Z]",
		1:  "[2026-11-01T00:00:00Z, 2026-11-08T00:00:00Z] (recovery period: 1 day)",
		35: "[2026-11-01T00:00:00Z, 2026-11-08T00:00:00Z] (recovery period: 35 days)",
	} {
		if got := (Window{Earliest: e, Latest: l, Days: days}).String(); got != want {
			t.Errorf("Days %d: %q, want %q", days, got, want)
		}
	}
	if got := (Window{Earliest: e, Latest: l}).Outside(e.Add(time.Hour), l.Add(time.Hour)); got != "" {
		t.Errorf("a time inside the window: %q", got)
	}
}

// TestMessageTimes: messages show times to the second, FormatTime (state
// files, tags, flags) keeps the fraction; a window is narrowed to whole
// seconds so a printed end given back lies inside it, unless it holds no
// whole second; a time outside the window stays outside once printed.
func TestMessageTimes(t *testing.T) {
	at := time.Date(2026, 11, 25, 8, 30, 0, 723_000_000, time.UTC)
	if got := MessageTime(at); got != "2026-11-25T08:30:00Z" {
		t.Errorf("MessageTime = %q", got)
	}
	if got := FormatTime(at); got != "2026-11-25T08:30:00.723Z" {
		t.Errorf("FormatTime = %q: it must keep the fraction (state files, tags)", got)
	}
	e, l := at, at.Add(7*24*time.Hour)
	w := Window{Earliest: e, Latest: l}
	if got, want := w.String(), "[2026-11-25T08:30:01Z, 2026-12-02T08:30:00Z]"; got != want {
		t.Errorf("window %q, want %q", got, want)
	}
	if got, want := (Window{Earliest: at, Latest: at}).String(), "[2026-11-25T08:30:00.723Z, 2026-11-25T08:30:00.723Z]"; got != want {
		t.Errorf("single-instant window %q, want %q", got, want)
	}
	now := l.Add(5 * time.Minute)
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{e.Add(-100 * time.Millisecond), "2026-11-25T08:30:00Z is outside the restorable window [2026-11-25T08:30:01Z, 2026-12-02T08:30:00Z], before its earliest end"},
		{l.Add(100 * time.Millisecond), "2026-12-02T08:30:01Z is outside the restorable window [2026-11-25T08:30:01Z, 2026-12-02T08:30:00Z], after its latest end"},
		{now.Add(time.Hour + 300*time.Millisecond), "2026-12-02T09:35:02Z is in the future (it is now 2026-12-02T08:35:00Z)"},
	} {
		if got := w.Outside(tt.t, now); !strings.HasPrefix(got, tt.want) {
			t.Errorf("Outside(%s) = %q, want %q…", FormatTime(tt.t), got, tt.want)
		}
	}
}
