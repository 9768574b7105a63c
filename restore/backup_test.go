package restore

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

const (
	ordersARN = "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
	backupA   = ordersARN + "/backup/01700000000000-aaaaaaaa"
	backupB   = ordersARN + "/backup/01700000100000-bbbbbbbb"
	rpARN     = "arn:aws:backup:us-east-1:111122223333:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45"
	roleARN   = "arn:aws:iam::111122223333:role/ddbrewind-restore"
)

// backupFake is a DynamoDB API with func fields for the backup calls; the
// source table "orders" exists, no other table does, and nothing may be
// created (RestoreTableFromBackup fails the test through the nil API).
type backupFake struct {
	API
	describeBackup func(arn string) (*dynamodb.DescribeBackupOutput, error)
	pages          [][]types.BackupSummary
	listCalls      atomic.Int32
}

func (f *backupFake) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if aws.ToString(in.TableName) == "orders" {
		return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: aws.String("orders"), TableArn: aws.String(ordersARN)}}, nil
	}
	return nil, &smithy.GenericAPIError{Code: "ResourceNotFoundException", Message: "not found"}
}

func (f *backupFake) DescribeBackup(_ context.Context, in *dynamodb.DescribeBackupInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error) {
	return f.describeBackup(aws.ToString(in.BackupArn))
}

// ListBackups serves f.pages, one per call, chained by
// LastEvaluatedBackupArn.
func (f *backupFake) ListBackups(_ context.Context, in *dynamodb.ListBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error) {
	n := int(f.listCalls.Add(1)) - 1
	if in.BackupType != types.BackupTypeFilterAll {
		return nil, errors.New("ListBackups must ask for every backup type")
	}
	if n > 0 && aws.ToString(in.ExclusiveStartBackupArn) != aws.ToString(f.pages[n-1][len(f.pages[n-1])-1].BackupArn) {
		return nil, errors.New("ListBackups page without the previous page's last ARN")
	}
	out := &dynamodb.ListBackupsOutput{}
	if n < len(f.pages) {
		out.BackupSummaries = f.pages[n]
		if n+1 < len(f.pages) {
			out.LastEvaluatedBackupArn = f.pages[n][len(f.pages[n])-1].BackupArn
		}
	}
	return out, nil
}

func summary(arn string, created time.Time, status types.BackupStatus) types.BackupSummary {
	return types.BackupSummary{BackupArn: aws.String(arn), BackupCreationDateTime: aws.Time(created), BackupStatus: status,
		BackupType: types.BackupTypeUser, TableName: aws.String("orders"), TableArn: aws.String(ordersARN)}
}

func description(arn, tableARN string, created time.Time, status types.BackupStatus) *dynamodb.DescribeBackupOutput {
	return &dynamodb.DescribeBackupOutput{BackupDescription: &types.BackupDescription{
		BackupDetails:      &types.BackupDetails{BackupArn: aws.String(arn), BackupStatus: status, BackupCreationDateTime: aws.Time(created)},
		SourceTableDetails: &types.SourceTableDetails{TableArn: aws.String(tableARN), TableName: aws.String(tables.Name(tableARN))},
		SourceTableFeatureDetails: &types.SourceTableFeatureDetails{GlobalSecondaryIndexes: []types.GlobalSecondaryIndexInfo{
			{IndexName: aws.String("byCustomer")},
		}},
	}}
}

func TestParseBackupARN(t *testing.T) {
	tests := []struct {
		arn   string
		kind  backupKind
		table string
	}{
		{backupA, kindDynamoDB, "orders"},
		{"arn:aws-cn:dynamodb:cn-north-1:111122223333:table/my.table_1/backup/0123-abc", kindDynamoDB, "my.table_1"},
		{rpARN, kindAWSBackup, ""},
		{ordersARN, 0, ""},                                     // a table, not a backup
		{ordersARN + "/backup/", 0, ""},                        // no backup id
		{"arn:aws:backup:us-east-1:1:recovery-point:x", 0, ""}, // bad account
		{"01700000000000-aaaaaaaa", 0, ""},
		{"", 0, ""},
	}
	for _, tt := range tests {
		kind, table, err := parseBackupARN(tt.arn)
		if kind != tt.kind || table != tt.table || (tt.kind == 0) != (err != nil) {
			t.Errorf("parseBackupARN(%q) = %v, %q, %v; want %v, %q", tt.arn, kind, table, err, tt.kind, tt.table)
		}
		if err != nil && (!usage.Is(err) || !strings.Contains(err.Error(), "is not a backup ARN")) {
			t.Errorf("parseBackupARN(%q): %v, want a usage error", tt.arn, err)
		}
	}
}

