package exportfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// The corpus in testdata/aws holds exports as AWS writes and documents them
// (see testdata/aws/PROVENANCE.md): ddb-pitr/ is a real export committed
// to a public repository (its manifests verbatim, its empty data files
// byte-exact), guide/ the examples of AWS's "DynamoDB table export output
// format" guide made into whole exports, guide-verbatim/ the guide's
// examples as printed.

// recorder is an S3API that records every key asked for, found or not.
type recorder struct {
	api  S3API
	mu   sync.Mutex
	keys []string
}

func (r *recorder) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	r.mu.Lock()
	r.keys = append(r.keys, aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key))
	r.mu.Unlock()
	return r.api.GetObject(ctx, in, optFns...)
}

func (r *recorder) asked() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.keys)
}

// loadCorpus puts every object of testdata/aws/dir into m's bucket under
// its path relative to dir (the .jsonl texts of the data files excepted).
func loadCorpus(t *testing.T, m *ddbtest.MemS3, bucket, dir, under string) {
	t.Helper()
	root := filepath.Join("testdata", "aws", dir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".jsonl") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		_, err = m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(under + filepath.ToSlash(rel)), Body: bytes.NewReader(data)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCorpusRealExports opens the real exports (a full export of 2026
// without exportType, with "s3Prefix":null, and two incremental exports
// whose data files are in the shared AWSDynamoDB/data/ folder) and reads
// the data files of theirs that the corpus holds byte-exact (the empty
// partitions: their MD5 is the one the real manifest gives).
func TestCorpusRealExports(t *testing.T) {
	for _, under := range []string{"", "moved/here/"} {
		t.Run("at /"+under, func(t *testing.T) {
			m := ddbtest.NewMemS3()
			loadCorpus(t, m, "test-1231x1x", "ddb-pitr", under)
			base := "s3://test-1231x1x/" + under + "AWSDynamoDB/"
			ctx := context.Background()

			full, err := Open(ctx, m, base+"01768385930622-efd1a093/")
			if err != nil {
				t.Fatal(err)
			}
			s := full.Summary
			if s.ExportType != FullExport || s.Incremental() || s.Version != "2020-06-30" || s.S3Prefix != "" || s.ItemCount != 3 ||
				s.TableArn != "arn:aws:dynamodb:eu-north-1:123456789123:table/test" || !s.ExportTime.Equal(mustTime(t, "2026-01-14T10:18:50.622Z")) ||
				s.View() != "" || s.OutputFormat != "DYNAMODB_JSON" || len(full.Files) != 4 {
				t.Fatalf("full export: summary %+v, %d files", s, len(full.Files))
			}
			if got, want := full.FileURL(1), base+"01768385930622-efd1a093/data/5mrfg3b44e3vhnfickkozoym6a.json.gz"; got != want {
				t.Errorf("FileURL(1) = %s, want %s", got, want)
			}
			for _, i := range []int{0, 2, 3} {
				expectRecords(t, m, full, i, 0)
			}

			inc1, err := Open(ctx, m, base+"01768386924000-d339e52d/manifest-summary.json")
			if err != nil {
				t.Fatal(err)
			}
			inc2, err := Open(ctx, m, base+"01768388186000-4a2fc3ff")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []*Export{inc1, inc2} {
				s := e.Summary
				if !s.Incremental() || s.View() != ViewNewAndOld || s.S3Prefix != "" || s.ExportFromTime.IsZero() || len(e.Files) != 4 {
					t.Fatalf("%s: summary %+v, %d files", e.URL(), s, len(e.Files))
				}
				for i := range e.Files {
					if !strings.HasPrefix(e.FileURL(i), base+"data/") {
						t.Errorf("%s: file %d at %s, not in the shared data folder", e.URL(), i, e.FileURL(i))
					}
				}
			}
			if !inc1.Summary.ExportFromTime.Equal(mustTime(t, "2026-01-14T10:20:00Z")) || !inc2.Summary.ExportFromTime.Equal(inc1.Summary.ExportToTime.Time) {
				t.Errorf("windows %v–%v, %v–%v: want the second to start where the first ends", inc1.Summary.ExportFromTime, inc1.Summary.ExportToTime, inc2.Summary.ExportFromTime, inc2.Summary.ExportToTime)
			}
			if inc1.Summary.ItemCount != 6 || inc2.Summary.ItemCount != 5 {
				t.Errorf("item counts %d, %d", inc1.Summary.ItemCount, inc2.Summary.ItemCount)
			}
			expectRecords(t, m, inc1, 1, 0)
			expectRecords(t, m, inc1, 2, 0)
		})
	}
}

// expectRecords opens data file i of e and checks it holds n records.
func expectRecords(t *testing.T, api S3API, e *Export, i int, n int) []Record {
	t.Helper()
	r, err := e.OpenFile(context.Background(), api, i, ReadOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("file %d: %v", i, err)
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
		recs = append(recs, rec)
	}
	if len(recs) != n {
		t.Fatalf("file %d: %d records, want %d", i, len(recs), n)
	}
	return recs
}

// checkText checks that the gzip'd data file i of e is the corpus' text of
// it (the .jsonl next to the export), so the text can be read and trusted.
func checkText(t *testing.T, m *ddbtest.MemS3, e *Export, i int, textFile string) {
	t.Helper()
	out, err := m.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(e.Loc.Bucket), Key: aws.String(e.Loc.resolve(e.Files[i].DataFileS3Key))})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	want, err := os.ReadFile(textFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is not the text of %s", textFile, e.FileURL(i))
	}
}

