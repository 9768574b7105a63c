package copier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// legacyAPI is memAPI answering DescribeGlobalTable with group (the
// Regions of a global table version 2017.11.29, its own among them) or
// err, and describing its tables with replicas (a global table version
// 2019.11.21) when set.
type legacyAPI struct {
	*memAPI
	group    []string
	err      error
	replicas []string
	calls    []string // the GlobalTableName of each DescribeGlobalTable call
	retryers []aws.Retryer
}

func (a *legacyAPI) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	out, err := a.memAPI.DescribeTable(ctx, in, optFns...)
	if err != nil {
		return nil, err
	}
	for _, r := range a.replicas {
		out.Table.Replicas = append(out.Table.Replicas, types.ReplicaDescription{RegionName: aws.String(r), ReplicaStatus: types.ReplicaStatusActive})
	}
	return out, nil
}

// DescribeGlobalTable notes the call and the retryer its options give a
// standard one, and returns group or err.
func (a *legacyAPI) DescribeGlobalTable(_ context.Context, in *dynamodb.DescribeGlobalTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeGlobalTableOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, aws.ToString(in.GlobalTableName))
	o := dynamodb.Options{Retryer: retry.NewStandard()}
	for _, fn := range optFns {
		fn(&o)
	}
	a.retryers = append(a.retryers, o.Retryer)
	if a.err != nil {
		return nil, a.err
	}
	d := &types.GlobalTableDescription{GlobalTableName: in.GlobalTableName, GlobalTableStatus: types.GlobalTableStatusActive,
		GlobalTableArn: aws.String("arn:aws:dynamodb::111122223333:global-table/" + aws.ToString(in.GlobalTableName))}
	for _, r := range a.group {
		d.ReplicationGroup = append(d.ReplicationGroup, types.ReplicaDescription{RegionName: aws.String(r)})
	}
	return &dynamodb.DescribeGlobalTableOutput{GlobalTableDescription: d}, nil
}

// TestReadLegacyReplicas: DescribeGlobalTable's ReplicationGroup names the
// Regions of a global table version 2017.11.29 (its own left out, sorted,
// once each); a table that is none, or an endpoint that does not serve the
// operation, has none; AccessDenied logs a warning naming the permission
// and does not stop; any other error does, naming the table and the
// permission. The call is asked for GlobalTableName = the table, and its
// retryer does not retry an unserved operation.
func TestReadLegacyReplicas(t *testing.T) {
	tests := []struct {
		name    string
		group   []string
		err     error
		want    []string
		warn    bool
		wantErr string
	}{
		{name: "legacy replicas", group: []string{"us-east-1", "eu-west-1", "ap-southeast-2", "eu-west-1", ""}, want: []string{"ap-southeast-2", "eu-west-1"}},
		{name: "only its own Region", group: []string{"us-east-1"}},
		{name: "no replication group"},
		{name: "not a legacy global table", err: &types.GlobalTableNotFoundException{Message: aws.String("Global table not found: orders")}},
		{name: "not served", err: &smithy.GenericAPIError{Code: "UnknownOperationException"}},
		{name: "not a DynamoDB answer", err: &smithy.DeserializationError{Err: errors.New("failed to decode response body, invalid character '<'")}},
		{name: "access denied", err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:sts::1:assumed-role/r is not authorized to perform: dynamodb:DescribeGlobalTable"}, warn: true},
		{name: "other error", err: &smithy.GenericAPIError{Code: "InternalServerError", Message: "boom"},
			wantErr: "copy: read the global table version 2017.11.29 of orders (dynamodb:DescribeGlobalTable, see docs/iam.md): "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &legacyAPI{memAPI: newMemAPI(), group: tt.group, err: tt.err}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
			got, denied, err := readLegacyReplicas(context.Background(), a, "orders", "us-east-1", "copy", log)
			if denied != tt.warn {
				t.Errorf("denied %v, want %v", denied, tt.warn)
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "boom") {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("regions %v, want %v", got, tt.want)
			}
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "permission=dynamodb:DescribeGlobalTable") &&
				strings.Contains(logs.String(), "cannot read whether the main table is a global table version 2017.11.29")
			if warned != tt.warn {
				t.Errorf("warning %v, want %v: %q", warned, tt.warn, logs.String())
			}
			if !slices.Equal(a.calls, []string{"orders"}) {
				t.Errorf("DescribeGlobalTable calls %v, want one for orders", a.calls)
			}
			if r, ok := a.retryers[0].(aws.RetryerV2); !ok || r.IsErrorRetryable(&smithy.GenericAPIError{Code: "UnknownOperationException"}) {
				t.Errorf("the call's retryer %T retries an unserved operation", a.retryers[0])
			}
		})
	}
}

