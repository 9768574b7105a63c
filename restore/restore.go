package restore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/backoff"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Point says which restore point the user asked for: exactly one of At, Ago
// or Latest (point-in-time recovery), Backup or BackupBefore (a backup).
type Point struct {
	At     time.Time
	Ago    time.Duration
	Latest bool
	// Backup is a backup ARN: a DynamoDB on-demand backup
	// (arn:aws:dynamodb:…:table/T/backup/…), restored by DynamoDB, or an AWS
	// Backup recovery point (arn:aws:backup:…:recovery-point:…), restored
	// through AWS Backup.
	Backup string
	// BackupBefore picks the newest available backup of the table created
	// at or before it.
	BackupBefore time.Time
}

// FromBackup reports whether the point is a backup rather than a time of
// point-in-time recovery.
func (p Point) FromBackup() bool { return p.Backup != "" || !p.BackupBefore.IsZero() }

// Validate checks that exactly one way to name the restore point was given.
func (p Point) Validate() error {
	n := 0
	for _, given := range []bool{!p.At.IsZero(), p.Ago != 0, p.Latest, p.Backup != "", !p.BackupBefore.IsZero()} {
		if given {
			n++
		}
	}
	if n != 1 {
		return usage.Errorf("give exactly one of --at TIME, --ago DURATION, --latest, --backup ARN or --backup-before TIME (got %d)", n)
	}
	if p.Backup != "" {
		if _, _, err := parseBackupARN(p.Backup); err != nil {
			return err
		}
	}
	if p.Ago < 0 {
		return usage.Errorf("--ago %s must be positive, e.g. --ago 90m", p.Ago)
	}
	return nil
}

// Options configures Restore.
type Options struct {
	// Table is the source table's name or ARN (an ARN from another region
	// restores cross-region).
	Table string
	// Point is the restore point.
	Point Point
	// RecoveryTable is the new table's name; empty means DefaultRecoveryName.
	RecoveryTable string
	// BillingMode is PAY_PER_REQUEST (default) or PROVISIONED.
	BillingMode types.BillingMode
	// ReadCapacity and WriteCapacity are used with PROVISIONED.
	ReadCapacity, WriteCapacity int64
	// Indexes is "none" (default), "all" or a comma-separated list of
	// secondary index names to restore.
	Indexes string
	// SSEKMSKey is a KMS key id for the new table's encryption; empty keeps
	// the default.
	SSEKMSKey string
	// Tags are the user's extra tags.
	Tags map[string]string
	// IfExists says what to do when the recovery table already exists:
	// IfExistsFail (default) refuses; IfExistsAdopt takes it over when it is
	// a restore of the same table to the same point (a retried job whose
	// first attempt started the restore), tags it and waits for it.
	IfExists string
	// ExistsHint, when set, says how to go on with an existing recovery
	// table (recovery) instead of --if-exists adopt, for a caller without
	// that flag (run); it follows "pick another --recovery-table, delete it
	// with ddbrewind cleanup --recovery-table R, or ".
	ExistsHint func(recovery string) string
	// RetryHint, when set, says how to take over a restore that started
	// but whose wait failed (an AWS Backup restore job that failed or timed
	// out), instead of "run the same command with --if-exists adopt to tag
	// the table (and wait for it)", for a caller without that flag (run,
	// which resumes from its --state and adopts the restore).
	RetryHint string
	// Wait makes Restore wait until the table is ACTIVE, at most Timeout.
	Wait    bool
	Timeout time.Duration
	// Poll configures the wait's polling; zero means DefaultPoll.
	Poll Poll
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives progress; nil discards.
	Logger *slog.Logger
	// BackupRoleARN is the IAM role AWS Backup assumes to restore a recovery
	// point (Point.Backup an arn:aws:backup: ARN); unused otherwise.
	BackupRoleARN string
	// Backup is the AWS Backup client, needed to restore a recovery point
	// only.
	Backup BackupAPI
	// Described is the source table's description when the caller has it
	// already (run describes the main table once for all its steps): then
	// Prepare and Adopt do not describe it again. Table must then be a name
	// in the client's region.
	Described *types.TableDescription
}

