package copier

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// MainTable is what DynamoDB does around the main table's data that a
// copy's writes meet (the contract's "Production tables"): its TTL
// attribute, its stream, and the Regions of its replicas. The
// confirmation and the dry-run plan say it; the report keeps it.
type MainTable struct {
	// TTLAttribute is the main table's TTL attribute (empty: TTL is
	// off). An item whose attribute is a Number of epoch seconds in the
	// past has expired: DynamoDB deletes it again.
	TTLAttribute string `json:"ttl_attribute,omitempty"`
	// SkipExpired: expired items are left out (--skip-expired).
	SkipExpired bool `json:"skip_expired,omitempty"`
	// StreamViewType is the view type of the table's DynamoDB stream
	// (empty: no stream); StreamARN its latest stream.
	StreamViewType string `json:"stream_view_type,omitempty"`
	StreamARN      string `json:"stream_arn,omitempty"`
	// ReplicaRegions are the Regions of the table's global-table replicas
	// other than the one written, sorted.
	ReplicaRegions []string `json:"replica_regions,omitempty"`
	// KinesisStreamARNs are the Kinesis data streams the table streams
	// its changes to (its Kinesis Data Streams destinations that are
	// ACTIVE, ENABLING or UPDATING), sorted.
	KinesisStreamARNs []string `json:"kinesis_stream_arns,omitempty"`
	// KinesisUnread: the destinations could not be read, for want of
	// dynamodb:DescribeKinesisStreamingDestination (AccessDenied).
	KinesisUnread bool `json:"kinesis_unread,omitempty"`
	// ReplicasUnread: whether the table is a global table version
	// 2017.11.29 could not be read, for want of
	// dynamodb:DescribeGlobalTable (AccessDenied).
	ReplicasUnread bool `json:"replicas_unread,omitempty"`
	// window: the copy rewinds an incremental window (its TTL note is
	// about the start images).
	window bool
}

// empty reports whether nothing is worth saying.
func (m MainTable) empty() bool {
	return m.TTLAttribute == "" && m.StreamViewType == "" && len(m.ReplicaRegions) == 0 &&
		len(m.KinesisStreamARNs) == 0 && !m.KinesisUnread && !m.ReplicasUnread
}

// optionalRead is a read of the main table a copy can do without, to say
// what its writes reach: if the caller may not make it, the copy goes on
// and says so.
type optionalRead struct {
	op         string // the operation
	what       string // what it reads, for an error
	permission string // what it needs, for the warning and the error
	warning    string // logged when the permission is missing
	none       string // what an endpoint that does not serve op has
}

// answered sorts the read's error: none, ok to go on with its answer;
// AccessDenied, the warning and denied; an endpoint that does not serve
// the operation (an emulator: dynalite answers UnknownOperationException,
// moto an HTML error page), nothing to say; any other error is returned.
func (r optionalRead) answered(err error, table, verb string, log *slog.Logger) (ok, denied bool, rerr error) {
	switch {
	case err == nil:
		return true, false, nil
	case accessDenied(err):
		log.Warn(r.warning, "table", table, "permission", r.permission, "error", err.Error())
		return false, true, nil
	case notServed(err):
		log.Debug("the endpoint does not serve "+r.op+": "+r.none, "table", table, "error", err.Error())
		return false, false, nil
	}
	return false, false, fmt.Errorf("%s: read %s of %s (%s, see docs/iam.md): %w", verb, r.what, table, r.permission, err)
}

// The optional reads of a copy (read-only values).
var (
	kinesisRead = optionalRead{op: "DescribeKinesisStreamingDestination", what: "the Kinesis Data Streams destination",
		permission: kinesisAction, none: "no Kinesis destination",
		warning: "cannot read the main table's Kinesis Data Streams destination: if it streams to Kinesis, each write and delete reaches that stream too"}
	legacyReplicasRead = optionalRead{op: "DescribeGlobalTable", what: "the global table version 2017.11.29",
		permission: globalTableAction, none: "no global table version 2017.11.29",
		warning: "cannot read whether the main table is a global table version 2017.11.29: if it is, each write and delete replicates to its other Regions too"}
)

// kinesisAction is the permission DescribeKinesisStreamingDestination
// needs: the note names it when it is missing.
const kinesisAction = "dynamodb:DescribeKinesisStreamingDestination"

