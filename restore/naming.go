package restore

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// DefaultRecoveryName returns <table>-rewind-<UTC yyyymmddThhmmssZ of point>,
// shortening the table part so the name stays within 255 characters.
func DefaultRecoveryName(table string, point time.Time) string {
	suffix := "-rewind-" + point.UTC().Format("20060102T150405Z")
	if len(table)+len(suffix) > 255 {
		table = table[:255-len(suffix)]
	}
	return table + suffix
}

// inSourceRegion returns the call options that send a call about the
// source table to its own region: that of its ARN, which may differ from
// the client's (a cross-region restore). Otherwise DynamoDB would look for
// a table of that name in the client's region.
func inSourceRegion(nameOrARN string) []func(*dynamodb.Options) {
	r := tables.Region(nameOrARN)
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
			return usage.Errorf("--table %q is not a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)", nameOrARN)
		}
		return tables.ValidateName("--table", tables.Name(nameOrARN))
	}
	return tables.ValidateName("--table", nameOrARN)
}
