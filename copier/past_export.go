package copier

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/keycond"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// exportPast is one full export in S3, read file by file
// (source_export.go); its key index (16 bytes a selected key) serves the
// lookups of --delete-extra, diff and a keys file.
type exportPast struct {
	job   *exportJob
	index *keyIndex // nil: no lookups in the export
}

// fullExportKind is the registry's entry of one full export named by
// --from-export.
func fullExportKind() pastKind {
	return pastKind{
		name:    "full export",
		selects: true,
		claims: func(ctx context.Context, r *resolving) (bool, error) {
			exp, err := r.firstExport(ctx)
			if exp == nil || err != nil {
				return false, err
			}
			return !exp.Summary.Incremental() && len(r.opts.FromExport) == 1, nil
		},
		resolve: resolveFullExport,
	}
}

// resolveFullExport checks the export against the job: of the main table
// (unless AllowOtherTable), then the job's checks, then the key condition
// compiled (evaluated by ddbrewind on the export's items).
func resolveFullExport(ctx context.Context, r *resolving) (past, error) {
	j, o := r.job, r.opts
	exp := r.first
	if err := o.Mode().checkNotWindow("the export " + exp.URL() + " is a full export"); err != nil {
		return nil, err
	}
	if arn := aws.ToString(j.target.TableArn); exp.Summary.TableArn != arn && !o.AllowOtherTable {
		if r.purpose == forShow {
			return nil, usage.Errorf("show: refused: the export %s is of table %s, not of --table %s (%s), whose key schema would select its items; pass --allow-other-table if both have the same key schema",
				exp.URL(), exp.Summary.TableArn, o.To, arn)
		}
		return nil, usage.Errorf("%s: refused: the export %s is of table %s, not of --to's table %s; pass --allow-other-table to %s it into %s anyway",
			j.verb, exp.URL(), exp.Summary.TableArn, arn, j.verb, o.To)
	}
	if missing, summary, files := exp.Missing(); missing > 0 && o.Mode().DeletesExtra() && r.purpose.writes() {
		// The items of the files it does not list would be deleted as
		// extras.
		return nil, usage.Errorf("%s: refused: the export %s says it holds %d items (%s) but its %s lists %d: with --delete-extra the items of the data files it does not list would be deleted from %s; check the export's manifests",
			j.verb, exp.URL(), summary, exportfile.SummaryFile, exportfile.FilesManifest, files, o.To)
	}
	pa := &exportPast{job: &exportJob{exp: exp, s3: o.Files.S3}}
	if err := j.targetChecks(ctx, r.api, r.purpose.writes()); err != nil {
		return nil, err
	}
	if o.Selection.KeyCondition != "" {
		kc, err := keycond.Compile(o.Selection.KeyCondition, o.Selection.Names, o.Selection.Values, j.keys.names, j.keys.types)
		if err != nil {
			return nil, err
		}
		pa.job.kc = kc
	}
	return pa, nil
}

func (e *exportPast) name() string      { return e.job.exp.URL() }
func (e *exportPast) manifests() string { return e.job.exp.Digest() }

// fingerprint: the copy's units are the export's files; the segments
// still split the main table's scan of --delete-extra.
func (e *exportPast) fingerprint(p *Plan) string {
	o := p.opts
	return fmt.Sprintf("from-export=%s to=%s segments=%d worker=%d/%d %s\n%s",
		o.From, o.To, o.Segments, o.WorkerIndex, o.WorkerCount, p.mode.fingerprint(), o.Selection.describe())
}

// begin: an export is read whole, whatever the selection, so its manifest's
// item count is the estimate; the key index is made when the plan looks
// keys up in the export.
func (e *exportPast) begin(p *Plan) {
	if p.opts.Segments == 0 {
		p.opts.Segments = DefaultExportSegments
	}
	p.Estimate, p.EstimateFrom = e.job.exp.Summary.ItemCount, "the export manifest"
	if p.job.keysFile != nil || p.mode.DeletesExtra() || p.purpose == forDiff {
		capacity := p.Estimate
		if p.job.keysFile != nil || p.opts.Selection.KeyCondition != "" {
			capacity = 0 // a slice: its size is unknown
		}
		e.index = newKeyIndex(len(e.job.exp.Files), capacity)
	}
}

func (e *exportPast) settle(context.Context, API, *Plan) error { return nil }

func (e *exportPast) source(p *Plan, x *executor) source {
	o := p.opts
	s := &exportSource{job: e.job, keys: p.job.keys, x: x, log: o.Logger, pageSize: o.PageSize,
		parallel: o.Segments, workerIndex: o.WorkerIndex, workerCount: o.WorkerCount, index: e.index,
		verb: p.job.verb, writes: !o.DryRun, seeds: newDupSeeds()}
	if p.job.keysFile != nil {
		s.keySet = p.job.keysFile.set
	}
	if e.checksKeysAcrossFiles(p) {
		s.runs = newKeyRuns("", len(e.job.exp.Files)) // a key in two files (export_keyruns.go)
	}
	return s
}

// extras: with a keys file, its keys the export lacks (found once the key
// index is complete); else the main table's selection, keys only, with
// --delete-extra and for a diff.
func (e *exportPast) extras(p *Plan, x *executor) source {
	o := p.opts
	if p.job.keysFile != nil {
		return &keysSource{x: x, table: o.From, index: e.index, file: p.job.keysFile, keyNames: p.job.keys.names,
			workerIndex: o.WorkerIndex, workerCount: o.WorkerCount}
	}
	if !p.mode.DeletesExtra() && p.purpose != forDiff {
		return nil
	}
	return mainKeys(p, x)
}

func (e *exportPast) lookup(*Plan, *executor) sourceLookup { return indexLookup{e.index} }

func (e *exportPast) sink(p *Plan, t *target, x *executor) sink {
	return &copySink{mode: p.mode.writer(), t: t, lookup: e.lookup(p, x), deleteExtra: p.mode.DeletesExtra()}
}

func (e *exportPast) diff(ctx context.Context, api API, p *Plan, show int) (*DiffResult, error) {
	return p.diffPhases(ctx, api, show)
}

// unitsName names the units in a resume's progress.
func (s *exportSource) unitsName() string { return "export data files" }

// beforeExtras completes the key index, when the plan looks keys up in
// it, before the delete phase starts.
func (s *exportSource) beforeExtras(ctx context.Context) error {
	if s.index == nil {
		return nil
	}
	return s.completeIndex(ctx)
}
