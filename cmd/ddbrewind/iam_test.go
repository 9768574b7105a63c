package main

// These tests prove that docs/iam/<command>.json are least-privilege
// policies: every command runs end to end, in every mode that reaches a
// different DynamoDB call, through a pass-through ddbtest.FaultProxy (which
// lists the operations it saw) behind a small recorder (which notes the
// tables each request names and, where a policy has tag conditions, the
// tags those tables carry). Each call is then checked against the command's
// policy — action, table ARN and conditions, as IAM would — and every grant
// of the policy (statement × action × resource) must have been needed by
// some call.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// The values the tests put in the policies' placeholders. ${Table} is the
// main (source) table of each scenario; ${BackupRole} the role passed to
// AWS Backup with --backup-role-arn.
const (
	iamRegion     = "us-east-1"
	iamAccount    = "111122223333"
	iamBackupRole = "ddbrewind-restore"
	iamDir        = "../../docs/iam"
	// ${Bucket} and ${Prefix}: where export writes (--s3-bucket,
	// --s3-prefix).
	iamBucket = "ddbrewind-iam-exports"
	iamPrefix = "rewinds"
	// ${JobQueue} and ${JobDefinition}: where batch start submits.
	iamJobQueue      = "ddbrewind-iam-queue"
	iamJobDefinition = "ddbrewind-iam-jobdef"
)

// iamRoleARN is the --backup-role-arn of the AWS Backup variants (moto's
// account, as the other ARNs the commands see; the recorder maps every ARN
// to iamAccount).
const iamRoleARN = "arn:aws:iam::123456789012:role/" + iamBackupRole

// iamStarResources are the actions that IAM authorizes on "*" only, or that
// the policies grant on "*" because the resource is not known before the
// call (an AWS Backup restore job's id).
var iamStarResources = []string{"dynamodb:ListTables", "dynamodb:ListExports", "dynamodb:ListBackups", "backup:ListRecoveryPointsByResource", "backup:DescribeRestoreJob", "batch:DescribeJobs"}

// restoreTargetActions are the actions AWS requires on the *target* table of
// RestoreTableToPointInTime and RestoreTableFromBackup, besides
// dynamodb:RestoreTableToPointInTime on the source table (or
// dynamodb:RestoreTableFromBackup on the backup): "DynamoDB
// RestoreTableToPointInTime permissions are necessary on the source table,
// and DynamoDB read and write permissions on the target table are necessary
// for restore functionality" (and the same for RestoreTableFromBackup "on
// the source backup")
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html,
// whose example lists exactly these). ddbrewind never calls them for the
// restore; DynamoDB checks them. This is the test's only allow-list: these
// grants count as needed only when a RestoreTableToPointInTime or
// RestoreTableFromBackup call targets a table they cover.
var restoreTargetActions = []string{
	"dynamodb:BatchWriteItem",
	"dynamodb:DeleteItem",
	"dynamodb:GetItem",
	"dynamodb:PutItem",
	"dynamodb:Query",
	"dynamodb:Scan",
	"dynamodb:UpdateItem",
}

// exportS3Actions are the S3 actions AWS requires of the caller of
// ExportTableToPointInTime, on the objects the export writes: "Your IAM
// policy needs to allow you to perform the S3 actions (s3:AbortMultipartUpload,
// s3:PutObject, and s3:PutObjectAcl) and the DynamoDB export action
// (dynamodb:ExportTableToPointInTime)"
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html).
// ddbrewind never calls S3 for an export; DynamoDB writes with these
// permissions. Like restoreTargetActions, they count as needed only when an
// ExportTableToPointInTime call writes where they apply.
// exportManifestSid is the statement of export.json that lets export
// check that a COMPLETED export's manifest-summary.json exists.
const exportManifestSid = "CheckACompletedExportsManifestExists"

var exportS3Actions = []string{
	"s3:AbortMultipartUpload",
	"s3:PutObject",
	"s3:PutObjectAcl",
}

// writeOps are the operations that change items; --dry-run never calls them.
var writeOps = []string{"BatchWriteItem", "PutItem", "DeleteItem", "UpdateItem"}

// ---- policy documents ----

// iamStrings is an IAM "string or list of strings".
type iamStrings []string

func (s *iamStrings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = iamStrings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

type iamStatement struct {
	Sid       string
	Effect    string
	Action    iamStrings
	Resource  iamStrings
	Condition map[string]map[string]iamStrings
}

type iamPolicy struct {
	Version   string
	Statement []iamStatement
}

// iamPlaceholders matches the placeholders of the policy files.
var iamPlaceholders = regexp.MustCompile(`\$\{[^}]*\}`)

// loadPolicy reads docs/iam/<command>.json with ${Region}, ${Account},
// ${Table}, ${Bucket} and ${Prefix} filled in. Unknown fields (NotAction, NotResource, Principal…)
// and other placeholders are errors: the checker would not understand them.
func loadPolicy(t *testing.T, command, table string) *iamPolicy {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(iamDir, command+".json"))
	if err != nil {
		t.Fatalf("policy of %s: %v", command, err)
	}
	for _, p := range iamPlaceholders.FindAllString(string(data), -1) {
		if !slices.Contains([]string{"${Region}", "${Account}", "${Table}", "${Bucket}", "${Prefix}", "${BackupRole}", "${JobQueue}", "${JobDefinition}"}, p) {
			t.Fatalf("docs/iam/%s.json: unknown placeholder %s (use ${Region}, ${Account}, ${Table}, ${Bucket}, ${Prefix}, ${BackupRole}, ${JobQueue}, ${JobDefinition})", command, p)
		}
	}
	filled := strings.NewReplacer("${Region}", iamRegion, "${Account}", iamAccount, "${Table}", table,
		"${Bucket}", iamBucket, "${Prefix}", iamPrefix, "${BackupRole}", iamBackupRole,
		"${JobQueue}", iamJobQueue, "${JobDefinition}", iamJobDefinition).Replace(string(data))
	dec := json.NewDecoder(strings.NewReader(filled))
	dec.DisallowUnknownFields()
	var p iamPolicy
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("docs/iam/%s.json: %v", command, err)
	}
	return &p
}

// iamGrant is one statement × action × resource of a policy.
type iamGrant struct {
	stmt, res int
	action    string
}

// iamMatch matches s against an IAM pattern: * is any run of characters
// (slashes included), ? is one character.
func iamMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// conditionsHold evaluates a statement's conditions. Only StringEquals and
// StringLike on aws:ResourceTag/KEY, aws:RequestTag/KEY,
// iam:PassedToService and s3:prefix are understood; a missing tag makes the condition
// false, as in IAM.
func (st iamStatement) conditionsHold(resTags, reqTags map[string]string) (bool, error) {
	for op, keys := range st.Condition {
		if op != "StringEquals" && op != "StringLike" {
			return false, fmt.Errorf("statement %q: condition operator %s is not understood by this test", st.Sid, op)
		}
		for key, want := range keys {
			var tags map[string]string
			switch {
			case strings.HasPrefix(key, "aws:ResourceTag/"):
				tags = resTags
			case strings.HasPrefix(key, "aws:RequestTag/"):
				tags = reqTags
			case key == "iam:PassedToService", key == "s3:prefix":
				// The recorders note the service a role is passed to (of
				// the iam:PassRole call) and the prefix a ListBucket lists
				// as request "tags".
				key, tags = "/"+key, reqTags
			default:
				return false, fmt.Errorf("statement %q: condition key %s is not understood by this test", st.Sid, key)
			}
			got, ok := tags[key[strings.IndexByte(key, '/')+1:]]
			if !ok {
				return false, nil
			}
			hit := false
			for _, w := range want {
				if op == "StringEquals" && got == w || op == "StringLike" && iamMatch(w, got) {
					hit = true
				}
			}
			if !hit {
				return false, nil
			}
		}
	}
	return true, nil
}

