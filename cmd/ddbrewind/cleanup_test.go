package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/restore"
)

// restored makes a recovery table of table through the CLI.
func restored(t *testing.T, srv *ddbtest.Server, c *dynamodb.Client, table, prefix string) string {
	t.Helper()
	name := ddbtest.UniqueName(t, prefix)
	deleteAfter(t, c, name)
	r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--recovery-table", name)
	if r.code != 0 {
		t.Fatalf("restore: exit %d", r.code)
	}
	return name
}

func TestListTaggedOnly(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	rec := restored(t, srv, c, table, "rec")
	r := ddb(t, "list", "--endpoint-url", srv.Endpoint, "--output", "json")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	var got []restore.RecoveryTable
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("list --output json is not JSON: %v", err)
	}
	found := false
	for _, rt := range got {
		if rt.Name == table {
			t.Errorf("untagged source table %s listed", table)
		}
		if rt.Name == rec {
			found = true
			if rt.SourceTable != table || rt.Status != "ACTIVE" || !rt.Restored || rt.ItemCount != 20 || rt.RestorePoint.IsZero() || rt.CreatedAt.IsZero() {
				t.Errorf("listed %+v", rt)
			}
		}
	}
	if !found {
		t.Errorf("recovery table %s not listed", rec)
	}
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--source", table)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "NAME") || !strings.Contains(r.stdout, rec) || strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("table output:\n%s", r.stdout)
	}
	// At 80 columns, with the default name (issue 22 row 11): the source and
	// the creation time are in -o wide.
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.Contains(l, table) || strings.Contains(l, "CREATED") {
			t.Errorf("the default list has the source or the creation time: %q", l)
		}
	}
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--source", table, "-o", "wide")
	if r.code != 0 || !strings.Contains(r.stdout, "SOURCE") || !strings.Contains(r.stdout, "CREATED") || !strings.Contains(r.stdout, table) {
		t.Errorf("list -o wide:\n%s", r.stdout)
	}
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--source", "nothing-restored-from-here", "--output", "json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("empty list: exit %d %q", r.code, r.stdout)
	}
	// Empty, as a table: a sentence, not a lone header (issue 22 row 11).
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--source", "nothing-restored-from-here")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "no recovery tables of nothing-restored-from-here" {
		t.Errorf("empty list as a table: exit %d %q", r.code, r.stdout)
	}
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--backups", "--table", table)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "no backups of "+table {
		t.Errorf("no backups, as a table: exit %d %q", r.code, r.stdout)
	}
}

func TestCleanupDeletesRecoveryTable(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	rec := restored(t, srv, c, table, "rec")

	r := ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", rec, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would delete "+rec) || !tableExists(t, c, rec) {
		t.Fatalf("--dry-run: exit %d, stdout %q, table exists %v", r.code, r.stdout, tableExists(t, c, rec))
	}
	r = ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", rec)
	if r.code != 2 || !strings.Contains(r.stderr, "--yes") || !tableExists(t, c, rec) {
		t.Fatalf("without --yes off a terminal: exit %d, want 2 naming --yes and the table kept", r.code)
	}
	r = runCLI(t, cliOpts{stdinTTY: true, stdin: "no\n"}, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", rec)
	if r.code != 2 || !tableExists(t, c, rec) {
		t.Fatalf("answering no: exit %d, want 2 and the table kept", r.code)
	}
	r = ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", rec, "--yes")
	if r.code != 0 || r.stdout != "deleted "+rec+"\n" {
		t.Fatalf("exit %d stdout %q", r.code, r.stdout)
	}
	if tableExists(t, c, rec) || !tableExists(t, c, table) {
		t.Errorf("after cleanup: recovery exists %v, source exists %v", tableExists(t, c, rec), tableExists(t, c, table))
	}
}

func TestCleanupRefusals(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	ctx := context.Background()

	plain := ddbtest.UniqueName(t, "plain")
	ddbtest.CreateTable(t, c, plain, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})

	fake := ddbtest.UniqueName(t, "fake")
	ddbtest.CreateTable(t, c, fake, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})
	d, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(fake)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: d.Table.TableArn, Tags: []types.Tag{
		{Key: aws.String(tables.TagSourceTable), Value: aws.String(table)},
	}}); err != nil {
		t.Fatal(err)
	}

	protected := restored(t, srv, c, table, "prot")
	if _, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(protected), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		table string
		want  string
	}{
		{"untagged table", plain, "has no ddbrewind:source-table tag"},
		{"tagged but not restored", fake, "no RestoreSummary"},
		{"deletion protection", protected, "--disable-deletion-protection"},
		{"missing table", "no-such-recovery-table", "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", tt.table, "--yes")
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("exit %d, want 2 and %q in stderr", r.code, tt.want)
			}
			if tt.table != "no-such-recovery-table" && !tableExists(t, c, tt.table) {
				t.Errorf("refused table %s was deleted", tt.table)
			}
		})
	}
	// A refused table in the batch protects the whole batch.
	r := ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", protected, "--recovery-table", plain, "--yes")
	if r.code != 2 || !tableExists(t, c, protected) {
		t.Fatalf("mixed batch: exit %d", r.code)
	}
	r = ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--recovery-table", protected, "--yes", "--disable-deletion-protection")
	if r.code != 0 || tableExists(t, c, protected) {
		t.Fatalf("--disable-deletion-protection: exit %d, exists %v", r.code, tableExists(t, c, protected))
	}
}

func TestCleanupBySourceAndAge(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	a := restored(t, srv, c, table, "a")
	b := restored(t, srv, c, table, "b")
	r := ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--source", table, "--older-than", "1h", "--yes")
	if r.code != 0 || !tableExists(t, c, a) || !tableExists(t, c, b) {
		t.Fatalf("--older-than 1h deleted fresh tables: exit %d", r.code)
	}
	r = ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--source", table, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would delete "+a) || !strings.Contains(r.stdout, "would delete "+b) {
		t.Fatalf("dry run by source: %q", r.stdout)
	}
	r = ddb(t, "cleanup", "--endpoint-url", srv.Endpoint, "--source", table, "--yes")
	if r.code != 0 || tableExists(t, c, a) || tableExists(t, c, b) || !tableExists(t, c, table) {
		t.Fatalf("cleanup by source: exit %d", r.code)
	}
}

// TestListFreshTableCountsUnknown: a recovery table younger than DynamoDB's
// six-hourly count refresh that reports 0 items and 0 B shows "-" with
// why, not "0" (issue 22 row 15).
func TestListFreshTableCountsUnknown(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	table := ddbtest.UniqueName(t, "empty")
	ddbtest.CreateTable(t, c, table, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, PITR: true})
	rec := restored(t, srv, c, table, "rec")
	r := ddb(t, "list", "--endpoint-url", srv.Endpoint, "--source", table)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], rec) || !strings.HasSuffix(lines[1], "ACTIVE  -      -") ||
		!strings.HasPrefix(lines[2], "-: not counted yet") {
		t.Errorf("list of a fresh recovery table: exit %d\n%s", r.code, r.stdout)
	}
}