// TestCorpusGuideFullExport reads the guide's full export: its summary
// (s3Prefix "2020-Nov", keys named without the prefix) and its item.
func TestCorpusGuideFullExport(t *testing.T) {
	m := ddbtest.NewMemS3()
	loadCorpus(t, m, "ddb-productcatalog-export", "guide", "")
	e, err := Open(context.Background(), m, "s3://ddb-productcatalog-export/2020-Nov/AWSDynamoDB/01234567890123-a1b2c3d4/")
	if err != nil {
		t.Fatal(err)
	}
	if e.Summary.Incremental() || e.Summary.S3Prefix != "2020-Nov" || e.Summary.ItemCount != 1 || len(e.Files) != 2 {
		t.Fatalf("summary %+v, %d files", e.Summary, len(e.Files))
	}
	checkText(t, m, e, 0, "testdata/aws/guide/2020-Nov/01234567890123-a1b2c3d4.jsonl")
	recs := expectRecords(t, m, e, 0, 1)
	want := map[string]types.AttributeValue{
		"Authors":         &types.AttributeValueMemberSS{Value: []string{"Author1", "Author2"}},
		"Dimensions":      &types.AttributeValueMemberS{Value: "8.5 x 11.0 x 1.5"},
		"ISBN":            &types.AttributeValueMemberS{Value: "333-3333333333"},
		"Id":              &types.AttributeValueMemberN{Value: "103"},
		"InPublication":   &types.AttributeValueMemberBOOL{Value: false},
		"PageCount":       &types.AttributeValueMemberN{Value: "600"},
		"Price":           &types.AttributeValueMemberN{Value: "2000"},
		"ProductCategory": &types.AttributeValueMemberS{Value: "Book"},
		"Title":           &types.AttributeValueMemberS{Value: "Book 103 Title"},
	}
	if d := ddbtest.DiffItem(want, recs[0].Item); len(d) > 0 || recs[0].Keys != nil {
		t.Fatalf("item differs: %v", d)
	}
	expectRecords(t, m, e, 1, 0)
}

