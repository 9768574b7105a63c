package main

// Restores from backups, end to end on moto. moto's CreateBackup takes a
// real snapshot of the table's items and its RestoreTableFromBackup
// restores that snapshot, so these tests travel in time for real: items
// changed, deleted or created after the backup must come back as they were
// when it was taken. (moto's point-in-time restore copies the table as it
// is now; its restorable window is a single instant.) moto ignores
// RestoreTableFromBackup's overrides (billing mode, indexes, encryption)
// and never reports a backup other than AVAILABLE: the overrides are
// checked in package restore's unit tests, the status through a rewriting
// proxy below.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/restore"
	"github.com/ddbrewind/ddbrewind/rewind"
)

// items is a table's content, keyed by primary key.
type items = map[string]map[string]types.AttributeValue

// createBackup makes an on-demand backup of table and returns its ARN and
// creation time.
func createBackup(t *testing.T, c *dynamodb.Client, table, name string) (string, time.Time) {
	t.Helper()
	out, err := c.CreateBackup(context.Background(), &dynamodb.CreateBackupInput{TableName: aws.String(table), BackupName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	d := out.BackupDetails
	return aws.ToString(d.BackupArn), aws.ToTime(d.BackupCreationDateTime).UTC()
}

// damage changes the table after a backup: overwrites some items, deletes
// others and creates new ones.
func damage(t *testing.T, c *dynamodb.Client, table string, seed int) {
	t.Helper()
	ddbtest.PutItems(t, c, table, tenantItems(20, 5, "broken", fmt.Sprint("badjob", seed)))
	for i := 20; i < 30; i++ {
		if _, err := c.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("tenant#%d", i%5)}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 7 {
		ddbtest.PutItems(t, c, table, []map[string]types.AttributeValue{{
			"pk": &types.AttributeValueMemberS{Value: "tenant#0"}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(1000*seed + 5000 + i)},
			"lastWriter": &types.AttributeValueMemberS{Value: "badjob"},
		}})
	}
}

// backedUpTable creates a moto table without point-in-time recovery
// holding n items, backs it up, and damages it. It returns the items as
// they were when backed up.
func backedUpTable(t *testing.T, n int) (srv *ddbtest.Server, c *dynamodb.Client, table, arn string, created time.Time, snapshot items) {
	t.Helper()
	srv = pool.Get(t, ddbtest.Moto)
	c = srv.Client(t)
	table = ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, table, mixedSpec)
	ddbtest.PutItems(t, c, table, tenantItems(n, 5, "good", "app"))
	snapshot = ddbtest.ScanAll(t, c, table)
	arn, created = createBackup(t, c, table, "before-migration")
	damage(t, c, table, 1)
	if d := ddbtest.DiffItemSets(snapshot, ddbtest.ScanAll(t, c, table)); len(d) == 0 {
		t.Fatal("the damage changed nothing: the test would prove nothing")
	}
	dropRecoveryTables(t, c, table)
	return srv, c, table, arn, created, snapshot
}

func TestRestoreBackupTimeTravel(t *testing.T) {
	t.Parallel()
	srv, c, table, arn, created, snapshot := backedUpTable(t, 60)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{})
	want := restore.DefaultRecoveryName(table, created)
	args := []string{"restore", "--endpoint-url", proxy.URL(), "--table", table, "--backup", arn, "--tag", "team=payments"}

	r := ddb(t, args...)
	if r.code != 0 || r.stdout != want+"\n" {
		t.Fatalf("exit %d, stdout %q: want %s alone on its line", r.code, r.stdout, want)
	}
	assertSame(t, "recovery table restored from the backup", snapshot, ddbtest.ScanAll(t, c, want))
	d, err := c.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(want)})
	if err != nil {
		t.Fatal(err)
	}
	if rs := d.Table.RestoreSummary; d.Table.TableStatus != types.TableStatusActive || rs == nil || aws.ToString(rs.SourceBackupArn) != arn {
		t.Errorf("status %s, restore summary %+v: want ACTIVE, restored from %s", d.Table.TableStatus, rs, arn)
	}
	tags := tagsOf(t, c, want)
	if tags[tables.TagSourceTable] != table || tags[tables.TagRestorePoint] != tables.FormatTime(created) ||
		tags[tables.TagBackupARN] != arn || tags["team"] != "payments" || tags[tables.TagCreatedAt] == "" {
		t.Errorf("tags %v", tags)
	}
	// A retried job adopts the table instead of restoring twice.
	r = ddb(t, append(args, "--if-exists", "adopt")...)
	if r.code != 0 || r.stdout != want+"\n" || !strings.Contains(r.stderr, "adopting") {
		t.Errorf("retry with --if-exists adopt: exit %d, stdout %q", r.code, r.stdout)
	}
	if n := proxy.Stats().Ops["RestoreTableFromBackup"].Calls; n != 1 {
		t.Errorf("%d RestoreTableFromBackup calls, want 1", n)
	}
	// list and cleanup treat it like any recovery table.
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--source", table, "--output", "json")
	var listed []restore.RecoveryTable
	if err := json.Unmarshal([]byte(r.stdout), &listed); r.code != 0 || err != nil || len(listed) != 1 ||
		listed[0].Name != want || listed[0].BackupARN != arn || !listed[0].RestorePoint.Equal(created) || !listed[0].Restored {
		t.Errorf("list: exit %d, %+v, %v", r.code, listed, err)
	}
	r = ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", want, "--yes")
	if r.code != 0 || tableExists(t, c, want) {
		t.Errorf("cleanup of a table restored from a backup: exit %d, still there: %v", r.code, tableExists(t, c, want))
	}
}

