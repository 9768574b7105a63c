package copier

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/csvout"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/tempfile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Output formats of Show.
const (
	ShowJSONL = "jsonl"
	ShowJSON  = "json"
	ShowCSV   = "csv"
)

// ShowOptions configures Show: the source table (From), the selection and
// the reading options of Options; Format (jsonl, json or csv) and Limit
// (0: all) shape the output.
type ShowOptions struct {
	Options
	Format string
	Limit  int64
}

// PrepareShow checks a show: the source table exists, the selection and
// keys file fit its key schema, and DynamoDB accepts the expressions.
// Nothing is written anywhere.
func PrepareShow(ctx context.Context, api API, opts ShowOptions) (*Plan, error) {
	switch opts.Format {
	case ShowJSONL, ShowJSON, ShowCSV:
	default:
		return nil, usage.Errorf("--output %q: use jsonl, json or csv", opts.Format)
	}
	if opts.Limit < 0 {
		return nil, usage.Errorf("--limit %d: must be 0 (all) or more", opts.Limit)
	}
	o := opts.Options
	o.DryRun, o.Checkpoint, o.Journal = true, "", ""
	switch {
	case len(o.FromExport) > 0:
	case o.From == "":
		return nil, usage.Errorf("show needs --from RECOVERY_TABLE or --from-export URL")
	default:
		o.To = o.From
	}
	return prepare(ctx, api, o, forShow)
}

// exportTable finds, for a show of an export without --table, the table
// whose key schema selects its items: the one the first export's manifest
// names (tableArn), when it exists in the configured Region and account;
// a usage error saying to pass --table when it does not. It returns the
// table's name and description (the job's main table, described once).
func (r *resolving) exportTable(ctx context.Context) (string, *types.TableDescription, error) {
	exp, err := r.firstExport(ctx)
	if err != nil {
		return "", nil, err
	}
	arn := exp.Summary.TableArn
	name := tables.Name(arn)
	out, err := r.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	switch {
	case awserr.IsNotFound(err):
		return "", nil, usage.Errorf("show --from-export %s: the export's table %s (its manifest's tableArn %s) is not found, and its key schema selects the items: pass --table TABLE, a table with the same key schema (with --allow-other-table)", exp.URL(), name, arn)
	case err != nil:
		return "", nil, fmt.Errorf("show: describe the export's table %s: %w", name, err)
	}
	return name, out.Table, nil
}

// Show writes the selected items of the plan's source to w, exactly (typed
// DynamoDB JSON): one per line (jsonl), as one JSON array (json), or as CSV
// with a column per attribute name seen (csv: values that are not a plain
// string, number or boolean in typed JSON). It stops after limit items (0:
// all). Items come in the order the parallel reads deliver them.
func (p *Plan) Show(ctx context.Context, api API, w io.Writer, format string, limit int64) (int64, error) {
	defer p.Close()
	o := p.opts
	x := newExecutor(api, o, p.job.keys.names, o.From)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	snk := &showSink{limit: limit, stop: stop, keyNames: p.job.keys.names}
	var out io.Writer = w
	var tmp *os.File
	if format == ShowCSV {
		// CSV needs every attribute name before its header: items go to a
		// private temp file first (removed from $TMPDIR at once, so a
		// kill leaves no item behind), then become rows. Memory stays flat.
		f, err := tempfile.Create("", "ddbrewind-show-*", false)
		if err != nil {
			return 0, fmt.Errorf("show: %w", err)
		}
		defer f.Close()
		tmp, out = f.File, f
		// The key attributes are in every item: their columns are in
		// the header even when nothing is selected (a header alone, not
		// a blank line).
		snk.names = map[string]bool{}
		for _, k := range p.job.keys.names {
			snk.names[k] = true
		}
	}
	bw := bufio.NewWriter(out)
	snk.w, snk.format = bw, format
	if format == ShowJSON {
		bw.WriteString("[")
	}
	pl := p.pipeline(newTracker(nil))
	err := pl.run(runCtx, phaseCopy, p.source(x), kindItems, snk)
	if err == nil && snk.err != nil {
		err = snk.err
	}
	if err != nil {
		return snk.n, err
	}
	if ctx.Err() != nil {
		return snk.n, fmt.Errorf("show %s: %w", o.From, ErrInterrupted)
	}
	if format == ShowJSON {
		if snk.n > 0 {
			bw.WriteString("\n")
		}
		bw.WriteString("]\n")
	}
	if err := bw.Flush(); err != nil {
		return snk.n, fmt.Errorf("show: write: %w", err)
	}
	if tmp != nil {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return snk.n, fmt.Errorf("show: %w", err)
		}
		if err := csvout.Write(w, tmp, slices.Collect(maps.Keys(snk.names))); err != nil {
			return snk.n, fmt.Errorf("show: %w", err)
		}
	}
	return snk.n, nil
}

// showSink writes items as they come, up to limit.
type showSink struct {
	mu     sync.Mutex
	w      *bufio.Writer
	format string
	limit  int64
	stop   func()
	n      int64
	names  map[string]bool // csv: every attribute name seen
	err    error
	// keyNames are printed first in each item (hash, range).
	keyNames []string
}

func (s *showSink) handle(_ context.Context, _ *rand.Rand, b *batch) error {
	if b.kind != kindItems {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range b.items {
		if s.limit > 0 && s.n >= s.limit {
			s.stop()
			return nil
		}
		data, err := ddbjson.MarshalItemKeysFirst(it, s.keyNames)
		if err != nil {
			s.err = fmt.Errorf("show: encode an item: %w", err)
			s.stop()
			return s.err
		}
		switch {
		case s.format == ShowJSON && s.n > 0:
			s.w.WriteString(",\n")
		case s.format == ShowJSON:
			s.w.WriteString("\n")
		}
		s.w.Write(data)
		if s.format != ShowJSON {
			s.w.WriteByte('\n')
		}
		// A bufio.Writer's error sticks: a failed write of this item
		// or an earlier one is still there.
		if _, err := s.w.Write(nil); err != nil {
			// The output refuses writes (a full disk, a closed pipe):
			// stop reading rather than read the rest for nothing.
			s.err = fmt.Errorf("show: write: %w", err)
			s.stop()
			return s.err
		}
		for name := range it {
			if s.names != nil {
				s.names[name] = true
			}
		}
		s.n++
	}
	if s.limit > 0 && s.n >= s.limit {
		s.stop()
	}
	return nil
}