// TestCorpusGuideVerbatim reads the guide's examples as printed. Its
// summary example names the files manifest of another export id
// (01345678901234-abc12345 in an export 01234567890123-a1b2c3d4) and its
// files example a third one: the summary and the line parse, but an
// export whose manifests name another export's files is refused.
func TestCorpusGuideVerbatim(t *testing.T) {
	summary, err := os.ReadFile("testdata/aws/guide-verbatim/manifest-summary.json")
	if err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadFile("testdata/aws/guide-verbatim/manifest-files.json")
	if err != nil {
		t.Fatal(err)
	}
	item, err := os.ReadFile("testdata/aws/guide-verbatim/data-item.json")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := parseFiles(files, "manifest-files.json", nil, nil)
	if err != nil || len(parsed) != 1 || parsed[0].ItemCount != 8 || parsed[0].DataFileS3Key != "AWSDynamoDB/11111111111111-22222222/data/33334444EXAMPLE.json.gz" {
		t.Fatalf("parseFiles = %+v, %v", parsed, err)
	}
	rec, msg := parseRecord(bytes.TrimSpace(item), false)
	if msg != "" || len(rec.Item) != 9 {
		t.Fatalf("parseRecord = %+v, %q", rec, msg)
	}

	m := ddbtest.NewMemS3()
	r := &recorder{api: m}
	dir := "2020-Nov/AWSDynamoDB/01234567890123-a1b2c3d4/"
	m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(dir + SummaryFile), Body: bytes.NewReader(summary)})
	m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(dir + FilesManifest), Body: bytes.NewReader(files)})
	m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("2020-Nov/AWSDynamoDB/01345678901234-abc12345/" + FilesManifest), Body: bytes.NewReader(files)})
	_, err = Open(context.Background(), r, "s3://b/"+dir)
	if !usage.Is(err) || !strings.Contains(err.Error(), "manifestFilesS3Key \"AWSDynamoDB/01345678901234-abc12345/manifest-files.json\" is not in the export's directory") {
		t.Fatalf("Open = %v; want the foreign manifestFilesS3Key refused", err)
	}
	if got := r.asked(); !slices.Equal(got, []string{"b/" + dir + SummaryFile}) {
		t.Errorf("read %v; want only the summary", got)
	}
	// The summary without its manifestFilesS3Key reads the export's own
	// manifest-files.json, whose line names a third export's data file.
	var fixed bytes.Buffer
	fixed.Write(bytes.Replace(summary, []byte(`"AWSDynamoDB/01345678901234-abc12345/manifest-files.json"`), []byte(`null`), 1))
	m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(dir + SummaryFile), Body: &fixed})
	_, err = Open(context.Background(), r, "s3://b/"+dir)
	if !usage.Is(err) || !strings.Contains(err.Error(), dir+"manifest-files.json:1: dataFileS3Key") ||
		!strings.Contains(err.Error(), "names the directory AWSDynamoDB/11111111111111-22222222/") {
		t.Fatalf("Open = %v; want the foreign dataFileS3Key refused", err)
	}
}

// TestCorpusGuideIncremental reads the incremental exports made of the
// guide's record shapes: the NEW_AND_OLD_IMAGES view spelled as the
// guide's summary spells it (DYNAMODB_NEW_AND_OLD_IMAGES) and the
// NEW_IMAGE view, each with an insert, an update and a delete, their data
// files in the shared data folder under a prefix.
func TestCorpusGuideIncremental(t *testing.T) {
	m := ddbtest.NewMemS3()
	loadCorpus(t, m, "ddb-productcatalog-export", "guide", "")
	kinds := func(recs []Record) []string {
		var out []string
		for _, r := range recs {
			switch {
			case r.OldImage == nil && r.NewImage != nil:
				out = append(out, "insert-or-new")
			case r.OldImage != nil && r.NewImage != nil:
				out = append(out, "update")
			case r.OldImage != nil:
				out = append(out, "delete")
			default:
				out = append(out, "keys-only")
			}
		}
		return out
	}
	tests := []struct {
		id, view string
		kinds    []string
	}{
		{"01680110664000-0a1b2c3d", ViewNewAndOld, []string{"insert-or-new", "update", "delete"}},
		{"01680111564000-4e5f6a7b", ViewNew, []string{"insert-or-new", "insert-or-new", "keys-only"}},
	}
	for _, tt := range tests {
		t.Run(tt.view, func(t *testing.T) {
			e, err := Open(context.Background(), m, "s3://ddb-productcatalog-export/inc/AWSDynamoDB/"+tt.id+"/")
			if err != nil {
				t.Fatal(err)
			}
			if !e.Summary.Incremental() || e.Summary.View() != tt.view || len(e.Files) != 2 ||
				!strings.HasPrefix(e.FileURL(0), "s3://ddb-productcatalog-export/inc/AWSDynamoDB/data/") {
				t.Fatalf("summary %+v (view %q), files %d, %s", e.Summary, e.Summary.View(), len(e.Files), e.FileURL(0))
			}
			checkText(t, m, e, 0, "testdata/aws/guide/inc/"+tt.id+".jsonl")
			recs := expectRecords(t, m, e, 0, 3)
			if got := kinds(recs); !slices.Equal(got, tt.kinds) {
				t.Errorf("kinds %v, want %v", got, tt.kinds)
			}
			for _, r := range recs {
				if r.WriteTimestampMicros < 1680109764000000 || len(r.Keys) != 1 {
					t.Errorf("record %d: %+v", r.Line, r)
				}
			}
			expectRecords(t, m, e, 1, 0)
		})
	}
}