// TestRestoreBackupBefore picks the newest available backup at or before
// the time: two backups, the table changed between them.
func TestRestoreBackupBefore(t *testing.T) {
	t.Parallel()
	srv, c, table, first, created1, snapshot1 := backedUpTable(t, 40)
	time.Sleep(20 * time.Millisecond) // distinct creation times
	snapshot2 := ddbtest.ScanAll(t, c, table)
	second, created2 := createBackup(t, c, table, "after-damage")
	damage(t, c, table, 2)
	if !created2.After(created1) {
		t.Fatalf("backups created at %s and %s", created1, created2)
	}

	r := ddb(t, "list", "--endpoint-url", srv.Endpoint, "--backups", "--table", table, "--output", "json")
	var listed []restore.Backup
	if err := json.Unmarshal([]byte(r.stdout), &listed); r.code != 0 || err != nil || len(listed) != 2 || listed[0].ARN != second || listed[1].ARN != first ||
		listed[0].Status != "AVAILABLE" || listed[0].Type != "USER" || listed[0].Name != "after-damage" || !listed[1].Created.Equal(created1) {
		t.Fatalf("list --backups: exit %d, %+v, %v: want both, newest first", r.code, listed, err)
	}
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--backups", "--table", table)
	// The ARN goes last (issue 22 row 11: ARN first made 150 columns).
	// The type is a column by default too: the contract lists ARN, name,
	// created, size and type.
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.HasSuffix(lines[0], "ARN") || !strings.HasPrefix(lines[1], "after-damage") || !strings.HasSuffix(lines[1], second) ||
		!strings.Contains(lines[0], "TYPE") || !strings.Contains(lines[1], " USER ") {
		t.Errorf("list --backups as a table: exit %d\n%s", r.code, r.stdout)
	}
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--backups", "--table", table, "-o", "wide")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); r.code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "TYPE") || !strings.Contains(lines[1], "USER") {
		t.Errorf("list --backups -o wide: exit %d\n%s", r.code, r.stdout)
	}

	for _, tt := range []struct {
		name   string
		before time.Time
		want   items
		arn    string
	}{
		{"exactly the first backup's time", created1, snapshot1, first},
		{"between the backups", created2.Add(-time.Millisecond), snapshot1, first},
		{"after both", created2.Add(time.Hour), snapshot2, second},
	} {
		name := ddbtest.UniqueName(t, "bb")
		r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--backup-before", tables.FormatTime(tt.before), "--recovery-table", name)
		if r.code != 0 || r.stdout != name+"\n" {
			t.Fatalf("%s: exit %d", tt.name, r.code)
		}
		deleteAfter(t, c, name)
		assertSame(t, tt.name, tt.want, ddbtest.ScanAll(t, c, name))
		if got := tagsOf(t, c, name)[tables.TagBackupARN]; got != tt.arn {
			t.Errorf("%s: restored from %s, want %s", tt.name, got, tt.arn)
		}
	}
}

