// Package tables holds the small facts about DynamoDB tables that several
// packages share: valid table names, table ARNs, the time format of tags,
// reports and state, and ddbrewind's recovery-table tags. It makes no call
// but ListTagsOfResource, and decides nothing about restoring or copying.
package tables

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Tag keys that mark a recovery table. list and cleanup trust only these;
// copy refuses to write into a table that has TagSourceTable. A recovery
// table restored from a backup also has TagBackupARN (the DynamoDB backup
// or AWS Backup recovery point it came from), and its TagRestorePoint is
// the backup's creation time.
const (
	TagSourceTable  = "ddbrewind:source-table"
	TagRestorePoint = "ddbrewind:restore-point"
	TagCreatedAt    = "ddbrewind:created-at"
	TagBackupARN    = "ddbrewind:backup-arn"
)

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

// ValidateName returns a *usage.Error when name is not a valid DynamoDB
// table name (3 to 255 characters of a-z, A-Z, 0-9, '_', '-', '.'); flag
// names where it came from.
func ValidateName(flag, name string) error {
	if !nameRE.MatchString(name) {
		return usage.Errorf("%s %q is not a valid table name: use 3 to 255 characters of a-z, A-Z, 0-9, '_', '-' and '.'", flag, name)
	}
	return nil
}

// Name returns the table name of a name or a table ARN
// (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME).
func Name(nameOrARN string) string {
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

// Region returns the region of a table ARN, or "" for a name.
func Region(nameOrARN string) string {
	if !strings.HasPrefix(nameOrARN, "arn:") {
		return ""
	}
	parts := strings.SplitN(nameOrARN, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[3]
}

// FormatTime formats t as RFC 3339 UTC, the format of tags, reports and state.
// It keeps every fractional digit, so a time read back is the same time:
// use it wherever the text is read again (state files and the flags they
// record, tags, reports, commands printed to be run, log attributes).
func FormatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// MessageTime formats t for a sentence a person reads (an error, a
// confirmation, a result line): RFC 3339 UTC to the second, the fraction
// dropped (2026-11-25T08:30:00Z for 08:30:00.723). Never for text that is
// read back (see FormatTime).
func MessageTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// MessageTimeUp is MessageTime rounding up to the next whole second:
// for a bound that must not be crossed when printed (a window's earliest
// end, a time after its latest end, a lease's expiry to wait for).
func MessageTimeUp(t time.Time) string {
	if f := t.Truncate(time.Second); !f.Equal(t) {
		t = f.Add(time.Second)
	}
	return MessageTime(t)
}

// ParseTime parses an --at value: RFC 3339 (with or without fractional
// seconds) or Unix seconds.
func ParseTime(s string) (time.Time, error) { return ParseTimeFlag("--at", s) }

// ParseTimeFlag parses a time given to flag (--at, --backup-before…):
// RFC 3339 (with or without fractional seconds) or Unix seconds. Its error,
// a *usage.Error, names the flag.
func ParseTimeFlag(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	var secs int64
	if _, err := fmt.Sscanf(s, "%d", &secs); err == nil && fmt.Sprint(secs) == s {
		return time.Unix(secs, 0).UTC(), nil
	}
	return time.Time{}, usage.Errorf("%s %q is not a time: use RFC 3339 (2026-11-25T08:30:00Z) or Unix seconds (1795595400)", flag, s)
}

// TagLister is the one call Tags needs.
type TagLister interface {
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
}

// Tags returns all tags of a table ARN.
func Tags(ctx context.Context, api TagLister, arn string) (map[string]string, error) {
	tags := map[string]string{}
	in := &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}
	for {
		out, err := api.ListTagsOfResource(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if out.NextToken == nil {
			return tags, nil
		}
		in.NextToken = out.NextToken
	}
}

// IsRecovery reports whether the table carries ddbrewind's recovery tag.
func IsRecovery(ctx context.Context, api TagLister, arn string) (bool, error) {
	tags, err := Tags(ctx, api, arn)
	if err != nil {
		return false, err
	}
	_, ok := tags[TagSourceTable]
	return ok, nil
}

// Window is a table's point-in-time restorable window, as
// DescribeContinuousBackups returns it.
type Window struct {
	Earliest, Latest time.Time // EarliestRestorableDateTime, LatestRestorableDateTime
	// Days is the recovery period (RecoveryPeriodInDays, 1 to 35), 0 when
	// DynamoDB did not return it.
	Days int32
}

// String formats w for messages: "[EARLIEST, LATEST]", followed by
// " (recovery period: 35 days)" when the period is known. The ends are
// to the second, the window narrowed to whole seconds (EARLIEST rounded
// up, LATEST down) so that either printed end, given back, lies inside it;
// a window holding no whole second (moto's single instant) is printed
// exactly.
func (w Window) String() string {
	from, to := MessageTimeUp(w.Earliest), MessageTime(w.Latest)
	if from > to { // RFC 3339 UTC to the second sorts as text
		from, to = FormatTime(w.Earliest), FormatTime(w.Latest)
	}
	s := "[" + from + ", " + to + "]"
	switch {
	case w.Days == 1:
		s += " (recovery period: 1 day)"
	case w.Days > 1:
		s += fmt.Sprintf(" (recovery period: %d days)", w.Days)
	}
	return s
}

// Outside says, for a refusal, where t lies against w and now: "in the
// future" (after now and after the window's end), before the earliest end,
// or after the latest end (which trails now by a few minutes); it returns
// "" when t lies inside w. The text starts with t and names both ends.
func (w Window) Outside(t, now time.Time) string {
	switch {
	case t.After(now) && t.After(w.Latest):
		return fmt.Sprintf("%s is in the future (it is now %s): the restorable window is %s, ending a few minutes ago",
			MessageTimeUp(t), MessageTime(now), w)
	case t.Before(w.Earliest):
		return fmt.Sprintf("%s is outside the restorable window %s, before its earliest end", MessageTime(t), w)
	case t.After(w.Latest):
		return fmt.Sprintf("%s is outside the restorable window %s, after its latest end (which trails now by a few minutes)", MessageTimeUp(t), w)
	}
	return ""
}
