package copier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// Job is a prepared selection of a main table: everything that can be
// learned and refused before the first write, found once — the options
// validated, the main table described (and refused if it is a recovery
// table), its key schema, the keys file downloaded and checked, and the
// expressions sent to DynamoDB once. It does not change after Prepare: a
// rewind prepares it before restoring, then copies and verifies from it
// (Copy, Diff) without describing, downloading or probing again.
type Job struct {
	opts     Options
	verb     string
	target   *types.TableDescription
	keys     keySchemaInfo
	keysFile *keysFile // nil without --keys-file
	// overwriteKeys is --overwrite-conflicts-keys' key set (nil: none).
	overwriteKeys map[[16]byte]struct{}
	// window: the source is an incremental window (a rewind, its diff, a
	// show).
	window bool
	// selects: ddbrewind evaluates the selection itself on the past's
	// items or keys (an export, a window): a keys file is kept as a key
	// set, and nothing is probed on the main table.
	selects bool
	// windows are the windows read for the job's plans, by their exports
	// (see Rewind): a run's copy and verification read them once.
	windows map[string]*windowPast
	// ttl is the main table's TTL attribute (empty: off, or not read:
	// a job that does not copy).
	ttl string
	// kinesis are the main table's Kinesis data streams (ARNs), and
	// kinesisUnread says they could not be read (AccessDenied): read
	// only by a job that copies.
	kinesis       []string
	kinesisUnread bool
	// legacyReplicas are the Regions of the main table's replicas when it
	// is a global table version 2017.11.29 (DescribeGlobalTable): read
	// only by a job that copies, when its description names no replica.
	legacyReplicas []string
	// replicasUnread says whether it is one could not be read
	// (AccessDenied).
	replicasUnread bool
	release        func()
}

// PrepareJob checks what a copy into opts.To will need, before its source
// exists: the options (opts.From may be empty), the main table, the keys
// file against its key schema, and the expressions, which DynamoDB must
// accept on the main table (the recovery table to come has the same key
// schema). Close releases it.
func PrepareJob(ctx context.Context, api API, opts Options) (*Job, error) {
	return prepareJob(ctx, api, opts, "run", "--table", true)
}

