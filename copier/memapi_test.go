package copier

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
)

// memAPI is an in-memory DynamoDB of named tables with one string hash
// key "pk", behind the copier's API: enough of the real semantics for the
// conformance suite (Scan segments and pages, key projections,
// BatchGetItem, BatchWriteItem with its duplicate-key rule, and the
// conditions the write modes send). It refuses what it does not implement
// (filters, queries, other conditions), so a test cannot pass by accident.
type memAPI struct {
	mu     sync.Mutex
	tables map[string]map[string]map[string]types.AttributeValue // table → KeyString → item
	// ttl is every table's TTL attribute (empty: TTL off).
	ttl string
	// kinesis are every table's Kinesis Data Streams destinations, or
	// kinesisErr the error of DescribeKinesisStreamingDestination;
	// kinesisCalls counts its calls.
	kinesis      []types.KinesisDataStreamDestination
	kinesisErr   error
	kinesisCalls int
}

func newMemAPI() *memAPI {
	return &memAPI{tables: map[string]map[string]map[string]types.AttributeValue{}}
}

var memKey = []string{"pk"}

func (m *memAPI) create(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tables[name] = map[string]map[string]types.AttributeValue{}
}

func (m *memAPI) table(name string) (map[string]map[string]types.AttributeValue, error) {
	t, ok := m.tables[name]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no table " + name)}
	}
	return t, nil
}

func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...)}
}

func (m *memAPI) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(*in.TableName)
	if err != nil {
		return nil, err
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{
		TableName:            in.TableName,
		TableArn:             aws.String("arn:aws:dynamodb:us-east-1:1:table/" + *in.TableName),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		ItemCount:            aws.Int64(int64(len(t))),
	}}, nil
}

// DescribeTimeToLive says TTL is off, unless ttl names an attribute.
func (m *memAPI) DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	d := &types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusDisabled}
	if m.ttl != "" {
		d = &types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusEnabled, AttributeName: aws.String(m.ttl)}
	}
	return &dynamodb.DescribeTimeToLiveOutput{TimeToLiveDescription: d}, nil
}

// DescribeKinesisStreamingDestination returns kinesis, or kinesisErr.
func (m *memAPI) DescribeKinesisStreamingDestination(_ context.Context, in *dynamodb.DescribeKinesisStreamingDestinationInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeKinesisStreamingDestinationOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kinesisCalls++
	if _, err := m.table(aws.ToString(in.TableName)); err != nil {
		return nil, err
	}
	if m.kinesisErr != nil {
		return nil, m.kinesisErr
	}
	return &dynamodb.DescribeKinesisStreamingDestinationOutput{TableName: in.TableName, KinesisDataStreamDestinations: slices.Clone(m.kinesis)}, nil
}

func (m *memAPI) ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	return &dynamodb.ListTagsOfResourceOutput{}, nil
}

// project returns the item, or its key with a key projection.
func project(it map[string]types.AttributeValue, proj *string) map[string]types.AttributeValue {
	if proj == nil {
		return it
	}
	return keyOf(it, memKey)
}

func (m *memAPI) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if in.FilterExpression != nil {
		return nil, validation("memAPI: no filters")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(*in.TableName)
	if err != nil {
		return nil, err
	}
	seg, total := int(aws.ToInt32(in.Segment)), int(aws.ToInt32(in.TotalSegments))
	var keys []string
	for k := range t {
		h := fnv.New32a()
		h.Write([]byte(k))
		if total <= 1 || int(h.Sum32())%total == seg {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	start := 0
	if in.ExclusiveStartKey != nil {
		after := ddbjson.KeyString(in.ExclusiveStartKey)
		start, _ = slices.BinarySearch(keys, after)
		if start < len(keys) && keys[start] == after {
			start++
		}
	}
	limit := int(aws.ToInt32(in.Limit))
	if limit == 0 {
		limit = 1000
	}
	end := min(start+limit, len(keys))
	out := &dynamodb.ScanOutput{ScannedCount: int32(end - start)}
	for _, k := range keys[start:end] {
		out.Items = append(out.Items, project(t[k], in.ProjectionExpression))
	}
	out.Count = int32(len(out.Items))
	if end < len(keys) {
		out.LastEvaluatedKey = keyOf(t[keys[end-1]], memKey)
	}
	return out, nil
}

func (m *memAPI) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, validation("memAPI: no queries")
}

func (m *memAPI) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
	for name, ka := range in.RequestItems {
		t, err := m.table(name)
		if err != nil {
			return nil, err
		}
		if len(ka.Keys) > 100 {
			return nil, validation("too many keys")
		}
		seen := map[string]bool{}
		for _, k := range ka.Keys {
			ks := ddbjson.KeyString(k)
			if seen[ks] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[ks] = true
			if it, ok := t[ks]; ok {
				out.Responses[name] = append(out.Responses[name], project(it, ka.ProjectionExpression))
			}
		}
	}
	return out, nil
}

