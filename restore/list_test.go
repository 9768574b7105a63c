package restore

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// manyTables holds tables by name, listed 100 a page as DynamoDB does.
type manyTables struct {
	API
	desc  map[string]types.TableDescription
	tags  map[string]map[string]string // by ARN
	pages int
}

func (m *manyTables) add(d types.TableDescription, tags map[string]string) {
	m.desc[aws.ToString(d.TableName)] = d
	m.tags[aws.ToString(d.TableArn)] = tags
}

func (m *manyTables) ListTables(_ context.Context, in *dynamodb.ListTablesInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	m.pages++
	var names []string
	for n := range m.desc {
		if in.ExclusiveStartTableName == nil || n > *in.ExclusiveStartTableName {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := &dynamodb.ListTablesOutput{TableNames: names}
	if len(names) > 100 {
		out.TableNames = names[:100]
		out.LastEvaluatedTableName = aws.String(names[99])
	}
	return out, nil
}

func (m *manyTables) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	d, ok := m.desc[aws.ToString(in.TableName)]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	}
	return &dynamodb.DescribeTableOutput{Table: &d}, nil
}

func (m *manyTables) ListTagsOfResource(_ context.Context, in *dynamodb.ListTagsOfResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	out := &dynamodb.ListTagsOfResourceOutput{}
	for k, v := range m.tags[aws.ToString(in.ResourceArn)] {
		out.Tags = append(out.Tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

// TestListAndCleanupSelection: list reads every page of ListTables (more
// than 100 tables), keeps only tagged tables, and --source; cleanup
// --older-than picks only tables whose created-at tag is older, never one
// whose age it cannot tell.
func TestListAndCleanupSelection(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	api := &manyTables{desc: map[string]types.TableDescription{}, tags: map[string]map[string]string{}}
	for i := range 150 {
		name := fmt.Sprintf("app-%03d", i)
		api.add(types.TableDescription{TableName: aws.String(name), TableArn: aws.String("arn:aws:dynamodb:us-east-1:123456789012:table/" + name), TableStatus: types.TableStatusActive}, nil)
	}
	recovery := func(name, source, created string) {
		tags := map[string]string{tables.TagSourceTable: source}
		if created != "" {
			tags[tables.TagCreatedAt] = created
		}
		api.add(recoveryDescription(name, source, types.TableStatusActive), tags)
	}
	recovery("orders-rewind-old", "orders", "2026-11-01T00:00:00Z")
	recovery("orders-rewind-new", "orders", "2026-12-07T11:00:00Z")
	recovery("orders-rewind-undated", "orders", "")
	recovery("users-rewind-old", "users", "2026-11-01T00:00:00Z")

	all, err := List(context.Background(), api, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(all); fmt.Sprint(got) != "[orders-rewind-new orders-rewind-old orders-rewind-undated users-rewind-old]" || api.pages != 2 {
		t.Errorf("List = %v after %d pages, want the 4 recovery tables after 2 pages", got, api.pages)
	}
	tests := []struct {
		opts CleanupOptions
		want string
	}{
		{CleanupOptions{Source: "orders"}, "[orders-rewind-new orders-rewind-old orders-rewind-undated]"},
		{CleanupOptions{OlderThan: 24 * time.Hour}, "[orders-rewind-old users-rewind-old]"},
		{CleanupOptions{Source: "orders", OlderThan: 24 * time.Hour}, "[orders-rewind-old]"},
		{CleanupOptions{Source: "orders", OlderThan: 30 * time.Minute}, "[orders-rewind-new orders-rewind-old]"},
	}
	for _, tt := range tests {
		tt.opts.Now = func() time.Time { return now }
		plan, err := PlanCleanup(context.Background(), api, tt.opts)
		if err != nil {
			t.Fatalf("PlanCleanup(source %q, older than %s): %v", tt.opts.Source, tt.opts.OlderThan, err)
		}
		if got := fmt.Sprint(names(plan.Tables)); got != tt.want {
			t.Errorf("PlanCleanup(source %q, older than %s) = %s, want %s", tt.opts.Source, tt.opts.OlderThan, got, tt.want)
		}
	}
}

func names(rts []RecoveryTable) []string {
	var out []string
	for _, rt := range rts {
		out = append(out, rt.Name)
	}
	return out
}
