package copier

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// globalTableNotFound is DynamoDB's answer to DescribeGlobalTable for a
// table that is no global table version 2017.11.29.
func globalTableNotFound(name *string) error {
	return &types.GlobalTableNotFoundException{Message: aws.String("Global table not found: " + aws.ToString(name))}
}

// DescribeGlobalTable says the table is no global table version
// 2017.11.29.
func (f *fakeAPI) DescribeGlobalTable(_ context.Context, in *dynamodb.DescribeGlobalTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeGlobalTableOutput, error) {
	return nil, globalTableNotFound(in.GlobalTableName)
}

// DescribeGlobalTable says the table is no global table version
// 2017.11.29.
func (m *memAPI) DescribeGlobalTable(_ context.Context, in *dynamodb.DescribeGlobalTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeGlobalTableOutput, error) {
	return nil, globalTableNotFound(in.GlobalTableName)
}