// Values of Options.IfExists.
const (
	IfExistsFail  = "fail"
	IfExistsAdopt = "adopt"
)

// Result describes a started (and, with Wait, finished) restore.
type Result struct {
	// SourceTable is the source table's name.
	SourceTable string
	// RecoveryTable and RecoveryARN name the new table.
	RecoveryTable, RecoveryARN string
	// RestorePoint is the resolved restore time: for a restore from a
	// backup, the backup's creation time.
	RestorePoint time.Time
	// BackupARN is the backup restored from, "" for a point-in-time restore.
	BackupARN string
	// Status is the recovery table's last seen status.
	Status types.TableStatus
	// Adopted is true when the restore had been started before (see
	// Options.IfExists) and was taken over rather than started.
	Adopted bool
}

// Plan is a validated restore, ready to start.
type Plan struct {
	opts      Options
	source    *types.TableDescription
	point     time.Time
	recovery  string
	earliest  time.Time
	latest    time.Time
	sourceARN string
	// existing is the recovery table to adopt (Options.IfExists); nil
	// starts a new restore.
	existing *types.TableDescription
	// backup is the backup restored from; nil for point-in-time recovery.
	backup *backupSource
	// explicit holds the options the caller set, before defaults: an AWS
	// Backup restore refuses those it cannot apply.
	explicit struct {
		indexes string
		billing types.BillingMode
	}
}

// RestorePoint returns the resolved restore time.
func (p *Plan) RestorePoint() time.Time { return p.point }

// RecoveryTable returns the name the recovery table will have.
func (p *Plan) RecoveryTable() string { return p.recovery }

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BillingMode == "" {
		o.BillingMode = types.BillingModePayPerRequest
	}
	if o.Indexes == "" {
		o.Indexes = "none"
	}
	if o.Timeout == 0 {
		o.Timeout = 12 * time.Hour
	}
	if o.Poll == (Poll{}) {
		o.Poll = DefaultPoll
	}
	if o.IfExists == "" {
		o.IfExists = IfExistsFail
	}
}