// allows returns the grants of the Allow statements that let action act on
// resource; an explicit Deny that matches is an error.
func (p *iamPolicy) allows(action, resource string, resTags, reqTags map[string]string) ([]iamGrant, error) {
	var grants []iamGrant
	for si, st := range p.Statement {
		var act string
		for _, a := range st.Action {
			if iamMatch(strings.ToLower(a), strings.ToLower(action)) {
				act = a
			}
		}
		if act == "" {
			continue
		}
		hold, err := st.conditionsHold(resTags, reqTags)
		if err != nil {
			return nil, err
		}
		if !hold {
			continue
		}
		for ri, r := range st.Resource {
			if !iamMatch(r, resource) {
				continue
			}
			if st.Effect == "Deny" {
				return nil, fmt.Errorf("statement %q denies it", st.Sid)
			}
			grants = append(grants, iamGrant{stmt: si, res: ri, action: act})
		}
	}
	return grants, nil
}

// tableARN is the ARN the policies see for a table.
func tableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", iamRegion, iamAccount, name)
}

// globalTableARN is the ARN the policies see for a global table version
// 2017.11.29 (DescribeGlobalTable's resource): no Region. The Service
// Authorization Reference's resource type global-table is
// arn:${Partition}:dynamodb::${Account}:global-table/${GlobalTableName}
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html).
func globalTableARN(name string) string {
	return fmt.Sprintf("arn:aws:dynamodb::%s:global-table/%s", iamAccount, name)
}

// ---- recorder ----

// iamCall is one request as IAM sees it.
type iamCall struct {
	op string
	// action is the IAM action when not dynamodb:<op> (AWS Backup's
	// calls, and the iam:PassRole that StartRestoreJob implies).
	action  string
	tables  []string                     // tables the request acts on
	arns    []string                     // other resources it acts on ("*", an export, backups, recovery points, roles), as the policies see them
	target  string                       // RestoreTableToPointInTime, RestoreTableFromBackup: the new table
	objects []string                     // ExportTableToPointInTime: an S3 object the export writes
	reqTags map[string]string            // TagResource: the tags requested
	resTags map[string]map[string]string // table → its tags when the request came, for tagged ops
}

// iamRecorder is an HTTP proxy in front of a pass-through FaultProxy that
// records, for each request, what IAM would authorize.
type iamRecorder struct {
	fault  *ddbtest.FaultProxy
	srv    *httptest.Server
	direct *dynamodb.Client
	// tagOps are the operations whose tables' tags must be looked up (those
	// a policy grants under an aws:ResourceTag condition).
	tagOps map[string]bool
	// hooks run once, before the first request of their operation is
	// forwarded: a test changes a table between two steps of a command.
	hooks map[string]func()

	mu    sync.Mutex
	calls []iamCall
	errs  []string
}