// TestLegacyReplicasNamed: a copy into a global table version 2017.11.29
// names its other Regions in the notes and keeps them in its summary, with
// one DescribeGlobalTable call per preparation; a table whose description
// names its replicas (version 2019.11.21) is not asked; a diff never asks;
// an error other than the optional read's stops the preparation, before
// any write.
func TestLegacyReplicasNamed(t *testing.T) {
	setup := func() *legacyAPI {
		a := &legacyAPI{memAPI: newMemAPI()}
		a.create("rec")
		a.create("main")
		for i := range 3 {
			it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%d", i)}}
			a.tables["rec"][ddbjson.KeyString(it)] = it
		}
		return a
	}
	note := "main is a global table: the writes replicate to ap-southeast-2, eu-west-1 (the last writer wins there)"

	a := setup()
	a.group = []string{"eu-west-1", "us-east-1", "ap-southeast-2"}
	j, err := PrepareJob(context.Background(), a, Options{To: "main"})
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	if got := j.Notes(); got != note {
		t.Errorf("Notes:\n got %q\nwant %q", got, note)
	}
	if len(a.calls) != 1 {
		t.Errorf("run's preparation: %d DescribeGlobalTable calls, want 1", len(a.calls))
	}
	a.calls = nil
	p, err := Prepare(context.Background(), a, Options{From: "rec", To: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.MainTable().Notes("main", 0); got != note {
		t.Errorf("plan's notes:\n got %q\nwant %q", got, note)
	}
	sum, err := p.Run(context.Background(), a)
	if err != nil || sum.Counts.Written != 3 {
		t.Fatalf("copy: %v, %d written", err, sum.Counts.Written)
	}
	if sum.MainTable == nil || !slices.Equal(sum.MainTable.ReplicaRegions, []string{"ap-southeast-2", "eu-west-1"}) {
		t.Errorf("summary's main table %+v", sum.MainTable)
	}
	if len(a.calls) != 1 {
		t.Errorf("copy: %d DescribeGlobalTable calls, want 1", len(a.calls))
	}
	a.calls = nil
	if _, err := PrepareDiff(context.Background(), a, DiffOptions{Options: Options{From: "rec", To: "main"}}); err != nil {
		t.Fatal(err)
	}
	if len(a.calls) != 0 {
		t.Errorf("diff called DescribeGlobalTable %d times", len(a.calls))
	}

	// Version 2019.11.21: DescribeTable names the replicas; no call.
	a = setup()
	a.replicas = []string{"us-east-1", "us-west-2"}
	a.group = []string{"eu-west-1"}
	p, err = Prepare(context.Background(), a, Options{From: "rec", To: "main"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.MainTable().ReplicaRegions; !slices.Equal(got, []string{"us-west-2"}) || len(a.calls) != 0 {
		t.Errorf("2019 global table: replicas %v, %d DescribeGlobalTable calls; want us-west-2, none", got, len(a.calls))
	}

	// Another error stops the copy before its first write.
	a = setup()
	a.err = &smithy.GenericAPIError{Code: "InternalServerError", Message: "boom"}
	if _, err := Prepare(context.Background(), a, Options{From: "rec", To: "main"}); err == nil ||
		!strings.Contains(err.Error(), "read the global table version 2017.11.29 of main (dynamodb:DescribeGlobalTable, see docs/iam.md)") {
		t.Errorf("Prepare: %v, want the read's error", err)
	}
	if n := len(a.tables["main"]); n != 0 {
		t.Errorf("main holds %d items after a refused copy", n)
	}
}