// Prepare runs every preflight check (valid names, exactly one restore
// point, PITR enabled and the time inside the restorable window — or the
// backup available and a backup of the table —, recovery table absent, index
// names known) without creating anything.
func Prepare(ctx context.Context, api API, opts Options) (*Plan, error) {
	explicitIndexes, explicitBilling := opts.Indexes, opts.BillingMode
	if opts.ReadCapacity != 0 || opts.WriteCapacity != 0 {
		explicitBilling = types.BillingModeProvisioned
	}
	opts.defaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	src := tables.Name(opts.Table)
	dt, err := describeSource(ctx, api, opts)
	if err != nil {
		if isNotFound(err) {
			return nil, usage.Errorf("restore %s: table not found (check --table, --region and --endpoint-url)", src)
		}
		return nil, fmt.Errorf("restore %s: describe source table: %w", src, err)
	}
	p := &Plan{opts: opts, source: dt.Table, sourceARN: aws.ToString(dt.Table.TableArn)}
	p.explicit.indexes, p.explicit.billing = explicitIndexes, explicitBilling
	if opts.Point.FromBackup() {
		if err := p.resolveBackup(ctx, api); err != nil {
			return nil, err
		}
		p.point = p.backup.created
	} else if err := p.resolveTime(ctx, api); err != nil {
		return nil, err
	}
	p.recovery = opts.RecoveryTable
	if p.recovery == "" {
		p.recovery = DefaultRecoveryName(src, p.point)
	}
	if p.recovery == src {
		return nil, usage.Errorf("--recovery-table %s is the source table: pick another name", p.recovery)
	}
	if err := p.checkRecoveryTable(ctx, api); err != nil {
		return nil, err
	}
	if p.backup == nil || p.backup.kind == kindDynamoDB {
		if _, _, err := p.indexOverrides(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// validate makes the checks of Prepare that need no AWS call: the names,
// exactly one restore point, --if-exists, the billing mode and its
// capacities, the tags, and a backup in the table's region.
func (o *Options) validate() error {
	if err := validateSource(o.Table); err != nil {
		return err
	}
	if err := o.Point.Validate(); err != nil {
		return err
	}
	if o.IfExists != IfExistsFail && o.IfExists != IfExistsAdopt {
		return usage.Errorf("--if-exists %q: use fail or adopt", o.IfExists)
	}
	switch o.BillingMode {
	case types.BillingModePayPerRequest:
		if o.ReadCapacity != 0 || o.WriteCapacity != 0 {
			return usage.Errorf("--read-capacity and --write-capacity need --billing-mode PROVISIONED")
		}
	case types.BillingModeProvisioned:
		if o.ReadCapacity < 1 || o.WriteCapacity < 1 {
			return usage.Errorf("--billing-mode PROVISIONED needs --read-capacity N and --write-capacity N (at least 1)")
		}
	default:
		return usage.Errorf("--billing-mode %q: use PAY_PER_REQUEST or PROVISIONED", o.BillingMode)
	}
	if o.RecoveryTable != "" {
		if err := tables.ValidateName("--recovery-table", o.RecoveryTable); err != nil {
			return err
		}
	}
	for k := range o.Tags {
		if strings.HasPrefix(k, "ddbrewind:") {
			return usage.Errorf("--tag %s: the ddbrewind: prefix is reserved for ddbrewind's own tags", k)
		}
	}
	if o.Point.FromBackup() && strings.HasPrefix(o.Table, "arn:") {
		if r := tables.Region(o.Point.Backup); r != "" && r != tables.Region(o.Table) {
			return usage.Errorf("restore %s: --backup %s is in %s but --table %s is in %s: a backup is restored from its table's region", tables.Name(o.Table), o.Point.Backup, r, o.Table, tables.Region(o.Table))
		}
	}
	return nil
}

// checkRecoveryTable checks that the recovery table does not exist, or,
// with --if-exists adopt, that it is a restore of this plan's to take over.
func (p *Plan) checkRecoveryTable(ctx context.Context, api API) error {
	src := tables.Name(p.opts.Table)
	d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.recovery)})
	if err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("restore %s: check recovery table %s: %w", src, p.recovery, err)
	}
	if p.opts.IfExists != IfExistsAdopt {
		next := "take over a restore a previous attempt started with --if-exists adopt"
		if p.opts.ExistsHint != nil {
			next = p.opts.ExistsHint(p.recovery)
		}
		return usage.Errorf("restore %s: recovery table %s already exists: pick another --recovery-table, delete it with ddbrewind cleanup --recovery-table %s, or %s", src, p.recovery, p.recovery, next)
	}
	return p.adoptable(ctx, api, d.Table, "pick another --recovery-table")
}

// resolveTime checks that point-in-time recovery is enabled on the source
// and resolves the requested time inside its restorable window.
func (p *Plan) resolveTime(ctx context.Context, api API) error {
	opts := p.opts
	src := tables.Name(opts.Table)
	cb, err := api.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(opts.Table)}, inSourceRegion(opts.Table)...)
	if err != nil {
		return fmt.Errorf("restore %s: describe continuous backups: %w", src, err)
	}
	pitr := cb.ContinuousBackupsDescription
	if pitr == nil || pitr.PointInTimeRecoveryDescription == nil ||
		pitr.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		return usage.Errorf("restore %s: point-in-time recovery is not enabled on the table, so it cannot be restored to a point in time: restore from a backup with --backup ARN or --backup-before TIME (ddbrewind list --backups --table %s), and enable it for the future with: aws dynamodb update-continuous-backups --table-name %s --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true", src, src, src)
	}
	desc := pitr.PointInTimeRecoveryDescription
	p.earliest = aws.ToTime(desc.EarliestRestorableDateTime).UTC()
	p.latest = aws.ToTime(desc.LatestRestorableDateTime).UTC()
	switch {
	case opts.Point.Latest:
		p.point = p.latest
	case opts.Point.Ago != 0:
		p.point = opts.Now().Add(-opts.Point.Ago).UTC()
	default:
		p.point = opts.Point.At.UTC()
	}
	w := tables.Window{Earliest: p.earliest, Latest: p.latest, Days: aws.ToInt32(desc.RecoveryPeriodInDays)}
	now := opts.Now().UTC()
	if why := w.Outside(p.point, now); why != "" {
		if p.point.Before(p.earliest) {
			return usage.Errorf("restore %s: %s: pick a time inside it, or restore from a backup with --backup-before %s", src, why, tables.FormatTime(p.point))
		}
		return usage.Errorf("restore %s: %s: pick a time inside it, or --latest", src, why)
	}
	return nil
}

