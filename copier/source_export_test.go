package copier

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/exportfile"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

func vS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// exportEnv is a fake main table and an export of items in a fake S3.
type exportEnv struct {
	api  *memAPI
	s3   *ddbtest.MemS3
	to   string
	te   *ddbtest.TestExport
	opts Options
}

func confItems(n int) []map[string]types.AttributeValue {
	var items []map[string]types.AttributeValue
	for i := range n {
		items = append(items, confItem(fmt.Sprintf("k%03d", i), "good"))
	}
	return items
}

func newExportEnv(t *testing.T, items []map[string]types.AttributeValue, eo ddbtest.ExportOptions) *exportEnv {
	m := newMemAPI()
	m.create("main")
	s3 := ddbtest.NewMemS3()
	if eo.TableArn == "" {
		eo.TableArn = tableArn(t, m, "main")
	}
	te := ddbtest.WriteExport(t, s3, "bkt", "exp", items, eo)
	return &exportEnv{api: m, s3: s3, to: "main", te: te,
		opts: Options{To: "main", FromExport: []string{te.URL}, Files: &statefile.Store{S3: s3}, PageSize: 10, Writers: 2, Segments: 2}}
}

func (e *exportEnv) main() map[string]map[string]types.AttributeValue {
	e.api.mu.Lock()
	defer e.api.mu.Unlock()
	out := map[string]map[string]types.AttributeValue{}
	for k, v := range e.api.tables[e.to] {
		out[k] = v
	}
	return out
}

func byKey(items ...[]map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
	m := map[string]map[string]types.AttributeValue{}
	for _, part := range items {
		for _, it := range part {
			m[ddbjson.KeyString(keyOf(it, memKey))] = it
		}
	}
	return m
}

// TestExportWorkersReadEveryFileOnce splits a copy from a 7-file export
// between 3 workers: each file is downloaded by exactly one of them, and
// together they write every item once.
func TestExportWorkersReadEveryFileOnce(t *testing.T) {
	items := confItems(70)
	e := newExportEnv(t, items, ddbtest.ExportOptions{Files: 7})
	var read int64
	for w := range 3 {
		o := e.opts
		o.WorkerIndex, o.WorkerCount = w, 3
		p, err := Prepare(context.Background(), e.api, o)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := p.Run(context.Background(), e.api)
		if err != nil {
			t.Fatal(err)
		}
		read += sum.Counts.Read
	}
	for i, k := range e.te.Keys {
		if n := e.s3.Gets("bkt", k); n != 1 {
			t.Errorf("file %d downloaded %d times, want once", i, n)
		}
	}
	if read != 70 {
		t.Errorf("the workers read %d items together, want 70", read)
	}
	assertItems(t, "after the split copy", byKey(items), e.main())
}

// TestExportResumesFromFileAndLine resumes a copy from a checkpoint that
// says file 0 is done and file 1 was written up to line 4: those items are
// not written again, everything else is. File 0 is downloaded once, for
// its keys only (the check for a key in two files), file 1 twice (from
// line 4, then whole for its keys).
func TestExportResumesFromFileAndLine(t *testing.T) {
	items := confItems(30)
	e := newExportEnv(t, items, ddbtest.ExportOptions{Files: 3})
	o := e.opts
	o.Checkpoint = filepath.Join(t.TempDir(), "cp.json")
	p, err := Prepare(context.Background(), e.api, o)
	if err != nil {
		t.Fatal(err)
	}
	st := p.state
	st.Units["copy/0"] = checkpoint.Unit{Line: 10, Done: true}
	st.Units["copy/1"] = checkpoint.Unit{Line: 4}
	data, err := checkpoint.Encode(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(o.Checkpoint, data, 0o600); err != nil {
		t.Fatal(err)
	}
	p.Close()
	p, err = Prepare(context.Background(), e.api, o)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Resumed() {
		t.Fatal("not resumed")
	}
	sum, err := p.Run(context.Background(), e.api)
	if err != nil {
		t.Fatal(err)
	}
	want := byKey(e.te.Items[1][4:], e.te.Items[2])
	assertItems(t, "after the resumed copy", want, e.main())
	if sum.Counts.Read != 16 || sum.Counts.Written != 16 {
		t.Errorf("read %d written %d, want 16 16", sum.Counts.Read, sum.Counts.Written)
	}
	for i, want := range []int{1, 2, 1} {
		if n := e.s3.Gets("bkt", e.te.Keys[i]); n != want {
			t.Errorf("file %d was downloaded %d times, want %d", i, n, want)
		}
	}
}

// TestExportBadFileStopsBeforeItsItems: a data file whose item count (or
// MD5) differs from the manifest stops the copy with an error naming it
// (a failure, not bad usage) before any of its items is written.
func TestExportBadFileStopsBeforeItsItems(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(i int, f *ddbtest.ExportFile)
		want string
	}{
		{"item count", func(i int, f *ddbtest.ExportFile) {
			if i == 1 {
				f.ItemCount++
			}
		}, "item count is 10 but the export manifest says 11"},
		{"md5", func(i int, f *ddbtest.ExportFile) {
			if i == 1 {
				f.MD5Checksum = base64.StdEncoding.EncodeToString(make([]byte, 16))
			}
		}, "MD5 checksum is"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newExportEnv(t, confItems(30), ddbtest.ExportOptions{Files: 3, Edit: tt.edit})
			o := e.opts
			o.Segments = 1
			p, err := Prepare(context.Background(), e.api, o)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Run(context.Background(), e.api)
			var ve *exportfile.VerifyError
			if !errors.As(err, &ve) || usage.Is(err) || !strings.Contains(err.Error(), e.te.Keys[1]) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v; want a failure naming %s and saying %q", err, e.te.Keys[1], tt.want)
			}
			got := e.main()
			for _, it := range e.te.Items[1] {
				if _, ok := got[ddbjson.KeyString(keyOf(it, memKey))]; ok {
					t.Fatalf("item %v of the bad file was written", keyOf(it, memKey))
				}
			}
		})
	}
}

