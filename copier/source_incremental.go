package copier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// readWindow opens the incremental exports opts.FromExport (in time order)
// with opts.Files.S3 (first, if not nil, is the first one, opened already), checks them against the main table target (asking
// api's DescribeExport for the view a summary does not record), and reads
// their verified data files into their window, holding only the keys
// selected picks (nil: all). It returns the window,
// the exports' URLs joined by commas (the source's name in messages and
// fingerprints) and their manifests' digests joined by commas (for
// checkpoints).
func readWindow(ctx context.Context, api API, opts Options, target *types.TableDescription, u purpose, selected func(key map[string]types.AttributeValue) bool, first *exportfile.Export) (*window.Window, string, string, error) {
	verb, needs := "rewind", "a rewind needs the old images"
	if u == forShow {
		verb, needs = "show", "show prints the old images"
	}
	var exps []*exportfile.Export
	for i, loc := range opts.FromExport {
		exp := first
		if i > 0 || exp == nil {
			var err error
			if exp, err = exportfile.Open(ctx, opts.Files.S3, loc); err != nil {
				return nil, "", "", fmt.Errorf("%s: %w", verb, err)
			}
		}
		sum := exp.Summary
		if !sum.Incremental() {
			return nil, "", "", usage.Errorf("%s: --from-export %s is a full export: give either one full export or incremental exports only", verb, exp.URL())
		}
		view, err := exportView(ctx, api, exp)
		if err != nil {
			return nil, "", "", fmt.Errorf("%s: %w", verb, err)
		}
		switch {
		case view != exportfile.ViewNewAndOld:
			return nil, "", "", usage.Errorf("%s: --from-export %s has view %s: %s (export with NEW_AND_OLD_IMAGES)", verb, exp.URL(), view, needs)
		case sum.TableArn != aws.ToString(target.TableArn) && !opts.AllowOtherTable && u == forShow:
			return nil, "", "", usage.Errorf("show: refused: the export %s is of table %s, not of --table %s (%s), whose key schema would select its items; pass --allow-other-table if both have the same key schema",
				exp.URL(), sum.TableArn, opts.To, aws.ToString(target.TableArn))
		case sum.TableArn != aws.ToString(target.TableArn) && !opts.AllowOtherTable:
			return nil, "", "", usage.Errorf("rewind: refused: the export %s is of table %s, not of --to's table %s; pass --allow-other-table to rewind %s from it anyway",
				exp.URL(), sum.TableArn, aws.ToString(target.TableArn), opts.To)
		case missingKeys(exp) != "":
			return nil, "", "", usage.Errorf("%s: --from-export %s %s: the keys of the data files it leaves out would not be rewound; check the export's manifests", verb, exp.URL(), missingKeys(exp))
		case i > 0 && sum.TableArn != exps[0].Summary.TableArn:
			// --allow-other-table lets the window be another table's, not
			// two tables': their changes would make one window.
			return nil, "", "", usage.Errorf("%s: --from-export %s is of table %s, but %s is of table %s: give incremental exports of one table",
				verb, exp.URL(), sum.TableArn, exps[0].URL(), exps[0].Summary.TableArn)
		case i > 0 && !sum.ExportFromTime.Equal(exps[i-1].Summary.ExportToTime.Time):
			return nil, "", "", usage.Errorf("%s: --from-export %s starts at %s, not where %s ends (%s): give incremental exports in time order, without gaps",
				verb, exp.URL(), sum.ExportFromTime.UTC().Format("2006-01-02T15:04:05Z"), exps[i-1].URL(), exps[i-1].Summary.ExportToTime.UTC().Format("2006-01-02T15:04:05Z"))
		}
		exps = append(exps, exp)
	}
	if err := checkWindowMemory(verb, opts.MemoryLimit, exps, selected != nil); err != nil {
		return nil, "", "", err
	}
	readers := make([]window.ChangeReader, len(exps))
	keys := schemaOf(target)
	for i, exp := range exps {
		readers[i] = &exportChanges{ctx: ctx, s3: opts.Files.S3, exp: exp, keys: keys}
	}
	w, err := window.Build(selected, readers...)
	for _, r := range readers {
		r.(*exportChanges).close()
	}
	if err != nil {
		var ue *usage.Error
		var le *exportfile.LineError
		switch {
		case errors.As(err, &ue) && strings.HasPrefix(err.Error(), verb+": "):
			return nil, "", "", err
		case errors.As(err, &ue):
			return nil, "", "", fmt.Errorf("%s: %w", verb, err)
		case errors.As(err, &le):
			// The window is read before anything is written: a line that
			// is not a record refuses the export.
			return nil, "", "", usage.Errorf("%s: read the exports: %v: the export is refused", verb, err)
		}
		return nil, "", "", fmt.Errorf("%s: read the exports: %w", verb, err)
	}
	urls := make([]string, len(exps))
	digests := make([]string, len(exps))
	for i, e := range exps {
		urls[i], digests[i] = e.URL(), e.Digest()
	}
	return w, strings.Join(urls, ","), strings.Join(digests, ","), nil
}

// missingKeys says how an incremental export's files manifest lists fewer
// changed keys than its summary counts (truncated or edited), or "".
func missingKeys(exp *exportfile.Export) string {
	missing, summary, files := exp.Missing()
	if missing == 0 {
		return ""
	}
	return fmt.Sprintf("says it holds %d changed keys (%s) but its %s lists %d", summary, exportfile.SummaryFile, exportfile.FilesManifest, files)
}