// TestViewSpellings: every spelling of the views AWS has written or
// documented reads as one of the two views; anything else stays itself.
func TestViewSpellings(t *testing.T) {
	for in, want := range map[string]string{
		"NEW_AND_OLD_IMAGES":          ViewNewAndOld,
		"DYNAMODB_NEW_AND_OLD_IMAGES": ViewNewAndOld,
		"NEW_IMAGE":                   ViewNew,
		"DYNAMODB_NEW_IMAGE":          ViewNew,
		"NEW_IMAGES":                  ViewNew,
		"DYNAMODB_NEW_IMAGES":         ViewNew,
		"":                            "",
		"KEYS_ONLY":                   "KEYS_ONLY",
	} {
		if got := (&Summary{OutputView: in}).View(); got != want {
			t.Errorf("View(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestForeignKeysRefused: a manifest that names an object outside the
// export — anywhere in the bucket, another export's files, a path with
// empty, "." or ".." segments — is refused as bad input naming the
// manifest and its line, and no data object is read at all.
func TestForeignKeysRefused(t *testing.T) {
	const id = "01700000000000-0badc0de"
	own := "p/AWSDynamoDB/" + id + "/data/0000-" + id + ".json.gz"
	tests := []struct {
		name, key   string
		incremental bool
		want        string // "" means accepted
	}{
		{"anywhere in the bucket", "hr/payroll/data.json.gz", false, "no AWSDynamoDB/ segment"},
		{"another export's file", "p/AWSDynamoDB/01700000000000-0ther000/data/a.json.gz", false, "names the directory AWSDynamoDB/01700000000000-0ther000/"},
		{"dot-dot out of the data folder", "p/AWSDynamoDB/" + id + "/data/../../../hr/AWSDynamoDB/" + id + "/data/a.json.gz", false, `a ".." path segment`},
		{"dot segment", "p/AWSDynamoDB/" + id + "/data/./a.json.gz", false, `a "." path segment`},
		{"empty segment", "p/AWSDynamoDB/" + id + "//data/a.json.gz", false, "empty path segment"},
		{"beside the data folder", "p/AWSDynamoDB/" + id + "/a.json.gz", false, "want PREFIX/AWSDynamoDB/" + id + "/data/NAME"},
		{"below the data folder", "p/AWSDynamoDB/" + id + "/data/x/a.json.gz", false, "want PREFIX/AWSDynamoDB/" + id + "/data/NAME"},
		{"shared folder of a full export", "p/AWSDynamoDB/data/a.json.gz", false, "full export's data files are in its own directory"},
		{"AWSDynamoDB inside a name", "hr/xAWSDynamoDB/" + id + "/data/a.json.gz", false, "no AWSDynamoDB/ segment"},
		{"incremental: another export's directory", "p/AWSDynamoDB/01700000000000-0ther000/data/a.json.gz", true, "names the directory"},
		{"incremental: shared folder", "p/AWSDynamoDB/data/a.json.gz", true, ""},
		{"incremental: shared folder, other prefix", "old/AWSDynamoDB/data/a.json.gz", true, ""},
		{"incremental: own folder", "p/AWSDynamoDB/" + id + "/data/b.json.gz", true, ""},
		{"the same file again", own, false, "names the data file of line 1 again"},
		{"the same file under another prefix", "other/AWSDynamoDB/" + id + "/data/0000-" + id + ".json.gz", false, "names the data file of line 1 again"},
		{"incremental: the same file again", own, true, "names the data file of line 1 again"},
		{"a file of the same name in another folder", "p/AWSDynamoDB/" + id + "/data/0000-" + id + ".json", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ddbtest.NewMemS3()
			typ := FullExport
			if tt.incremental {
				typ = IncrementalExport
			}
			te := ddbtest.WriteExportLines(t, m, "bkt", "p", [][]string{{`{"Item":{"pk":{"S":"a"}}}`}}, ddbtest.ExportOptions{ID: id, ExportType: typ})
			out, _ := m.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("p/AWSDynamoDB/" + id + "/" + FilesManifest)})
			line, _ := io.ReadAll(out.Body)
			// Line 1 is the export's own file, line 3 (after a blank
			// line) names tt.key; both objects exist.
			hostile := string(line) + "\n" + strings.Replace(string(line), own, tt.key, 1)
			m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("p/AWSDynamoDB/" + id + "/" + FilesManifest), Body: strings.NewReader(hostile)})
			m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(tt.key), Body: strings.NewReader("secret")})
			r := &recorder{api: m}
			e, err := Open(context.Background(), r, te.URL)
			if tt.want == "" {
				if err != nil || len(e.Files) != 2 {
					t.Fatalf("Open = %v; want the key accepted", err)
				}
				return
			}
			wantMsg := "export manifest s3://bkt/p/AWSDynamoDB/" + id + "/manifest-files.json:3: dataFileS3Key"
			if !usage.Is(err) || !strings.Contains(err.Error(), wantMsg) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Open = %v; want one line, a usage error starting %q and saying %q", err, wantMsg, tt.want)
			}
			if got, want := r.asked(), []string{"bkt/p/AWSDynamoDB/" + id + "/" + SummaryFile, "bkt/p/AWSDynamoDB/" + id + "/" + FilesManifest}; !slices.Equal(got, want) {
				t.Errorf("read %v; want only the manifests", got)
			}
		})
	}
}