func TestPointValidateBackup(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		point Point
		want  string // "" = valid
	}{
		{"backup", Point{Backup: backupA}, ""},
		{"recovery point", Point{Backup: rpARN}, ""},
		{"backup before", Point{BackupBefore: now}, ""},
		{"at and backup", Point{At: now, Backup: backupA}, "exactly one of --at TIME, --ago DURATION, --latest, --backup ARN or --backup-before TIME (got 2)"},
		{"latest and backup before", Point{Latest: true, BackupBefore: now}, "(got 2)"},
		{"backup and backup before", Point{Backup: backupA, BackupBefore: now}, "(got 2)"},
		{"none", Point{}, "(got 0)"},
		{"bad ARN", Point{Backup: "arn:aws:s3:::bucket"}, "is not a backup ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.point.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

func TestBackupBeforePicksTheNewestAvailableAtOrBefore(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Two pages, not in time order; the newest backup is still CREATING.
	pages := [][]types.BackupSummary{
		{summary(backupA, t0, types.BackupStatusAvailable), summary(ordersARN+"/backup/c", t0.Add(3*time.Hour), types.BackupStatusCreating)},
		{summary(backupB, t0.Add(2*time.Hour), types.BackupStatusAvailable), summary(ordersARN+"/backup/d", t0.Add(time.Hour), types.BackupStatusDeleted)},
	}
	tests := []struct {
		name   string
		before time.Time
		want   string // ARN, or the error's text
	}{
		{"after all", t0.Add(10 * time.Hour), backupB},
		{"exactly at a backup's creation", t0.Add(2 * time.Hour), backupB},
		{"between", t0.Add(2*time.Hour - time.Nanosecond), backupA},
		{"before all", t0.Add(-time.Second), "no available backup of the table was created at or before that time; the oldest is " + backupA + ", created 2026-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &backupFake{pages: pages}
			b, err := newestBackupBefore(context.Background(), api, "orders", tt.before)
			switch {
			case strings.HasPrefix(tt.want, "arn:"):
				if err != nil || b.ARN != tt.want {
					t.Errorf("got %+v, %v; want %s", b, err, tt.want)
				}
			case err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want):
				t.Errorf("got %+v, %v; want a usage error containing %q", b, err, tt.want)
			}
			if n := api.listCalls.Load(); n != 2 {
				t.Errorf("%d ListBackups calls, want both pages", n)
			}
		})
	}
	_, err := newestBackupBefore(context.Background(), &backupFake{}, "orders", t0)
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "the table has no available backup") {
		t.Errorf("no backups: %v", err)
	}
}

func TestListBackupsNewestFirst(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	api := &backupFake{pages: [][]types.BackupSummary{
		{summary(backupA, t0, types.BackupStatusAvailable)},
		{summary(backupB, t0.Add(time.Hour), types.BackupStatusAvailable)},
	}}
	got, err := ListBackups(context.Background(), api, "orders")
	if err != nil || len(got) != 2 || got[0].ARN != backupB || got[1].ARN != backupA || got[0].Type != "USER" || got[0].Status != "AVAILABLE" {
		t.Fatalf("ListBackups = %+v, %v", got, err)
	}
	if _, err := ListBackups(context.Background(), api, "no spaces"); err == nil || !usage.Is(err) {
		t.Errorf("bad table name: %v, want a usage error", err)
	}
}