// adoptable checks that the existing recovery table d is a restore of the
// source table (p.sourceARN) to the requested point (any point for
// --latest and --ago, whose time moves between attempts), and makes the
// plan adopt it at the point it was restored to. The point is read from
// ddbrewind's tag, or, when the first attempt stopped before tagging, from
// the table's RestoreSummary. A refusal ends with hint, what to do. Both
// Prepare (--if-exists adopt) and Adopt (a resumed run) check with it.
func (p *Plan) adoptable(ctx context.Context, api API, d *types.TableDescription, hint string) error {
	src := tables.Name(p.opts.Table)
	refuse := func(why string) error {
		return usage.Errorf("restore %s: recovery table %s already exists and %s: refusing to adopt it; %s", src, p.recovery, why, hint)
	}
	rs := d.RestoreSummary
	switch {
	case rs == nil:
		return refuse("was not created by a restore")
	case aws.ToString(rs.SourceTableArn) != p.sourceARN:
		return refuse(fmt.Sprintf("is a restore of %s, not of %s", aws.ToString(rs.SourceTableArn), p.sourceARN))
	}
	tags, err := tables.Tags(ctx, api, aws.ToString(d.TableArn))
	if err != nil {
		return fmt.Errorf("restore %s: read the tags of %s: %w", src, p.recovery, err)
	}
	if v, ok := tags[tables.TagSourceTable]; ok && v != src {
		return refuse(fmt.Sprintf("is tagged as a recovery table of %s", v))
	}
	if p.backup != nil {
		return p.adoptableBackup(d, tags, refuse)
	}
	if b := backupARNFromTags(tags); b != "" {
		return refuse(fmt.Sprintf("was restored from backup %s (its %s tag), not to a point in time", b, tables.TagBackupARN))
	}
	if _, tagged := tags[tables.TagRestorePoint]; !tagged && aws.ToString(rs.SourceBackupArn) != "" {
		return refuse(fmt.Sprintf("was restored from backup %s, not to a point in time", aws.ToString(rs.SourceBackupArn)))
	}
	point := aws.ToTime(rs.RestoreDateTime).UTC()
	from := "its restore summary"
	if v, ok := tags[tables.TagRestorePoint]; ok {
		if point, err = tables.ParseTime(v); err != nil {
			return refuse(fmt.Sprintf("has a bad %s tag %q", tables.TagRestorePoint, v))
		}
		from = "its " + tables.TagRestorePoint + " tag"
	}
	same := point.Equal(p.point)
	if !same && from == "its restore summary" {
		same = sameMillisecond(point, p.point)
	}
	if p.opts.Point.At.IsZero() {
		p.point = point // --latest, --ago: the first attempt's point
	} else if !same {
		return refuse(fmt.Sprintf("was restored to %s (from %s), not to %s", tables.FormatTime(point), from, tables.FormatTime(p.point)))
	}
	p.existing = d
	return nil
}