// windowBytesPerKey is the memory a window takes per changed key it holds,
// the Go heap's headroom included: about 10 KB for items of about 400
// bytes of every attribute type (the benchmark's; docs/exports.md has the
// measurement). Larger items take more.
const windowBytesPerKey = 10 << 10

// checkWindowMemory refuses, before any data file is read, a window whose
// changed keys — at most the exports' item counts, which their manifests
// state (the summary's, or the data files' when they say more) — would take more than limit bytes (0: no limit known). A
// selection holds only the keys it picks, which are not known before the
// files are read: it is not refused.
func checkWindowMemory(verb string, limit int64, exps []*exportfile.Export, selected bool) error {
	if limit <= 0 || selected {
		return nil
	}
	var keys int64
	for _, e := range exps {
		// The summary's count, or its files' when they say more (they
		// are verified against the data; a summary may say 0).
		var files int64
		for _, f := range e.Files {
			files += f.ItemCount
		}
		keys += max(e.Summary.ItemCount, files)
	}
	if need := keys * windowBytesPerKey; need > limit {
		return usage.Errorf("%s: the exports list %s changed keys (their manifests' item counts), about %s of memory at about %d KB a key, more than this process's memory limit of %s (GOMEMLIMIT, or most of the container's memory): rewind fewer keys at a time with --key-condition-expression or --keys-file (only the selected keys are held), or give it more memory",
			verb, countText(keys), bytesText(need), windowBytesPerKey>>10, bytesText(limit))
	}
	return nil
}

// bytesText formats n bytes in MiB or GiB.
func bytesText(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}

// exportDescriber is the call that says an export's view when its summary
// does not (the DynamoDB client has it; fakes may not).
type exportDescriber interface {
	DescribeExport(ctx context.Context, in *dynamodb.DescribeExportInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeExportOutput, error)
}

// exportView returns an incremental export's view: its summary's
// outputView (either spelling) or, where the summary has none,
// DescribeExport's ExportViewType for the summary's exportArn. Where
// neither can say, the export is refused (exit 2): a view is never
// guessed, since an export without old images read as one with them would
// take every changed key for one created in the window.
func exportView(ctx context.Context, api API, exp *exportfile.Export) (string, error) {
	if v := exp.Summary.View(); v != "" {
		return v, nil
	}
	arn := exp.Summary.ExportArn
	refuse := func(why string) (string, error) {
		return "", usage.Errorf("--from-export %s: its %s has no outputView and %s: ddbrewind needs to know that the export has old images (NEW_AND_OLD_IMAGES) before it rewinds from it", exp.URL(), exportfile.SummaryFile, why)
	}
	d, ok := api.(exportDescriber)
	switch {
	case arn == "":
		return refuse("no exportArn to ask DynamoDB (DescribeExport) about")
	case !ok:
		return refuse("this client cannot call DescribeExport")
	}
	var opts []func(*dynamodb.Options)
	if r := tables.Region(arn); r != "" {
		opts = append(opts, func(o *dynamodb.Options) { o.Region = r })
	}
	out, err := d.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(arn)}, opts...)
	if err != nil {
		return refuse(fmt.Sprintf("DescribeExport %s failed (%v)", arn, err))
	}
	var view string
	if desc := out.ExportDescription; desc != nil && desc.IncrementalExportSpecification != nil {
		view = string(desc.IncrementalExportSpecification.ExportViewType)
	}
	if view == "" {
		return refuse(fmt.Sprintf("DescribeExport %s does not say its view either", arn))
	}
	return view, nil
}

// exportChanges reads the changes of one incremental export, file after
// file, each verified before use, each record's key checked against the
// table's key schema.
type exportChanges struct {
	ctx  context.Context
	s3   exportfile.S3API
	exp  *exportfile.Export
	keys keySchemaInfo
	file int
	r    *exportfile.FileReader
}

func (c *exportChanges) Next() (window.Change, error) {
	for {
		if c.r == nil {
			if c.file >= len(c.exp.Files) {
				return window.Change{}, io.EOF
			}
			r, err := c.exp.OpenFile(c.ctx, c.s3, c.file, exportfile.ReadOptions{})
			if err != nil {
				return window.Change{}, err
			}
			c.r, c.file = r, c.file+1
		}
		rec, err := c.r.Next()
		if errors.Is(err, io.EOF) {
			c.close()
			continue
		}
		if err != nil {
			return window.Change{}, err
		}
		if msg := recordKeyProblem(rec, c.keys); msg != "" {
			return window.Change{}, usage.Errorf("%s:%d: %s: the export is refused (a record's Keys must be the table's key, and each image's key the same)", c.exp.FileURL(c.file-1), rec.Line, msg)
		}
		return window.Change{Keys: rec.Keys, Old: rec.OldImage, New: rec.NewImage, Where: fmt.Sprintf("%s:%d", c.exp.FileURL(c.file-1), rec.Line)}, nil
	}
}

// Name is the export's URL, which the window's messages name.
func (c *exportChanges) Name() string { return c.exp.URL() }

// recordKeyProblem says what is wrong with an incremental record's key, or
// "": its Keys must be exactly the table's key attributes (names and
// types). (The reader, package exportfile, has already checked that each
// image present holds the same values of Keys' attributes: with both, an
// image cannot name another item than the record's Keys.)
func recordKeyProblem(rec exportfile.Record, keys keySchemaInfo) string {
	if err := keys.check(rec.Keys); err != nil {
		return "Keys: " + err.Error()
	}
	return ""
}

func (c *exportChanges) close() {
	if c.r != nil {
		c.r.Close()
		c.r = nil
	}
}