// newIAMRecorder records the requests it passes to upstream (srv's
// endpoint, or a fake in front of it).
func newIAMRecorder(t *testing.T, srv *ddbtest.Server, upstream string, tagOps map[string]bool, hooks map[string]func()) *iamRecorder {
	t.Helper()
	r := &iamRecorder{
		fault:  ddbtest.NewFaultProxy(t, upstream, ddbtest.FaultConfig{}),
		direct: srv.Client(t),
		tagOps: tagOps,
		hooks:  maps.Clone(hooks),
	}
	target, err := url.Parse(r.fault.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.record(req.Context(), req.Header.Get("X-Amz-Target"), body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the endpoint to give the CLI.
func (r *iamRecorder) URL() string { return r.srv.URL }

// record notes one request.
func (r *iamRecorder) record(ctx context.Context, target string, body []byte) {
	op := target[strings.LastIndexByte(target, '.')+1:]
	var in struct {
		TableName       string
		BackupArn       string
		ResourceArn     string
		SourceTableName string
		SourceTableArn  string
		TableArn        string
		ExportArn       string
		GlobalTableName string
		S3Bucket        string
		S3Prefix        string
		TargetTableName string
		RequestItems    map[string]json.RawMessage
		Tags            []struct{ Key, Value string }
	}
	_ = json.Unmarshal(body, &in)
	c := iamCall{op: op, target: in.TargetTableName}
	if in.BackupArn != "" {
		c.arns = append(c.arns, iamARN(in.BackupArn))
	}
	for _, n := range []string{in.TableName, in.ResourceArn, in.SourceTableName, in.SourceTableArn, in.TableArn} {
		if n != "" {
			c.tables = append(c.tables, tables.Name(n))
		}
	}
	switch op {
	case "ListTables", "ListExports":
		// No resource type: the Service Authorization Reference lists
		// none, so IAM needs "*" (ListExports' TableArn only filters).
		c.tables, c.arns = nil, []string{"*"}
	case "DescribeExport":
		c.arns = []string{exportResource(in.ExportArn)}
	case "DescribeGlobalTable":
		// A global table version 2017.11.29 (resource type global-table).
		c.arns = []string{globalTableARN(in.GlobalTableName)}
	case "ExportTableToPointInTime":
		key := "AWSDynamoDB/01796108814194-ab000000/manifest-summary.json"
		if in.S3Prefix != "" {
			key = in.S3Prefix + "/" + key
		}
		c.objects = []string{"arn:aws:s3:::" + in.S3Bucket + "/" + key}
	}
	for n := range in.RequestItems {
		c.tables = append(c.tables, tables.Name(n))
	}
	slices.Sort(c.tables)
	if op == "TagResource" {
		c.reqTags = map[string]string{}
		for _, tag := range in.Tags {
			c.reqTags[tag.Key] = tag.Value
		}
	}
	var problem string
	if len(c.tables) == 0 && len(c.arns) == 0 && op != "ListTables" {
		problem = fmt.Sprintf("%s names no table: teach the recorder which resource it acts on", op)
	}
	if r.tagOps[op] {
		c.resTags = map[string]map[string]string{}
		for _, n := range c.tables {
			tags, err := r.tagsOf(ctx, n)
			if err != nil {
				problem = fmt.Sprintf("%s: look up the tags of %s: %v", op, n, err)
			}
			c.resTags[n] = tags
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
	if problem != "" {
		r.errs = append(r.errs, problem)
	}
	if hook := r.hooks[op]; hook != nil {
		delete(r.hooks, op)
		hook()
	}
}

// exportResource is the ARN IAM sees for an export, in the test's account:
// table/NAME/export/ID. moto names exports
// arn:…:table/<table ARN>/import/ID, hence the last ":table/".
func exportResource(arn string) string {
	rest := arn[strings.LastIndex(arn, ":table/")+len(":table/"):]
	return tableARN(rest[:strings.IndexByte(rest, '/')]) + "/export/" + arn[strings.LastIndexByte(arn, '/')+1:]
}

// tagsOf returns a table's tags, straight from the emulator; none when it
// does not exist.
func (r *iamRecorder) tagsOf(ctx context.Context, table string) (map[string]string, error) {
	d, err := r.direct.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return nil, nil
		}
		return nil, err
	}
	return tables.Tags(ctx, r.direct, aws.ToString(d.Table.TableArn))
}

// ---- checker ----

// iamCheck checks one command's calls against its policy, over all the
// variants that run it.
type iamCheck struct {
	command string
	tagOps  map[string]bool

	mu   sync.Mutex
	ops  map[string]bool     // operations seen by the FaultProxies
	used map[iamGrant]string // grants needed, with a call that needed them
}

func newIAMCheck(t *testing.T, command string) *iamCheck {
	t.Helper()
	c := &iamCheck{command: command, tagOps: map[string]bool{}, ops: map[string]bool{}, used: map[iamGrant]string{}}
	for _, st := range loadPolicy(t, command, "T").Statement {
		tagged := false
		for _, keys := range st.Condition {
			for k := range keys {
				tagged = tagged || strings.HasPrefix(k, "aws:ResourceTag/")
			}
		}
		if tagged {
			for _, a := range st.Action {
				c.tagOps[strings.TrimPrefix(a, "dynamodb:")] = true
			}
		}
	}
	return c
}

// iamARN maps an ARN from the emulator (or the AWS Backup fake) to the
// account and region the policies are filled in with.
func iamARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return arn
	}
	switch parts[2] {
	case "iam":
		parts[4] = iamAccount
	default:
		parts[3], parts[4] = iamRegion, iamAccount
	}
	return strings.Join(parts, ":")
}

// awsBackupCalls turns the AWS Backup fake's requests into what IAM
// authorizes: each operation as backup:<op>, and StartRestoreJob's role as
// an iam:PassRole to backup.amazonaws.com.
func awsBackupCalls(calls []fakeBackupCall) []iamCall {
	var out []iamCall
	for _, fc := range calls {
		c := iamCall{op: fc.op, action: "backup:" + fc.op}
		switch fc.op {
		case "StartRestoreJob":
			c.arns = []string{iamARN(fc.resource)}
			out = append(out, iamCall{op: "PassRole", action: "iam:PassRole", arns: []string{iamARN(fc.start.IamRoleArn)},
				reqTags: map[string]string{"iam:PassedToService": "backup.amazonaws.com"}})
		default:
			c.arns = []string{"*"}
		}
		out = append(out, c)
	}
	return out
}

// run runs ddbrewind args (command first) through a new recorder with
// ${Table} = table, wants exit code want, checks every call against the
// policy and returns the operations the FaultProxy saw.
func (c *iamCheck) run(t *testing.T, srv *ddbtest.Server, table string, want int, args ...string) []string {
	t.Helper()
	return c.runWith(t, srv, table, want, iamRunOpts{}, args...)
}

// iamRunOpts are the extras of one checked run.
type iamRunOpts struct {
	hooks map[string]func()
	// upstream, when set, receives the requests instead of srv (a fake in
	// front of it).
	upstream string
	// awsBackup, when set, is the AWS Backup endpoint of the run: its calls
	// are checked against the policy too.
	awsBackup *fakeAWSBackup
	// env is added to the run's environment (e.g. AWS_ENDPOINT_URL_S3).
	env map[string]string
	// more, when set, returns the calls a run made to other services
	// (recorded elsewhere, e.g. AWS Batch): they are checked too.
	more func() []iamCall
	// s3, when set, is the S3 endpoint of the run (moto): the run's S3
	// requests go through an s3Recorder and are checked against the
	// policy too.
	s3 string
}

// runOn is run with the requests going to upstream (a fake in front of
// srv) rather than srv itself.
func (c *iamCheck) runOn(t *testing.T, srv *ddbtest.Server, upstream, table string, want int, hooks map[string]func(), args ...string) []string {
	return c.runWith(t, srv, table, want, iamRunOpts{hooks: hooks, upstream: upstream}, args...)
}

// runWith is run with options.
func (c *iamCheck) runWith(t *testing.T, srv *ddbtest.Server, table string, want int, o iamRunOpts, args ...string) []string {
	t.Helper()
	if args[0] != c.command {
		t.Fatalf("the %s check runs %s", c.command, args[0])
	}
	upstream := o.upstream
	if upstream == "" {
		upstream = srv.Endpoint
	}
	rec := newIAMRecorder(t, srv, upstream, c.tagOps, o.hooks)
	env := maps.Clone(o.env)
	var before int
	if o.awsBackup != nil {
		if env == nil {
			env = map[string]string{}
		}
		env["AWS_ENDPOINT_URL_BACKUP"] = o.awsBackup.URL()
		before = len(o.awsBackup.Calls())
	}
	var s3rec *s3Recorder
	if o.s3 != "" {
		s3rec = newS3Recorder(t, o.s3)
		if env == nil {
			env = map[string]string{}
		}
		env["AWS_ENDPOINT_URL_S3"] = s3rec.srv.URL
	}
	r := runCLI(t, cliOpts{env: env}, append([]string{args[0], "--endpoint-url", rec.URL()}, args[1:]...)...)
	if r.code != want {
		t.Fatalf("exit %d, want %d", r.code, want)
	}
	ops := rec.fault.Operations()
	var backupCalls []iamCall
	if o.awsBackup != nil {
		backupCalls = awsBackupCalls(o.awsBackup.Calls()[before:])
	}
	if s3rec != nil {
		backupCalls = append(backupCalls, s3rec.Calls()...)
	}
	if o.more != nil {
		backupCalls = append(backupCalls, o.more()...)
	}
	t.Logf("operations: %s", strings.Join(ops, ", "))
	pol := loadPolicy(t, c.command, table)
	file := "docs/iam/" + c.command + ".json"

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.errs {
		t.Error(e)
	}
	recOps := map[string]bool{}
	reported := map[string]bool{} // one error per action and table
	errorf := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !reported[msg] {
			reported[msg] = true
			t.Error(msg)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, call := range append(slices.Clone(rec.calls), backupCalls...) {
		action := "dynamodb:" + call.op
		if call.action != "" {
			action = call.action
		} else {
			recOps[call.op] = true
		}
		c.ops[action] = true
		resources := call.tables
		if slices.Contains(iamStarResources, action) {
			resources = []string{"*"}
		} else {
			resources = append(slices.Clone(resources), call.arns...)
		}
		for _, res := range resources {
			arn := res
			if res != "*" && !strings.HasPrefix(res, "arn:") {
				arn = tableARN(res)
			}
			grants, err := pol.allows(action, arn, call.resTags[res], call.reqTags)
			switch {
			case err != nil:
				errorf("%s: %s on %s: %v", file, action, arn, err)
			case len(grants) == 0:
				errorf("%s does not allow %s on %s (resource tags %v, request tags %v), which ddbrewind %s called",
					file, action, arn, call.resTags[res], call.reqTags, c.command)
			}
			for _, g := range grants {
				c.used[g] = action + " on " + arn
			}
		}
		for _, obj := range call.objects {
			for _, a := range exportS3Actions {
				grants, err := pol.allows(a, obj, nil, nil)
				if err != nil || len(grants) == 0 {
					errorf("%s does not allow %s on %s, which the export writes and ExportTableToPointInTime requires (%v)", file, a, obj, err)
				}
				for _, g := range grants {
					c.used[g] = a + " on " + obj + ", written by the export"
				}
			}
		}
		if call.target != "" {
			for _, a := range restoreTargetActions {
				grants, err := pol.allows(a, tableARN(call.target), nil, nil)
				if err != nil || len(grants) == 0 {
					errorf("%s does not allow %s on the restore target %s, which %s requires (%v)",
						file, a, tableARN(call.target), call.op, err)
				}
				for _, g := range grants {
					c.used[g] = a + " on restore target " + tableARN(call.target)
				}
			}
		}
	}
	for _, op := range ops {
		if !recOps[op] {
			t.Errorf("the FaultProxy saw %s but the recorder did not", op)
		}
	}
	if len(ops) == 0 && len(backupCalls) == 0 {
		t.Errorf("ddbrewind %s called nothing", c.command)
	}
	return ops
}

// finish checks, after all variants, that the policy grants nothing no call
// needed, and logs the command's actions.
func (c *iamCheck) finish(t *testing.T) {
	t.Helper()
	if t.Failed() || t.Skipped() {
		return
	}
	file := "docs/iam/" + c.command + ".json"
	pol := loadPolicy(t, c.command, "${Table}")
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.ops) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no variant ran: nothing to check the policy against")
		}
		t.Skip("no variant ran (emulator missing?): nothing to check the policy against")
	}
	var called []string
	for action := range c.ops {
		called = append(called, action)
	}
	slices.Sort(called)
	inPolicy := map[string]bool{}
	for si, st := range pol.Statement {
		for _, a := range st.Action {
			inPolicy[a] = true
			for ri, r := range st.Resource {
				if _, ok := c.used[iamGrant{stmt: si, res: ri, action: a}]; !ok {
					t.Errorf("%s statement %q grants %s on %s, but no variant of ddbrewind %s needed it: remove it, or add the variant that needs it",
						file, st.Sid, a, r, c.command)
				}
			}
		}
	}
	// The same at the level of actions alone, against the operations the
	// FaultProxies saw.
	for _, a := range called {
		if !inPolicy[a] {
			t.Errorf("ddbrewind %s called %s, which %s lacks", c.command, a, file)
		}
	}
	for a := range inPolicy {
		restored := c.ops["dynamodb:RestoreTableToPointInTime"] || c.ops["dynamodb:RestoreTableFromBackup"]
		if !slices.Contains(called, a) && !(restored && slices.Contains(restoreTargetActions, a)) &&
			!(c.ops["dynamodb:ExportTableToPointInTime"] && slices.Contains(exportS3Actions, a)) {
			t.Errorf("%s grants %s, which no variant of ddbrewind %s called", file, a, c.command)
		}
	}
	t.Logf("ddbrewind %s calls: %s", c.command, strings.Join(called, ", "))
}

