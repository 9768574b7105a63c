package export

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/poll"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Task is one export of a plan: to start, started, adopted or finished.
type Task struct {
	// Type is FULL_EXPORT or INCREMENTAL_EXPORT.
	Type types.ExportType
	// At is a full export's time.
	At time.Time
	// Window is an incremental export's window.
	Window Window
	// ClientToken is the token of the request that starts it (see
	// ClientToken); empty for an adopted export.
	ClientToken string
	// ARN is the export's ARN once started or adopted.
	ARN string
	// Status is the last status seen.
	Status types.ExportStatus
	// Adopted is true when an earlier attempt started the export and this
	// one found it (see Prepare).
	Adopted bool
	// Directory is where the export's files are:
	// s3://bucket/prefix/AWSDynamoDB/<export id>/.
	Directory string
	// ItemCount is the number of items exported, once known.
	ItemCount int64
	// ManifestMissing is true when the export is COMPLETED but S3 says its
	// manifest-summary.json does not exist (see Options.Manifests).
	ManifestMissing bool

	failureCode, failureMessage string
	// retry is the number of FAILED exports of the same identity known
	// when the token was made (see ClientToken).
	retry int
}

// ID returns the export id, the last part of its ARN.
func (t *Task) ID() string { return exportID(t.ARN) }

// What says which export t is, for logs and errors.
func (t *Task) What() string { return describe(t.Type == types.ExportTypeFullExport, t.At, t.Window) }

// Plan is a checked export request, ready to start: every Task in time
// order, those an earlier attempt started already adopted.
type Plan struct {
	opts     Options
	table    string // name
	tableARN string
	region   []func(*dynamodb.Options)
	earliest time.Time
	latest   time.Time
	// Tasks are the exports, in time order.
	Tasks []*Task
}

// Run checks everything (Prepare), starts the exports not started yet and,
// with Wait, waits until all are COMPLETED. It returns the tasks in time
// order, with what is known of each, also on error.
func Run(ctx context.Context, api API, opts Options) ([]*Task, error) {
	p, err := Prepare(ctx, api, opts)
	if err != nil {
		return nil, err
	}
	return p.Tasks, p.Start(ctx, api)
}

// Prepare checks, before starting anything: the options (exactly one of At
// or Since, Since before Until, bucket name, prefix, owner), that the table
// exists and has point-in-time recovery, that the times lie inside its
// restorable window, and that an incremental window lasts at least
// MinWindow; it splits a longer window (Split). It then looks for exports an
// earlier attempt started (ListExports, DescribeExport: the same table,
// type, time or window, bucket and prefix, not FAILED) and adopts them; with
// a zero Until, exports that chain from Since are adopted and the window
// ends where they end unless at least MinWindow more can be exported.
func Prepare(ctx context.Context, api API, opts Options) (*Plan, error) {
	opts.defaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	p := &Plan{opts: opts, table: tables.Name(opts.Table)}
	if r := tables.Region(opts.Table); r != "" {
		p.region = []func(*dynamodb.Options){func(o *dynamodb.Options) { o.Region = r }}
	}
	described := opts.Described
	if described == nil {
		dt, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(opts.Table)}, p.region...)
		if err != nil {
			if isNotFound(err) {
				return nil, usage.Errorf("export %s: table not found (check --table, --region and --endpoint-url)", p.table)
			}
			return nil, fmt.Errorf("export %s: describe table: %w", p.table, err)
		}
		described = dt.Table
	}
	p.tableARN = aws.ToString(described.TableArn)
	cb, err := api.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(opts.Table)}, p.region...)
	if err != nil {
		return nil, fmt.Errorf("export %s: describe continuous backups: %w", p.table, err)
	}
	pitr := cb.ContinuousBackupsDescription
	if pitr == nil || pitr.PointInTimeRecoveryDescription == nil ||
		pitr.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != types.PointInTimeRecoveryStatusEnabled {
		return nil, usage.Errorf("export %s: point-in-time recovery is not enabled on the table, so it cannot be exported (enable it for the future with: aws dynamodb update-continuous-backups --table-name %s --point-in-time-recovery-specification PointInTimeRecoveryEnabled=true)", p.table, p.table)
	}
	p.earliest = aws.ToTime(pitr.PointInTimeRecoveryDescription.EarliestRestorableDateTime).UTC()
	p.latest = aws.ToTime(pitr.PointInTimeRecoveryDescription.LatestRestorableDateTime).UTC()
	w := tables.Window{Earliest: p.earliest, Latest: p.latest, Days: aws.ToInt32(pitr.PointInTimeRecoveryDescription.RecoveryPeriodInDays)}
	outside := func(what string, t time.Time) error {
		return usage.Errorf("export %s: %s %s: pick a time inside it", p.table, what, w.Outside(t, opts.Now()))
	}
	if !opts.incremental() {
		if opts.At.Before(p.earliest) || opts.At.After(p.latest) {
			return nil, outside("--at", opts.At)
		}
		if err := p.planFull(ctx, api); err != nil {
			return nil, err
		}
		return p, nil
	}
	if opts.Since.Before(p.earliest) || opts.Since.After(p.latest) {
		return nil, outside("--since", opts.Since)
	}
	if !opts.Until.IsZero() && opts.Until.After(p.latest) {
		return nil, outside("--until", opts.Until)
	}
	if err := p.planIncremental(ctx, api); err != nil {
		return nil, err
	}
	return p, nil
}

