package copier

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// keysPerGet is the BatchGetItem limit.
const keysPerGet = 100

// scanInput builds the Scan of one segment of table with the selection's
// filter and only the placeholders it uses. In the delete phase (reading
// the main table) it projects the key attributes only.
func (p *Plan) scanInput(table string, seg int, start map[string]types.AttributeValue, limit int32) *dynamodb.ScanInput {
	s := p.opts.Selection
	in := &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: start}
	if p.opts.Segments > 1 {
		in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(p.opts.Segments))
	}
	if s.Filter != "" {
		in.FilterExpression = aws.String(s.Filter)
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = s.placeholders(s.Filter)
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	if table == p.opts.To {
		in.ProjectionExpression, in.ExpressionAttributeNames = p.keyProjection(in.ExpressionAttributeNames)
	}
	return in
}

// queryInput is scanInput for a key condition.
func (p *Plan) queryInput(table string, start map[string]types.AttributeValue, limit int32) *dynamodb.QueryInput {
	s := p.opts.Selection
	in := &dynamodb.QueryInput{TableName: aws.String(table), ExclusiveStartKey: start,
		KeyConditionExpression: aws.String(s.KeyCondition)}
	if s.Filter != "" {
		in.FilterExpression = aws.String(s.Filter)
	}
	in.ExpressionAttributeNames, in.ExpressionAttributeValues = s.placeholders(s.KeyCondition, s.Filter)
	if limit > 0 {
		in.Limit = aws.Int32(limit)
	}
	if table == p.opts.To {
		in.ProjectionExpression, in.ExpressionAttributeNames = p.keyProjection(in.ExpressionAttributeNames)
	}
	return in
}

// keyProjection returns a projection of the key attributes through
// placeholders of its own (key names may be reserved words).
func (p *Plan) keyProjection(names map[string]string) (*string, map[string]string) {
	out := maps.Clone(names)
	if out == nil {
		out = map[string]string{}
	}
	proj := ""
	for i, k := range p.keyNames {
		ph := fmt.Sprintf("#ddbk%d", i)
		out[ph] = k
		if i > 0 {
			proj += ","
		}
		proj += ph
	}
	return aws.String(proj), out
}

