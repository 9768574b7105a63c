package copier

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// tableSource reads a table's selection: parallel Scan segments, or one
// Query for a key condition, with the selection's filter; a unit's
// position is the LastEvaluatedKey of its last complete page. keysOnly
// projects the key attributes (the delete phase reads only keys of the
// target); count adds what it reads to Read and Matched.
type tableSource struct {
	x           *executor
	table       string
	sel         Selection
	keyNames    []string
	segments    int
	pageSize    int
	workerIndex int
	workerCount int
	keysOnly    bool
	count       bool
	checkpoint  string // for messages
}

func (s *tableSource) units(phase string) []unit {
	n := s.segments
	if s.sel.KeyCondition != "" {
		n = 1
	}
	var us []unit
	for i := 0; i < n; i++ {
		if i%s.workerCount == s.workerIndex {
			us = append(us, unit{phase: phase, idx: i})
		}
	}
	return us
}

func (s *tableSource) read(ctx context.Context, u unit, from checkpoint.Unit, emit emitFunc) error {
	var lek map[string]types.AttributeValue
	if len(from.After) > 0 {
		k, err := ddbjson.ParseItem(from.After)
		if err != nil {
			return usage.Errorf("--checkpoint %s: bad position for %s: %v", s.checkpoint, u.key(), err)
		}
		lek = k
	}
	rng := rand.New(rand.NewPCG(uint64(u.idx), 7))
	what := fmt.Sprintf("read %s %s", s.table, u.key())
	for {
		var items []map[string]types.AttributeValue
		var next map[string]types.AttributeValue
		var scanned int32
		if s.sel.KeyCondition != "" {
			res, err := s.x.query(ctx, rng, what, s.queryInput(lek, int32(s.pageSize)))
			if err != nil {
				return err
			}
			items, next, scanned = res.Items, res.LastEvaluatedKey, res.ScannedCount
		} else {
			res, err := s.x.scan(ctx, rng, what, s.scanInput(u.idx, lek, int32(s.pageSize)))
			if err != nil {
				return err
			}
			items, next, scanned = res.Items, res.LastEvaluatedKey, res.ScannedCount
		}
		if s.count {
			// Read counts what DynamoDB examined (and charged for), before
			// the filter; Matched what the filter let through.
			s.x.read(int64(max(int(scanned), len(items))))
			s.x.matched(int64(len(items)))
		} else if s.keysOnly {
			s.x.checked(int64(len(items))) // the delete phase's candidates
		}
		pos := checkpoint.Unit{Done: len(next) == 0}
		if !pos.Done {
			data, err := ddbjson.MarshalItem(next)
			if err != nil {
				return fmt.Errorf("encode position of %s: %w", u.key(), err)
			}
			pos.After = data
		}
		if err := emit(items, nil, pos); err != nil {
			return err
		}
		if pos.Done {
			return nil
		}
		lek = next
	}
}

// scanInput builds the Scan of one segment with the selection's filter and
// only the placeholders it uses.
func (s *tableSource) scanInput(seg int, start map[string]types.AttributeValue, limit int32) *dynamodb.ScanInput {
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), ExclusiveStartKey: start}
	if s.segments > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(s.segments))
	}
	if s.sel.Filter != "" {
		in.FilterExpression = aws.String(s.sel.Filter)
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = s.sel.placeholders(s.sel.Filter)
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	if s.keysOnly {
		in.ProjectionExpression, in.ExpressionAttributeNames = keyProjection(s.keyNames, in.ExpressionAttributeNames)
	}
	return in
}

// queryInput is scanInput for a key condition.
func (s *tableSource) queryInput(start map[string]types.AttributeValue, limit int32) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{TableName: aws.String(s.table), ExclusiveStartKey: start,
		KeyConditionExpression: aws.String(s.sel.KeyCondition)}
	if s.sel.Filter != "" {
		in.FilterExpression = aws.String(s.sel.Filter)
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = s.sel.placeholders(s.sel.KeyCondition, s.sel.Filter)
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	if s.keysOnly {
		in.ProjectionExpression, in.ExpressionAttributeNames = keyProjection(s.keyNames, in.ExpressionAttributeNames)
	}
	return in
}

// probe sends the selection to DynamoDB once (Limit 1), so that an
// expression it rejects is found before any write.
func (s *tableSource) probe(ctx context.Context, api API) error {
	var err error
	if s.sel.KeyCondition != "" {
		_, err = api.Query(ctx, s.queryInput(nil, 1))
	} else {
		_, err = api.Scan(ctx, s.scanInput(0, nil, 1))
	}
	return err
}

// keyProjection returns a projection of the key attributes through
// placeholders of its own (key names may be reserved words), added to
// names.
func keyProjection(keyNames []string, names map[string]string) (*string, map[string]string) {
	out := maps.Clone(names)
	if out == nil {
		out = map[string]string{}
	}
	proj := ""
	for i, k := range keyNames {
		ph := fmt.Sprintf("#ddbk%d", i)
		out[ph] = k
		if i > 0 {
			proj += ","
		}
		proj += ph
	}
	return aws.String(proj), out
}
