package main

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbtest"
)

// newClient returns a DynamoDB client for the emulator at endpoint, with the
// emulator's test credentials and nothing read from the environment.
func newClient(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// createTable creates the orders table (pk S, sk S, on demand) and waits
// until it is ACTIVE.
func createTable(ctx context.Context, api *dynamodb.Client, table string) error {
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(api, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		return fmt.Errorf("create table %s: wait until active: %w", table, err)
	}
	return nil
}

// enablePITR turns point-in-time recovery on.
func enablePITR(ctx context.Context, api *dynamodb.Client, table string) error {
	_, err := api.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName: aws.String(table),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable point-in-time recovery on %s: %w", table, err)
	}
	return nil
}

// putItems writes items with BatchWriteItem, 25 a call, retrying
// UnprocessedItems until every item is written.
func putItems(ctx context.Context, api *dynamodb.Client, table string, items []item) error {
	for start := 0; start < len(items); start += 25 {
		var reqs []types.WriteRequest
		for _, it := range items[start:min(start+25, len(items))] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		delay := 10 * time.Millisecond
		for len(reqs) > 0 {
			out, err := api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]types.WriteRequest{table: reqs},
			})
			if err != nil {
				return fmt.Errorf("write items into %s: %w", table, err)
			}
			reqs = out.UnprocessedItems[table]
			if len(reqs) > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(delay):
				}
				delay = min(2*delay, time.Second)
			}
		}
	}
	return nil
}

// scanAll reads the whole table with consistent reads and returns its items
// keyed by their primary key.
func scanAll(ctx context.Context, api *dynamodb.Client, table string) (map[string]item, error) {
	items := make(map[string]item)
	p := dynamodb.NewScanPaginator(api, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", table, err)
		}
		for _, it := range page.Items {
			k := ddbtest.KeyOf(it, "pk", "sk")
			if _, dup := items[k]; dup {
				return nil, fmt.Errorf("scan %s: key %s returned twice", table, k)
			}
			items[k] = it
		}
	}
	return items, nil
}

// tableDiff is the result of comparing a table with its restore point.
type tableDiff struct {
	// Items is the number of items at the restore point.
	Items int
	// Changed, Missing and Extra count the items that differ in at least
	// one attribute, that are gone, and that were not there.
	Changed, Missing, Extra int
	// Lines describe the first differences, attribute by attribute.
	Lines []string
}

// Equal reports whether the tables hold the same items.
func (d tableDiff) Equal() bool { return d.Changed == 0 && d.Missing == 0 && d.Extra == 0 }

// compareItems compares every item of want (the restore point) with got,
// attribute by attribute: numbers as their exact strings, binaries as bytes,
// sets in any order, lists in order, maps recursively.
func compareItems(want, got map[string]item) tableDiff {
	d := tableDiff{Items: len(want)}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			d.Missing++
		case !maps.EqualFunc(w, g, ddbtest.EqualValue):
			d.Changed++
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			d.Extra++
		}
	}
	if !d.Equal() {
		d.Lines = ddbtest.DiffItemSets(want, got)
	}
	return d
}
