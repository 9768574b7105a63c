package export

import (
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/poll"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Options configures Prepare and Run.
type Options struct {
	// Table is the table's name or ARN (an ARN of another region exports
	// from that region).
	Table string
	// At asks for a full export of the table as it was at At.
	At time.Time
	// Since asks for incremental exports of the window [Since, Until); a
	// zero Until means the latest time DynamoDB allows
	// (LatestRestorableDateTime).
	Since, Until time.Time
	// Bucket and Prefix say where DynamoDB writes the files:
	// s3://Bucket/Prefix/AWSDynamoDB/<export id>/. Prefix may be empty.
	Bucket, Prefix string
	// BucketOwner is the account id that owns Bucket, needed when it is
	// another account's.
	BucketOwner string
	// KMSKey has the files encrypted with SSE-KMS under that key; empty
	// means SSE-S3 (AES256).
	KMSKey string
	// Wait makes Run wait until every export is COMPLETED, at most Timeout
	// (default 12h) for all of them.
	Wait    bool
	Timeout time.Duration
	// Poll is the wait's polling schedule; zero means poll.Default.
	Poll poll.Schedule
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// Manifests, when set, checks each export once it is COMPLETED: its
	// manifest-summary.json must exist in S3; when S3 says it does not (some
	// emulators, moto, complete exports without writing their files),
	// Logger gets a warning and the Task is marked ManifestMissing. Any
	// other answer (denied, unreachable) is logged at debug level: the
	// check is advice, DynamoDB's COMPLETED is what counts.
	Manifests ObjectChecker
	// Described is the table's description when the caller has it already
	// (run --since describes the main table once for all its steps): then
	// Prepare does not describe it again. Table must then be a name in the
	// client's region.
	Described *types.TableDescription
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout == 0 {
		o.Timeout = 12 * time.Hour
	}
	if o.Poll == (poll.Schedule{}) {
		o.Poll = poll.Default
	}
}

// incremental reports whether the options ask for incremental exports.
func (o *Options) incremental() bool { return !o.Since.IsZero() }

// validate checks everything that needs no AWS call.
func (o *Options) validate() error {
	if err := validateTable(o.Table); err != nil {
		return err
	}
	switch {
	case o.At.IsZero() == o.Since.IsZero():
		return usage.Errorf("give exactly one of --at TIME (a full export of the table at TIME) or --since TIME (incremental exports of what changed since TIME)")
	case !o.Until.IsZero() && o.Since.IsZero():
		return usage.Errorf("--until goes with --since (incremental exports); a full export takes --at")
	case !o.Until.IsZero() && !o.Since.Before(o.Until):
		return usage.Errorf("--since %s is not before --until %s: give a window that starts before it ends",
			tables.FormatTime(o.Since), tables.FormatTime(o.Until))
	}
	if err := ValidateBucket(o.Bucket); err != nil {
		return err
	}
	if err := validatePrefix(o.Prefix); err != nil {
		return err
	}
	if err := ValidateBucketOwner(o.BucketOwner); err != nil {
		return err
	}
	if len(o.KMSKey) > 2048 {
		return usage.Errorf("--sse-kms-key is %d characters long: a KMS key id, ARN or alias has at most 2048", len(o.KMSKey))
	}
	if o.Timeout < 0 {
		return usage.Errorf("--timeout %s must be positive", o.Timeout)
	}
	return nil
}

var (
	ownerRE  = regexp.MustCompile(`^[0-9]{12}$`)
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// ValidateBucket returns a *usage.Error when name is not a valid name of an
// S3 general purpose bucket: 3 to 63 characters of a-z, 0-9, '.' and '-',
// starting and ending with a letter or digit, no "..", not an IP address.
// Legacy names (capitals or '_', which us-east-1 accepted before March 2018)
// are refused too. Checking before the export starts matters: DynamoDB
// accepts any name and the export fails only later, when it writes.
func ValidateBucket(name string) error {
	switch {
	case strings.HasPrefix(name, "s3://"):
		return usage.Errorf("--s3-bucket %q: give the bucket's name alone (without s3://), and the path in it with --s3-prefix", name)
	case strings.Contains(name, "/"):
		return usage.Errorf("--s3-bucket %q: give the bucket's name alone, and the path in it with --s3-prefix", name)
	case !bucketRE.MatchString(name) || strings.Contains(name, ".."):
		return usage.Errorf("--s3-bucket %q is not a valid S3 bucket name: use 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit", name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return usage.Errorf("--s3-bucket %q is an IP address, not an S3 bucket name", name)
	}
	return nil
}

// validatePrefix refuses an S3 prefix DynamoDB would not take, or one
// whose files would land somewhere unexpected.
func validatePrefix(p string) error {
	switch {
	case len(p) > 1024:
		return usage.Errorf("--s3-prefix is %d characters long: DynamoDB takes at most 1024", len(p))
	case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/"):
		return usage.Errorf("--s3-prefix %q: give it without a leading or trailing '/' (e.g. exports/orders): DynamoDB adds /AWSDynamoDB/<export id>/ after it, and a trailing '/' would make an empty path segment", p)
	case strings.Contains(p, "//"):
		return usage.Errorf("--s3-prefix %q has an empty path segment (//)", p)
	}
	return nil
}

// validateTable checks a --table value: a valid name or a DynamoDB table
// ARN.
func validateTable(nameOrARN string) error {
	if strings.HasPrefix(nameOrARN, "arn:") {
		parts := strings.SplitN(nameOrARN, ":", 6)
		if len(parts) != 6 || parts[2] != "dynamodb" || !strings.HasPrefix(parts[5], "table/") || strings.Contains(parts[5][len("table/"):], "/") {
			return usage.Errorf("--table %q is not a DynamoDB table ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME)", nameOrARN)
		}
	}
	return tables.ValidateName("--table", tables.Name(nameOrARN))
}

// describe says which export a spec is, for logs and errors.
func describe(full bool, at time.Time, w Window) string {
	if full {
		return fmt.Sprintf("full export at %s", tables.FormatTime(at))
	}
	return fmt.Sprintf("incremental export of [%s, %s)", tables.FormatTime(w.From), tables.FormatTime(w.To))
}

// ValidateBucketOwner refuses a --s3-bucket-owner that is not an AWS
// account id (12 digits); empty is accepted (not given).
func ValidateBucketOwner(owner string) error {
	if owner != "" && !ownerRE.MatchString(owner) {
		return usage.Errorf("--s3-bucket-owner %q is not an AWS account id: give the 12 digits of the account that owns the bucket", owner)
	}
	return nil
}