// readKinesis returns the ARNs of the Kinesis data streams table streams
// its changes to (its destinations that are ACTIVE, ENABLING or UPDATING —
// UPDATING only changes their timestamps' precision), sorted. denied: the
// caller may not read them (AccessDenied), which does not stop a copy. An
// endpoint that does not serve the operation (an emulator: dynalite answers
// UnknownOperationException, moto an HTML error page) has none: it is asked
// once, not retried. Any other error is returned.
func readKinesis(ctx context.Context, api API, table, verb string, log *slog.Logger) (arns []string, denied bool, err error) {
	out, err := api.DescribeKinesisStreamingDestination(ctx, &dynamodb.DescribeKinesisStreamingDestinationInput{TableName: aws.String(table)}, notRetryingUnserved)
	if ok, denied, err := kinesisRead.answered(err, table, verb, log); !ok {
		return nil, denied, err
	}
	for _, d := range out.KinesisDataStreamDestinations {
		switch d.DestinationStatus {
		case types.DestinationStatusActive, types.DestinationStatusEnabling, types.DestinationStatusUpdating:
			if arn := aws.ToString(d.StreamArn); arn != "" && !slices.Contains(arns, arn) {
				arns = append(arns, arn)
			}
		}
	}
	slices.Sort(arns)
	return arns, false, nil
}

// globalTableAction is the permission DescribeGlobalTable needs, on the
// global table (arn:aws:dynamodb::ACCOUNT:global-table/NAME, no Region):
// the warning names it when it is missing.
const globalTableAction = "dynamodb:DescribeGlobalTable"

// readLegacyReplicas returns the Regions of the replicas of table when it
// is a global table version 2017.11.29 (legacy, made with
// CreateGlobalTable), other than here (the Region written), sorted.
// DescribeTable's Replicas do not name them; DescribeGlobalTable's
// ReplicationGroup does (AWS's "Determining the version of a global
// table"). A table that is none (GlobalTableNotFoundException) has none.
// The caller may not be allowed to read it (AccessDenied): a warning is
// logged, denied is true, and the copy is not stopped. An endpoint that does not serve the
// operation (an emulator) has none: it is asked once, not retried. Any
// other error is returned.
func readLegacyReplicas(ctx context.Context, api API, table, here, verb string, log *slog.Logger) (regions []string, denied bool, err error) {
	out, err := api.DescribeGlobalTable(ctx, &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String(table)}, notRetryingUnserved)
	if awserr.Code(err) == "GlobalTableNotFoundException" {
		return nil, false, nil
	}
	if ok, denied, err := legacyReplicasRead.answered(err, table, verb, log); !ok {
		return nil, denied, err
	}
	var names []string
	if d := out.GlobalTableDescription; d != nil {
		for _, r := range d.ReplicationGroup {
			names = append(names, aws.ToString(r.RegionName))
		}
	}
	return otherRegions(nil, here, names...), false, nil
}

// otherRegions returns regions with names added, but for empty names and
// here, without duplicates, sorted.
func otherRegions(regions []string, here string, names ...string) []string {
	for _, name := range names {
		if name != "" && name != here && !slices.Contains(regions, name) {
			regions = append(regions, name)
		}
	}
	slices.Sort(regions)
	return regions
}

// accessDenied reports whether err is DynamoDB's refusal for want of a
// permission.
func accessDenied(err error) bool {
	switch awserr.Code(err) {
	case "AccessDeniedException", "AccessDenied":
		return true
	}
	return false
}

// notServed reports whether err says the endpoint does not serve the
// operation: UnknownOperationException, or an answer that is no DynamoDB
// response at all (an emulator's HTML error page).
func notServed(err error) bool {
	if awserr.Code(err) == "UnknownOperationException" {
		return true
	}
	var de *smithy.DeserializationError
	return errors.As(err, &de)
}

// notRetryingUnserved makes the call's retryer give up at once on an
// endpoint that does not serve the operation (notServed); other errors
// are retried as usual.
func notRetryingUnserved(o *dynamodb.Options) {
	if r, ok := o.Retryer.(aws.RetryerV2); ok {
		o.Retryer = unservedRetryer{r}
	}
}

// unservedRetryer is a retryer that does not retry notServed errors.
type unservedRetryer struct{ aws.RetryerV2 }

// IsErrorRetryable is false for notServed errors, the wrapped retryer's
// answer otherwise.
func (r unservedRetryer) IsErrorRetryable(err error) bool {
	return !notServed(err) && r.RetryerV2.IsErrorRetryable(err)
}

