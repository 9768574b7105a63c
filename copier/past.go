package copier

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// past is the source of the past a plan reads, resolved once by prepare
// into one value per kind (pastKinds): a recovery table, a full export, an
// incremental export window. A keys file is a selection over any of them.
// Everything a plan asks of its source — its name and fingerprint, its
// segments and estimate, its sources, its lookups, its sink — it asks this
// value; nothing else tells the kinds apart.
type past interface {
	// name is what the plan reads, in messages, summaries and
	// fingerprints: the recovery table's name, the exports' URLs.
	name() string
	// fingerprint describes a copy from this past with the plan's
	// options (the checkpoint's description: the form checkpoints have
	// always carried).
	fingerprint(p *Plan) string
	// manifests identifies the export files read ("" for a table): a
	// checkpoint made for other files is refused.
	manifests() string
	// begin sets what a new plan needs before its checkpoint is loaded:
	// its segments and estimate.
	begin(p *Plan)
	// settle finishes the plan after its checkpoint was loaded (or not).
	settle(ctx context.Context, api API, p *Plan) error
	// source is the copy phase's source; extras the delete phase's (nil:
	// no delete phase); lookup how the delete phase looks keys up in the
	// past.
	source(p *Plan, x *executor) source
	extras(p *Plan, x *executor) source
	lookup(p *Plan, x *executor) sourceLookup
	// sink is what a copy writes through (before the main table's filter).
	sink(p *Plan, t *target, x *executor) sink
	// diff compares the past with the main table.
	diff(ctx context.Context, api API, p *Plan, show int) (*DiffResult, error)
}

// pastKind is one kind of past in the registry: how the options name it
// and how it is resolved.
type pastKind struct {
	// name names the kind (the conformance suite covers every one).
	name string
	// claims reports whether the options name a past of this kind.
	claims func(ctx context.Context, r *resolving) (bool, error)
	// window: the past is an incremental window: the options a window
	// does not take are refused first, and its messages say rewind.
	window bool
	// selects: ddbrewind evaluates the selection itself on the past's
	// items or keys (a keys file is kept as a key set, nothing is probed
	// on the table).
	selects bool
	// resolve checks the past against the job (whose main table is
	// described, not yet checked) and returns it; it runs the job's
	// checks (targetChecks) at the point its kind needs them.
	resolve func(ctx context.Context, r *resolving) (past, error)
}

// pastKinds is the registry of the kinds of past, in the order their
// claims are asked: adding a source of the past is one file (its past
// value, its source) and one line here.
func pastKinds() []pastKind {
	return []pastKind{
		tableKind(),
		fullExportKind(),
		windowKind(),
	}
}

// resolving is what the kinds' claims and resolvers share while one plan
// is prepared: the options, the purpose and, read once, the first export.
type resolving struct {
	api     API
	opts    Options
	purpose purpose
	job     *Job // set before resolve
	first   *exportfile.Export
}

// firstExport opens the first export's manifests once (nil without
// --from-export).
func (r *resolving) firstExport(ctx context.Context) (*exportfile.Export, error) {
	if r.first != nil || len(r.opts.FromExport) == 0 {
		return r.first, nil
	}
	if r.opts.Files == nil || r.opts.Files.S3 == nil {
		return nil, fmt.Errorf("%s: --from-export %s: S3 is not configured", r.purpose.verb(), r.opts.FromExport[0])
	}
	exp, err := exportfile.Open(ctx, r.opts.Files.S3, r.opts.FromExport[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.purpose.verb(), err)
	}
	r.first = exp
	return exp, nil
}

// kindOf returns the kind of past the options name.
func (r *resolving) kindOf(ctx context.Context) (pastKind, error) {
	for _, k := range pastKinds() {
		ok, err := k.claims(ctx, r)
		if err != nil {
			return pastKind{}, err
		}
		if ok {
			return k, nil
		}
	}
	return pastKind{}, usage.Errorf("%s needs --from RECOVERY_TABLE (or --from-export URL) and --to MAIN_TABLE", r.purpose.verb())
}

// purpose says what a plan is prepared for.
type purpose int

const (
	forCopy purpose = iota
	forDiff
	forShow
)

// verb names the purpose in messages.
func (u purpose) verb() string { return [...]string{"copy", "diff", "show"}[u] }

// writes reports whether the plan writes into the main table.
func (u purpose) writes() bool { return u == forCopy }

// prepare is the one preparation path of a plan, whatever its past:
// options checked, the kind of past found (an export's manifests opened
// once), the main table described once, the past resolved and checked
// against the job, then the plan for its purpose built.
func prepare(ctx context.Context, api API, opts Options, u purpose) (_ *Plan, err error) {
	r := &resolving{api: api, opts: opts, purpose: u}
	var target *types.TableDescription
	if u == forShow && opts.To == "" && len(opts.FromExport) > 0 {
		// An export's items are selected with its table's key schema.
		if opts.To, target, err = r.exportTable(ctx); err != nil {
			return nil, err
		}
		r.opts = opts
	}
	if err := opts.check(u.verb(), true, toFlagOf(u, opts)); err != nil {
		return nil, err
	}
	kind, err := r.kindOf(ctx)
	if err != nil {
		return nil, err
	}
	verb, toFlag := u.verb(), toFlagOf(u, opts)
	if kind.window {
		if err := checkWindowOptions(opts); err != nil {
			return nil, err
		}
		verb, toFlag = windowVerb(u)
	}
	j, err := startJobOf(ctx, api, opts, verb, toFlag, target)
	if err != nil {
		return nil, err
	}
	j.window, j.selects = kind.window, kind.selects
	defer func() {
		if err != nil {
			j.Close()
		}
	}()
	r.job, r.opts = j, j.opts
	pa, err := kind.resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	p, err := j.plan(ctx, api, pa, u, j.opts.Stats)
	if err != nil {
		return nil, err
	}
	p.ownsJob = true
	return p, nil
}

// toFlagOf is the flag that names the main table: show names the table
// whose key schema selects an export's items with --table, and reads a
// table given with --from.
func toFlagOf(u purpose, o Options) string {
	switch {
	case u != forShow:
		return "--to"
	case len(o.FromExport) > 0:
		return "--table"
	}
	return "--from"
}