// planFull adopts or plans the one full export.
func (p *Plan) planFull(ctx context.Context, api API) error {
	o := p.opts
	known, err := p.existing(ctx, api, types.ExportTypeFullExport, o.At)
	if err != nil {
		return err
	}
	t := &Task{Type: types.ExportTypeFullExport, At: o.At.UTC()}
	failed := 0
	var found *types.ExportDescription
	for _, d := range known {
		if !sameTime(d.ExportTime, o.At) {
			continue
		}
		if d.ExportStatus == types.ExportStatusFailed {
			failed++
		} else if found == nil || better(d, found) {
			found = d
		}
	}
	if found != nil {
		p.adopt(t, found)
	} else {
		t.retry = failed
		t.ClientToken = p.token(t)
	}
	p.Tasks = []*Task{t}
	return nil
}

// planIncremental adopts what an earlier attempt started of the window and
// splits the rest.
func (p *Plan) planIncremental(ctx context.Context, api API) error {
	o := p.opts
	known, err := p.existing(ctx, api, types.ExportTypeIncrementalExport, o.Since)
	if err != nil {
		return err
	}
	until, given := o.Until, !o.Until.IsZero()
	if !given {
		until = p.latest
	}
	live, failed := incrementalByStatus(known)
	chain, cur := liveChain(live, o.Since, until, given)
	rest := until.Sub(cur)
	switch {
	case len(chain) > 0 && sameTime(&cur, until):
		until = cur
	case len(chain) > 0 && rest < MinWindow && given:
		// What is left cannot be exported alone: export the window as
		// asked instead of adopting exports that do not fit it.
		chain, cur = nil, o.Since
	case len(chain) > 0 && rest < MinWindow:
		o.Logger.Info("the latest restorable time is less than 15 minutes past the exports an earlier attempt started: the window ends where they end",
			"table", p.table, "until", tables.FormatTime(cur), "latest_restorable", tables.FormatTime(until))
		until = cur
	}
	for _, d := range chain {
		from, to := window(d)
		t := &Task{Type: types.ExportTypeIncrementalExport, Window: Window{From: from.UTC(), To: to.UTC()}}
		p.adopt(t, d)
		p.Tasks = append(p.Tasks, t)
	}
	if !cur.Before(until) {
		if len(p.Tasks) == 0 {
			// Since is the latest restorable time: no window at all.
			return usage.Errorf("export %s: --since %s is the latest restorable time: nothing has been recorded after it to export yet; give an earlier --since, or wait at least 15 minutes (the shortest window DynamoDB exports)",
				p.table, tables.FormatTime(o.Since))
		}
		return nil
	}
	parts, err := restOfSplit(o.Since, cur, until)
	if err != nil {
		return fmt.Errorf("export %s: %w", p.table, err)
	}
	if !given {
		o.Logger.Info("--until not given: exporting up to the latest restorable time; pass --until to make a retry repeat exactly this window",
			"table", p.table, "until", tables.FormatTime(until))
	}
	for _, w := range parts {
		t := &Task{Type: types.ExportTypeIncrementalExport, Window: w, retry: failedOf(failed, w)}
		t.ClientToken = p.token(t)
		p.Tasks = append(p.Tasks, t)
	}
	return nil
}