// TestExportRefusals: what a copy from an export cannot do is refused with
// a usage error (exit 2) before anything is written.
func TestExportRefusals(t *testing.T) {
	items := confItems(10)
	tests := []struct {
		name string
		eo   ddbtest.ExportOptions
		edit func(o *Options, e *exportEnv)
		want string
	}{
		{"filter", ddbtest.ExportOptions{}, func(o *Options, _ *exportEnv) {
			o.Selection = Selection{Filter: "v = :v", Values: map[string]types.AttributeValue{":v": vS("x")}}
		}, "--filter-expression cannot select from an export"},
		{"other table", ddbtest.ExportOptions{TableArn: "arn:aws:dynamodb:us-east-1:1:table/other"}, nil,
			"is of table arn:aws:dynamodb:us-east-1:1:table/other, not of --to's table arn:aws:dynamodb:us-east-1:1:table/main; pass --allow-other-table"},
		{"several full exports", ddbtest.ExportOptions{}, func(o *Options, _ *exportEnv) { o.FromExport = append(o.FromExport, o.FromExport[0]) },
			"is a full export: give either one full export or incremental exports only"},
		{"from and from-export", ddbtest.ExportOptions{}, func(o *Options, _ *exportEnv) { o.From = "rec" }, "give one of them"},
		{"not an export URL", ddbtest.ExportOptions{}, func(o *Options, _ *exportEnv) { o.FromExport = []string{"s3://bkt/exp/"} }, "not an export directory"},
		{"no export there", ddbtest.ExportOptions{}, func(o *Options, _ *exportEnv) { o.FromExport = []string{"s3://bkt/exp/AWSDynamoDB/nope/"} }, "no export there"},
		{"key condition on a non-key", ddbtest.ExportOptions{}, func(o *Options, _ *exportEnv) {
			o.Selection = Selection{KeyCondition: "v = :v", Values: map[string]types.AttributeValue{":v": vS("x")}}
		}, "v is not a key attribute of the table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExportEnv(t, items, tt.eo)
			o := e.opts
			if tt.edit != nil {
				tt.edit(&o, e)
			}
			_, err := Prepare(context.Background(), e.api, o)
			if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Prepare = %v; want a usage error saying %q", err, tt.want)
			}
			for _, k := range e.te.Keys {
				if n := e.s3.Gets("bkt", k); n != 0 {
					t.Errorf("a data file was read before the refusal")
				}
			}
		})
	}
	// --allow-other-table accepts the other table's export.
	e := newExportEnv(t, items, ddbtest.ExportOptions{TableArn: "arn:aws:dynamodb:us-east-1:1:table/other"})
	o := e.opts
	o.AllowOtherTable = true
	p, err := Prepare(context.Background(), e.api, o)
	if err != nil {
		t.Fatal(err)
	}
	if p.Estimate != 10 || p.EstimateFrom != "the export manifest" {
		t.Errorf("estimate %d %q", p.Estimate, p.EstimateFrom)
	}
	if _, err := p.Run(context.Background(), e.api); err != nil {
		t.Fatal(err)
	}
	assertItems(t, "after --allow-other-table", byKey(items), e.main())
}