// statusRewriter is a proxy to moto that reports every backup as CREATING:
// moto's backups are AVAILABLE at once.
func statusRewriter(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"BackupStatus":\s*"AVAILABLE"`)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		body = re.ReplaceAll(body, []byte(`"BackupStatus": "CREATING"`))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		resp.Header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10)) // the body changed
		return nil
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRestoreBackupRefusals: each bad input is one line on stderr, exit 2,
// and nothing is created — no recovery table, no AWS Backup restore job.
func TestRestoreBackupRefusals(t *testing.T) {
	t.Parallel()
	srv, c, table, arn, created, _ := backedUpTable(t, 10)
	other := ddbtest.UniqueName(t, "users")
	ddbtest.CreateTable(t, c, other, mixedSpec)
	otherBackup, _ := createBackup(t, c, other, "users")
	empty := ddbtest.UniqueName(t, "empty")
	ddbtest.CreateTable(t, c, empty, mixedSpec)
	fake := newFakeAWSBackup(t, c)
	point := "arn:aws:backup:us-east-1:123456789012:recovery-point:0f1e2d3c"
	// A backup ARN of the table whose id does not exist.
	missing := arn[:strings.LastIndex(arn, "/")+1] + "01234567890123-deadbeef"
	creating := statusRewriter(t, srv.Endpoint)
	role := "arn:aws:iam::123456789012:role/ddbrewind-restore"
	tests := []struct {
		name     string
		endpoint string
		args     []string
		want     string
	}{
		{"--at and --backup", "", []string{"--table", table, "--at", tables.FormatTime(created), "--backup", arn}, "give exactly one of --at TIME, --ago DURATION, --latest, --backup ARN or --backup-before TIME (got 2)"},
		{"--latest and --backup-before", "", []string{"--table", table, "--latest", "--backup-before", tables.FormatTime(created)}, "(got 2)"},
		{"--backup and --backup-before", "", []string{"--table", table, "--backup", arn, "--backup-before", tables.FormatTime(created)}, "(got 2)"},
		{"bad ARN", "", []string{"--table", table, "--backup", "backup-of-yesterday"}, `--backup "backup-of-yesterday" is not a backup ARN`},
		{"a table ARN", "", []string{"--table", table, "--backup", describeARN(t, c, table)}, "is not a backup ARN"},
		{"bad --backup-before", "", []string{"--table", table, "--backup-before", "yesterday"}, `--backup-before "yesterday" is not a time`},
		{"backup of another table", "", []string{"--table", table, "--backup", otherBackup}, "is a backup of table " + other + ", not of " + table},
		{"backup not found", "", []string{"--table", table, "--backup", missing}, "backup " + missing + " not found"},
		{"backup not available", creating, []string{"--table", table, "--backup", arn}, "is CREATING, not AVAILABLE"},
		{"--backup-before with no backup before", "", []string{"--table", table, "--backup-before", tables.FormatTime(created.Add(-time.Hour))},
			"no available backup of the table was created at or before that time; the oldest is " + arn + ", created " + tables.FormatTime(created)},
		{"--backup-before with no available backup", creating, []string{"--table", table, "--backup-before", tables.FormatTime(created.Add(time.Hour))}, "the table has no available backup"},
		{"--backup-before on a table without backups", "", []string{"--table", empty, "--backup-before", tables.FormatTime(created)}, "the table has no available backup"},
		{"recovery point without --backup-role-arn", "", []string{"--table", table, "--backup", point}, "pass --backup-role-arn ARN"},
		{"--backup-role-arn with a DynamoDB backup", "", []string{"--table", table, "--backup", arn, "--backup-role-arn", role}, "--backup-role-arn is only for --backup with an AWS Backup recovery point"},
		{"recovery point with --indexes", "", []string{"--table", table, "--backup", point, "--backup-role-arn", role, "--indexes", "all"}, "leave out --billing-mode"},
		{"recovery point of another table", "", []string{"--table", table, "--backup", point, "--backup-role-arn", role}, "is not a recovery point of"},
		{"unknown index of the backup", "", []string{"--table", table, "--backup", arn, "--indexes", "byCustomer"}, "has no index byCustomer"},
		{"pitr off points at backups", "", []string{"--table", table, "--latest"}, "restore from a backup with --backup ARN or --backup-before TIME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			endpoint := tt.endpoint
			if endpoint == "" {
				endpoint = srv.Endpoint
			}
			r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_BACKUP": fake.URL()}},
				append([]string{"restore", "--endpoint-url", endpoint}, tt.args...)...)
			if r.code != 2 {
				t.Fatalf("exit %d, want 2", r.code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr does not say %q", tt.want)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 || r.stdout != "" {
				t.Errorf("want one line on stderr and nothing on stdout, got %d lines and %q", n+1, r.stdout)
			}
			for _, src := range []string{table, other, empty} {
				if made := tablesWithPrefix(t, c, src+"-rewind-"); len(made) > 0 {
					t.Errorf("a refusal must create nothing, found %v", made)
				}
			}
			if n := fake.count("StartRestoreJob"); n != 0 {
				t.Errorf("a refusal started %d AWS Backup restore jobs", n)
			}
		})
	}
	// list --backups refuses bad combinations the same way.
	for _, args := range [][]string{{"--backups"}, {"--backups", "--table", table, "--source", table}, {"--table", table}, {"--backups", "--table", "no spaces"}} {
		if r := ddb(t, append([]string{"list", "--endpoint-url", srv.Endpoint}, args...)...); r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("list %v: exit %d, want 2 and one line", args, r.code)
		}
	}
}

// awsBackupPoint registers, in fake, a recovery point of table that stands
// for a fresh moto backup of it, and returns its ARN and creation time.
func awsBackupPoint(t *testing.T, c *dynamodb.Client, fake *fakeAWSBackup, table string) (string, time.Time) {
	t.Helper()
	arn, created := createBackup(t, c, table, "aws-backup-job")
	point := "arn:aws:backup:us-east-1:123456789012:recovery-point:" + strings.ToUpper(arn[strings.LastIndex(arn, "-")+1:])
	fake.addPoint(fakeRecoveryPoint{arn: point, tableARN: describeARN(t, c, table), backup: arn, created: created})
	return point, created
}

// TestRestoreBackupAWSBackup restores an AWS Backup recovery point through
// the recording fake of AWS Backup (see awsbackup_fake_test.go): the
// request names the recovery point, the role and the target table, the job
// is polled until COMPLETED, and the table is then tagged like any
// recovery table.
func TestRestoreBackupAWSBackup(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	table := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, table, mixedSpec)
	ddbtest.PutItems(t, c, table, tenantItems(30, 5, "good", "app"))
	snapshot := ddbtest.ScanAll(t, c, table)
	dropRecoveryTables(t, c, table)
	fake := newFakeAWSBackup(t, c)
	point, created := awsBackupPoint(t, c, fake, table)
	damage(t, c, table, 1)
	role := "arn:aws:iam::123456789012:role/ddbrewind-restore"
	want := restore.DefaultRecoveryName(table, created)
	env := map[string]string{"AWS_ENDPOINT_URL_BACKUP": fake.URL()}
	args := []string{"restore", "--endpoint-url", srv.Endpoint, "--table", table, "--backup", point, "--backup-role-arn", role, "--sse-kms-key", "arn:aws:kms:us-east-1:123456789012:key/k1"}

	r := runCLI(t, cliOpts{env: env}, args...)
	if r.code != 0 || r.stdout != want+"\n" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	var starts []fakeBackupCall
	for _, call := range fake.Calls() {
		if call.service != "backup" {
			t.Errorf("%s signed for %q, want backup", call.op, call.service)
		}
		if call.op == "StartRestoreJob" {
			starts = append(starts, call)
		}
	}
	if len(starts) != 1 {
		t.Fatalf("%d StartRestoreJob calls, want 1", len(starts))
	}
	s := starts[0].start
	if s.RecoveryPointArn != point || s.IamRoleArn != role || s.ResourceType != "DynamoDB" || s.IdempotencyToken == "" ||
		s.Metadata["targetTableName"] != want || s.Metadata["encryptionType"] != "KMS" || s.Metadata["kmsMasterKeyArn"] != "arn:aws:kms:us-east-1:123456789012:key/k1" {
		t.Errorf("StartRestoreJob request %+v", s)
	}
	if n := fake.count("DescribeRestoreJob"); n != 2 {
		t.Errorf("%d DescribeRestoreJob calls, want 2 (RUNNING, then COMPLETED)", n)
	}
	assertSame(t, "recovery table restored by AWS Backup", snapshot, ddbtest.ScanAll(t, c, want))
	tags := tagsOf(t, c, want)
	if tags[tables.TagSourceTable] != table || tags[tables.TagRestorePoint] != tables.FormatTime(created) || tags[tables.TagBackupARN] != point {
		t.Errorf("tags %v", tags)
	}
	// Retried: the table is adopted (its tag names the recovery point), no
	// second job.
	r = runCLI(t, cliOpts{env: env}, append(args, "--if-exists", "adopt")...)
	if r.code != 0 || r.stdout != want+"\n" || fake.count("StartRestoreJob") != 1 {
		t.Errorf("adopt: exit %d, %d jobs", r.code, fake.count("StartRestoreJob"))
	}
	r = ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--source", table, "--yes")
	if r.code != 0 || tableExists(t, c, want) {
		t.Errorf("cleanup: exit %d", r.code)
	}
}

// TestRunBackup rewinds a table from a backup with run: the main table gets
// back, item by item, what it held when the backup was taken; the state
// file records the backup; a rerun with another backup is refused.
func TestRunBackup(t *testing.T) {
	t.Parallel()
	srv, c, table, arn, created, snapshot := backedUpTable(t, 80)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"run", "--endpoint-url", srv.Endpoint, "--table", table, "--backup", arn, "--state", state, "--delete-extra", "--yes"}
	r := ddb(t, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "rewound "+table+" to "+tables.MessageTime(created)+" from backup "+arn) {
		t.Fatalf("run: exit %d, stdout %q", r.code, r.stdout)
	}
	assertSame(t, "main table after run --backup", snapshot, ddbtest.ScanAll(t, c, table))
	st := readState(t, state)
	if st == nil || st.Step != rewind.StepDone || st.BackupARN != arn || !st.RestorePoint.Equal(created) || st.BackupBefore != nil || tableExists(t, c, st.RecoveryTable) {
		t.Fatalf("state %+v: want done, the backup recorded, the recovery table gone", st)
	}
	if raw := readFile(t, state); !strings.Contains(raw, `"backup_arn": "`+arn+`"`) {
		t.Errorf("the state file does not record backup_arn:\n%s", raw)
	}
	r = ddb(t, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "already done") {
		t.Errorf("rerun: exit %d, %q", r.code, r.stdout)
	}
	other, _ := createBackup(t, c, table, "later")
	for _, flags := range [][]string{{"--backup", other}, {"--backup-before", tables.FormatTime(created)}, {"--latest"}} {
		r = ddb(t, append([]string{"run", "--endpoint-url", srv.Endpoint, "--table", table, "--state", state, "--delete-extra", "--yes"}, flags...)...)
		if r.code != 2 || !strings.Contains(r.stderr, state) || !strings.Contains(r.stderr, "from backup "+arn) {
			t.Errorf("rerun with %v: exit %d, want 2 naming the state file and its backup", flags, r.code)
		}
	}
}

// TestRunBackupBeforeResumes fails a run --backup-before in its copy, then
// resumes it after a newer backup was taken: the resume adopts the
// recovery table restored from the backup picked first (never restoring
// twice) and finishes the rewind to it.
func TestRunBackupBeforeResumes(t *testing.T) {
	t.Parallel()
	srv, c, table, arn, created, snapshot := backedUpTable(t, 60)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
	state := filepath.Join(t.TempDir(), "state.json")
	before := tables.FormatTime(created.Add(time.Minute))
	args := []string{"run", "--endpoint-url", proxy.URL(), "--table", table, "--backup-before", before, "--state", state, "--yes", "--max-retry-time", "1s"}
	if r := ddb(t, args...); r.code != 3 {
		t.Fatalf("exit %d, want 3 (items could not be written)", r.code)
	}
	st := readState(t, state)
	if st == nil || st.Step != rewind.StepCopy || st.BackupARN != arn || st.BackupBefore == nil || tables.FormatTime(*st.BackupBefore) != before || !tableExists(t, c, st.RecoveryTable) {
		t.Fatalf("state %+v: want the copy step, the backup picked and --backup-before recorded, the recovery table kept", st)
	}
	// A newer backup, still before --backup-before: resolving the flag
	// again would pick it; the resumed run must keep the backup it picked.
	createBackup(t, c, table, "newer")
	proxy.SetConfig(ddbtest.FaultConfig{})
	if r := ddb(t, args...); r.code != 0 {
		t.Fatalf("resume: exit %d", r.code)
	}
	if n := proxy.Stats().Ops["RestoreTableFromBackup"].Calls; n != 1 {
		t.Errorf("%d RestoreTableFromBackup calls, want 1", n)
	}
	// The run copies without --delete-extra: items created after the
	// backup stay (reported, not failed); everything else is as backed up.
	got := ddbtest.ScanAll(t, c, table)
	for k, want := range snapshot {
		if d := ddbtest.DiffItem(want, got[k]); len(d) > 0 {
			t.Errorf("item %s: %v", k, d)
		}
	}
}

// TestRunBackupAWSBackup runs a whole rewind from an AWS Backup recovery
// point (through the fake): restore job, tags, copy, verify, cleanup.
func TestRunBackupAWSBackup(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	table := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, table, mixedSpec)
	ddbtest.PutItems(t, c, table, tenantItems(50, 5, "good", "app"))
	snapshot := ddbtest.ScanAll(t, c, table)
	dropRecoveryTables(t, c, table)
	fake := newFakeAWSBackup(t, c)
	point, created := awsBackupPoint(t, c, fake, table)
	damage(t, c, table, 1)
	state := filepath.Join(t.TempDir(), "state.json")
	r := runCLI(t, cliOpts{env: map[string]string{"AWS_ENDPOINT_URL_BACKUP": fake.URL()}}, "run", "--endpoint-url", srv.Endpoint, "--table", table,
		"--backup", point, "--backup-role-arn", "arn:aws:iam::123456789012:role/ddbrewind-restore", "--state", state, "--delete-extra", "--yes")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	assertSame(t, "main table after run from a recovery point", snapshot, ddbtest.ScanAll(t, c, table))
	if st := readState(t, state); st == nil || st.Step != rewind.StepDone || st.BackupARN != point || !st.RestorePoint.Equal(created) || tableExists(t, c, st.RecoveryTable) {
		t.Errorf("state %+v, want done, from %s at %s, the recovery table gone", st, point, created)
	}
	if n := fake.count("StartRestoreJob"); n != 1 {
		t.Errorf("%d restore jobs, want 1", n)
	}
}

// TestAWSBackupJobFailureHint fails the AWS Backup restore job (through
// the fake): restore's error sends the user to --if-exists adopt; run's,
// which has no --if-exists, to the same run command, which resumes from
// its --state and takes the restore over.
func TestAWSBackupJobFailureHint(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	table := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, table, mixedSpec)
	ddbtest.PutItems(t, c, table, tenantItems(20, 5, "good", "app"))
	snapshot := ddbtest.ScanAll(t, c, table)
	dropRecoveryTables(t, c, table)
	fake := newFakeAWSBackup(t, c)
	fake.failJobs = "the role cannot create tables"
	point, _ := awsBackupPoint(t, c, fake, table)
	damage(t, c, table, 1)
	env := map[string]string{"AWS_ENDPOINT_URL_BACKUP": fake.URL()}
	role := "arn:aws:iam::123456789012:role/ddbrewind-restore"

	r := runCLI(t, cliOpts{env: env}, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--backup", point, "--backup-role-arn", role)
	if r.code == 0 || !strings.Contains(r.stderr, "the role cannot create tables") || !strings.Contains(r.stderr, "run the same command with --if-exists adopt") {
		t.Errorf("restore: exit %d, stderr %q: want the job's failure and a hint at --if-exists adopt", r.code, r.stderr)
	}
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"run", "--endpoint-url", srv.Endpoint, "--table", table, "--backup", point, "--backup-role-arn", role, "--state", state, "--delete-extra", "--yes"}
	r = runCLI(t, cliOpts{env: env}, args...)
	if r.code == 0 || !strings.Contains(r.stderr, "the role cannot create tables") || strings.Contains(r.stderr, "--if-exists") ||
		!strings.Contains(r.stderr, "run the same run command again: it resumes from its --state") {
		t.Fatalf("run: exit %d, stderr %q: want the job's failure and a hint at rerunning run, never --if-exists", r.code, r.stderr)
	}
	// The hint holds: the same run command finishes the rewind.
	fake.mu.Lock()
	fake.failJobs = ""
	fake.mu.Unlock()
	if r = runCLI(t, cliOpts{env: env}, args...); r.code != 0 {
		t.Fatalf("rerun: exit %d, stderr %q", r.code, r.stderr)
	}
	assertSame(t, "main table after the rerun", snapshot, ddbtest.ScanAll(t, c, table))
}

// readFile returns a file's content.
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
