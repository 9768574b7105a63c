package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// backupKind says which service restores a backup ARN.
type backupKind int

const (
	// kindDynamoDB is an on-demand DynamoDB backup (made by the user, by
	// DynamoDB, or by AWS Backup without its advanced DynamoDB features):
	// DynamoDB's RestoreTableFromBackup restores it.
	kindDynamoDB backupKind = iota + 1
	// kindAWSBackup is an AWS Backup recovery point (AWS Backup's advanced
	// DynamoDB backups): only AWS Backup's StartRestoreJob restores it.
	kindAWSBackup
)

var (
	dynamoBackupARN   = regexp.MustCompile(`^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/([a-zA-Z0-9_.-]{3,255})/backup/[^/]+$`)
	recoveryPointARN  = regexp.MustCompile(`^arn:aws[a-z-]*:backup:[a-z0-9-]+:[0-9]{12}:recovery-point:[^/:]+$`)
	backupRoleARN     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$`)
	backupARNExpected = "use a DynamoDB backup ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/backup/ID) or an AWS Backup recovery point ARN (arn:aws:backup:REGION:ACCOUNT:recovery-point:ID)"
)

// IsRecoveryPointARN reports whether arn names an AWS Backup recovery point,
// which is restored through AWS Backup (and so needs a BackupAPI client and
// Options.BackupRoleARN) rather than by DynamoDB.
func IsRecoveryPointARN(arn string) bool { return recoveryPointARN.MatchString(arn) }

// parseBackupARN returns the kind of a --backup ARN and, for a DynamoDB
// backup, the name of the table it is a backup of.
func parseBackupARN(arn string) (backupKind, string, error) {
	if m := dynamoBackupARN.FindStringSubmatch(arn); m != nil {
		return kindDynamoDB, m[1], nil
	}
	if recoveryPointARN.MatchString(arn) {
		return kindAWSBackup, "", nil
	}
	return 0, "", usage.Errorf("--backup %q is not a backup ARN: %s", arn, backupARNExpected)
}

// backupSource is the backup a plan restores from, resolved and checked.
type backupSource struct {
	arn     string
	kind    backupKind
	created time.Time
	// indexes holds the secondary indexes of the table as it was backed up
	// (DynamoDB backups): --indexes picks among them. Nil for AWS Backup,
	// whose restore takes no index overrides.
	indexes *types.TableDescription
}

// resolveBackup finds the backup the options name (--backup, or the newest
// one at or before --backup-before), checks it is an available backup of
// the source table and records its creation time as the restore point.
func (p *Plan) resolveBackup(ctx context.Context, api API) error {
	o := p.opts
	src := tables.Name(o.Table)
	arn := o.Point.Backup
	if arn == "" {
		b, err := newestBackupBefore(ctx, api, o.Table, o.Point.BackupBefore)
		if err != nil {
			return err
		}
		arn = b.ARN
		o.Logger.Info("using the newest available backup created at or before --backup-before", "table", src,
			"backup_arn", arn, "backup_created", tables.FormatTime(b.Created), "backup_before", tables.FormatTime(o.Point.BackupBefore))
	}
	kind, of, err := parseBackupARN(arn)
	if err != nil {
		return err
	}
	switch kind {
	case kindDynamoDB:
		if of != src {
			return usage.Errorf("restore %s: --backup %s is a backup of table %s, not of %s: pick a backup of %s (ddbrewind list --backups --table %s)", src, arn, of, src, src, src)
		}
		return p.describeBackup(ctx, api, arn)
	default:
		return p.findRecoveryPoint(ctx, arn)
	}
}

// describeBackup checks a DynamoDB backup with DescribeBackup: it must
// exist, be AVAILABLE and be a backup of the source table.
func (p *Plan) describeBackup(ctx context.Context, api API, arn string) error {
	src := tables.Name(p.opts.Table)
	out, err := api.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(arn)})
	if err != nil {
		if awserr.Code(err) == "BackupNotFoundException" {
			return usage.Errorf("restore %s: backup %s not found (check --backup, --region and --endpoint-url; list the table's backups with ddbrewind list --backups --table %s)", src, arn, src)
		}
		return fmt.Errorf("restore %s: describe backup %s: %w", src, arn, err)
	}
	d := out.BackupDescription
	if d == nil || d.BackupDetails == nil {
		return fmt.Errorf("restore %s: describe backup %s: the answer has no backup details", src, arn)
	}
	if st := d.BackupDetails.BackupStatus; st != types.BackupStatusAvailable {
		return usage.Errorf("restore %s: backup %s is %s, not AVAILABLE: wait until it is, or pick another (ddbrewind list --backups --table %s)", src, arn, st, src)
	}
	if std := d.SourceTableDetails; std == nil || !p.isSource(aws.ToString(std.TableArn), aws.ToString(std.TableName)) {
		of := "an unknown table"
		if std != nil {
			of = "table " + aws.ToString(std.TableName)
		}
		return usage.Errorf("restore %s: backup %s is a backup of %s, not of %s: pick a backup of %s (ddbrewind list --backups --table %s)", src, arn, of, p.sourceARN, src, src)
	}
	b := &backupSource{arn: arn, kind: kindDynamoDB, created: aws.ToTime(d.BackupDetails.BackupCreationDateTime).UTC(), indexes: &types.TableDescription{}}
	if f := d.SourceTableFeatureDetails; f != nil {
		for _, g := range f.GlobalSecondaryIndexes {
			b.indexes.GlobalSecondaryIndexes = append(b.indexes.GlobalSecondaryIndexes, types.GlobalSecondaryIndexDescription{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
		}
		for _, l := range f.LocalSecondaryIndexes {
			b.indexes.LocalSecondaryIndexes = append(b.indexes.LocalSecondaryIndexes, types.LocalSecondaryIndexDescription{IndexName: l.IndexName, KeySchema: l.KeySchema, Projection: l.Projection})
		}
	}
	p.backup = b
	return nil
}

// isSource reports whether a table ARN (or, when the ARN is unknown, a
// name) is the source table's.
func (p *Plan) isSource(arn, name string) bool {
	if arn != "" {
		return arn == p.sourceARN
	}
	return name == tables.Name(p.opts.Table)
}

// findRecoveryPoint checks an AWS Backup recovery point: it must be one of
// the source table's (ListRecoveryPointsByResource on the table's ARN) and
// COMPLETED. The restore options AWS Backup cannot apply are refused here.
func (p *Plan) findRecoveryPoint(ctx context.Context, arn string) error {
	o := p.opts
	src := tables.Name(o.Table)
	if o.BackupRoleARN == "" {
		return usage.Errorf("restore %s: --backup %s is an AWS Backup recovery point, which AWS Backup restores by assuming an IAM role: pass --backup-role-arn ARN (a role that trusts backup.amazonaws.com, e.g. with the AWSBackupServiceRolePolicyForRestores managed policy; see docs/restore-limits.md)", src, arn)
	}
	if !backupRoleARN.MatchString(o.BackupRoleARN) {
		return usage.Errorf("--backup-role-arn %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", o.BackupRoleARN)
	}
	if p.explicit.indexes != "" || p.explicit.billing != "" {
		return usage.Errorf("restore %s: an AWS Backup recovery point is restored with the billing mode and secondary indexes the table had when it was backed up (AWS Backup's restore takes no overrides): leave out --billing-mode, --read-capacity, --write-capacity and --indexes", src)
	}
	if o.Backup == nil {
		return fmt.Errorf("restore %s: no AWS Backup client to restore %s", src, arn)
	}
	pager := backup.NewListRecoveryPointsByResourcePaginator(o.Backup, &backup.ListRecoveryPointsByResourceInput{ResourceArn: aws.String(p.sourceARN)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("restore %s: list the table's AWS Backup recovery points: %w", src, err)
		}
		for _, rp := range page.RecoveryPoints {
			if aws.ToString(rp.RecoveryPointArn) != arn {
				continue
			}
			if st := rp.Status; st != backuptypes.RecoveryPointStatusCompleted && st != backuptypes.RecoveryPointStatusAvailable {
				return usage.Errorf("restore %s: recovery point %s is %s, not COMPLETED: wait until it is, or pick another (aws backup list-recovery-points-by-resource --resource-arn %s)", src, arn, st, p.sourceARN)
			}
			p.backup = &backupSource{arn: arn, kind: kindAWSBackup, created: aws.ToTime(rp.CreationDate).UTC()}
			return nil
		}
	}
	return usage.Errorf("restore %s: %s is not a recovery point of %s (AWS Backup lists no such recovery point for the table; see aws backup list-recovery-points-by-resource --resource-arn %s)", src, arn, p.sourceARN, p.sourceARN)
}

// Backup is one on-demand backup of a table, as ListBackups reports it.
type Backup struct {
	ARN       string    `json:"arn"`
	Name      string    `json:"name"`
	Created   time.Time `json:"created"`
	SizeBytes int64     `json:"size_bytes"`
	// Type is USER, SYSTEM or AWS_BACKUP.
	Type string `json:"type"`
	// Status is CREATING, AVAILABLE or DELETED.
	Status string `json:"status"`
}

// ListBackups returns the on-demand backups of table (a name or an ARN) of
// every type, newest first. AWS Backup's advanced recovery points are not
// among them: DynamoDB's ListBackups does not list them. A malformed table
// name or ARN is a *usage.Error.
func ListBackups(ctx context.Context, api API, table string) ([]Backup, error) {
	if err := validateSource(table); err != nil {
		return nil, err
	}
	src := tables.Name(table)
	in := &dynamodb.ListBackupsInput{TableName: aws.String(table), BackupType: types.BackupTypeFilterAll}
	var out []Backup
	seen := map[string]bool{}
	for {
		page, err := api.ListBackups(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list the backups of %s: %w", src, err)
		}
		for _, s := range page.BackupSummaries {
			arn := aws.ToString(s.BackupArn)
			if seen[arn] {
				continue
			}
			seen[arn] = true
			out = append(out, Backup{
				ARN:       arn,
				Name:      aws.ToString(s.BackupName),
				Created:   aws.ToTime(s.BackupCreationDateTime).UTC(),
				SizeBytes: aws.ToInt64(s.BackupSizeBytes),
				Type:      string(s.BackupType),
				Status:    string(s.BackupStatus),
			})
		}
		next := aws.ToString(page.LastEvaluatedBackupArn)
		if next == "" || next == aws.ToString(in.ExclusiveStartBackupArn) {
			break
		}
		in.ExclusiveStartBackupArn = aws.String(next)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ARN < out[j].ARN
	})
	return out, nil
}

// newestBackupBefore returns the newest AVAILABLE backup of table created
// at or before t. None is a *usage.Error that names the oldest available
// backup, or says there is none.
func newestBackupBefore(ctx context.Context, api API, table string, t time.Time) (*Backup, error) {
	src := tables.Name(table)
	all, err := ListBackups(ctx, api, table)
	if err != nil {
		return nil, fmt.Errorf("restore %s: %w", src, err)
	}
	var oldest *Backup
	for i := range all {
		b := &all[i]
		if b.Status != string(types.BackupStatusAvailable) {
			continue
		}
		if !b.Created.After(t) {
			return b, nil // newest first
		}
		oldest = b
	}
	if oldest == nil {
		return nil, usage.Errorf("restore %s: --backup-before %s: the table has no available backup (see ddbrewind list --backups --table %s; with point-in-time recovery use --at instead)", src, tables.FormatTime(t), src)
	}
	return nil, usage.Errorf("restore %s: --backup-before %s: no available backup of the table was created at or before that time; the oldest is %s, created %s (see ddbrewind list --backups --table %s)",
		src, tables.FormatTime(t), oldest.ARN, tables.FormatTime(oldest.Created), src)
}

// startFromBackup starts the restore of the plan's backup: RestoreTableFromBackup
// for a DynamoDB backup, an AWS Backup restore job for a recovery point.
func (p *Plan) startFromBackup(ctx context.Context, api API) (*Result, error) {
	o := p.opts
	src := tables.Name(o.Table)
	var arn string
	switch p.backup.kind {
	case kindDynamoDB:
		gsis, lsis, err := p.indexOverrides()
		if err != nil {
			return nil, err
		}
		in := &dynamodb.RestoreTableFromBackupInput{
			TargetTableName:               aws.String(p.recovery),
			BackupArn:                     aws.String(p.backup.arn),
			BillingModeOverride:           o.BillingMode,
			GlobalSecondaryIndexOverride:  gsis,
			LocalSecondaryIndexOverride:   lsis,
			ProvisionedThroughputOverride: p.throughputOverride(),
			SSESpecificationOverride:      p.sseOverride(),
		}
		o.Logger.Info("starting restore from backup", "table", src, "recovery_table", p.recovery, "backup_arn", p.backup.arn, "restore_point", tables.FormatTime(p.point))
		out, err := api.RestoreTableFromBackup(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("restore %s from backup %s to %s: %w", src, p.backup.arn, p.recovery, err)
		}
		arn = aws.ToString(out.TableDescription.TableArn)
	default:
		var err error
		if arn, err = p.runRestoreJob(ctx, api); err != nil {
			return nil, err
		}
	}
	res := &Result{SourceTable: src, RecoveryTable: p.recovery, RecoveryARN: arn, RestorePoint: p.point, BackupARN: p.backup.arn}
	tags := map[string]string{
		tables.TagSourceTable:  src,
		tables.TagRestorePoint: tables.FormatTime(p.point),
		tables.TagCreatedAt:    tables.FormatTime(o.Now()),
		tables.TagBackupARN:    p.backup.arn,
	}
	return p.tagAndWait(ctx, api, res, tags, func(err error) error {
		return fmt.Errorf("restore %s: the restore from backup %s into %s started but tagging failed (%w); cleanup and list will not recognise it until you run: %s",
			src, p.backup.arn, p.recovery, err, tagCommand(res.RecoveryARN, tags))
	})
}

// runRestoreJob restores an AWS Backup recovery point into the recovery
// table: it starts an AWS Backup restore job, waits until the job has
// COMPLETED (the table cannot be tagged before it exists, so this waits
// even without Options.Wait) and returns the new table's ARN.
func (p *Plan) runRestoreJob(ctx context.Context, api API) (string, error) {
	o := p.opts
	src := tables.Name(o.Table)
	meta := map[string]string{"targetTableName": p.recovery}
	if o.SSEKMSKey != "" {
		meta["encryptionType"] = "KMS"
		meta["kmsMasterKeyArn"] = o.SSEKMSKey
	}
	o.Logger.Info("starting AWS Backup restore job", "table", src, "recovery_table", p.recovery, "backup_arn", p.backup.arn,
		"restore_point", tables.FormatTime(p.point), "role", o.BackupRoleARN)
	out, err := o.Backup.StartRestoreJob(ctx, &backup.StartRestoreJobInput{
		RecoveryPointArn: aws.String(p.backup.arn),
		IamRoleArn:       aws.String(o.BackupRoleARN),
		Metadata:         meta,
		ResourceType:     aws.String("DynamoDB"),
		IdempotencyToken: aws.String(restoreJobToken(p.backup.arn, p.recovery)),
	})
	if err != nil {
		return "", fmt.Errorf("restore %s from recovery point %s to %s: start AWS Backup restore job: %w", src, p.backup.arn, p.recovery, err)
	}
	job := aws.ToString(out.RestoreJobId)
	done, err := WaitRestoreJob(ctx, o.Backup, job, o.Timeout, o.Poll, o.Now, o.Logger)
	if err != nil {
		next := "run the same command with --if-exists adopt to tag the table (and wait for it)"
		if o.RetryHint != "" {
			next = o.RetryHint
		}
		return "", fmt.Errorf("restore %s into %s: %w; once the job has COMPLETED, %s", src, p.recovery, err, next)
	}
	if arn := aws.ToString(done.CreatedResourceArn); arn != "" {
		return arn, nil
	}
	d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(p.recovery)})
	if err != nil {
		return "", fmt.Errorf("restore %s: AWS Backup restore job %s completed, but describing %s failed: %w", src, job, p.recovery, err)
	}
	return aws.ToString(d.Table.TableArn), nil
}

// restoreJobToken is the idempotency token of the AWS Backup restore job of
// a recovery point into a table: a retried StartRestoreJob (the SDK's retry,
// or the same command run again within the hour AWS Backup keeps tokens)
// is recognised as the same request instead of starting a second restore.
func restoreJobToken(recoveryPoint, table string) string {
	sum := sha256.Sum256([]byte(recoveryPoint + "\x00" + table))
	return "ddbrewind-" + hex.EncodeToString(sum[:16])
}

// adoptableBackup is adoptable for a plan that restores from a backup: the
// existing table must have been restored from the same backup, which its
// ddbrewind:backup-arn tag says or, when the first attempt stopped before
// tagging, its RestoreSummary.SourceBackupArn. For an AWS Backup recovery
// point, whose restored table's SourceBackupArn need not be the recovery
// point's ARN, an untagged table is also taken when its RestoreDateTime is
// the recovery point's creation time (DynamoDB reports the source backup's
// time there). The restore point is the backup's creation time.
//
// That time is compared within a second, not to the millisecond as a
// point-in-time restore's is (sameMillisecond): the two times come from
// two services (AWS Backup's CreationDate, DynamoDB's RestoreDateTime)
// that document them equal to no precision, so a tighter match could
// refuse the table a first attempt restored. What the second could take
// instead is only an untagged restore of this very source table, under
// this recovery table's name, from another backup of the table made
// within a second of this one; DynamoDB runs one backup operation on a
// table at a time (BackupInUseException).
func (p *Plan) adoptableBackup(d *types.TableDescription, tags map[string]string, refuse func(string) error) error {
	rs := d.RestoreSummary
	b := p.backup
	from := aws.ToString(rs.SourceBackupArn)
	switch v, tagged := tags[tables.TagBackupARN]; {
	case tagged && v != b.arn:
		return refuse(fmt.Sprintf("was restored from backup %s (its %s tag), not from %s", v, tables.TagBackupARN, b.arn))
	case tagged:
	case tags[tables.TagRestorePoint] != "":
		return refuse(fmt.Sprintf("was restored to a point in time (its tags name no backup), not from backup %s", b.arn))
	case from == b.arn:
	case b.kind == kindAWSBackup && aws.ToTime(rs.RestoreDateTime).Sub(b.created).Abs() < time.Second:
	case from == "":
		return refuse(fmt.Sprintf("was restored to a point in time, not from backup %s", b.arn))
	default:
		return refuse(fmt.Sprintf("was restored from backup %s, not from %s", from, b.arn))
	}
	p.point = b.created
	p.existing = d
	return nil
}

// BackupARN returns the backup the plan restores from, "" for a
// point-in-time restore.
func (p *Plan) BackupARN() string {
	if p.backup == nil {
		return ""
	}
	return p.backup.arn
}

// throughputOverride is the provisioned throughput of the new table, nil
// unless PROVISIONED.
func (p *Plan) throughputOverride() *types.ProvisionedThroughput {
	if p.opts.BillingMode != types.BillingModeProvisioned {
		return nil
	}
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(p.opts.ReadCapacity),
		WriteCapacityUnits: aws.Int64(p.opts.WriteCapacity),
	}
}

// sseOverride is the new table's encryption with --sse-kms-key, else nil
// (the default encryption).
func (p *Plan) sseOverride() *types.SSESpecification {
	if p.opts.SSEKMSKey == "" {
		return nil
	}
	return &types.SSESpecification{
		Enabled:        aws.Bool(true),
		SSEType:        types.SSETypeKms,
		KMSMasterKeyId: aws.String(p.opts.SSEKMSKey),
	}
}

// backupARNFromTags is the backup a recovery table was restored from, as
// its tags say ("" for a point-in-time restore).
func backupARNFromTags(tags map[string]string) string {
	return strings.TrimSpace(tags[tables.TagBackupARN])
}