// TestExportKeysFileSelection copies the keys of a keys file from an
// export: the keys it has are written, the ones it lacks are reported and,
// with --delete-extra, deleted; with a split between workers the export's
// index covers the other workers' files.
func TestExportKeysFileSelection(t *testing.T) {
	items := confItems(40)
	kf := filepath.Join(t.TempDir(), "keys.jsonl")
	lines := []string{`{"pk":{"S":"k001"}}`, `{"pk":{"S":"k015"}}`, `{"pk":{"S":"k039"}}`, `{"pk":{"S":"gone"}}`, `{"pk":{"S":"k015"}}`}
	if err := os.WriteFile(kf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			e := newExportEnv(t, items, ddbtest.ExportOptions{Files: 4})
			gone := confItem("gone", "extra")
			if _, err := e.api.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
				"main": {{PutRequest: &types.PutRequest{Item: gone}}}}}); err != nil {
				t.Fatal(err)
			}
			var written, notIn int64
			for w := range workers {
				o := e.opts
				o.Selection.KeysFile, o.DeleteExtra, o.WorkerIndex, o.WorkerCount = kf, true, w, workers
				p, err := Prepare(context.Background(), e.api, o)
				if err != nil {
					t.Fatal(err)
				}
				sum, err := p.Run(context.Background(), e.api)
				if err != nil {
					t.Fatal(err)
				}
				written += sum.Counts.Written
				notIn += sum.Counts.NotInRecovery
			}
			want := byKey([]map[string]types.AttributeValue{items[1], items[15], items[39]})
			assertItems(t, "after the keys-file copy", want, e.main())
			if written != 3 || notIn != 1 {
				t.Errorf("written %d, not in export %d; want 3 and 1", written, notIn)
			}
		})
	}
}

// describingAPI is the fake with DescribeExport, answering view (""
// answers without an IncrementalExportSpecification; fail answers an
// error).
type describingAPI struct {
	*memAPI
	view  types.ExportViewType
	fail  error
	calls []string
}

func (d *describingAPI) DescribeExport(_ context.Context, in *dynamodb.DescribeExportInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeExportOutput, error) {
	d.calls = append(d.calls, aws.ToString(in.ExportArn))
	if d.fail != nil {
		return nil, d.fail
	}
	desc := &types.ExportDescription{ExportArn: in.ExportArn, ExportType: types.ExportTypeIncrementalExport}
	if d.view != "" {
		desc.IncrementalExportSpecification = &types.IncrementalExportSpecification{ExportViewType: d.view}
	}
	return &dynamodb.DescribeExportOutput{ExportDescription: desc}, nil
}

// TestIncrementalExportView: the view is read from the summary in either
// spelling; a summary without one is not taken to have old images:
// DescribeExport says, and where it cannot (no such call, an error, no
// view), or says NEW_IMAGE, the export is refused (exit 2) before any data
// file is read.
func TestIncrementalExportView(t *testing.T) {
	line := `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"k000"}},"OldImage":{"pk":{"S":"k000"},"v":{"S":"old"}},"NewImage":{"pk":{"S":"k000"},"v":{"S":"good"}}}`
	tests := []struct {
		name    string
		summary string // outputView in the summary; "-" leaves it out
		api     func(m *memAPI) API
		want    string // "" : accepted; else the refusal says it
		asks    int    // DescribeExport calls
	}{
		{"summary NEW_AND_OLD_IMAGES", "NEW_AND_OLD_IMAGES", func(m *memAPI) API { return m }, "", 0},
		{"summary DYNAMODB_NEW_AND_OLD_IMAGES", "DYNAMODB_NEW_AND_OLD_IMAGES", func(m *memAPI) API { return m }, "", 0},
		{"summary DYNAMODB_NEW_IMAGE", "DYNAMODB_NEW_IMAGE", func(m *memAPI) API { return m }, "has view NEW_IMAGE", 0},
		{"no view, DescribeExport says old and new", "-", func(m *memAPI) API { return &describingAPI{memAPI: m, view: types.ExportViewTypeNewAndOldImages} }, "", 1},
		{"no view, DescribeExport says NEW_IMAGE", "-", func(m *memAPI) API { return &describingAPI{memAPI: m, view: types.ExportViewTypeNewImage} }, "has view NEW_IMAGE", 1},
		{"no view, DescribeExport does not say", "-", func(m *memAPI) API { return &describingAPI{memAPI: m} }, "does not say its view either", 1},
		{"no view, DescribeExport fails", "-", func(m *memAPI) API {
			return &describingAPI{memAPI: m, fail: errors.New("AccessDeniedException: not allowed")}
		}, "AccessDeniedException", 1},
		{"no view, no DescribeExport", "-", func(m *memAPI) API { return m }, "cannot call DescribeExport", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExportEnv(t, confItems(3), ddbtest.ExportOptions{})
			te := ddbtest.WriteExportLines(t, e.s3, "bkt", "inc", [][]string{{line}}, ddbtest.ExportOptions{
				ExportType: "INCREMENTAL_EXPORT", TableArn: tableArn(t, e.api, "main"),
				EditSummary: func(s map[string]any) {
					if tt.summary == "-" {
						delete(s, "outputView")
					} else {
						s["outputView"] = tt.summary
					}
				}})
			o := e.opts
			o.FromExport = []string{te.URL}
			api := tt.api(e.api)
			_, err := Prepare(context.Background(), api, o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Prepare = %v; want a usage error saying %q", err, tt.want)
			case tt.want != "" && e.s3.Gets("bkt", te.Keys[0]) != 0:
				t.Errorf("a data file was read before the refusal")
			}
			if d, ok := api.(*describingAPI); ok && len(d.calls) != tt.asks {
				t.Errorf("DescribeExport called %d times, want %d", len(d.calls), tt.asks)
			}
		})
	}
}