// TestPrepareBackupRefusals: every refusal is a usage error, found before
// anything is created (the fake has no RestoreTableFromBackup: calling it
// would panic).
func TestPrepareBackupRefusals(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		backup string
		desc   func(arn string) (*dynamodb.DescribeBackupOutput, error)
		opts   func(*Options)
		want   string
	}{
		{"not found", backupA, func(string) (*dynamodb.DescribeBackupOutput, error) {
			return nil, &smithy.GenericAPIError{Code: "BackupNotFoundException", Message: "no backup"}
		}, nil, "backup " + backupA + " not found"},
		{"creating", backupA, func(arn string) (*dynamodb.DescribeBackupOutput, error) {
			return description(arn, ordersARN, created, types.BackupStatusCreating), nil
		}, nil, "is CREATING, not AVAILABLE"},
		{"of another table (by its details)", backupA, func(arn string) (*dynamodb.DescribeBackupOutput, error) {
			return description(arn, "arn:aws:dynamodb:us-east-1:111122223333:table/users", created, types.BackupStatusAvailable), nil
		}, nil, "is a backup of table users, not of " + ordersARN},
		{"of another table (by its ARN)", "arn:aws:dynamodb:us-east-1:111122223333:table/users/backup/0123-x", nil, nil, "is a backup of table users, not of orders"},
		{"unknown index of the backup", backupA, func(arn string) (*dynamodb.DescribeBackupOutput, error) {
			return description(arn, ordersARN, created, types.BackupStatusAvailable), nil
		}, func(o *Options) { o.Indexes = "byStatus" }, "the backup of table orders has no index byStatus (it has byCustomer)"},
		{"recovery point without a role", rpARN, nil, nil, "pass --backup-role-arn ARN"},
		{"recovery point with a bad role", rpARN, nil, func(o *Options) { o.BackupRoleARN = "ddbrewind-restore" }, "is not an IAM role ARN"},
		{"recovery point with --indexes", rpARN, nil, func(o *Options) { o.BackupRoleARN = roleARN; o.Indexes = "none" }, "leave out --billing-mode"},
		{"recovery point with --billing-mode", rpARN, nil, func(o *Options) {
			o.BackupRoleARN, o.BillingMode, o.ReadCapacity, o.WriteCapacity = roleARN, types.BillingModeProvisioned, 5, 5
		}, "leave out --billing-mode"},
		{"backup in another region than the table", "arn:aws:dynamodb:eu-west-1:111122223333:table/orders/backup/0123-x", nil,
			func(o *Options) { o.Table = ordersARN }, "is in eu-west-1 but --table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &backupFake{describeBackup: tt.desc}
			opts := Options{Table: "orders", Point: Point{Backup: tt.backup}}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			_, err := Prepare(context.Background(), api, opts)
			if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Prepare = %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

func TestPrepareBackupResolvesThePoint(t *testing.T) {
	created := time.Date(2026, 1, 1, 12, 30, 15, 250e6, time.UTC)
	api := &backupFake{describeBackup: func(arn string) (*dynamodb.DescribeBackupOutput, error) {
		return description(arn, ordersARN, created, types.BackupStatusAvailable), nil
	}}
	p, err := Prepare(context.Background(), api, Options{Table: "orders", Point: Point{Backup: backupA}, Indexes: "byCustomer"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.RestorePoint().Equal(created) || p.RecoveryTable() != "orders-rewind-20260101T123015Z" || p.BackupARN() != backupA {
		t.Errorf("point %s, recovery table %s, backup %s", p.RestorePoint(), p.RecoveryTable(), p.BackupARN())
	}
	gsis, _, err := p.indexOverrides()
	if err != nil || len(gsis) != 1 || aws.ToString(gsis[0].IndexName) != "byCustomer" {
		t.Errorf("index overrides %v, %v: want the backup's byCustomer", gsis, err)
	}
}

// recoveryPoints is an AWS Backup API that lists recovery points in pages
// and runs one restore job through the given statuses.
type recoveryPoints struct {
	pages    [][]backuptypes.RecoveryPointByResource
	statuses []backuptypes.RestoreJobStatus
	polls    atomic.Int32
	started  []*backup.StartRestoreJobInput
}

func (r *recoveryPoints) ListRecoveryPointsByResource(_ context.Context, in *backup.ListRecoveryPointsByResourceInput, _ ...func(*backup.Options)) (*backup.ListRecoveryPointsByResourceOutput, error) {
	if aws.ToString(in.ResourceArn) != ordersARN {
		return nil, errors.New("recovery points of the wrong resource")
	}
	n := 0
	if in.NextToken != nil {
		n = int(aws.ToString(in.NextToken)[0] - '0')
	}
	out := &backup.ListRecoveryPointsByResourceOutput{}
	if n < len(r.pages) {
		out.RecoveryPoints = r.pages[n]
		if n+1 < len(r.pages) {
			out.NextToken = aws.String(string(rune('0' + n + 1)))
		}
	}
	return out, nil
}

func (r *recoveryPoints) StartRestoreJob(_ context.Context, in *backup.StartRestoreJobInput, _ ...func(*backup.Options)) (*backup.StartRestoreJobOutput, error) {
	r.started = append(r.started, in)
	return &backup.StartRestoreJobOutput{RestoreJobId: aws.String("job-1")}, nil
}

func (r *recoveryPoints) DescribeRestoreJob(ctx context.Context, in *backup.DescribeRestoreJobInput, _ ...func(*backup.Options)) (*backup.DescribeRestoreJobOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n := int(r.polls.Add(1)) - 1
	st := r.statuses[min(n, len(r.statuses)-1)]
	out := &backup.DescribeRestoreJobOutput{RestoreJobId: in.RestoreJobId, Status: st}
	if st == backuptypes.RestoreJobStatusFailed {
		out.StatusMessage = aws.String("the role cannot create tables")
	}
	return out, nil
}

func TestPrepareRecoveryPoint(t *testing.T) {
	created := time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC)
	rp := func(arn string, st backuptypes.RecoveryPointStatus) backuptypes.RecoveryPointByResource {
		return backuptypes.RecoveryPointByResource{RecoveryPointArn: aws.String(arn), Status: st, CreationDate: aws.Time(created)}
	}
	other := "arn:aws:backup:us-east-1:111122223333:recovery-point:other"
	tests := []struct {
		name  string
		pages [][]backuptypes.RecoveryPointByResource
		want  string // "" = accepted
	}{
		{"on the second page", [][]backuptypes.RecoveryPointByResource{{rp(other, "COMPLETED")}, {rp(rpARN, "COMPLETED")}}, ""},
		{"not a recovery point of the table", [][]backuptypes.RecoveryPointByResource{{rp(other, "COMPLETED")}}, "is not a recovery point of " + ordersARN},
		{"partial", [][]backuptypes.RecoveryPointByResource{{rp(rpARN, "PARTIAL")}}, "is PARTIAL, not COMPLETED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Table: "orders", Point: Point{Backup: rpARN}, BackupRoleARN: roleARN, Backup: &recoveryPoints{pages: tt.pages}}
			p, err := Prepare(context.Background(), &backupFake{}, opts)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "":
				if !p.RestorePoint().Equal(created) || p.RecoveryTable() != "orders-rewind-20260201T030000Z" {
					t.Errorf("point %s, table %s", p.RestorePoint(), p.RecoveryTable())
				}
			case err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want):
				t.Errorf("Prepare = %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

func TestWaitRestoreJob(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	synctest.Test(t, func(t *testing.T) {
		api := &recoveryPoints{statuses: []backuptypes.RestoreJobStatus{"PENDING", "RUNNING", "RUNNING", "COMPLETED"}}
		start := time.Now()
		out, err := WaitRestoreJob(context.Background(), api, "job-1", time.Hour, Poll{Min: time.Second, Max: 2 * time.Second}, time.Now, log)
		if err != nil || out.Status != "COMPLETED" {
			t.Fatalf("WaitRestoreJob = %v, %v", out, err)
		}
		if got := time.Since(start); got != 5*time.Second { // 1 + 2 + 2
			t.Errorf("waited %s, want 5s", got)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		api := &recoveryPoints{statuses: []backuptypes.RestoreJobStatus{"RUNNING", "FAILED"}}
		_, err := WaitRestoreJob(context.Background(), api, "job-1", time.Hour, DefaultPoll, time.Now, log)
		if err == nil || errors.Is(err, ErrWaitInterrupted) || !strings.Contains(err.Error(), "job-1 FAILED: the role cannot create tables") {
			t.Errorf("failed job: %v", err)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Second, cancel)
		_, err := WaitRestoreJob(ctx, &recoveryPoints{statuses: []backuptypes.RestoreJobStatus{"RUNNING"}}, "job-1", time.Hour, DefaultPoll, time.Now, log)
		if !errors.Is(err, ErrWaitInterrupted) || !strings.Contains(err.Error(), "the job goes on in AWS Backup") {
			t.Errorf("interrupted: %v", err)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		_, err := WaitRestoreJob(context.Background(), &recoveryPoints{statuses: []backuptypes.RestoreJobStatus{"RUNNING"}}, "job-1", time.Minute, DefaultPoll, time.Now, log)
		if err == nil || !strings.Contains(err.Error(), "timed out after 1m0s") {
			t.Errorf("timeout: %v", err)
		}
	})
}

func TestRestoreJobTokenIsStable(t *testing.T) {
	a, b := restoreJobToken(rpARN, "orders-rewind-x"), restoreJobToken(rpARN, "orders-rewind-x")
	if a != b || a == restoreJobToken(rpARN, "orders-rewind-y") || len(a) > 64 {
		t.Errorf("tokens %q %q", a, b)
	}
}

// TestAdoptableBackup: a table restored from the same backup is adopted;
// one restored from another backup, or to a point in time, is not.
func TestAdoptableBackup(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		kind backupKind
		rs   types.RestoreSummary
		tags map[string]string
		want string // "" = adopted
	}{
		{"tagged with the backup", kindDynamoDB, types.RestoreSummary{}, map[string]string{tables.TagBackupARN: backupA}, ""},
		{"untagged, same SourceBackupArn", kindDynamoDB, types.RestoreSummary{SourceBackupArn: aws.String(backupA)}, nil, ""},
		{"tagged with another backup", kindDynamoDB, types.RestoreSummary{SourceBackupArn: aws.String(backupA)}, map[string]string{tables.TagBackupARN: backupB}, "was restored from backup " + backupB},
		{"untagged, another SourceBackupArn", kindDynamoDB, types.RestoreSummary{SourceBackupArn: aws.String(backupB)}, nil, "was restored from backup " + backupB},
		{"a point-in-time restore", kindDynamoDB, types.RestoreSummary{}, nil, "to a point in time"},
		{"tagged as a point-in-time restore", kindDynamoDB, types.RestoreSummary{SourceBackupArn: aws.String(backupA)}, map[string]string{tables.TagRestorePoint: "2026-01-01T00:00:00Z"}, "to a point in time"},
		{"recovery point, untagged, its time", kindAWSBackup, types.RestoreSummary{SourceBackupArn: aws.String(backupB), RestoreDateTime: aws.Time(created)}, nil, ""},
		{"recovery point, untagged, another time", kindAWSBackup, types.RestoreSummary{SourceBackupArn: aws.String(backupB), RestoreDateTime: aws.Time(created.Add(time.Hour))}, nil, "was restored from backup " + backupB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arn := backupA
			if tt.kind == kindAWSBackup {
				arn = rpARN
			}
			p := &Plan{backup: &backupSource{arn: arn, kind: tt.kind, created: created}}
			rs := tt.rs
			err := p.adoptableBackup(&types.TableDescription{RestoreSummary: &rs}, tt.tags, func(why string) error { return usage.Errorf("refused: %s", why) })
			switch {
			case tt.want == "" && (err != nil || p.existing == nil || !p.point.Equal(created)):
				t.Errorf("not adopted: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want a refusal containing %q", err, tt.want)
			}
		})
	}
}

// restoringFake records RestoreTableFromBackup and TagResource; the new
// table is ACTIVE at once.
type restoringFake struct {
	backupFake
	restored *dynamodb.RestoreTableFromBackupInput
	tagged   *dynamodb.TagResourceInput
}

func (f *restoringFake) RestoreTableFromBackup(_ context.Context, in *dynamodb.RestoreTableFromBackupInput, _ ...func(*dynamodb.Options)) (*dynamodb.RestoreTableFromBackupOutput, error) {
	f.restored = in
	return &dynamodb.RestoreTableFromBackupOutput{TableDescription: &types.TableDescription{
		TableName: in.TargetTableName, TableArn: aws.String("arn:aws:dynamodb:us-east-1:111122223333:table/" + aws.ToString(in.TargetTableName))}}, nil
}

func (f *restoringFake) TagResource(_ context.Context, in *dynamodb.TagResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error) {
	f.tagged = in
	return &dynamodb.TagResourceOutput{}, nil
}

// TestStartFromBackupOverrides: moto ignores RestoreTableFromBackup's
// overrides, so this checks what ddbrewind asks for: the indexes picked
// among the backup's (with capacity when PROVISIONED), the billing mode,
// the KMS key, and ddbrewind's tags with the backup's ARN and creation time.
func TestStartFromBackupOverrides(t *testing.T) {
	created := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	api := &restoringFake{backupFake: backupFake{describeBackup: func(arn string) (*dynamodb.DescribeBackupOutput, error) {
		d := description(arn, ordersARN, created, types.BackupStatusAvailable)
		d.BackupDescription.SourceTableFeatureDetails.GlobalSecondaryIndexes = append(d.BackupDescription.SourceTableFeatureDetails.GlobalSecondaryIndexes,
			types.GlobalSecondaryIndexInfo{IndexName: aws.String("byStatus")})
		return d, nil
	}}}
	res, err := Restore(context.Background(), api, Options{Table: "orders", Point: Point{Backup: backupA}, Indexes: "byStatus",
		BillingMode: types.BillingModeProvisioned, ReadCapacity: 7, WriteCapacity: 3, SSEKMSKey: "alias/rewind",
		Tags: map[string]string{"team": "payments"}, Now: func() time.Time { return created.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	in := api.restored
	if in == nil || aws.ToString(in.BackupArn) != backupA || aws.ToString(in.TargetTableName) != "orders-rewind-20260101T120000Z" {
		t.Fatalf("RestoreTableFromBackup %+v", in)
	}
	if in.BillingModeOverride != types.BillingModeProvisioned || aws.ToInt64(in.ProvisionedThroughputOverride.ReadCapacityUnits) != 7 ||
		aws.ToInt64(in.ProvisionedThroughputOverride.WriteCapacityUnits) != 3 {
		t.Errorf("billing %s, throughput %+v", in.BillingModeOverride, in.ProvisionedThroughputOverride)
	}
	if len(in.GlobalSecondaryIndexOverride) != 1 || aws.ToString(in.GlobalSecondaryIndexOverride[0].IndexName) != "byStatus" ||
		aws.ToInt64(in.GlobalSecondaryIndexOverride[0].ProvisionedThroughput.ReadCapacityUnits) != 7 || in.LocalSecondaryIndexOverride == nil {
		t.Errorf("index overrides %+v, %+v: want byStatus only, with capacity, and no LSI", in.GlobalSecondaryIndexOverride, in.LocalSecondaryIndexOverride)
	}
	if sse := in.SSESpecificationOverride; sse == nil || sse.SSEType != types.SSETypeKms || aws.ToString(sse.KMSMasterKeyId) != "alias/rewind" {
		t.Errorf("SSE override %+v", sse)
	}
	tags := map[string]string{}
	for _, tag := range api.tagged.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if tags[tables.TagBackupARN] != backupA || tags[tables.TagRestorePoint] != "2026-01-01T12:00:00Z" || tags[tables.TagSourceTable] != "orders" ||
		tags[tables.TagCreatedAt] != "2026-01-01T13:00:00Z" || tags["team"] != "payments" {
		t.Errorf("tags %v", tags)
	}
	if res.BackupARN != backupA || !res.RestorePoint.Equal(created) {
		t.Errorf("result %+v", res)
	}
}