// restOfSplit returns the parts that export [cur, until) once the exports
// of [since, cur) are adopted: the remaining parts of Split(since, until)
// when cur is one of its boundaries — the parts an earlier attempt asked
// for, whose ClientTokens return the exports it started and the listing
// does not show (in progress) — else Split(cur, until). Splitting the rest
// alone would give other windows when the parts are rounded to a second
// (50 h 1 s: 16 h 40 min 1 s three times, the last shorter; the rest,
// 33 h 20 min, splits into two of 16 h 40 min), so other tokens, and
// duplicates of the running exports.
func restOfSplit(since, cur, until time.Time) ([]Window, error) {
	if whole, err := Split(since, until); err == nil {
		for i, w := range whole {
			// To the millisecond, as times travel: a part that started
			// elsewhere would leave a gap or an overlap.
			if cur.Sub(w.From).Abs() < time.Millisecond {
				return whole[i:], nil
			}
		}
	}
	return Split(cur, until)
}

// incrementalByStatus splits the incremental exports among known into the
// failed ones and the others (live: in progress or completed).
func incrementalByStatus(known []*types.ExportDescription) (live, failed []*types.ExportDescription) {
	for _, d := range known {
		if d.IncrementalExportSpecification == nil {
			continue
		}
		if d.ExportStatus == types.ExportStatusFailed {
			failed = append(failed, d)
		} else {
			live = append(live, d)
		}
	}
	return live, failed
}

// liveChain follows the chain of live exports from since: the exports an
// earlier attempt started, whatever until it resolved (when until was
// given, none that ends after it). It returns the chain and where it ends
// (since when there is none).
func liveChain(live []*types.ExportDescription, since, until time.Time, given bool) ([]*types.ExportDescription, time.Time) {
	var chain []*types.ExportDescription
	cur := since
	for cur.Before(until) {
		var next *types.ExportDescription
		for _, d := range live {
			from, to := window(d)
			if !sameTime(&from, cur) || !to.After(cur) || (given && to.After(until) && !sameTime(&to, until)) {
				continue
			}
			if next == nil || better(d, next) {
				next = d
			}
		}
		if next == nil {
			break
		}
		chain = append(chain, next)
		_, cur = window(next)
	}
	return chain, cur
}

// failedOf counts the failed exports of exactly the window w: how many
// times it was tried before, part of the next try's ClientToken.
func failedOf(failed []*types.ExportDescription, w Window) int {
	n := 0
	for _, d := range failed {
		from, to := window(d)
		if sameTime(&from, w.From) && sameTime(&to, w.To) {
			n++
		}
	}
	return n
}

// token returns t's ClientToken.
func (p *Plan) token(t *Task) string {
	return ClientToken(p.tableARN, t.Type, t.At, t.Window, p.opts.Bucket, p.opts.Prefix, t.retry)
}

// maxTokenRetries bounds the new tokens Start tries when DynamoDB answers a
// token with an earlier FAILED export.
const maxTokenRetries = 10