// streamName returns the name of the Kinesis data stream arn names
// (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME), or arn itself.
func streamName(arn string) string {
	if i := strings.LastIndex(arn, ":stream/"); i >= 0 && strings.HasPrefix(arn, "arn:") {
		return arn[i+len(":stream/"):]
	}
	return arn
}

// readTTL returns the main table's TTL attribute (empty: TTL off or being
// disabled).
func readTTL(ctx context.Context, api API, table, verb string) (string, error) {
	out, err := api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return "", fmt.Errorf("%s: read the TTL setting of %s (dynamodb:DescribeTimeToLive, see docs/iam.md): %w", verb, table, err)
	}
	d := out.TimeToLiveDescription
	if d == nil {
		return "", nil
	}
	switch d.TimeToLiveStatus {
	case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
		return aws.ToString(d.AttributeName), nil
	}
	return "", nil
}

// mainTableOf reads what t's description says about its stream and its
// replicas (the Regions other than its own, which its ARN names: the one
// the copy writes in).
func mainTableOf(t *types.TableDescription) MainTable {
	var m MainTable
	if s := t.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		m.StreamViewType = string(s.StreamViewType)
		m.StreamARN = aws.ToString(t.LatestStreamArn)
	}
	var names []string
	for _, r := range t.Replicas {
		names = append(names, aws.ToString(r.RegionName))
	}
	m.ReplicaRegions = otherRegions(nil, tables.Region(aws.ToString(t.TableArn)), names...)
	return m
}

// MainTable returns what the job learned about its main table: its
// replicas are those its description names and, for a global table
// version 2017.11.29, those DescribeGlobalTable named.
func (j *Job) MainTable() MainTable {
	m := mainTableOf(j.target)
	m.ReplicaRegions = otherRegions(m.ReplicaRegions, tables.Region(aws.ToString(j.target.TableArn)), j.legacyReplicas...)
	m.TTLAttribute, m.SkipExpired, m.window = j.ttl, j.opts.SkipExpired && j.ttl != "", j.window
	m.KinesisStreamARNs, m.KinesisUnread = slices.Clone(j.kinesis), j.kinesisUnread
	m.ReplicasUnread = j.replicasUnread
	return m
}

// MainTable returns what the plan's job learned about its main table.
func (p *Plan) MainTable() MainTable { return p.job.MainTable() }

// Notes returns the job's Notes for a confirmation made before its source
// exists (run): the writes to expect are the keys of a keys file, or the
// main table's item count (DynamoDB's, refreshed about every six hours)
// for the whole table; unknown for a key range, a filter or an
// incremental window.
func (j *Job) Notes() string {
	var n int64
	sel := j.opts.Selection
	switch {
	case j.window:
	case j.keysFile != nil:
		n = int64(j.keysFile.keys)
	case sel.KeyCondition == "" && sel.Filter == "":
		n = aws.ToInt64(j.target.ItemCount)
	}
	return j.MainTable().Notes(j.opts.To, n)
}

// Notes returns the sentences a confirmation (or a dry run's plan) adds
// about the main table, joined with "; " (empty: nothing to say). writes
// is how many writes and deletes to expect (0: unknown).
func (m MainTable) Notes(table string, writes int64) string {
	var parts []string
	if m.StreamViewType != "" {
		n := ""
		if writes > 0 {
			n = fmt.Sprintf(": expect up to about %s stream records", countText(writes))
		}
		parts = append(parts, fmt.Sprintf("%s has a stream (%s): each write and delete will reach its consumers (Lambda triggers, replicas, pipelines)%s", table, m.StreamViewType, n))
	}
	switch {
	case len(m.KinesisStreamARNs) > 0:
		names := make([]string, len(m.KinesisStreamARNs))
		for i, arn := range m.KinesisStreamARNs {
			names[i] = streamName(arn)
		}
		what, it := "stream", "that stream and its consumers"
		if len(names) > 1 {
			what, it = "streams", "those streams and their consumers"
		}
		n := ""
		if writes > 0 {
			n = fmt.Sprintf(": expect up to about %s Kinesis records", countText(writes))
		}
		parts = append(parts, fmt.Sprintf("%s streams to Kinesis (%s %s): each write and delete will also reach %s%s", table, what, strings.Join(names, ", "), it, n))
	case m.KinesisUnread:
		parts = append(parts, fmt.Sprintf("the Kinesis Data Streams destination of %s could not be read (missing permission %s): if it streams to Kinesis, each write and delete reaches that stream too", table, kinesisAction))
	}
	switch {
	case len(m.ReplicaRegions) > 0:
		parts = append(parts, fmt.Sprintf("%s is a global table: the writes replicate to %s (the last writer wins there)", table, strings.Join(m.ReplicaRegions, ", ")))
	case m.ReplicasUnread:
		parts = append(parts, fmt.Sprintf("whether %s is a global table version 2017.11.29 could not be read (missing permission %s): if it is, each write and delete replicates to its other Regions too", table, globalTableAction))
	}
	switch {
	case m.TTLAttribute != "" && m.SkipExpired:
		parts = append(parts, fmt.Sprintf("items whose TTL attribute %s has passed are left out (--skip-expired)", m.TTLAttribute))
	case m.TTLAttribute != "" && m.window:
		parts = append(parts, fmt.Sprintf("items put back as they were at the start whose TTL attribute %s has passed (TTL deleted them in the window) are recreated, and DynamoDB deletes them again (add --skip-expired to leave them out)", m.TTLAttribute))
	case m.TTLAttribute != "":
		parts = append(parts, fmt.Sprintf("items whose TTL attribute %s has passed are written back, and DynamoDB deletes them again (add --skip-expired to leave them out)", m.TTLAttribute))
	}
	return strings.Join(parts, "; ")
}

