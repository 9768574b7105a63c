package ddbtest

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The fixtures below are those of the tests for programs that have a
// context and no testing.TB (the benchmark, the demo): they return errors,
// and the tables they create are the caller's to delete.

// NewClient returns the client Server.Client makes for endpoint (static
// test credentials, many idle connections per host), with opts applied
// last; the caller closes its idle connections if it cares.
func NewClient(endpoint string, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	return newClient(endpoint, opts...)
}

// CreateTableContext creates an on-demand table with spec's keys, waits
// until it is ACTIVE and enables point-in-time recovery when spec.PITR is
// set. Unlike CreateTable it leaves the table when done: delete it with
// DeleteTableContext.
func CreateTableContext(ctx context.Context, c *dynamodb.Client, name string, spec TableSpec) error {
	if err := createTable(ctx, c, name, spec); err != nil {
		return err
	}
	if !spec.PITR {
		return nil
	}
	_, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
		TableName: aws.String(name),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable point-in-time recovery on %s (dynalite has none; use moto): %w", name, err)
	}
	return nil
}

// DeleteTableContext deletes the table, retrying while it is busy (being
// created or updated). A table that is already gone is not an error.
func DeleteTableContext(ctx context.Context, c *dynamodb.Client, name string) error {
	return deleteTable(ctx, c, name)
}

// PutItemsContext writes items as PutItems does (BatchWriteItem, 25 a call
// from a few goroutines, UnprocessedItems retried with backoff) and
// returns the first error.
func PutItemsContext(ctx context.Context, c *dynamodb.Client, table string, items []map[string]types.AttributeValue) error {
	return putItems(ctx, c, table, items)
}

// WriteBatch writes one batch of at most 25 requests with BatchWriteItem,
// resending its UnprocessedItems with exponential backoff (10 ms to
// 500 ms) until none is left or ctx is done.
func WriteBatch(ctx context.Context, c *dynamodb.Client, table string, batch []types.WriteRequest) error {
	if err := writeBatch(ctx, c, table, batch); err != nil {
		return fmt.Errorf("write into %s: %w", table, err)
	}
	return nil
}

// ScanAllContext reads the whole table as ScanAll does (a consistent,
// paginated Scan; items keyed by KeyOf of the table's key attributes) and
// returns the first error.
func ScanAllContext(ctx context.Context, c *dynamodb.Client, table string) (map[string]map[string]types.AttributeValue, error) {
	return scanAll(ctx, c, table)
}