// existing returns the descriptions of the table's exports of type typ to
// the same bucket and prefix, in DynamoDB JSON with new and old images,
// that can have been requested for a time at or after since. ListExports
// lists newest first (reverse order of ExportArn, whose id starts with the
// request's time in milliseconds), so listing stops at the first older one.
func (p *Plan) existing(ctx context.Context, api API, typ types.ExportType, since time.Time) ([]*types.ExportDescription, error) {
	cutoff := since.Add(-time.Minute)
	var found []*types.ExportDescription
	pager := dynamodb.NewListExportsPaginator(api, &dynamodb.ListExportsInput{TableArn: aws.String(p.tableARN), MaxResults: aws.Int32(25)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx, p.region...)
		if err != nil {
			return nil, fmt.Errorf("export %s: list the table's exports (to adopt those an earlier attempt started): %w", p.table, err)
		}
		for _, s := range page.ExportSummaries {
			arn := aws.ToString(s.ExportArn)
			if t, ok := idTime(exportID(arn)); ok && t.Before(cutoff) {
				return found, nil
			}
			if s.ExportType != "" && s.ExportType != typ {
				continue
			}
			out, err := api.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(arn)}, p.region...)
			if err != nil {
				return nil, fmt.Errorf("export %s: describe export %s (to adopt those an earlier attempt started): %w", p.table, arn, err)
			}
			if d := out.ExportDescription; d != nil && p.samePlace(d, typ) {
				found = append(found, d)
			}
		}
	}
	return found, nil
}

// samePlace reports whether d is an export of type typ to this plan's
// bucket and prefix, in the format and view this package asks for.
func (p *Plan) samePlace(d *types.ExportDescription, typ types.ExportType) bool {
	dt := d.ExportType
	if dt == "" {
		dt = types.ExportTypeFullExport // the API's default
	}
	if dt != typ || aws.ToString(d.S3Bucket) != p.opts.Bucket || aws.ToString(d.S3Prefix) != p.opts.Prefix {
		return false
	}
	if d.ExportFormat != "" && d.ExportFormat != types.ExportFormatDynamodbJson {
		return false
	}
	if s := d.IncrementalExportSpecification; s != nil && s.ExportViewType != "" && s.ExportViewType != types.ExportViewTypeNewAndOldImages {
		return false
	}
	return true
}

// adopt takes over d for t.
func (p *Plan) adopt(t *Task, d *types.ExportDescription) {
	t.Adopted = true
	p.update(t, d)
	p.opts.Logger.Info("adopting the export an earlier attempt started", "table", p.table, "export", t.ID(),
		"what", t.What(), "status", string(t.Status))
}

// update records what d says of t.
func (p *Plan) update(t *Task, d *types.ExportDescription) {
	if d == nil {
		return
	}
	if a := aws.ToString(d.ExportArn); a != "" {
		t.ARN = a
	}
	t.Status = d.ExportStatus
	t.ItemCount = aws.ToInt64(d.ItemCount)
	t.failureCode, t.failureMessage = aws.ToString(d.FailureCode), aws.ToString(d.FailureMessage)
	t.Directory = directory(p.opts.Bucket, p.opts.Prefix, t.ID(), aws.ToString(d.ExportManifest))
}