// sameMillisecond reports whether the point a RestoreSummary reports is
// want. The tag keeps the point exactly; the summary keeps what the
// request carried: the SDK sends RestoreDateTime as epoch seconds with
// milliseconds (the nanoseconds of a --ago point, or of an --at given to
// the nanosecond, truncated), DynamoDB reports its times the same way
// (1576616366.715), and the SDK reads that back as the same millisecond
// (TestAdoptsOnlyTheSamePointToTheMillisecond goes over the wire). So a
// resumed --ago run, whose state file records nanoseconds, compares to
// the millisecond, and nothing coarser: a tolerance of a second adopted,
// for --at T+500ms, a table a first attempt restored to T (or, across a
// second boundary, to another second of the table's history).
func sameMillisecond(reported, want time.Time) bool {
	return reported.Truncate(time.Millisecond).Equal(want.Truncate(time.Millisecond))
}

// indexOverrides returns the secondary index overrides for the restore: nil
// keeps the source's indexes, an empty slice restores none.
func (p *Plan) indexOverrides() ([]types.GlobalSecondaryIndex, []types.LocalSecondaryIndex, error) {
	src := p.source
	if p.backup != nil && p.backup.indexes != nil {
		src = p.backup.indexes // the indexes the table had when backed up
	}
	if p.opts.Indexes == "all" && p.opts.BillingMode == types.BillingModePayPerRequest {
		return nil, nil, nil
	}
	want := map[string]bool{}
	all := p.opts.Indexes == "all"
	if !all && p.opts.Indexes != "none" {
		for _, n := range strings.Split(p.opts.Indexes, ",") {
			want[strings.TrimSpace(n)] = true
		}
	}
	// pick reports whether an index is restored, and ticks it off the
	// names asked for.
	pick := func(index *string) bool {
		name := aws.ToString(index)
		if !all && !want[name] {
			return false
		}
		delete(want, name)
		return true
	}
	gsis := []types.GlobalSecondaryIndex{}
	for _, g := range src.GlobalSecondaryIndexes {
		if !pick(g.IndexName) {
			continue
		}
		gi := types.GlobalSecondaryIndex{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection}
		if p.opts.BillingMode == types.BillingModeProvisioned {
			gi.ProvisionedThroughput = &types.ProvisionedThroughput{
				ReadCapacityUnits:  aws.Int64(p.opts.ReadCapacity),
				WriteCapacityUnits: aws.Int64(p.opts.WriteCapacity),
			}
		}
		gsis = append(gsis, gi)
	}
	lsis := []types.LocalSecondaryIndex{}
	for _, l := range src.LocalSecondaryIndexes {
		if !pick(l.IndexName) {
			continue
		}
		lsis = append(lsis, types.LocalSecondaryIndex{IndexName: l.IndexName, KeySchema: l.KeySchema, Projection: l.Projection})
	}
	if len(want) > 0 {
		var missing, have []string
		for n := range want {
			missing = append(missing, n)
		}
		for _, g := range src.GlobalSecondaryIndexes {
			have = append(have, aws.ToString(g.IndexName))
		}
		for _, l := range src.LocalSecondaryIndexes {
			have = append(have, aws.ToString(l.IndexName))
		}
		sort.Strings(missing)
		sort.Strings(have)
		list := strings.Join(have, ",")
		if list == "" {
			list = "no secondary indexes"
		}
		of := "table " + tables.Name(p.opts.Table)
		if p.backup != nil {
			of = "the backup of " + of
		}
		return nil, nil, usage.Errorf("--indexes: %s has no index %s (it has %s); use none, all or a list of its index names",
			of, strings.Join(missing, ","), list)
	}
	return gsis, lsis, nil
}

// describeSource returns opts.Described, or describes the source table in
// its own region.
func describeSource(ctx context.Context, api API, opts Options) (*dynamodb.DescribeTableOutput, error) {
	if opts.Described != nil {
		return &dynamodb.DescribeTableOutput{Table: opts.Described}, nil
	}
	return api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(opts.Table)}, inSourceRegion(opts.Table)...)
}

