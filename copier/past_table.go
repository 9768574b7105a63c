package copier

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tablePast is a recovery table (or, for show, any table): read by Scan
// segments or Query (source_table.go), or by BatchGetItem for a keys file
// (source_keys.go).
type tablePast struct {
	table string
	desc  *types.TableDescription
}

// tableKind is the registry's entry of a table named by --from.
func tableKind() pastKind {
	return pastKind{
		name:   "table",
		claims: func(_ context.Context, r *resolving) (bool, error) { return r.opts.From != "", nil },
		resolve: func(ctx context.Context, r *resolving) (past, error) {
			j, o := r.job, r.opts
			if err := o.Mode().checkNotWindow("--from reads a table"); err != nil {
				return nil, err
			}
			pa := &tablePast{table: o.From, desc: j.target}
			if r.purpose != forShow {
				var err error
				if pa, err = j.tablePast(ctx, r.api, o.From, j.verb); err != nil {
					return nil, err
				}
			}
			if err := j.targetChecks(ctx, r.api, r.purpose.writes()); err != nil {
				return nil, err
			}
			return pa, nil
		},
	}
}

// tablePast describes the source table from and checks it against the
// main table: another table, with the same key schema.
func (j *Job) tablePast(ctx context.Context, api API, from, verb string) (*tablePast, error) {
	src, err := j.withSource(ctx, api, from, verb)
	if err != nil {
		return nil, err
	}
	return &tablePast{table: from, desc: src}, nil
}

func (t *tablePast) name() string      { return t.table }
func (t *tablePast) manifests() string { return "" }

func (t *tablePast) fingerprint(p *Plan) string {
	o := p.opts
	return fmt.Sprintf("from=%s to=%s segments=%d worker=%d/%d %s\n%s",
		o.From, o.To, o.Segments, o.WorkerIndex, o.WorkerCount, p.mode.fingerprint(), o.Selection.describe())
}

// begin picks the segments from the table's size (unless given) and
// estimates the reads: the table's item count for a scan (with or without
// a filter), the keys of a keys file; a key range is counted in settle.
func (t *tablePast) begin(p *Plan) {
	o := p.opts
	if o.Segments == 0 {
		p.autoSegments = true
		p.opts.Segments = DefaultSegments(aws.ToInt64(t.desc.TableSizeBytes), aws.ToInt64(t.desc.ItemCount))
	}
	switch {
	case p.job.keysFile != nil:
		p.Estimate, p.EstimateFrom = int64(p.job.keysFile.keys), "keys in the keys file"
	case o.Selection.KeyCondition == "":
		p.Estimate, p.EstimateFrom = aws.ToInt64(t.desc.ItemCount), "DynamoDB's item count of "+t.table
	}
}

// settle counts what DynamoDB's item count cannot tell, so that the
// estimate is never unknown: a key range (a Select=COUNT Query, at most
// countPages pages), or, where the item count is 0 (DynamoDB refreshes it
// about every six hours, and a fresh recovery table says 0), a sample of
// the table; where the sample finds nothing (few items, or items under a
// few partition keys the sampled segments missed), the table counted from
// its start, at most countPages pages.
func (t *tablePast) settle(ctx context.Context, api API, p *Plan) error {
	if p.resumed || p.job.keysFile != nil {
		return nil
	}
	wrap := func(err error) error {
		return fmt.Errorf("%s: estimate the size of %s: %w", p.purpose.verb(), t.table, err)
	}
	if kc := p.opts.Selection.KeyCondition; kc != "" {
		in := &dynamodb.QueryInput{TableName: aws.String(t.table), KeyConditionExpression: aws.String(kc), Select: types.SelectCount}
		in.ExpressionAttributeNames, in.ExpressionAttributeValues = p.opts.Selection.placeholders(kc)
		n, complete, err := countQuery(ctx, api, in, countPages)
		if err != nil {
			return wrap(err)
		}
		p.Estimate, p.EstimateFrom, p.EstimateAtLeast = n, "a count of the key range", !complete
		if !complete {
			p.EstimateFrom = fmt.Sprintf("a count of its first %d pages, stopped there", countPages)
		}
		return nil
	}
	if p.Estimate != 0 {
		return nil
	}
	n, k, err := sampleCount(ctx, api, t.table)
	if err != nil {
		return wrap(err)
	}
	p.Estimate = n
	p.EstimateFrom = fmt.Sprintf("a count of %d of %d scan segments of %s, extrapolated", k, sampleSegments, t.table)
	if n != 0 {
		return nil
	}
	n, complete, err := countScan(ctx, api, &dynamodb.ScanInput{TableName: aws.String(t.table), Select: types.SelectCount}, countPages)
	if err != nil {
		return wrap(err)
	}
	p.Estimate, p.EstimateFrom, p.EstimateAtLeast = n, "a count of "+t.table, !complete
	if !complete {
		p.EstimateFrom = fmt.Sprintf("a count of the first %d pages of %s, stopped there", countPages, t.table)
	}
	return nil
}

// source: the keys file's keys looked up in the table, or the table's
// selection.
func (t *tablePast) source(p *Plan, x *executor) source {
	o := p.opts
	if kf := p.job.keysFile; kf != nil {
		return &keysSource{x: x, table: t.table, file: kf, keyNames: p.job.keys.names,
			workerIndex: o.WorkerIndex, workerCount: o.WorkerCount}
	}
	return &tableSource{x: x, table: t.table, sel: o.Selection, keyNames: p.job.keys.names, segments: o.Segments,
		pageSize: o.PageSize, workerIndex: o.WorkerIndex, workerCount: o.WorkerCount, count: true, checkpoint: o.Checkpoint}
}

// extras: the main table's selection, keys only (--delete-extra, diff);
// none with a keys file, whose missing keys the copy phase handles.
func (t *tablePast) extras(p *Plan, x *executor) source {
	if (!p.mode.DeletesExtra() && p.purpose != forDiff) || p.job.keysFile != nil {
		return nil
	}
	return mainKeys(p, x)
}

// mainKeys is the main table's selection, keys only: the candidates of a
// delete phase.
func mainKeys(p *Plan, x *executor) source {
	o := p.opts
	return &tableSource{x: x, table: o.To, sel: o.Selection, keyNames: p.job.keys.names, segments: o.Segments,
		pageSize: o.PageSize, workerIndex: o.WorkerIndex, workerCount: o.WorkerCount, keysOnly: true, checkpoint: o.Checkpoint}
}

func (t *tablePast) lookup(_ *Plan, x *executor) sourceLookup {
	return tableLookup{x: x, table: t.table}
}

func (t *tablePast) sink(p *Plan, tg *target, x *executor) sink {
	return &copySink{mode: p.mode.writer(), t: tg, lookup: t.lookup(p, x), deleteExtra: p.mode.DeletesExtra()}
}

func (t *tablePast) diff(ctx context.Context, api API, p *Plan, show int) (*DiffResult, error) {
	return p.diffPhases(ctx, api, show)
}

// unitsName names the units in a resume's progress.
func (s *tableSource) unitsName() string {
	if s.sel.KeyCondition != "" {
		return "queries"
	}
	return "scan segments"
}

// unitsName names the units in a resume's progress (counted in lines).
func (s *keysSource) unitsName() string { return "keys-file lines" }
