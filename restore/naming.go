package restore

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Tag keys that mark a recovery table. list and cleanup trust only these.
const (
	TagSourceTable  = "ddbrewind:source-table"
	TagRestorePoint = "ddbrewind:restore-point"
	TagCreatedAt    = "ddbrewind:created-at"
)

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

// ValidateTableName returns a UsageError when name is not a valid DynamoDB
// table name (3 to 255 characters of a-z, A-Z, 0-9, '_', '-', '.').
func ValidateTableName(flag, name string) error {
	if !tableNameRE.MatchString(name) {
		return usagef("%s %q is not a valid table name: use 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'", flag, name)
	}
	return nil
}

// DefaultRecoveryName returns <table>-rewind-<UTC yyyymmddThhmmssZ of point>,
// shortening the table part so the name stays within 255 characters.
func DefaultRecoveryName(table string, point time.Time) string {
	suffix := "-rewind-" + point.UTC().Format("20060102T150405Z")
	if len(table)+len(suffix) > 255 {
		table = table[:255-len(suffix)]
	}
	return table + suffix
}

// TableName returns the table name of a name or a table ARN
// (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME).
func TableName(nameOrARN string) string {
	if !strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	if i := strings.Index(nameOrARN, ":table/"); i >= 0 {
		name := nameOrARN[i+len(":table/"):]
		if j := strings.IndexByte(name, '/'); j >= 0 {
			name = name[:j]
		}
		return name
	}
	return nameOrARN
}

// TableRegion returns the region of a table ARN, or "" for a name.
func TableRegion(nameOrARN string) string {
	if !strings.HasPrefix(nameOrARN, "arn:") {
		return ""
	}
	parts := strings.SplitN(nameOrARN, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[3]
}

// inSourceRegion returns the call options that send a call about the
// source table to its own region: that of its ARN, which may differ from
// the client's (a cross-region restore). Otherwise DynamoDB would look for
// a table of that name in the client's region.
func inSourceRegion(nameOrARN string) []func(*dynamodb.Options) {
	r := TableRegion(nameOrARN)
	if r == "" {
		return nil
	}
	return []func(*dynamodb.Options){func(o *dynamodb.Options) { o.Region = r }}
}

// validateSource checks a --table value: a valid name or a DynamoDB table ARN.
func validateSource(nameOrARN string) error {
	if strings.HasPrefix(nameOrARN, "arn:") {
		parts := strings.SplitN(nameOrARN, ":", 6)
		if len(parts) != 6 || parts[2] != "dynamodb" || !strings.HasPrefix(parts[5], "table/") {
			return usagef("--table %q is not a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)", nameOrARN)
		}
		return ValidateTableName("--table", TableName(nameOrARN))
	}
	return ValidateTableName("--table", nameOrARN)
}

// FormatTime formats t as RFC 3339 UTC, the format of tags, reports and state.
func FormatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// ParseTime parses an --at value: RFC 3339 (with or without fractional
// seconds) or Unix seconds.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	var secs int64
	if _, err := fmt.Sscanf(s, "%d", &secs); err == nil && fmt.Sprint(secs) == s {
		return time.Unix(secs, 0).UTC(), nil
	}
	return time.Time{}, usagef("--at %q is not a time: use RFC 3339 (2026-11-25T08:30:00Z) or Unix seconds (1795595400)", s)
}
