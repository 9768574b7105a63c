// Package copier copies items from a recovery table into a main table: it
// reads with parallel Scan segments, writes with BatchWriteItem in batches of
// 25, retries UnprocessedItems and throttling with backoff, and counts
// everything in Stats.
//
// It never drops an item: every item read ends written, or recorded as
// failed (IncompleteError). It does not restore or delete tables: that is
// package restore.
package copier

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// API is the subset of the DynamoDB client the copier calls.
type API interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)