// assertNoWrites fails when ops holds an operation that changes items.
func assertNoWrites(t *testing.T, what string, ops []string) {
	t.Helper()
	for _, op := range ops {
		if slices.Contains(writeOps, op) {
			t.Errorf("%s called %s", what, op)
		}
	}
}

// ---- the policy files themselves ----

// noAWSCommands make no AWS call: they need no policy.
var noAWSCommands = []string{"completion", "help", "version"}

func TestIAMPolicyFiles(t *testing.T) {
	app := newApp(&Env{})
	want := map[string]bool{}
	for _, c := range app.Commands {
		if slices.Contains(noAWSCommands, c.Name) {
			continue
		}
		want[c.Name+".json"] = true
		pol := loadPolicy(t, c.Name, "T")
		if pol.Version != "2012-10-17" {
			t.Errorf("docs/iam/%s.json: Version %q, want 2012-10-17", c.Name, pol.Version)
		}
		for _, st := range pol.Statement {
			if st.Sid == "" || st.Effect != "Allow" || len(st.Action) == 0 || len(st.Resource) == 0 {
				t.Errorf("docs/iam/%s.json: statement %+v: want a Sid, Effect Allow, actions and resources", c.Name, st)
			}
			s3 := slices.ContainsFunc(st.Action, func(a string) bool { return strings.HasPrefix(a, "s3:") })
			for _, a := range st.Action {
				switch {
				case strings.ContainsAny(a, "*?"):
					t.Errorf("docs/iam/%s.json: action %q: name each action, no wildcards", c.Name, a)
				case s3 && (st.Sid == "ReadExports" || strings.HasSuffix(st.Sid, "ExportFilesForSince")) && slices.Contains(readExportCommands[c.Name], a):
				case s3 && c.Name == "batch" && slices.Contains(batchStateS3Actions, a):
				case s3 && c.Name == "export" && st.Sid == exportManifestSid && a == "s3:GetObject" &&
					slices.Equal(st.Resource, iamStrings{"arn:aws:s3:::" + iamBucket + "/" + iamPrefix + "/AWSDynamoDB/*/manifest-summary.json"}):
					// export's check that a COMPLETED export's manifest exists.
				case s3 && !((c.Name == "export" || c.Name == "run") && slices.Contains(exportS3Actions, a)):
					t.Errorf("docs/iam/%s.json: action %q: the only S3 actions are those an export needs and, in statement ReadExports, those reading one needs (and export's s3:GetObject of the manifests, in statement %s), each in a statement of their own", c.Name, a, exportManifestSid)
				case !s3 && !strings.HasPrefix(a, "dynamodb:") && !strings.HasPrefix(a, "backup:") && a != "iam:PassRole" && !(c.Name == "batch" && strings.HasPrefix(a, "batch:")):
					t.Errorf("docs/iam/%s.json: action %q: name each dynamodb: or backup: action (or iam:PassRole)", c.Name, a)
				}
			}
			for _, r := range st.Resource {
				switch {
				case r == "*":
					for _, a := range st.Action {
						if !slices.Contains(iamStarResources, a) {
							t.Errorf("docs/iam/%s.json: statement %q: Resource \"*\" only for %v, not %s", c.Name, st.Sid, iamStarResources, a)
						}
					}
				case s3 && slices.Equal(st.Action, iamStrings{"s3:ListBucket"}):
					if r != "arn:aws:s3:::"+iamBucket || len(st.Condition["StringLike"]["s3:prefix"]) != 1 || st.Condition["StringLike"]["s3:prefix"][0] != iamPrefix+"/*" {
						t.Errorf("docs/iam/%s.json: s3:ListBucket on %q: want ${Bucket}, limited to s3:prefix ${Prefix}/*", c.Name, r)
					}
				case s3:
					if !strings.HasPrefix(r, "arn:aws:s3:::"+iamBucket+"/") {
						t.Errorf("docs/iam/%s.json: resource %q: S3 grants only on objects of ${Bucket}", c.Name, r)
					}
				case slices.Equal(st.Action, iamStrings{"backup:StartRestoreJob"}):
					if r != fmt.Sprintf("arn:aws:backup:%s:%s:recovery-point:*", iamRegion, iamAccount) {
						t.Errorf("docs/iam/%s.json: backup:StartRestoreJob on %q, want the account's recovery points", c.Name, r)
					}
				case slices.Equal(st.Action, iamStrings{"iam:PassRole"}):
					if r != fmt.Sprintf("arn:aws:iam::%s:role/%s", iamAccount, iamBackupRole) || len(st.Condition["StringEquals"]["iam:PassedToService"]) != 1 ||
						st.Condition["StringEquals"]["iam:PassedToService"][0] != "backup.amazonaws.com" {
						t.Errorf("docs/iam/%s.json: iam:PassRole on %q: want the one role, passed to backup.amazonaws.com only", c.Name, r)
					}
				case slices.Equal(st.Action, iamStrings{"batch:SubmitJob"}):
					if r != fmt.Sprintf("arn:aws:batch:%s:%s:job-queue/%s", iamRegion, iamAccount, iamJobQueue) &&
						r != fmt.Sprintf("arn:aws:batch:%s:%s:job-definition/%s:*", iamRegion, iamAccount, iamJobDefinition) {
						t.Errorf("docs/iam/%s.json: batch:SubmitJob on %q: want the one job queue and the one job definition", c.Name, r)
					}
				case slices.Equal(st.Action, iamStrings{"dynamodb:DescribeGlobalTable"}):
					if r != globalTableARN("T") {
						t.Errorf("docs/iam/%s.json: dynamodb:DescribeGlobalTable on %q, want the main table's global table %s", c.Name, r, globalTableARN("${Table}"))
					}
				case !strings.HasPrefix(r, tableARN("")):
					t.Errorf("docs/iam/%s.json: resource %q is not a table ARN", c.Name, r)
				}
			}
		}
	}
	entries, err := os.ReadDir(iamDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("docs/iam/%s is not the policy of a command", e.Name())
		}
	}
}

func TestIAMMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything/at:all", true},
		{"arn:x:table/orders-rewind-*", "arn:x:table/orders-rewind-20260101T000000Z", true},
		{"arn:x:table/orders-rewind-*", "arn:x:table/orders", false},
		{"arn:x:table/orders", "arn:x:table/orders-rewind-1", false},
		{"arn:x:table/*", "arn:x:table/a/index/b", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*-rewind-*", "t-rewind-x-rewind-y", true},
	} {
		if got := iamMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("iamMatch(%q, %q) = %v", tt.pattern, tt.s, got)
		}
	}
}

// ---- the commands, end to end ----

// dropRecoveryTables deletes table's recovery tables when the test ends.
func dropRecoveryTables(t *testing.T, c *dynamodb.Client, table string) {
	t.Cleanup(func() {
		for _, n := range tablesWithPrefix(t, c, table+"-rewind-") {
			_, _ = c.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String(n), DeletionProtectionEnabled: aws.Bool(false)})
			_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(n)})
		}
	})
}

func TestIAMRestore(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "restore")
	t.Run("variants", func(t *testing.T) {
		t.Run("latest, default name, tags", func(t *testing.T) {
			t.Parallel()
			srv, c, table := motoTable(t, true)
			dropRecoveryTables(t, c, table)
			chk.run(t, srv, table, 0, "restore", "--table", table, "--latest", "--tag", "team=payments")
		})
		t.Run("at, named, indexes all, no wait", func(t *testing.T) {
			t.Parallel()
			srv, c, table := motoTable(t, true)
			dropRecoveryTables(t, c, table)
			at := tables.FormatTime(latestRestorable(t, c, table))
			chk.run(t, srv, table, 0, "restore", "--table", table, "--at", at, "--recovery-table", table+"-rewind-manual",
				"--indexes", "all", "--wait=false")
		})
		t.Run("retry that adopts the restore started before", func(t *testing.T) {
			t.Parallel()
			srv, c, table := motoTable(t, true)
			dropRecoveryTables(t, c, table)
			at := tables.FormatTime(latestRestorable(t, c, table))
			args := []string{"restore", "--table", table, "--at", at, "--recovery-table", table + "-rewind-retried"}
			if r := ddb(t, append([]string{"--endpoint-url", srv.Endpoint}, args...)...); r.code != 0 {
				t.Fatalf("first attempt: exit %d", r.code)
			}
			chk.run(t, srv, table, 0, append(args, "--if-exists", "adopt")...)
		})
		t.Run("backup ARN, indexes all", func(t *testing.T) {
			t.Parallel()
			srv, c, table := motoTable(t, false)
			dropRecoveryTables(t, c, table)
			arn, _ := createBackup(t, c, table, "nightly")
			chk.run(t, srv, table, 0, "restore", "--table", table, "--backup", arn, "--indexes", "all")
		})
		t.Run("backup before, retried with adopt", func(t *testing.T) {
			t.Parallel()
			srv, c, table := motoTable(t, false)
			dropRecoveryTables(t, c, table)
			_, created := createBackup(t, c, table, "nightly")
			args := []string{"restore", "--table", table, "--backup-before", tables.FormatTime(created.Add(time.Minute))}
			chk.run(t, srv, table, 0, args...)
			chk.run(t, srv, table, 0, append(args, "--if-exists", "adopt")...)
		})
		t.Run("AWS Backup recovery point", func(t *testing.T) {
			t.Parallel()
			srv, c, table := motoTable(t, false)
			dropRecoveryTables(t, c, table)
			fake := newFakeAWSBackup(t, c)
			point, _ := awsBackupPoint(t, c, fake, table)
			chk.runWith(t, srv, table, 0, iamRunOpts{awsBackup: fake}, "restore", "--table", table, "--backup", point, "--backup-role-arn", iamRoleARN)
		})
	})
	chk.finish(t)
}

func TestIAMList(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "list")
	srv, c, table := motoTable(t, true)
	dropRecoveryTables(t, c, table)
	if r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--recovery-table", table+"-rewind-a"); r.code != 0 {
		t.Fatalf("restore: exit %d", r.code)
	}
	t.Run("variants", func(t *testing.T) {
		t.Run("all", func(t *testing.T) {
			chk.run(t, srv, table, 0, "list", "--output", "json")
		})
		t.Run("source", func(t *testing.T) {
			chk.run(t, srv, table, 0, "list", "--source", table)
		})
		t.Run("backups", func(t *testing.T) {
			createBackup(t, c, table, "nightly")
			chk.run(t, srv, table, 0, "list", "--backups", "--table", table, "--output", "json")
		})
	})
	chk.finish(t)
}