func (m *memAPI) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, reqs := range in.RequestItems {
		t, err := m.table(name)
		if err != nil {
			return nil, err
		}
		if len(reqs) > 25 {
			return nil, validation("too many requests")
		}
		seen := map[string]bool{}
		for _, r := range reqs {
			var k map[string]types.AttributeValue
			if r.PutRequest != nil {
				k = keyOf(r.PutRequest.Item, memKey)
			} else {
				k = r.DeleteRequest.Key
			}
			ks := ddbjson.KeyString(k)
			if seen[ks] {
				return nil, validation("Provided list of item keys contains duplicates")
			}
			seen[ks] = true
		}
		for _, r := range reqs {
			if r.PutRequest != nil {
				t[ddbjson.KeyString(keyOf(r.PutRequest.Item, memKey))] = r.PutRequest.Item
			} else {
				delete(t, ddbjson.KeyString(r.DeleteRequest.Key))
			}
		}
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

// holds evaluates the conditions the write modes send on the current
// item (nil: absent).
func holds(expr string, names map[string]string, values map[string]types.AttributeValue, cur map[string]types.AttributeValue) (bool, error) {
	exists := cur != nil
	if expr == "" {
		return true, nil
	}
	if strings.HasPrefix(expr, "attribute_exists(#rk)") || expr == "attribute_not_exists(#rk)" {
		// An incremental rewind's "still as the window left it".
		if expr == "attribute_not_exists(#rk)" {
			return !exists, nil
		}
		if !exists {
			return false, nil
		}
		for _, part := range strings.Split(expr, " AND ")[1:] {
			n, v, ok := strings.Cut(part, " = ")
			if !ok {
				return false, validation("memAPI: unsupported condition %q", expr)
			}
			got, present := cur[names[n]]
			if !present || !itemeq.Values(got, values[v]) {
				return false, nil
			}
		}
		return true, nil
	}
	switch {
	case strings.Contains(expr, "#ddbprobe"):
		return false, nil // attribute_not_exists(x) AND attribute_exists(x)
	case expr == "attribute_not_exists(#ddbk0)" && names["#ddbk0"] == "pk":
		return !exists, nil
	case expr == "attribute_exists(pk)":
		return exists, nil
	}
	return false, validation("memAPI: unsupported condition %q", expr)
}

func (m *memAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(*in.TableName)
	if err != nil {
		return nil, err
	}
	ks := ddbjson.KeyString(keyOf(in.Item, memKey))
	if ok, err := holds(aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues, t[ks]); err != nil || !ok {
		if err == nil {
			err = conditionFailed(in.ReturnValuesOnConditionCheckFailure, t[ks])
		}
		return nil, err
	}
	out := &dynamodb.PutItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld {
		out.Attributes = t[ks]
	}
	t[ks] = in.Item
	return out, nil
}

func (m *memAPI) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.table(*in.TableName)
	if err != nil {
		return nil, err
	}
	ks := ddbjson.KeyString(in.Key)
	if ok, err := holds(aws.ToString(in.ConditionExpression), in.ExpressionAttributeNames, in.ExpressionAttributeValues, t[ks]); err != nil || !ok {
		if err == nil {
			err = conditionFailed(in.ReturnValuesOnConditionCheckFailure, t[ks])
		}
		return nil, err
	}
	out := &dynamodb.DeleteItemOutput{}
	if in.ReturnValues == types.ReturnValueAllOld {
		out.Attributes = t[ks]
	}
	delete(t, ks)
	return out, nil
}

// conditionFailed is DynamoDB's ConditionalCheckFailedException, with the
// item the condition met (cur, nil: none) when asked for (rv ALL_OLD).
func conditionFailed(rv types.ReturnValuesOnConditionCheckFailure, cur map[string]types.AttributeValue) error {
	e := &types.ConditionalCheckFailedException{Message: aws.String("condition false")}
	if rv == types.ReturnValuesOnConditionCheckFailureAllOld {
		e.Item = cur
	}
	return e
}
