package copier

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
)

// fakeAPI is an in-memory two-table DynamoDB behind the copier's API, for
// unit tests of pacing and bookkeeping. Every item costs one write unit.
type fakeAPI struct {
	mu      sync.Mutex
	source  []map[string]types.AttributeValue
	written map[string]map[string]types.AttributeValue
	calls   int
	// unprocessed, if set, returns how many requests of a call to leave
	// unprocessed.
	unprocessed func(call, n int) int
	// present, if set, says which keys BatchGetItem finds (in any table).
	present func(pk string) bool
	// getUnprocessed makes BatchGetItem leave every key unprocessed.
	getUnprocessed bool
	// putErr, if set, returns the error of the n-th PutItem call (1-based).
	putErr func(n int) error
	puts   int
	// ttl is the main table's TTL attribute (empty: TTL off).
	ttl string
}

func newFake(n int) *fakeAPI {
	f := &fakeAPI{written: map[string]map[string]types.AttributeValue{}}
	for i := 0; i < n; i++ {
		f.source = append(f.source, map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%06d", i)},
			"v":  &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
		})
	}
	return f
}

func (f *fakeAPI) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{
		TableName:            in.TableName,
		TableArn:             aws.String("arn:aws:dynamodb:us-east-1:1:table/" + *in.TableName),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		ItemCount:            aws.Int64(int64(len(f.source))),
	}}, nil
}

// DescribeTimeToLive says TTL is off, unless ttl names an attribute.
func (f *fakeAPI) DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	d := &types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusDisabled}
	if f.ttl != "" {
		d = &types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusEnabled, AttributeName: aws.String(f.ttl)}
	}
	return &dynamodb.DescribeTimeToLiveOutput{TimeToLiveDescription: d}, nil
}

// DescribeKinesisStreamingDestination says the table has no Kinesis
// destination.
func (f *fakeAPI) DescribeKinesisStreamingDestination(_ context.Context, in *dynamodb.DescribeKinesisStreamingDestinationInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeKinesisStreamingDestinationOutput, error) {
	return &dynamodb.DescribeKinesisStreamingDestinationOutput{TableName: in.TableName}, nil
}

func (f *fakeAPI) ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	return &dynamodb.ListTagsOfResourceOutput{}, nil
}

// Scan serves the source in pages of 100 (Segment ignored: use 1 segment).
func (f *fakeAPI) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	start := 0
	if in.ExclusiveStartKey != nil {
		fmt.Sscanf(in.ExclusiveStartKey["pk"].(*types.AttributeValueMemberS).Value, "k%d", &start)
		start++
	}
	end := min(start+100, len(f.source))
	// A copy: the pipeline clears the item slices it hands over.
	out := &dynamodb.ScanOutput{Items: append([]map[string]types.AttributeValue(nil), f.source[start:end]...)}
	if end < len(f.source) {
		out.LastEvaluatedKey = map[string]types.AttributeValue{"pk": f.source[end-1]["pk"]}
	}
	return out, nil
}

func (f *fakeAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

func (f *fakeAPI) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	if f.getUnprocessed {
		out.UnprocessedKeys = in.RequestItems
		return out, nil
	}
	for table, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			if f.present != nil && f.present(k["pk"].(*types.AttributeValueMemberS).Value) {
				out.Responses[table] = append(out.Responses[table], k)
			}
		}
	}
	return out, nil
}

func (f *fakeAPI) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	for table, reqs := range in.RequestItems {
		keep := 0
		if f.unprocessed != nil {
			keep = f.unprocessed(f.calls, len(reqs))
		}
		done := reqs[:len(reqs)-keep]
		seen := map[string]bool{}
		for _, r := range done {
			k := r.PutRequest.Item["pk"].(*types.AttributeValueMemberS).Value
			if seen[k] {
				return nil, fmt.Errorf("ValidationException: duplicate key %s in one batch", k)
			}
			seen[k] = true
			f.written[k] = r.PutRequest.Item
		}
		if keep > 0 {
			out.UnprocessedItems[table] = reqs[len(reqs)-keep:]
		}
		out.ConsumedCapacity = append(out.ConsumedCapacity, types.ConsumedCapacity{TableName: aws.String(table), CapacityUnits: aws.Float64(float64(len(done)))})
	}
	return out, nil
}

func (f *fakeAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if strings.Contains(aws.ToString(in.ConditionExpression), "#ddbprobe") {
		return nil, &types.ConditionalCheckFailedException{Message: aws.String("the --if-main probe never writes")}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.putErr != nil {
		if err := f.putErr(f.puts); err != nil {
			return nil, err
		}
	}
	f.written[in.Item["pk"].(*types.AttributeValueMemberS).Value] = in.Item
	return &dynamodb.PutItemOutput{}, nil
}

func (f *fakeAPI) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return &dynamodb.DeleteItemOutput{}, nil
}

// checkpointState builds an empty checkpoint state.
func checkpointState() *checkpoint.State {
	return &checkpoint.State{Units: map[string]checkpoint.Unit{}}
}