func TestIAMCleanup(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "cleanup")
	srv, c, table := motoTable(t, true)
	dropRecoveryTables(t, c, table)
	a, b, d := table+"-rewind-a", table+"-rewind-b", table+"-rewind-c"
	for _, n := range []string{a, b, d} {
		if r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--recovery-table", n); r.code != 0 {
			t.Fatalf("restore %s: exit %d", n, r.code)
		}
	}
	if _, err := c.UpdateTable(context.Background(), &dynamodb.UpdateTableInput{TableName: aws.String(a), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	t.Run("variants", func(t *testing.T) {
		t.Run("dry run", func(t *testing.T) {
			ops := chk.run(t, srv, table, 0, "cleanup", "--recovery-table", a, "--recovery-table", b, "--dry-run", "--disable-deletion-protection")
			for _, op := range ops {
				if op == "DeleteTable" || op == "UpdateTable" {
					t.Errorf("cleanup --dry-run called %s", op)
				}
			}
		})
		t.Run("named, deletion protection", func(t *testing.T) {
			chk.run(t, srv, table, 0, "cleanup", "--recovery-table", a, "--disable-deletion-protection", "--yes")
		})
		t.Run("by source", func(t *testing.T) {
			chk.run(t, srv, table, 0, "cleanup", "--source", table, "--yes")
		})
	})
	if left := tablesWithPrefix(t, c, table+"-rewind-"); len(left) > 0 {
		t.Errorf("recovery tables left: %v", left)
	}
	chk.finish(t)
}

func TestIAMRun(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "run")
	variants := []struct {
		name string
		args []string
		// extras: items are created in the main table after the restore
		// point (when the recovery table is tagged, before the copy).
		extras bool
		// backup restores from a backup instead of --latest: "dynamodb"
		// (--backup-before, then the DynamoDB backup it picks) or "aws" (an
		// AWS Backup recovery point, through the fake).
		backup string
	}{
		{"overwrite", nil, false, ""},
		{"only-missing with journal", []string{"--only-missing", "--journal", "JOURNAL"}, false, ""},
		// The filter uses :w too: see the report on run --if-main's verify step.
		{"if-main and delete-extra", []string{"--if-main", "lastWriter = :w", "--filter-expression", "lastWriter = :w",
			"--expression-attribute-values", `{":w":{"S":"app"}}`, "--delete-extra"}, true, ""},
		{"delete-extra", []string{"--delete-extra"}, true, ""},
		{"key range, delete-extra, journal", []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`, "--delete-extra", "--journal", "JOURNAL"}, true, ""},
		{"keys file, delete-extra", []string{"--keys-file", "KEYS", "--delete-extra"}, false, ""},
		{"keep recovery table, no verify", []string{"--keep-recovery-table", "--no-verify"}, false, ""},
		{"backup before, delete-extra", []string{"--delete-extra"}, true, "dynamodb"},
		{"AWS Backup recovery point", nil, false, "aws"},
	}
	t.Run("variants", func(t *testing.T) {
		for _, v := range variants {
			t.Run(v.name, func(t *testing.T) {
				t.Parallel()
				srv, table, _ := runTable(t, 60)
				dropRecoveryTables(t, srv.Client(t), table)
				dir := t.TempDir()
				keys := filepath.Join(dir, "keys.jsonl")
				iamWriteKeys(t, keys, `{"pk":{"S":"tenant#2"},"sk":{"N":"2"}}`, `{"pk":{"S":"tenant#3"},"sk":{"N":"3"}}`, `{"pk":{"S":"tenant#9"},"sk":{"N":"999"}}`)
				args := []string{"run", "--table", table, "--state", filepath.Join(dir, "state.json"), "--yes"}
				var opts iamRunOpts
				switch v.backup {
				case "dynamodb":
					_, created := createBackup(t, srv.Client(t), table, "nightly")
					args = append(args, "--backup-before", tables.FormatTime(created.Add(time.Minute)))
				case "aws":
					opts.awsBackup = newFakeAWSBackup(t, srv.Client(t))
					point, _ := awsBackupPoint(t, srv.Client(t), opts.awsBackup, table)
					args = append(args, "--backup", point, "--backup-role-arn", iamRoleARN)
				default:
					args = append(args, "--latest")
				}
				for _, a := range v.args {
					a = strings.NewReplacer("JOURNAL", filepath.Join(dir, "journal.jsonl"), "KEYS", keys).Replace(a)
					args = append(args, a)
				}
				if v.extras {
					c := srv.Client(t)
					opts.hooks = map[string]func(){"TagResource": func() {
						// Runs in the recorder's goroutine: no t.Fatal.
						for i := range 5 {
							_, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
								"pk":         &types.AttributeValueMemberS{Value: "tenant#1"},
								"sk":         &types.AttributeValueMemberN{Value: fmt.Sprint(5000 + i)},
								"lastWriter": &types.AttributeValueMemberS{Value: "app"},
							}})
							if err != nil {
								t.Errorf("put an item created after the restore point: %v", err)
							}
						}
					}}
				}
				chk.runWith(t, srv, table, 0, opts, args...)
				if v.extras {
					if n := len(slice(ddbtest.ScanAll(t, srv.Client(t), table), "tenant#1")); n != 12 {
						t.Errorf("tenant#1 has %d items after the run, want its 12 items of the restore point", n)
					}
				}
			})
		}
		t.Run("since, incremental export on the export fake", func(t *testing.T) {
			t.Parallel()
			f, c, table, latest := fakeTable(t)
			s3c := f.moto.S3Client(t)
			_, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(iamBucket)})
			var owned *s3types.BucketAlreadyOwnedByYou
			if err != nil && !errors.As(err, &owned) {
				t.Fatal(err)
			}
			// The window changed one item and created another: the
			// rewind puts the first back and deletes the second.
			items := ddbtest.ScanAll(t, c, table)
			var records []string
			var first map[string]types.AttributeValue
			for _, it := range items {
				if first == nil {
					first = it
				}
				old := maps.Clone(it)
				old["v"] = &types.AttributeValueMemberS{Value: "start"}
				if len(records) == 1 {
					old = nil
				}
				records = append(records, changeRecord(t, it, old, it, "pk", "sk"))
				if len(records) == 2 {
					break
				}
			}
			exportsHold(t, f, s3c, records)
			until := latest.Add(-time.Hour)
			run := []string{"run", "--table", table, "--since", tables.FormatTime(until.Add(-time.Hour)), "--until", tables.FormatTime(until),
				"--s3-bucket", iamBucket, "--s3-prefix", iamPrefix, "--yes", "--delete-extra"}
			chk.runWith(t, f.moto, table, 0, iamRunOpts{upstream: f.URL(), s3: f.moto.Endpoint},
				append(run, "--state", filepath.Join(t.TempDir(), "state.json"))...)
			// A second rewind of the same window with a selection: its own
			// export, the main table's selection probed.
			pk := first["pk"].(*types.AttributeValueMemberS).Value
			chk.runWith(t, f.moto, table, 0, iamRunOpts{upstream: f.URL(), s3: f.moto.Endpoint},
				append(run, "--state", filepath.Join(t.TempDir(), "state2.json"), "--key-condition-expression", "pk = :p",
					"--expression-attribute-values", `{":p":{"S":"`+pk+`"}}`)...)
		})
	})
	chk.finish(t)
}

// iamWriteKeys writes a keys file.
func iamWriteKeys(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// iamTables creates, on dynalite, a main table and its recovery table named
// <main>-rewind-…: the recovery table holds 300 items over 5 tenants; the
// main table holds changed versions of 200 of them (lastWriter "badjob") and
// 20 items created after the restore point.
func iamTables(t *testing.T) (*ddbtest.Server, *dynamodb.Client, string, string) {
	t.Helper()
	srv := pool.Get(t, ddbtest.Dynalite)
	c := srv.Client(t)
	main := ddbtest.UniqueName(t, "main")
	rec := main + "-rewind-20260101T000000Z"
	ddbtest.CreateTable(t, c, main, mixedSpec)
	ddbtest.CreateTable(t, c, rec, mixedSpec)
	items := tenantItems(300, 5, "good", "app")
	ddbtest.PutItems(t, c, rec, items)
	broken := tenantItems(200, 5, "broken", "badjob")
	for i := 0; i < 20; i++ {
		broken = append(broken, map[string]types.AttributeValue{
			"pk":         &types.AttributeValueMemberS{Value: "tenant#0"},
			"sk":         &types.AttributeValueMemberN{Value: fmt.Sprint(10000 + i)},
			"lastWriter": &types.AttributeValueMemberS{Value: "badjob"},
		})
	}
	ddbtest.PutItems(t, c, main, broken)
	return srv, c, main, rec
}

// iamKeys writes a keys file with items present in both tables, one only
// in the main table, and one in neither.
func iamKeys(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.jsonl")
	iamWriteKeys(t, path,
		`{"pk":{"S":"tenant#1"},"sk":{"N":"1"}}`,
		`{"pk":{"S":"tenant#2"},"sk":{"N":"2"}}`,
		`{"pk":{"S":"tenant#4"},"sk":{"N":"299"}}`,
		`{"pk":{"S":"tenant#0"},"sk":{"N":"10003"}}`,
		`{"pk":{"S":"tenant#0"},"sk":{"N":"777777"}}`)
	return path
}

// ifMainArgs overwrite or delete only what the bad job wrote.
var ifMainArgs = []string{"--if-main", "#w = :bad", "--expression-attribute-names", `{"#w":"lastWriter"}`,
	"--expression-attribute-values", `{":bad":{"S":"badjob"}}`}

func TestIAMCopy(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "copy")
	variants := []struct {
		name   string
		args   []string
		dryRun bool
	}{
		{"overwrite", []string{"--segments", "2"}, false},
		{"only-missing, journal", []string{"--only-missing", "--journal", "JOURNAL"}, false},
		{"delete-extra, journal, checkpoint, report", []string{"--delete-extra", "--journal", "JOURNAL", "--checkpoint", "CHECKPOINT", "--report", "REPORT"}, false},
		{"if-main, delete-extra, journal", append([]string{"--delete-extra", "--journal", "JOURNAL"}, ifMainArgs...), false},
		{"keys file, delete-extra, journal", []string{"--keys-file", "KEYS", "--delete-extra", "--journal", "JOURNAL"}, false},
		{"keys file, if-main", append([]string{"--keys-file", "KEYS"}, ifMainArgs...), false},
		{"key condition, filter, delete-extra", []string{"--key-condition-expression", "pk = :p", "--filter-expression", "#s <> :x",
			"--expression-attribute-names", `{"#s":"status"}`, "--expression-attribute-values", `{":p":{"S":"tenant#0"},":x":{"S":"nope"}}`,
			"--delete-extra", "--max-wcu", "1000"}, false},
		{"dry run, delete-extra", []string{"--dry-run", "--delete-extra", "--journal", "JOURNAL"}, true},
		{"dry run, only-missing", []string{"--dry-run", "--only-missing"}, true},
		{"dry run, keys file, if-main, delete-extra", append([]string{"--dry-run", "--keys-file", "KEYS", "--delete-extra"}, ifMainArgs...), true},
		{"dry run, key condition", []string{"--dry-run", "--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#3"}}`}, true},
		{"from an export, delete-extra, journal", []string{"EXPORT", "--delete-extra", "--journal", "JOURNAL"}, false},
		{"from an export, keys file, only-missing", []string{"EXPORT", "--keys-file", "KEYS", "--only-missing"}, false},
		{"from incremental exports, delete-extra", []string{"INCREMENTAL", "--delete-extra"}, false},
	}
	t.Run("variants", func(t *testing.T) {
		for _, v := range variants {
			t.Run(v.name, func(t *testing.T) {
				t.Parallel()
				srv, c, main, rec := iamTables(t)
				dir := t.TempDir()
				before := ddbtest.ScanAll(t, c, main)
				args := []string{"copy", "--from", rec, "--to", main}
				var o iamRunOpts
				if endpoint, url, ok := iamExportSource(t, c, main, v.args[0]); ok {
					o.s3 = endpoint
					args = []string{"copy", "--from-export", url, "--to", main}
					v.args = v.args[1:]
				}
				if !v.dryRun {
					args = append(args, "--yes")
				}
				repl := strings.NewReplacer("JOURNAL", filepath.Join(dir, "journal.jsonl"), "CHECKPOINT", filepath.Join(dir, "cp.json"),
					"REPORT", filepath.Join(dir, "report.json"), "KEYS", iamKeys(t))
				for _, a := range v.args {
					args = append(args, repl.Replace(a))
				}
				ops := chk.runWith(t, srv, main, 0, o, args...)
				changed := len(ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, c, main))) > 0
				if v.dryRun {
					assertNoWrites(t, "copy --dry-run", ops)
					if changed {
						t.Errorf("copy --dry-run changed the main table")
					}
				} else if !changed {
					t.Errorf("the copy changed nothing: the variant proves nothing")
				}
			})
		}
	})
	chk.finish(t)
}

