// Package export requests DynamoDB exports of a table to Amazon S3 and waits
// for them: a full export (the table as it was at one time) or incremental
// exports of a time window, split into the consecutive parts of 15 minutes to
// 24 hours that DynamoDB accepts. A retried request adopts the exports an
// earlier attempt started (a deterministic ClientToken, and a look at the
// table's exports) instead of starting them again.
//
// It does not read exports (the copy's S3-export source does), writes and
// deletes no S3 object itself (DynamoDB writes the files, with the caller's
// permissions) and never changes the table.
package export

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// API is the subset of the DynamoDB client this package calls.
type API interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	ExportTableToPointInTime(ctx context.Context, in *dynamodb.ExportTableToPointInTimeInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ExportTableToPointInTimeOutput, error)
	DescribeExport(ctx context.Context, in *dynamodb.DescribeExportInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeExportOutput, error)
	ListExports(ctx context.Context, in *dynamodb.ListExportsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListExportsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// ObjectChecker is the S3 call that checks, once an export is COMPLETED,
// that its manifest-summary.json exists (s3:GetObject on the export's
// directory).
type ObjectChecker interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

var _ ObjectChecker = (*s3.Client)(nil)