// TestForeignFilesManifestRefused: a summary whose manifestFilesS3Key is
// not in the export's directory is refused before that object is read.
func TestForeignFilesManifestRefused(t *testing.T) {
	const id = "01700000000000-0badc0de"
	for _, key := range []string{
		"hr/payroll/manifest-files.json",
		"p/AWSDynamoDB/01700000000000-0ther000/manifest-files.json",
		"p/AWSDynamoDB/" + id + "/../other/manifest-files.json",
		"p/AWSDynamoDB/" + id + "/data/manifest-files.json",
	} {
		t.Run(key, func(t *testing.T) {
			m := ddbtest.NewMemS3()
			te := ddbtest.WriteExport(t, m, "bkt", "p", ddbtest.MixedItems(2, 1), ddbtest.ExportOptions{ID: id})
			summary := `{"tableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t","outputFormat":"DYNAMODB_JSON","manifestFilesS3Key":"` + key + `"}`
			m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("p/AWSDynamoDB/" + id + "/" + SummaryFile), Body: strings.NewReader(summary)})
			r := &recorder{api: m}
			_, err := Open(context.Background(), r, te.URL)
			if !usage.Is(err) || !strings.Contains(err.Error(), "export manifest "+te.URL+SummaryFile+": manifestFilesS3Key") {
				t.Fatalf("Open = %v; want the key refused as a usage error naming the summary", err)
			}
			if got := r.asked(); len(got) != 1 {
				t.Errorf("read %v; want only the summary", got)
			}
		})
	}
}