func TestIAMDiff(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "diff")
	variants := []struct {
		name string
		args []string
	}{
		{"whole table", []string{"--segments", "3", "--output", "json"}},
		{"key condition and filter", []string{"--key-condition-expression", "pk = :p", "--filter-expression", "attribute_exists(lastWriter)",
			"--expression-attribute-values", `{":p":{"S":"tenant#0"}}`}},
		{"keys file", []string{"--keys-file", "KEYS"}},
		{"from an export", []string{"EXPORT", "--output", "json"}},
		{"from an export, keys file", []string{"EXPORT", "--keys-file", "KEYS"}},
		{"from incremental exports", []string{"INCREMENTAL"}},
		{"skip expired (reads the TTL setting)", []string{"--skip-expired"}},
	}
	t.Run("variants", func(t *testing.T) {
		for _, v := range variants {
			t.Run(v.name, func(t *testing.T) {
				t.Parallel()
				srv, c, main, rec := iamTables(t)
				args := []string{"diff", "--from", rec, "--to", main}
				var o iamRunOpts
				if endpoint, url, ok := iamExportSource(t, c, main, v.args[0]); ok {
					o.s3 = endpoint
					args = []string{"diff", "--from-export", url, "--to", main}
					v.args = v.args[1:]
				}
				for _, a := range v.args {
					args = append(args, strings.ReplaceAll(a, "KEYS", iamKeys(t)))
				}
				assertNoWrites(t, "diff", chk.runWith(t, srv, main, 3, o, args...))
			})
		}
	})
	chk.finish(t)
}