// replicationPrefix starts the attributes DynamoDB manages for global
// tables version 2017.11.29 (aws:rep:deleting, aws:rep:updateregion,
// aws:rep:updatetime): never copied back.
const replicationPrefix = "aws:rep:"

// stripReplication returns item without its aws:rep:* attributes (item
// itself when it has none: the source's map is not modified).
func stripReplication(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	has := false
	for name := range item {
		if strings.HasPrefix(name, replicationPrefix) {
			has = true
			break
		}
	}
	if !has {
		return item
	}
	out := make(map[string]types.AttributeValue, len(item))
	for name, v := range item {
		if !strings.HasPrefix(name, replicationPrefix) {
			out[name] = v
		}
	}
	return out
}

// sameCopied reports whether a and b are the same item as a copy sees it:
// equal but for the aws:rep:* attributes, which a copy never writes and
// DynamoDB sets on its own.
func sameCopied(a, b map[string]types.AttributeValue) bool {
	return itemeq.Items(stripReplication(a), stripReplication(b))
}

// ttlHorizonYears is how far in the past a TTL may be and still be processed:
// DynamoDB's TTL ignores an item whose expiration time is more than five
// years in the past (a 0 or a small sentinel meaning "never" among them),
// and never deletes it.
const ttlHorizonYears = 5

// expired reports whether item's TTL attribute ttl is a Number of epoch
// seconds before now, and not more than five years before it (DynamoDB
// ignores such an item: it keeps it, so a copy must too).
func expired(item map[string]types.AttributeValue, ttl string, now time.Time) bool {
	if ttl == "" {
		return false
	}
	n, ok := item[ttl].(*types.AttributeValueMemberN)
	if !ok {
		return false
	}
	f, _, err := big.ParseFloat(n.Value, 10, 128, big.ToNearestEven)
	if err != nil {
		return false
	}
	oldest := new(big.Float).SetInt64(now.AddDate(-ttlHorizonYears, 0, 0).Unix())
	return f.Cmp(new(big.Float).SetInt64(now.Unix())) < 0 && f.Cmp(oldest) >= 0
}

// mainTableSink is the one place every item a copy writes passes through,
// whatever its source (table, keys file, export, incremental window) and
// write mode: it strips the aws:rep:* attributes, counts the items whose
// TTL has passed (Expired) and, with skip, leaves them out (no longer
// matched: nothing is written for them). A diff that verifies such a copy
// leaves them out too, and compares the items as read (noStrip).
type mainTableSink struct {
	next    sink
	ttl     string
	skip    bool
	noStrip bool
	now     func() time.Time
	x       *executor // its ledger counts the expired items
}

func (s *mainTableSink) handle(ctx context.Context, rng *rand.Rand, b *batch) error {
	if b.kind != kindItems {
		return s.next.handle(ctx, rng, b)
	}
	now := s.now()
	kept := b.items[:0]
	var n int64
	for _, it := range b.items {
		if expired(it, s.ttl, now) {
			n++
			if s.skip {
				continue
			}
		}
		if !s.noStrip {
			it = stripReplication(it)
		}
		kept = append(kept, it)
	}
	if n > 0 {
		s.x.expired(n, s.skip)
	}
	b.items = kept
	if len(kept) == 0 {
		return nil
	}
	return s.next.handle(ctx, rng, b)
}