func prepareJob(ctx context.Context, api API, opts Options, verb, toFlag string, copying bool) (_ *Job, err error) {
	if err := opts.check(verb, false, toFlag); err != nil {
		return nil, err
	}
	j, err := startJob(ctx, api, opts, verb, toFlag)
	if err != nil {
		return nil, err
	}
	if err := j.windowChecks(ctx, api, copying); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// windowChecks are targetChecks and, for a rewind of a window, the keys
// file of --overwrite-conflicts-keys, read and checked against the key
// schema.
func (j *Job) windowChecks(ctx context.Context, api API, copying bool) error {
	if err := j.targetChecks(ctx, api, copying); err != nil {
		return err
	}
	opts := j.opts
	loc := opts.Mode().conflictKeysFile()
	if loc == "" {
		return nil
	}
	path, release, err := opts.Files.Local(ctx, loc)
	switch {
	case errors.Is(err, fs.ErrNotExist) || badS3(loc):
		return usage.Errorf("--overwrite-conflicts-keys %s: %v", loc, err)
	case err != nil:
		return fmt.Errorf("%s: --overwrite-conflicts-keys: %w", j.verb, err)
	}
	prev := j.release
	j.release = sync.OnceFunc(func() { prev(); release() })
	kf, err := checkKeysFileOf("--overwrite-conflicts-keys", loc, func() (io.ReadCloser, error) { return os.Open(path) }, j.keys, opts.Logger, true)
	if err != nil {
		return err
	}
	j.overwriteKeys = kf.set
	return nil
}

// startJob builds the job of opts (defaults filled in) and describes its
// main table.
func startJob(ctx context.Context, api API, opts Options, verb, toFlag string) (*Job, error) {
	return startJobOf(ctx, api, opts, verb, toFlag, nil)
}

// startJobOf is startJob with the main table described already (nil: not
// yet).
func startJobOf(ctx context.Context, api API, opts Options, verb, toFlag string, target *types.TableDescription) (*Job, error) {
	opts.defaults()
	j := &Job{opts: opts, verb: verb, release: func() {}, target: target}
	if target != nil {
		return j, nil
	}
	var err error
	if j.target, err = describe(ctx, api, opts.To, toFlag, verb); err != nil {
		return nil, err
	}
	return j, nil
}

// targetChecks are the checks on the described main table: not a recovery
// table (when copying into it), the keys file, and the expressions.
func (j *Job) targetChecks(ctx context.Context, api API, copying bool) error {
	o := j.opts
	j.keys = schemaOf(j.target)
	if copying {
		isRecovery, err := tables.IsRecovery(ctx, api, aws.ToString(j.target.TableArn))
		if err != nil {
			return fmt.Errorf("%s into %s: read tags: %w", j.verb, o.To, err)
		}
		if isRecovery {
			return usage.Errorf("%s into %s: refused: it is a recovery table (tag %s); the target must be the main table", j.verb, o.To, tables.TagSourceTable)
		}
		if o.Journal != "" && !o.DryRun {
			if err := checkJournalTable(ctx, o.Files, o.Journal, o.To); err != nil {
				return err
			}
		}
	}
	if copying || o.SkipExpired {
		// A copy's items are counted (and with --skip-expired left out)
		// against the main table's TTL; a diff that verifies such a copy
		// leaves them out too.
		ttl, err := readTTL(ctx, api, o.To, j.verb)
		if err != nil {
			return err
		}
		j.ttl = ttl
	}
	if copying {
		// Every write and delete also reaches its Kinesis destination:
		// the confirmation and the plan say so.
		arns, unread, err := readKinesis(ctx, api, o.To, j.verb, o.Logger)
		if err != nil {
			return err
		}
		j.kinesis, j.kinesisUnread = arns, unread
		if len(j.target.Replicas) == 0 {
			// A global table version 2017.11.29: its description does
			// not name its replicas.
			regions, denied, err := readLegacyReplicas(ctx, api, o.To, tables.Region(aws.ToString(j.target.TableArn)), j.verb, o.Logger)
			if err != nil {
				return err
			}
			j.legacyReplicas, j.replicasUnread = regions, denied
		}
	}
	if loc := o.Selection.KeysFile; loc != "" {
		open, release, err := openKeysFile(ctx, &o, loc)
		if ue := (*usage.Error)(nil); errors.As(err, &ue) {
			return err
		} else if err != nil {
			return fmt.Errorf("%s: %w", j.verb, err)
		}
		j.release = sync.OnceFunc(release)
		// An export is selected by the keys file's key set (a 16-byte
		// hash per key, kept while the copy runs); a table by lookups.
		keep := j.selects
		if j.keysFile, err = checkKeysFile(loc, open, j.keys, o.Logger, keep); err != nil {
			return err
		}
	}
	return j.probe(ctx, api, o.To, copying)
}

// Close removes the temporary local files the job holds (a keys file
// downloaded from S3). Close is idempotent.
func (j *Job) Close() { j.release() }

// probe sends the expressions to DynamoDB once, before any write, so that
// an expression it rejects is bad input (exit 2), not a failure mid-copy:
// the selection on table (a Scan or Query with Limit 1), and --if-main as a
// conditional put that can never write.
func (j *Job) probe(ctx context.Context, api API, table string, copying bool) error {
	o := j.opts
	// A past that ddbrewind selects from itself (an export, a window)
	// compiles and checks its key condition when it is resolved
	// (internal/keycond): the main table is not read for it.
	if o.Selection.KeysFile == "" && !j.selects {
		src := &tableSource{table: table, sel: o.Selection, keyNames: j.keys.names, segments: 1}
		if err := src.probe(ctx, api); err != nil {
			if awserr.Code(err) == "ValidationException" {
				return usage.Errorf("%s: DynamoDB rejects the selection on %s: %s; fix --key-condition-expression/--filter-expression and their placeholders", j.verb, table, awserr.Message(err))
			}
			return fmt.Errorf("%s: read %s: %w", j.verb, table, err)
		}
	}
	if copying && !o.DryRun {
		return o.Mode().probe(ctx, api, j.verb, &target{table: o.To, keyNames: j.keys.names, sel: o.Selection}, j.keys.types)
	}
	return nil
}

// withSource describes the source table from and checks it against the
// main table: another table, with the same key schema.
func (j *Job) withSource(ctx context.Context, api API, from, verb string) (*types.TableDescription, error) {
	if from == j.opts.To {
		return nil, usage.Errorf("%s: --from and --to are both %s: %s from the recovery table into the main table", verb, from, verb)
	}
	if err := tables.ValidateName("--from", from); err != nil {
		return nil, err
	}
	src, err := describe(ctx, api, from, "--from", verb)
	if err != nil {
		return nil, err
	}
	if err := sameKeys(verb, from, j.opts.To, src, j.target); err != nil {
		return nil, err
	}
	return src, nil
}

// sameKeys refuses tables whose key schemas (names and types) differ.
func sameKeys(verb, from, to string, src, dst *types.TableDescription) error {
	if a, b := fmtKeys(keySchema(src)), fmtKeys(keySchema(dst)); a != b {
		return usage.Errorf("%s %s → %s: refused: key schemas differ (%s has %s, %s has %s); use tables with the same keys",
			verb, from, to, from, a, to, b)
	}
	return nil
}

type keyAttr struct {
	name, keyType, attrType string
}

func keySchema(t *types.TableDescription) []keyAttr {
	attrTypes := map[string]string{}
	for _, d := range t.AttributeDefinitions {
		attrTypes[aws.ToString(d.AttributeName)] = string(d.AttributeType)
	}
	var ks []keyAttr
	for _, k := range t.KeySchema {
		n := aws.ToString(k.AttributeName)
		ks = append(ks, keyAttr{name: n, keyType: string(k.KeyType), attrType: attrTypes[n]})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].keyType < ks[j].keyType }) // HASH before RANGE
	return ks
}

// schemaOf returns the key names (hash first) and types of t.
func schemaOf(t *types.TableDescription) keySchemaInfo {
	ks := keySchemaInfo{types: map[string]string{}}
	for _, k := range keySchema(t) {
		ks.names = append(ks.names, k.name)
		ks.types[k.name] = k.attrType
	}
	return ks
}

func fmtKeys(ks []keyAttr) string {
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = fmt.Sprintf("%s %s (%s)", k.keyType, k.name, k.attrType)
	}
	return strings.Join(parts, ", ")
}

func describe(ctx context.Context, api API, table, flag, verb string) (*types.TableDescription, error) {
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		if awserr.IsNotFound(err) {
			return nil, usage.Errorf("%s: %s %s: table not found (check the name, --region and --endpoint-url)", verb, flag, table)
		}
		return nil, fmt.Errorf("%s: describe %s table %s: %w", verb, flag, table, err)
	}
	return out.Table, nil
}

// badS3 reports whether loc is an s3:// location that is not s3://bucket/key.
func badS3(loc string) bool {
	if !statefile.IsS3(loc) {
		return false
	}
	_, _, err := statefile.ParseS3(loc)
	return err != nil
}

// Target returns the main table's description, as PrepareJob read it (do
// not modify it): a rewind hands it to the restore so that the main table
// is described once.
func (j *Job) Target() *types.TableDescription { return j.target }