// TestExportCheckpointFollowsTheManifests: a checkpoint's positions are
// lines of the export's files, so it is refused (exit 2) once the
// manifests list other files or checksums; a checkpoint written before
// it recorded the manifests still resumes.
func TestExportCheckpointFollowsTheManifests(t *testing.T) {
	items := confItems(30)
	e := newExportEnv(t, items, ddbtest.ExportOptions{Files: 3})
	o := e.opts
	o.Checkpoint = filepath.Join(t.TempDir(), "cp.json")
	save := func(st *checkpoint.State) {
		t.Helper()
		data, err := checkpoint.Encode(st)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(o.Checkpoint, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p, err := Prepare(context.Background(), e.api, o)
	if err != nil {
		t.Fatal(err)
	}
	st := p.state
	p.Close()
	if st.Manifests == "" {
		t.Fatal("a copy from an export records no manifests in its checkpoint")
	}
	st.Units["copy/0"] = checkpoint.Unit{Line: 4}
	save(st)

	// The same export: resumed.
	p, err = Prepare(context.Background(), e.api, o)
	if err != nil || !p.Resumed() {
		t.Fatalf("the same export: %v, resumed %v", err, p != nil && p.Resumed())
	}
	p.Close()

	// An older checkpoint without the field: resumed, and it gains it.
	old := *st
	old.Manifests = ""
	save(&old)
	p, err = Prepare(context.Background(), e.api, o)
	if err != nil || !p.Resumed() || p.state.Manifests != st.Manifests {
		t.Fatalf("a checkpoint without manifests: %v, resumed %v", err, p != nil && p.Resumed())
	}
	p.Close()

	// The export rewritten in place with other files: refused.
	save(st)
	ddbtest.WriteExport(t, e.s3, "bkt", "exp", confItems(31), ddbtest.ExportOptions{Files: 3, TableArn: tableArn(t, e.api, "main"), ID: path.Base(strings.TrimSuffix(e.te.URL, "/"))})
	_, err = Prepare(context.Background(), e.api, o)
	if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), "was made for other export files") {
		t.Fatalf("Prepare after the manifests changed = %v; want a usage error", err)
	}
}

// TestWindowMemoryBudget: before any data file is read, a window whose
// exports list more changed keys than the memory limit holds (at
// windowBytesPerKey each) is refused (exit 2) saying how to select fewer;
// with a selection, or without a known limit, it is read.
func TestWindowMemoryBudget(t *testing.T) {
	var lines []string
	for i := range 40 {
		lines = append(lines, fmt.Sprintf(`{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"k%03d"}},"OldImage":{"pk":{"S":"k%03d"},"v":{"S":"old"}},"NewImage":{"pk":{"S":"k%03d"},"v":{"S":"good"}}}`, i, i, i))
	}
	tests := []struct {
		name  string
		limit int64
		sel   Selection
		want  string
	}{
		{"over the limit", 39 * windowBytesPerKey, Selection{}, "the exports list 40 changed keys"},
		{"within the limit", 40 * windowBytesPerKey, Selection{}, ""},
		{"no limit known", 0, Selection{}, ""},
		{"a selection", windowBytesPerKey, Selection{KeyCondition: "pk = :p", Values: map[string]types.AttributeValue{":p": vS("k001")}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExportEnv(t, confItems(40), ddbtest.ExportOptions{})
			te := ddbtest.WriteExportLines(t, e.s3, "bkt", "inc", [][]string{lines}, ddbtest.ExportOptions{
				ExportType: "INCREMENTAL_EXPORT", TableArn: tableArn(t, e.api, "main")})
			o := e.opts
			o.FromExport, o.MemoryLimit, o.Selection = []string{te.URL}, tt.limit, tt.sel
			p, err := Prepare(context.Background(), e.api, o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == "":
				p.Close()
			case err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "--keys-file"):
				t.Fatalf("Prepare = %v; want a usage error saying %q", err, tt.want)
			case e.s3.Gets("bkt", te.Keys[0]) != 0:
				t.Errorf("a data file was read before the refusal")
			}
		})
	}
}
