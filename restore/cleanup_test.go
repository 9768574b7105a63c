package restore

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// cleanupAPI holds one table: its description, its tags, and how many
// DescribeTable calls it survives (gone after them; 0 never).
type cleanupAPI struct {
	API
	table     types.TableDescription
	tags      map[string]string
	goneAfter int
	describes int
	deletes   int
}

func (c *cleanupAPI) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	c.describes++
	if aws.ToString(in.TableName) != aws.ToString(c.table.TableName) || c.goneAfter > 0 && c.describes > c.goneAfter {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	d := c.table
	return &dynamodb.DescribeTableOutput{Table: &d}, nil
}

func (c *cleanupAPI) ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	out := &dynamodb.ListTagsOfResourceOutput{}
	for k, v := range c.tags {
		out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (c *cleanupAPI) DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	c.deletes++
	if c.table.TableStatus == types.TableStatusDeleting {
		return nil, &types.ResourceInUseException{Message: aws.String("Attempt to change a resource which is still in use: Table is being deleted")}
	}
	return &dynamodb.DeleteTableOutput{}, nil
}

func recoveryDescription(name, source string, status types.TableStatus) types.TableDescription {
	return types.TableDescription{
		TableName:   aws.String(name),
		TableArn:    aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/" + name),
		TableStatus: status,
		RestoreSummary: &types.RestoreSummary{
			SourceTableArn:    aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/" + source),
			RestoreDateTime:   aws.Time(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)),
			RestoreInProgress: aws.Bool(false),
		},
	}
}

// TestCleanupTableAlreadyBeingDeleted: a recovery table that a previous
// cleanup (or run, killed while it waited) is deleting already is waited
// for, not failed with DeleteTable's ResourceInUseException.
func TestCleanupTableAlreadyBeingDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &cleanupAPI{
			table:     recoveryDescription("orders-rewind-20261201T000000Z", "orders", types.TableStatusDeleting),
			tags:      map[string]string{tables.TagSourceTable: "orders", tables.TagRestorePoint: "2026-12-01T00:00:00Z"},
			goneAfter: 3, // Inspect, then the wait sees it twice more
		}
		plan, err := PlanCleanup(context.Background(), api, CleanupOptions{Tables: []string{"orders-rewind-20261201T000000Z"}, Wait: true})
		if err != nil {
			t.Fatalf("PlanCleanup: %v", err)
		}
		deleted, err := plan.Execute(context.Background(), api)
		if err != nil || len(deleted) != 1 {
			t.Fatalf("Execute = %v, %v; want the table waited for until gone", deleted, err)
		}
		if api.deletes != 0 {
			t.Errorf("%d DeleteTable calls on a table being deleted, want 0", api.deletes)
		}
	})
}

// TestCleanupRefusesTagsThatDoNotMatchTheRestore: ddbrewind's tag on a
// table that a restore made is not enough when the tag contradicts
// DynamoDB's RestoreSummary (copied or forged): a tag naming the table
// itself, or another source than the one restored from.
func TestCleanupRefusesTagsThatDoNotMatchTheRestore(t *testing.T) {
	tests := []struct {
		name, table, restoredFrom, tag, want string
	}{
		{name: "tag names the table itself", table: "orders", restoredFrom: "orders-old", tag: "orders", want: "names the table itself"},
		{name: "tag names another source", table: "payments-copy", restoredFrom: "payments", tag: "orders", want: "restored from payments"},
		{name: "consistent", table: "orders-rewind-20261201T000000Z", restoredFrom: "orders", tag: "orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &cleanupAPI{
				table: recoveryDescription(tt.table, tt.restoredFrom, types.TableStatusActive),
				tags:  map[string]string{tables.TagSourceTable: tt.tag},
			}
			for _, opts := range []CleanupOptions{{Tables: []string{tt.table}}, {Source: tt.tag}} {
				_, err := PlanCleanup(context.Background(), &listing{api}, opts)
				if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
					t.Errorf("PlanCleanup(%+v) = %v, want %q", opts, err, tt.want)
				}
			}
		})
	}
}

// listing lists the one table of a cleanupAPI.
type listing struct{ *cleanupAPI }

func (l *listing) ListTables(context.Context, *dynamodb.ListTablesInput, ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	return &dynamodb.ListTablesOutput{TableNames: []string{aws.ToString(l.table.TableName)}}, nil
}