// Start starts the exports the plan has not adopted, in time order, and,
// with Wait, waits until every export is COMPLETED.
func (p *Plan) Start(ctx context.Context, api API) error {
	o := p.opts
	var started []string
	for i, t := range p.Tasks {
		if t.ARN != "" {
			started = append(started, t.ID())
			continue
		}
		in := &dynamodb.ExportTableToPointInTimeInput{
			TableArn:     aws.String(p.tableARN),
			S3Bucket:     aws.String(o.Bucket),
			ClientToken:  aws.String(t.ClientToken),
			ExportFormat: types.ExportFormatDynamodbJson,
			ExportType:   t.Type,
		}
		if o.Prefix != "" {
			in.S3Prefix = aws.String(o.Prefix)
		}
		if o.BucketOwner != "" {
			in.S3BucketOwner = aws.String(o.BucketOwner)
		}
		if o.KMSKey != "" {
			in.S3SseAlgorithm = types.S3SseAlgorithmKms
			in.S3SseKmsKeyId = aws.String(o.KMSKey)
		} else {
			in.S3SseAlgorithm = types.S3SseAlgorithmAes256
		}
		if t.Type == types.ExportTypeFullExport {
			in.ExportTime = aws.Time(t.At)
		} else {
			in.IncrementalExportSpecification = &types.IncrementalExportSpecification{
				ExportFromTime: aws.Time(t.Window.From),
				ExportToTime:   aws.Time(t.Window.To),
				ExportViewType: types.ExportViewTypeNewAndOldImages,
			}
		}
		o.Logger.Info("starting export", "table", p.table, "what", t.What(), "part", fmt.Sprintf("%d/%d", i+1, len(p.Tasks)),
			"bucket", o.Bucket, "prefix", o.Prefix)
		out, err := api.ExportTableToPointInTime(ctx, in, p.region...)
		// A token DynamoDB still knows returns its export, FAILED too when
		// the listing did not show that failure: ask again with the next
		// retry count.
		for n := 0; err == nil && n < maxTokenRetries && out.ExportDescription != nil &&
			out.ExportDescription.ExportStatus == types.ExportStatusFailed; n++ {
			o.Logger.Info("the request returned an earlier FAILED export of the same token: requesting a new one",
				"table", p.table, "export", exportID(aws.ToString(out.ExportDescription.ExportArn)), "failure", aws.ToString(out.ExportDescription.FailureCode))
			t.retry++
			t.ClientToken = p.token(t)
			in.ClientToken = aws.String(t.ClientToken)
			out, err = api.ExportTableToPointInTime(ctx, in, p.region...)
		}
		if err != nil {
			hint := ""
			if awserr.Code(err) == "ExportConflictException" {
				hint = " (an export with the same ClientToken but other options — another --sse-kms-key or --s3-bucket-owner — was requested in the last 8 hours: repeat it with the same options)"
			}
			if len(started) > 0 {
				hint += fmt.Sprintf("; the exports already started (%s) go on: run the same command again to adopt them and start the rest", strings.Join(started, ", "))
			}
			return fmt.Errorf("export %s: start the %s: %w%s", p.table, t.What(), err, hint)
		}
		p.update(t, out.ExportDescription)
		started = append(started, t.ID())
		o.Logger.Info("export started", "table", p.table, "export", t.ID(), "status", string(t.Status))
	}
	if !o.Wait {
		return nil
	}
	return p.wait(ctx, api)
}

// wait polls DescribeExport for each export in turn until it is COMPLETED,
// at most Timeout for all of them. Cancelling ctx stops the wait, not the
// exports.
func (p *Plan) wait(ctx context.Context, api API) error {
	o := p.opts
	deadline := o.Now().Add(o.Timeout)
	for i, t := range p.Tasks {
		part := fmt.Sprintf("%d/%d", i+1, len(p.Tasks))
		start := o.Now()
		err := poll.Until(ctx, o.Poll, deadline.Sub(start), o.Now, func(ctx context.Context) (bool, error) {
			if t.Status != types.ExportStatusCompleted && t.Status != types.ExportStatusFailed {
				out, err := api.DescribeExport(ctx, &dynamodb.DescribeExportInput{ExportArn: aws.String(t.ARN)}, p.region...)
				if err != nil {
					return false, fmt.Errorf("export %s: describe export %s: %w", p.table, t.ID(), err)
				}
				p.update(t, out.ExportDescription)
			}
			elapsed := o.Now().Sub(start).Round(time.Second).String()
			switch t.Status {
			case types.ExportStatusCompleted:
				o.Logger.Info("export completed", "table", p.table, "export", t.ID(), "part", part, "items", t.ItemCount, "elapsed", elapsed)
				return true, nil
			case types.ExportStatusFailed:
				return false, &FailedError{Table: p.table, What: t.What(), ExportARN: t.ARN, Code: t.failureCode, Message: t.failureMessage}
			}
			o.Logger.Info("waiting for export", "table", p.table, "export", t.ID(), "part", part, "status", statusOr(t.Status), "elapsed", elapsed)
			return false, nil
		})
		switch {
		case err == nil:
			p.checkManifest(ctx, t)
		case errors.Is(err, poll.ErrInterrupted):
			return fmt.Errorf("%w for export %s of %s (part %s, status %s after %s): the exports go on in DynamoDB; run the same command again to wait for them (it adopts them rather than starting others)",
				ErrWaitInterrupted, t.ID(), p.table, part, statusOr(t.Status), o.Now().Sub(start).Round(time.Second))
		case errors.Is(err, poll.ErrTimeout):
			return fmt.Errorf("export %s: timed out after %s waiting for export %s (part %s, status %s): the exports go on in DynamoDB; run the same command again, with a longer --timeout, to wait for them",
				p.table, o.Timeout, t.ID(), part, statusOr(t.Status))
		default:
			return err
		}
	}
	return nil
}

