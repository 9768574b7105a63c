package restore

import (
	"strings"
	"testing"
	"time"
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

func TestDefaultRecoveryName(t *testing.T) {
	at := time.Date(2026, 11, 25, 8, 30, 5, 0, time.FixedZone("CET", 3600))
	if got := DefaultRecoveryName("orders", at); got != "orders-rewind-20261125T073005Z" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("a", 250)
	if got := DefaultRecoveryName(long, at); len(got) != 255 || ValidateTableName("x", got) != nil {
		t.Errorf("long name: %d chars, valid: %v", len(got), ValidateTableName("x", got))
	}
}

func TestValidateNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"orders", true}, {"a.b-c_d", true}, {"ab", false}, {"has space", false}, {strings.Repeat("x", 256), false}, {"ünï", false},
	}
	for _, tt := range tests {
		if err := ValidateTableName("--table", tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateTableName(%q) = %v", tt.name, err)
		}
	}
	arns := []struct {
		arn, table string
		ok         bool
	}{
		{"arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "orders", true},
		{"arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026", "orders", true},
		{"arn:aws:s3:::bucket", "", false},
	}
	for _, tt := range arns {
		err := validateSource(tt.arn)
		if (err == nil) != tt.ok || (tt.ok && TableName(tt.arn) != tt.table) {
			t.Errorf("%s: err %v, name %q", tt.arn, err, TableName(tt.arn))
		}
	}
}

func TestPointValidate(t *testing.T) {
	tests := []struct {
		name string
		p    Point
		ok   bool
	}{
		{"at", Point{At: time.Now()}, true},
		{"ago", Point{Ago: time.Hour}, true},
		{"latest", Point{Latest: true}, true},
		{"none", Point{}, false},
		{"two", Point{Latest: true, Ago: time.Hour}, false},
		{"negative ago", Point{Ago: -time.Hour}, false},
	}
	for _, tt := range tests {
		if err := tt.p.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