// readUnit reads one unit from its checkpoint position and sends its pages
// as batches. It holds at most one page in memory.
func (p *Plan) readUnit(ctx context.Context, api API, u unit, start checkpoint.Unit, w *writer, tr *tracker, out chan<- *batch) error {
	if p.opts.Selection.KeysFile != "" {
		return p.readKeys(ctx, api, u, start, w, tr, out)
	}
	table, kind := p.opts.From, kindPut
	if u.phase == phaseDelete {
		table, kind = p.opts.To, kindCheckExtra
	}
	var lek map[string]types.AttributeValue
	if len(start.After) > 0 {
		k, err := ddbjson.ParseItem(start.After)
		if err != nil {
			return usagef("--checkpoint %s: bad position for %s: %v", p.opts.Checkpoint, u.key(), err)
		}
		lek = k
	}
	rng := rand.New(rand.NewPCG(uint64(u.idx), 7))
	for seq := 0; ; seq++ {
		var items []map[string]types.AttributeValue
		var next map[string]types.AttributeValue
		var scanned int32
		err := w.retry(ctx, rng, fmt.Sprintf("read %s %s", table, u.key()), func() error {
			if p.opts.Selection.KeyCondition != "" {
				res, err := api.Query(ctx, p.queryInput(table, lek, int32(p.opts.PageSize)))
				if err == nil {
					items, next, scanned = res.Items, res.LastEvaluatedKey, res.ScannedCount
				}
				return err
			}
			res, err := api.Scan(ctx, p.scanInput(table, u.idx, lek, int32(p.opts.PageSize)))
			if err == nil {
				items, next, scanned = res.Items, res.LastEvaluatedKey, res.ScannedCount
			}
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if u.phase == phaseCopy {
			// Read counts what DynamoDB examined (and charged for), before
			// the filter; Matched what the filter let through.
			w.stats.Read.Add(int64(max(int(scanned), len(items))))
			w.stats.Matched.Add(int64(len(items)))
		}
		pos := checkpoint.Unit{Done: len(next) == 0}
		if !pos.Done {
			data, err := ddbjson.MarshalItem(next)
			if err != nil {
				return fmt.Errorf("copy: encode position of %s: %w", u.key(), err)
			}
			pos.After = data
		}
		if err := send(ctx, &page{u: u, seq: seq, pos: pos}, kind, items, tr, out); err != nil {
			return nil // interrupted
		}
		if pos.Done {
			return nil
		}
		lek = next
	}
}

// send splits a page's items into batches of 25 and sends them. The page
// completes when all of them are written.
func send(ctx context.Context, pg *page, kind batchKind, items []map[string]types.AttributeValue, tr *tracker, out chan<- *batch) error {
	pg.pending.Add(int32((len(items)+24)/25) + 1) // +1 until every batch is sent
	for i := 0; i < len(items); i += 25 {
		// Each batch gets its own slice, and the page lets go of the items
		// it handed over: a written batch's items are garbage at once,
		// instead of living until the page's last batch is written.
		part := items[i:min(i+25, len(items))]
		b := &batch{kind: kind, items: append([]map[string]types.AttributeValue(nil), part...), pg: pg}
		clear(part)
		select {
		case out <- b:
		case <-ctx.Done():
			pg.failed.Store(true)
			return ctx.Err()
		}
	}
	tr.finished(pg, true)
	return nil
}

// readKeys reads the keys file from the checkpoint's line on, in chunks of
// 100 lines whose distinct keys are fetched with one BatchGetItem from the
// recovery table. Chunk k (lines 100k+1 to 100k+100) belongs to worker
// k % WorkerCount, whatever the resume point. Keys the recovery table lacks
// are reported and, with DeleteExtra, deleted from the main table.
func (p *Plan) readKeys(ctx context.Context, api API, u unit, start checkpoint.Unit, w *writer, tr *tracker, out chan<- *batch) error {
	path := p.opts.Selection.KeysFile
	f, err := os.Open(p.keysPath)
	if err != nil {
		return usagef("--keys-file %s: %v", path, err)
	}
	defer f.Close()
	r := ddbjson.NewKeysReader(f, path)
	rng := rand.New(rand.NewPCG(uint64(u.idx), 11))
	var chunk []map[string]types.AttributeValue
	seen := map[string]bool{}
	seq := 0
	mine := func(k int) bool { return k%p.opts.WorkerCount == p.opts.WorkerIndex }
	flush := func(k int, eof bool) error {
		pg := &page{u: u, seq: seq, pos: checkpoint.Unit{Line: (k + 1) * keysPerGet, Done: eof}}
		seq++
		var found, missing []map[string]types.AttributeValue
		if len(chunk) > 0 {
			var err error
			found, missing, err = w.getItems(ctx, rng, p.opts.From, chunk, false)
			if err != nil {
				return err
			}
			w.stats.Read.Add(int64(len(chunk))) // keys looked up
			w.stats.Matched.Add(int64(len(found)))
			w.noteNotInRecovery(missing)
		}
		chunk, seen = chunk[:0], map[string]bool{}
		pg.pending.Add(1) // guard until the puts are sent too
		if (p.opts.DeleteExtra || p.diff) && len(missing) > 0 {
			if err := send(ctx, pg, kindDelete, missing, tr, out); err != nil {
				return err
			}
		}
		if err := send(ctx, pg, kindPut, found, tr, out); err != nil {
			return err
		}
		tr.finished(pg, true)
		return nil
	}
	cur := -1
	for {
		key, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if line <= start.Line {
			continue
		}
		k := (line - 1) / keysPerGet
		if k != cur && cur >= 0 {
			if err := flush(cur, false); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		cur = k
		if !mine(k) || p.repeats[line] {
			continue // another worker's chunk, or a key listed earlier
		}
		ks := ddbjson.KeyString(key)
		if seen[ks] {
			continue // cannot happen after repeats; BatchGetItem rejects duplicates
		}
		seen[ks] = true
		chunk = append(chunk, key)
	}
	if cur < 0 {
		cur = start.Line / keysPerGet
	}
	if err := flush(cur, true); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