// Restore checks everything (Prepare), starts the restore, tags the new
// table and, with Wait, waits until it is ACTIVE.
func Restore(ctx context.Context, api API, opts Options) (*Result, error) {
	p, err := Prepare(ctx, api, opts)
	if err != nil {
		return nil, err
	}
	return p.Start(ctx, api)
}

// Start starts the prepared restore, tags the new table and, with Wait,
// waits until it is ACTIVE.
func (p *Plan) Start(ctx context.Context, api API) (*Result, error) {
	o := p.opts
	src := tables.Name(o.Table)
	if p.existing != nil {
		return p.adopt(ctx, api)
	}
	if p.backup != nil {
		return p.startFromBackup(ctx, api)
	}
	gsis, lsis, err := p.indexOverrides()
	if err != nil {
		return nil, err
	}
	in := &dynamodb.RestoreTableToPointInTimeInput{
		TargetTableName:              aws.String(p.recovery),
		RestoreDateTime:              aws.Time(p.point),
		BillingModeOverride:          o.BillingMode,
		GlobalSecondaryIndexOverride: gsis,
		LocalSecondaryIndexOverride:  lsis,
	}
	if strings.HasPrefix(o.Table, "arn:") {
		in.SourceTableArn = aws.String(o.Table)
	} else {
		in.SourceTableName = aws.String(o.Table)
	}
	in.ProvisionedThroughputOverride = p.throughputOverride()
	in.SSESpecificationOverride = p.sseOverride()
	o.Logger.Info("starting point-in-time restore", "table", src, "recovery_table", p.recovery, "restore_point", tables.FormatTime(p.point))
	out, err := api.RestoreTableToPointInTime(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("restore %s to %s: %w", src, p.recovery, err)
	}
	res := &Result{
		SourceTable:   src,
		RecoveryTable: p.recovery,
		RecoveryARN:   aws.ToString(out.TableDescription.TableArn),
		RestorePoint:  p.point,
		Status:        out.TableDescription.TableStatus,
	}
	tags := map[string]string{
		tables.TagSourceTable:  src,
		tables.TagRestorePoint: tables.FormatTime(p.point),
		tables.TagCreatedAt:    tables.FormatTime(o.Now()),
	}
	return p.tagAndWait(ctx, api, res, tags, func(err error) error {
		return fmt.Errorf("restore %s: the restore into %s started but tagging failed (%w); cleanup and list will not recognise it until you run: %s",
			src, p.recovery, err, tagCommand(res.RecoveryARN, tags))
	})
}

// tagAndWait applies ddbrewind's tags (and the user's) to the recovery
// table as soon as it accepts them and, with Wait, waits until it is
// ACTIVE. tagFailed words a tagging error.
func (p *Plan) tagAndWait(ctx context.Context, api API, res *Result, tags map[string]string, tagFailed func(error) error) (*Result, error) {
	o := p.opts
	for k, v := range o.Tags {
		tags[k] = v
	}
	if err := tagWhenReady(ctx, api, res.RecoveryARN, tags, o); err != nil {
		var gone *goneError
		if errors.As(err, &gone) {
			// Tagging by hand cannot help a table that is gone.
			return res, fmt.Errorf("restore %s into %s: %w", res.SourceTable, p.recovery, err)
		}
		return res, tagFailed(err)
	}
	if !o.Wait {
		return res, nil
	}
	status, err := WaitActive(ctx, api, p.recovery, o.Timeout, o.Poll, o.Now, o.Logger)
	res.Status = status
	if err != nil {
		return res, fmt.Errorf("restore %s into %s: %w", res.SourceTable, p.recovery, err)
	}
	return res, nil
}

// tagCommand returns the AWS CLI command that applies tags by hand.
func tagCommand(arn string, tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "aws dynamodb tag-resource --resource-arn %s --tags", arn)
	for _, k := range keys {
		fmt.Fprintf(&b, " Key=%s,Value=%s", k, tags[k])
	}
	return b.String()
}