func TestIAMShow(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "show")
	variants := []struct {
		name string
		args []string
	}{
		{"whole table", []string{"--segments", "3", "-o", "csv"}},
		{"key condition and filter", []string{"--key-condition-expression", "pk = :p", "--filter-expression", "attribute_exists(lastWriter)",
			"--expression-attribute-values", `{":p":{"S":"tenant#0"}}`, "--limit", "2"}},
		{"keys file", []string{"--keys-file", "KEYS"}},
		{"from an export, key condition, csv", []string{"EXPORT", "--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#0"}}`, "-o", "csv"}},
		{"from an export, keys file, limit", []string{"EXPORT", "--keys-file", "KEYS", "--limit", "1"}},
		{"from incremental exports, key condition", []string{"INCREMENTAL", "--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#0"}}`}},
	}
	t.Run("variants", func(t *testing.T) {
		for _, v := range variants {
			t.Run(v.name, func(t *testing.T) {
				t.Parallel()
				srv, c, main, rec := iamTables(t)
				args := []string{"show", "--from", rec}
				var o iamRunOpts
				if endpoint, url, ok := iamExportSource(t, c, main, v.args[0]); ok {
					o.s3 = endpoint
					args = []string{"show", "--from-export", url, "--table", main}
					v.args = v.args[1:]
				}
				for _, a := range v.args {
					args = append(args, strings.ReplaceAll(a, "KEYS", iamKeys(t)))
				}
				assertNoWrites(t, "show", chk.runWith(t, srv, main, 0, o, args...))
			})
		}
	})
	chk.finish(t)
}

func TestIAMUndo(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "undo")
	srv, c, main, rec := iamTables(t)
	before := ddbtest.ScanAll(t, c, main)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	if r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", rec, "--to", main, "--delete-extra", "--journal", journal, "--yes"); r.code != 0 {
		t.Fatalf("copy: exit %d", r.code)
	}
	copied := ddbtest.ScanAll(t, c, main)
	t.Run("variants", func(t *testing.T) {
		t.Run("dry run", func(t *testing.T) {
			assertNoWrites(t, "undo --dry-run", chk.run(t, srv, main, 0, "undo", "--journal", journal, "--table", main, "--dry-run"))
			if d := ddbtest.DiffItemSets(copied, ddbtest.ScanAll(t, c, main)); len(d) > 0 {
				t.Errorf("undo --dry-run changed the main table")
			}
		})
		t.Run("undo", func(t *testing.T) {
			chk.run(t, srv, main, 0, "undo", "--journal", journal, "--table", main, "--yes")
			if d := ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, c, main)); len(d) > 0 {
				t.Errorf("after undo the main table differs from before the copy:\n%s", strings.Join(d, "\n"))
			}
		})
		t.Run("undo of a journal written before conditional undo", func(t *testing.T) {
			old := filepath.Join(t.TempDir(), "old.jsonl")
			if r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", rec, "--to", main, "--delete-extra", "--journal", old, "--yes"); r.code != 0 {
				t.Fatalf("copy: exit %d", r.code)
			}
			stripAfter(t, old)
			chk.run(t, srv, main, 0, "undo", "--journal", old, "--table", main, "--yes")
			if d := ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, c, main)); len(d) > 0 {
				t.Errorf("after undo the main table differs from before the copy:\n%s", strings.Join(d, "\n"))
			}
		})
	})
	chk.finish(t)
}

// stripAfter rewrites a journal in the format of releases before
// conditional undo: its records without "after".
func stripAfter(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var rec map[string]json.RawMessage
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatal(err)
		}
		delete(rec, "after")
		b, _ := json.Marshal(rec)
		out = append(append(out, b...), '\n')
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// iamBucketOn creates ${Bucket} on srv's S3 (moto), if it is not there.
func iamBucketOn(t *testing.T, srv *ddbtest.Server) {
	t.Helper()
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	_, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(iamBucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		t.Fatal(err)
	}
}

func TestIAMExport(t *testing.T) {
	t.Parallel()
	chk := newIAMCheck(t, "export")
	t.Run("variants", func(t *testing.T) {
		t.Run("full export, on moto", func(t *testing.T) {
			t.Parallel()
			srv, c, table := motoTable(t, true)
			iamBucketOn(t, srv)
			chk.run(t, srv, table, 0, "export", "--table", table, "--at", tables.FormatTime(latestRestorable(t, c, table)),
				"--s3-bucket", iamBucket, "--s3-prefix", iamPrefix)
		})
		t.Run("full export, S3 on moto: the manifest check", func(t *testing.T) {
			t.Parallel()
			srv, c, table := motoTable(t, true)
			iamBucketOn(t, srv)
			ops := chk.runWith(t, srv, table, 0, iamRunOpts{s3: srv.Endpoint}, "export", "--table", table, "--at", tables.FormatTime(latestRestorable(t, c, table)),
				"--s3-bucket", iamBucket, "--s3-prefix", iamPrefix)
			if !slices.Contains(ops, "ExportTableToPointInTime") {
				t.Errorf("no export requested")
			}
		})
		t.Run("incremental exports, KMS, other owner, on the export fake", func(t *testing.T) {
			t.Parallel()
			f, _, table, latest := fakeTable(t)
			chk.runOn(t, f.moto, f.URL(), table, 0, nil, "export", "--table", table, "--since", tables.FormatTime(latest.Add(-30*time.Hour)),
				"--s3-bucket", iamBucket, "--s3-prefix", iamPrefix, "--sse-kms-key", "alias/rewinds", "--s3-bucket-owner", "444455556666")
		})
		t.Run("retry that adopts, no wait, on the export fake", func(t *testing.T) {
			t.Parallel()
			f, _, table, latest := fakeTable(t)
			f.set(func(f *exportFake) { f.doneAfter = 0 })
			args := []string{"export", "--table", table, "--at", tables.FormatTime(latest.Add(-time.Hour)), "--s3-bucket", iamBucket, "--s3-prefix", iamPrefix, "--wait=false"}
			if r := ddb(t, append([]string{"--endpoint-url", f.URL()}, args...)...); r.code != 0 {
				t.Fatalf("first attempt: exit %d", r.code)
			}
			ops := chk.runOn(t, f.moto, f.URL(), table, 0, nil, args...)
			if slices.Contains(ops, "ExportTableToPointInTime") {
				t.Errorf("the retry started an export instead of adopting the first")
			}
		})
	})
	chk.finish(t)
}