// TestIncrementalWindowRequired: an incremental summary must have its
// window, from before to; a full export needs none.
func TestIncrementalWindowRequired(t *testing.T) {
	const id = "01700000000000-0badc0de"
	base := `"tableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/t","outputFormat":"DYNAMODB_JSON","outputView":"NEW_AND_OLD_IMAGES"`
	tests := []struct {
		name, fields, want string
	}{
		{"no window", `"exportType":"INCREMENTAL_EXPORT"`, "lacks both"},
		{"no from", `"exportType":"INCREMENTAL_EXPORT","exportToTime":"2024-01-01T00:15:00Z"`, "lacks exportFromTime"},
		{"null to", `"exportType":"INCREMENTAL_EXPORT","exportFromTime":"2024-01-01T00:00:00Z","exportToTime":null`, "lacks exportToTime"},
		{"empty window", `"exportType":"INCREMENTAL_EXPORT","exportFromTime":"2024-01-01T00:00:00Z","exportToTime":"2024-01-01T00:00:00Z"`, "is not before exportToTime"},
		{"reversed", `"exportType":"INCREMENTAL_EXPORT","exportFromTime":"2024-01-01T00:15:00Z","exportToTime":"2024-01-01T00:00:00Z"`, "is not before exportToTime"},
		{"window", `"exportType":"INCREMENTAL_EXPORT","exportFromTime":1704067200,"exportToTime":"2024-01-01T00:15:00Z"`, ""},
		{"full export", `"exportType":"FULL_EXPORT"`, ""},
		{"old full export", `"exportTime":"2024-01-01T00:00:00Z"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ddbtest.NewMemS3()
			te := ddbtest.WriteExport(t, m, "bkt", "p", ddbtest.MixedItems(2, 1), ddbtest.ExportOptions{ID: id})
			m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("p/AWSDynamoDB/" + id + "/" + SummaryFile), Body: strings.NewReader("{" + base + "," + tt.fields + "}")})
			_, err := Open(context.Background(), m, te.URL)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !usage.Is(err) || !strings.Contains(err.Error(), te.URL+SummaryFile) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v; want a usage error naming the summary and saying %q", err, tt.want)
			}
		})
	}
}

// TestKeysMustMatchImages: an incremental record's Keys must be in each
// image it has, with equal values as DynamoDB compares keys (numbers by
// value, binaries by bytes); the refusal names attributes, not values.
func TestKeysMustMatchImages(t *testing.T) {
	meta := `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},`
	tests := []struct {
		name, line, want string
	}{
		{"old image of another item", meta + `"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"p"},"v":{"S":"secret"}}}`, `Keys and OldImage hold different values of the key attribute "pk"`},
		{"new image of another item", meta + `"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"p"}}}`, `Keys and NewImage hold different values of the key attribute "pk"`},
		{"image without the key", meta + `"Keys":{"pk":{"S":"a"},"sk":{"N":"1"}},"NewImage":{"pk":{"S":"a"}}}`, `Keys has the attribute "sk" but NewImage has not`},
		{"key of another type", meta + `"Keys":{"pk":{"N":"1"}},"NewImage":{"pk":{"S":"1"}}}`, `different values of the key attribute "pk"`},
		{"other binary", meta + `"Keys":{"pk":{"B":"AAE="}},"OldImage":{"pk":{"B":"AAI="}}}`, `different values of the key attribute "pk"`},
		{"empty Keys", meta + `"Keys":{},"NewImage":{"pk":{"S":"a"}}}`, `no "Keys"`},
		{"number respelled", meta + `"Keys":{"pk":{"N":"10.10"},"sk":{"N":"1E2"}},"OldImage":{"pk":{"N":"10.1"},"sk":{"N":"100"}},"NewImage":{"pk":{"N":"010.100"},"sk":{"N":"100.0"}}}`, ""},
		{"same binary", meta + `"Keys":{"pk":{"B":"AAE="}},"OldImage":{"pk":{"B":"AAE="},"x":{"S":"y"}}}`, ""},
		{"keys only", meta + `"Keys":{"pk":{"S":"a"}}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, msg := parseRecord([]byte(tt.line), true)
			if tt.want == "" {
				if msg != "" {
					t.Fatalf("refused: %s", msg)
				}
				return
			}
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "secret") {
				t.Fatalf("message %q; want %q, and no value", msg, tt.want)
			}
		})
	}
	// Through a file: the error names the file and the line.
	m := ddbtest.NewMemS3()
	te := ddbtest.WriteExportLines(t, m, "bkt", "p", [][]string{{
		meta + `"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"}}}`,
		meta + `"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"p"}}}`,
	}}, ddbtest.ExportOptions{ExportType: IncrementalExport})
	e, err := Open(context.Background(), m, te.URL)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.OpenFile(context.Background(), m, 0, ReadOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = r.Next()
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), e.FileURL(0)+":2: Keys and OldImage") {
		t.Fatalf("Next = %v; want a LineError at line 2", err)
	}
}

// TestWriteTimestampSpellings: the write time is read typed ({"N":…}), as
// AWS writes it, or as a bare string or number.
func TestWriteTimestampSpellings(t *testing.T) {
	for _, meta := range []string{`{"WriteTimestampMicros":{"N":"1680109764000000"}}`, `{"WriteTimestampMicros":"1680109764000000"}`, `{"WriteTimestampMicros":1680109764000000}`} {
		rec, msg := parseRecord([]byte(`{"Metadata":`+meta+`,"Keys":{"pk":{"S":"a"}}}`), true)
		if msg != "" || rec.WriteTimestampMicros != 1680109764000000 {
			t.Errorf("%s: %d, %q", meta, rec.WriteTimestampMicros, msg)
		}
	}
	for _, meta := range []string{`{"WriteTimestampMicros":{"S":"1"}}`, `{"WriteTimestampMicros":"x"}`, `{"WriteTimestampMicros":1.5}`, `{}`, `[]`} {
		if _, msg := parseRecord([]byte(`{"Metadata":`+meta+`,"Keys":{"pk":{"S":"a"}}}`), true); !strings.HasPrefix(msg, "Metadata: ") {
			t.Errorf("%s: %q; want refused", meta, msg)
		}
	}
}