// tagWhenReady applies tags, retrying while the new table does not accept
// them yet. After each refusal it describes the table: one deleted
// meanwhile (see presence) ends the retries with a *goneError at once, not
// after the timeout.
func tagWhenReady(ctx context.Context, api API, arn string, tags map[string]string, o Options) error {
	in := &dynamodb.TagResourceInput{ResourceArn: aws.String(arn)}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	delay := o.Poll.Min
	deadline := o.Now().Add(o.Timeout)
	name := tables.Name(arn)
	seen := &presence{table: name, start: o.Now(), now: o.Now}
	for {
		_, err := api.TagResource(ctx, in)
		if err == nil {
			return nil
		}
		code := awserr.Code(err)
		if code != "ResourceInUseException" && code != "ResourceNotFoundException" && code != "LimitExceededException" {
			return err
		}
		out, derr := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if derr = seen.observe(out, derr); derr != nil {
			var gone *goneError
			if errors.As(derr, &gone) {
				gone.while = "before it could be tagged"
				return gone
			}
			return fmt.Errorf("describe %s: %w", name, derr)
		}
		if o.Now().After(deadline) {
			return err
		}
		o.Logger.Debug("recovery table does not accept tags yet; retrying", "arn", arn, "code", code)
		if err := backoff.Sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(delay*2, o.Poll.Max)
	}
}

// adopt takes over the restore a previous attempt started (see
// adoptable): it (re)applies ddbrewind's tags and, with Wait, waits.
func (p *Plan) adopt(ctx context.Context, api API) (*Result, error) {
	o, d := p.opts, p.existing
	src := tables.Name(o.Table)
	o.Logger.Info("recovery table exists: adopting the restore a previous attempt started",
		"table", src, "recovery_table", p.recovery, "restore_point", tables.FormatTime(p.point), "status", d.TableStatus)
	res := &Result{SourceTable: src, RecoveryTable: p.recovery, RecoveryARN: aws.ToString(d.TableArn),
		RestorePoint: p.point, BackupARN: p.BackupARN(), Status: d.TableStatus, Adopted: true}
	tags := map[string]string{
		tables.TagSourceTable:  src,
		tables.TagRestorePoint: tables.FormatTime(p.point),
		tables.TagCreatedAt:    tables.FormatTime(aws.ToTime(d.CreationDateTime)),
	}
	if p.backup != nil {
		tags[tables.TagBackupARN] = p.backup.arn
	}
	return p.tagAndWait(ctx, api, res, tags, func(err error) error {
		return fmt.Errorf("restore %s: tag %s: %w", src, p.recovery, err)
	})
}

// Adopt finishes a restore that a previous attempt started into table, at
// point (a run's state file records both): it checks, as --if-exists adopt
// does, that table is a restore of opts.Table to exactly point (tag or
// RestoreSummary) — or, when opts.Point.Backup names the backup the run
// resolved, a restore from that backup —, then (re)applies ddbrewind's tags
// and waits until the table is ACTIVE. Any other table is refused with a
// *usage.Error and left alone.
func Adopt(ctx context.Context, api API, opts Options, table string, point time.Time) error {
	opts.defaults()
	opts.Wait = true
	opts.Point = Point{At: point, Backup: opts.Point.Backup} // the recorded point, never "any"
	src := tables.Name(opts.Table)
	dt, err := describeSource(ctx, api, opts)
	if err != nil {
		return fmt.Errorf("restore %s: describe source table: %w", src, err)
	}
	d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("restore %s: describe recovery table %s: %w", src, table, err)
	}
	p := &Plan{opts: opts, source: dt.Table, sourceARN: aws.ToString(dt.Table.TableArn), recovery: table, point: point.UTC()}
	if opts.Point.Backup != "" {
		if err := p.resolveBackup(ctx, api); err != nil {
			return err
		}
	}
	hint := fmt.Sprintf("it is not the recovery table this run started: remove the state file (or pass another --state) to start another rewind, and delete %s yourself if it is not needed", table)
	if err := p.adoptable(ctx, api, d.Table, hint); err != nil {
		return err
	}
	_, err = p.adopt(ctx, api)
	return err
}
