package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// legacyGlobalTableResponder answers DescribeGlobalTable (which neither
// dynalite nor moto serves) through the fault proxy as DynamoDB does for a
// global table version 2017.11.29 whose replicas are in regions (here, the
// table's own Region, among them), or, once denied is set, AccessDenied.
func legacyGlobalTableResponder(table string, denied *atomic.Bool, regions ...string) map[string]func() (int, []byte) {
	return map[string]func() (int, []byte){"DescribeGlobalTable": func() (int, []byte) {
		if denied.Load() {
			return http.StatusBadRequest, []byte(`{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/rewinder/s is not authorized to perform: dynamodb:DescribeGlobalTable on resource: arn:aws:dynamodb::123456789012:global-table/` + table + ` because no identity-based policy allows the dynamodb:DescribeGlobalTable action"}`)
		}
		var group []string
		for _, r := range regions {
			group = append(group, `{"RegionName":"`+r+`","ReplicaStatus":"ACTIVE"}`)
		}
		return http.StatusOK, []byte(`{"GlobalTableDescription":{"GlobalTableName":"` + table + `","GlobalTableArn":"arn:aws:dynamodb::123456789012:global-table/` + table +
			`","GlobalTableStatus":"ACTIVE","CreationDateTime":1.5e9,"ReplicationGroup":[` + strings.Join(group, ",") + `]}}`)
	}}
}

// TestLegacyGlobalTableReplicas (dynalite behind the fault proxy, which
// answers DescribeGlobalTable): the main table is a global table version
// 2017.11.29, whose DescribeTable names no replica; copy's dry-run plan and
// confirmation name its other Regions (not its own), asking
// DescribeGlobalTable once per command; when the call is denied the plan
// says so, the copy still runs and a warning names the permission.
func TestLegacyGlobalTableReplicas(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Dynalite)
	c := srv.Client(t)
	spec := ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS}
	from, to := ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, from, spec)
	ddbtest.CreateTable(t, c, to, spec)
	var items []map[string]types.AttributeValue
	for i := range 12 {
		items = append(items, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%02d", i)}})
	}
	ddbtest.PutItems(t, c, from, items)
	d, err := c.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(to)})
	if err != nil {
		t.Fatal(err)
	}
	here := tables.Region(aws.ToString(d.Table.TableArn))
	if here == "" || len(d.Table.Replicas) != 0 {
		t.Fatalf("dynalite's table %s: ARN %s, replicas %v", to, aws.ToString(d.Table.TableArn), d.Table.Replicas)
	}
	var denied atomic.Bool
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Respond: legacyGlobalTableResponder(to, &denied, "eu-west-1", here, "ap-southeast-2")})
	copyArgs := []string{"copy", "--endpoint-url", proxy.URL(), "--region", here, "--from", from, "--to", to}
	replicas := to + " is a global table: the writes replicate to ap-southeast-2, eu-west-1 (the last writer wins there)"

	r := ddb(t, append(slices.Clone(copyArgs), "--dry-run")...)
	if line := lastLine(r.stderr); r.code != 0 || !strings.Contains(line, "dry run: 12 items would be written") || !strings.Contains(line, replicas) {
		t.Errorf("plan: exit %d, %q: want exit 0 and %q", r.code, line, replicas)
	}
	r = ddb(t, copyArgs...)
	if line := lastLine(r.stderr); r.code != 2 || !strings.Contains(line, replicas) {
		t.Errorf("confirmation: exit %d, %q: want exit 2 and %q", r.code, line, replicas)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Fatalf("main holds %d items before any copy", n)
	}

	denied.Store(true)
	unread := "whether " + to + " is a global table version 2017.11.29 could not be read (missing permission dynamodb:DescribeGlobalTable): if it is, each write and delete replicates to its other Regions too"
	r = ddb(t, append(slices.Clone(copyArgs), "--dry-run")...)
	if line := lastLine(r.stderr); r.code != 0 || !strings.Contains(line, unread) {
		t.Errorf("denied: plan exit %d, %q: want exit 0 and %q", r.code, line, unread)
	}
	r = ddb(t, append(slices.Clone(copyArgs), "--yes")...)
	if r.code != 0 || !strings.Contains(r.stderr, "copy: 12 items written") {
		t.Fatalf("denied: copy exit %d, %s: want it to proceed", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "cannot read whether the main table is a global table version 2017.11.29") || !strings.Contains(r.stderr, "permission=dynamodb:DescribeGlobalTable") {
		t.Errorf("denied: no warning naming the permission in %s", r.stderr)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 12 {
		t.Errorf("main holds %d items, want 12", n)
	}
	if st := proxy.Stats().Ops["DescribeGlobalTable"]; st.Responded != 4 || st.Forwarded != 0 {
		t.Errorf("DescribeGlobalTable %+v: want 4 calls, each answered once by the proxy", st)
	}
}