// TestSharedDataFolder: incremental exports whose data files are in the
// shared PREFIX/AWSDynamoDB/data/, as AWS writes them, are read whole,
// side by side with each other's files.
func TestSharedDataFolder(t *testing.T) {
	m := ddbtest.NewMemS3()
	meta := `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},`
	t0 := time.Date(2024, 1, 2, 3, 0, 0, 0, time.UTC)
	var urls []string
	for i, id := range []string{"01700000000000-aaaa0001", "01700000000000-aaaa0002"} {
		te := ddbtest.WriteExportLines(t, m, "bkt", "inc", [][]string{{meta + `"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"}}}`}, {}},
			ddbtest.ExportOptions{ID: id, ExportType: IncrementalExport, SharedData: true, EmptyFile: true, ExportTime: t0.Add(time.Duration(i) * time.Hour)})
		urls = append(urls, te.URL)
	}
	for _, u := range urls {
		e, err := Open(context.Background(), m, u)
		if err != nil {
			t.Fatal(err)
		}
		for i := range e.Files {
			if !strings.HasPrefix(e.FileURL(i), "s3://bkt/inc/AWSDynamoDB/data/") {
				t.Errorf("file %d at %s", i, e.FileURL(i))
			}
		}
		expectRecords(t, m, e, 0, 1)
		expectRecords(t, m, e, 1, 0)
		expectRecords(t, m, e, 2, 0)
	}
}

// TestCorpusCountsAgree: in every real export of the corpus — full ones
// (ddb-pitr's, with empty partitions, and sabuat's, one data file) and
// incremental ones (ddb-pitr's two, in the shared data folder) — the
// summary's itemCount is exactly the sum of the data files' itemCount in
// manifest-files.json: the check that refuses a manifest listing fewer
// (Missing) holds for what AWS writes, so it refuses no genuine export.
// Each manifest is also the one its .md5 file next to it names (the
// checksum files AWS writes beside the manifests, which ddbrewind does not
// read), but ddb-pitr's summaries, whose account id the repository's owner
// replaced.
func TestCorpusCountsAgree(t *testing.T) {
	exports := []struct {
		corpus, bucket, id string
		incremental        bool
		items              int64
		summaryMD5         bool // the summary is byte-exact as AWS wrote it
	}{
		{"ddb-pitr", "test-1231x1x", "01768385930622-efd1a093", false, 3, false},
		{"ddb-pitr", "test-1231x1x", "01768386924000-d339e52d", true, 6, false},
		{"ddb-pitr", "test-1231x1x", "01768388186000-4a2fc3ff", true, 5, false},
		{"sabuat", "outroslivros", "01668227450456-b6733290", false, 6, true},
	}
	for _, x := range exports {
		t.Run(x.corpus+"/"+x.id, func(t *testing.T) {
			m := ddbtest.NewMemS3()
			loadCorpus(t, m, x.bucket, x.corpus, "")
			e, err := Open(context.Background(), m, "s3://"+x.bucket+"/AWSDynamoDB/"+x.id+"/")
			if err != nil {
				t.Fatal(err)
			}
			var files int64
			for _, f := range e.Files {
				files += f.ItemCount
			}
			if e.Summary.Incremental() != x.incremental || e.Summary.ItemCount != x.items || files != x.items {
				t.Errorf("incremental %v, summary itemCount %d, files' %d; want %v, %d and %d", e.Summary.Incremental(), e.Summary.ItemCount, files, x.incremental, x.items, x.items)
			}
			if missing, _, listed := e.Missing(); missing != 0 || listed != x.items {
				t.Errorf("Missing() = %d (files list %d): a genuine export taken for a truncated one", missing, listed)
			}
			dir := filepath.Join("testdata", "aws", x.corpus, "AWSDynamoDB", x.id)
			for _, name := range []string{"manifest-files", "manifest-summary"} {
				if name == "manifest-summary" && !x.summaryMD5 {
					continue
				}
				data, err := os.ReadFile(filepath.Join(dir, name+".json"))
				if err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(filepath.Join(dir, name+".md5"))
				if err != nil {
					t.Fatal(err)
				}
				sum := md5.Sum(data)
				if got := base64.StdEncoding.EncodeToString(sum[:]); got != string(want) {
					t.Errorf("%s.json: MD5 %s, its .md5 says %s: not the manifest AWS wrote", name, got, want)
				}
			}
		})
	}
}