// checkManifest checks that a COMPLETED export's manifest-summary.json
// exists (with Options.Manifests): a missing one is a warning, in one line
// naming its URL, not an error (see docs/exports.md, "On a local
// emulator").
func (p *Plan) checkManifest(ctx context.Context, t *Task) {
	o := p.opts
	if o.Manifests == nil {
		return
	}
	url := t.Directory + "manifest-summary.json"
	key := strings.TrimPrefix(url, "s3://"+o.Bucket+"/")
	_, err := o.Manifests.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key)})
	switch {
	case err == nil:
	case awserr.IsS3NotFound(err):
		t.ManifestMissing = true
		o.Logger.Warn(fmt.Sprintf("export %s is COMPLETED but %s does not exist: some emulators (moto) complete exports without writing their files, and copy --from-export cannot read it", t.ID(), url),
			"table", p.table, "export", t.ID())
	default:
		o.Logger.Debug("could not check the export's manifest", "table", p.table, "export", t.ID(), "manifest", url, "error", err)
	}
}

func statusOr(s types.ExportStatus) string {
	if s == "" {
		return "not visible yet"
	}
	return string(s)
}

// better reports whether a is a better export to adopt than b: a completed
// one over one in progress, then the longer window.
func better(a, b *types.ExportDescription) bool {
	ac, bc := a.ExportStatus == types.ExportStatusCompleted, b.ExportStatus == types.ExportStatusCompleted
	if ac != bc {
		return ac
	}
	_, at := window(a)
	_, bt := window(b)
	return at.After(bt)
}

// window returns an incremental export's window.
func window(d *types.ExportDescription) (from, to time.Time) {
	if s := d.IncrementalExportSpecification; s != nil {
		return aws.ToTime(s.ExportFromTime), aws.ToTime(s.ExportToTime)
	}
	return time.Time{}, time.Time{}
}

// sameTime reports whether a time DynamoDB reports is the one asked for,
// at the resolution times travel at: the SDK sends epoch seconds with
// milliseconds (truncated), and reading them back from a float may come
// out a millisecond short. Two times a millisecond or more apart on the
// wire are other exports: a tolerance of a second adopted the export of
// --at T for --at T+500ms, and a chain of exports from T for --since
// T+400ms (leaving 400 ms of the window unexported). A time DynamoDB
// reported coarser than asked is not adopted by the listing; the
// ClientToken still returns its export for 8 hours.
func sameTime(got *time.Time, want time.Time) bool {
	if got == nil || got.IsZero() {
		return false
	}
	d := want.Truncate(time.Millisecond).Sub(got.Truncate(time.Millisecond))
	return d == 0 || d == time.Millisecond
}

// exportID returns the last part of an export ARN
// (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/export/ID).
func exportID(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// idTime returns the time an export was requested, read from its id
// (01674026761587-0931cdbf: milliseconds since the epoch, a dash, 8 hex
// digits); false when the id has another form.
func idTime(id string) (time.Time, bool) {
	ms, rest, ok := strings.Cut(id, "-")
	if !ok || len(ms) != 14 || len(rest) != 8 || strings.Trim(ms, "0123456789") != "" || strings.Trim(rest, "0123456789abcdef") != "" {
		return time.Time{}, false
	}
	var n int64
	for _, c := range ms {
		n = n*10 + int64(c-'0')
	}
	return time.UnixMilli(n), true
}

// directory returns the export's directory, s3://bucket/prefix/AWSDynamoDB/ID/:
// the directory of its manifest when DynamoDB reports one (the manifest's
// key, with or without the prefix), else built from the id.
func directory(bucket, prefix, id, manifest string) string {
	key := "AWSDynamoDB/" + id
	if manifest != "" {
		key = path.Dir(manifest)
	}
	if prefix != "" && !strings.HasPrefix(key+"/", prefix+"/") {
		key = prefix + "/" + key
	}
	return "s3://" + bucket + "/" + key + "/"
}
