package restore

import (
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/internal/tables"
)

func TestDefaultRecoveryName(t *testing.T) {
	at := time.Date(2026, 11, 25, 8, 30, 5, 0, time.FixedZone("CET", 3600))
	if got := DefaultRecoveryName("orders", at); got != "orders-rewind-20261125T073005Z" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("a", 250)
	if got := DefaultRecoveryName(long, at); len(got) != 255 || tables.ValidateName("x", got) != nil {
		t.Errorf("long name: %d chars, valid: %v", len(got), tables.ValidateName("x", got))
	}
}

func TestValidateNames(t *testing.T) {
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
		if (err == nil) != tt.ok || (tt.ok && tables.Name(tt.arn) != tt.table) {
			t.Errorf("%s: err %v, name %q", tt.arn, err, tables.Name(tt.arn))
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
