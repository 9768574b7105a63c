package exportfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, dir, bucket, id string
		bad                 string
	}{
		{in: "s3://b/p/AWSDynamoDB/0123-abc/", bucket: "b", dir: "p/AWSDynamoDB/0123-abc/", id: "0123-abc"},
		{in: "s3://b/p/AWSDynamoDB/0123-abc", bucket: "b", dir: "p/AWSDynamoDB/0123-abc/", id: "0123-abc"},
		{in: "s3://b/p/AWSDynamoDB/0123-abc/manifest-summary.json", bucket: "b", dir: "p/AWSDynamoDB/0123-abc/", id: "0123-abc"},
		{in: "s3://b/AWSDynamoDB/0123-abc/", bucket: "b", dir: "AWSDynamoDB/0123-abc/", id: "0123-abc"},
		{in: "s3://b/x/y/AWSDynamoDB/id/", bucket: "b", dir: "x/y/AWSDynamoDB/id/", id: "id"},
		{in: "b/p/AWSDynamoDB/id/", bad: "not an s3:// URL"},
		{in: "s3:///p/AWSDynamoDB/id/", bad: "no bucket"},
		{in: "s3://b/p/", bad: "not an export directory"},
		{in: "s3://b/p/AWSDynamoDB/", bad: "not an export directory"},
		{in: "s3://b/p/AWSDynamoDB/id/data/", bad: "not an export directory"},
		{in: "s3://b/p//AWSDynamoDB/id/", bad: "empty path segment"},
		{in: "s3://b/p/AWSDynamoDB/../", bad: `a ".." path segment`},
		{in: "s3://b/p/../AWSDynamoDB/id/", bad: `a ".." path segment`},
		{in: "s3://b/p/AWSDynamoDB/./", bad: `a "." path segment`},
		{in: "s3://b/p/AWSDynamoDB/data/", bad: "the data folder incremental exports share, not an export"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			loc, err := ParseURL(tt.in)
			if tt.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tt.bad) || !usage.Is(err) {
					t.Fatalf("ParseURL = %v, want a usage error saying %q", err, tt.bad)
				}
				return
			}
			if err != nil || loc.Bucket != tt.bucket || loc.Dir != tt.dir || loc.ID() != tt.id {
				t.Fatalf("ParseURL = %+v (id %q), %v; want %s %s %s", loc, loc.ID(), err, tt.bucket, tt.dir, tt.id)
			}
			if loc.URL() != "s3://"+tt.bucket+"/"+tt.dir {
				t.Errorf("URL() = %s", loc.URL())
			}
		})
	}
}

// readAll reads every record of every file of e.
func readAll(t *testing.T, api S3API, e *Export) [][]Record {
	t.Helper()
	var out [][]Record
	for i := range e.Files {
		r, err := e.OpenFile(context.Background(), api, i, ReadOptions{TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		var recs []Record
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec)
		}
		r.Close()
		out = append(out, recs)
	}
	return out
}

// TestFullExportRoundTrip writes every attribute type (38-digit numbers,
// binary in sets and nested maps, empty strings, large items) as a full
// export and reads it back exactly, in file and line order.
func TestFullExportRoundTrip(t *testing.T) {
	m := ddbtest.NewMemS3()
	items := ddbtest.MixedItems(300, 3, ddbtest.WithLargeEvery(120))
	te := ddbtest.WriteExport(t, m, "bkt", "exports/nightly", items, ddbtest.ExportOptions{Files: 4, EmptyFile: true})
	for _, u := range []string{te.URL, strings.TrimSuffix(te.URL, "/"), te.URL + "manifest-summary.json"} {
		e, err := Open(context.Background(), m, u)
		if err != nil {
			t.Fatal(err)
		}
		if e.URL() != te.URL || len(e.Files) != 5 || e.Summary.ItemCount != 300 || e.Summary.Incremental() ||
			e.Summary.TableArn != "arn:aws:dynamodb:us-east-1:123456789012:table/table" || e.Summary.ExportTime.IsZero() {
			t.Fatalf("Open(%s) = %s, %d files, summary %+v", u, e.URL(), len(e.Files), e.Summary)
		}
	}
	e, _ := Open(context.Background(), m, te.URL)
	files := readAll(t, m, e)
	n := 0
	for i, recs := range files {
		if i == 4 {
			if len(recs) != 0 {
				t.Errorf("the empty file yielded %d records", len(recs))
			}
			continue
		}
		for j, rec := range recs {
			if rec.Line != j+1 {
				t.Errorf("file %d record %d: line %d", i, j, rec.Line)
			}
			if d := ddbtest.DiffItem(te.Items[i][j], rec.Item); len(d) > 0 {
				t.Fatalf("file %d line %d differs: %v", i, rec.Line, d)
			}
			n++
		}
	}
	if n != len(items) {
		t.Errorf("read %d items, want %d", n, len(items))
	}
}

// TestIncrementalRecords parses an incremental export's records: an
// update (both images), an insert (no OldImage) and a delete (no
// NewImage), with their write timestamps.
func TestIncrementalRecords(t *testing.T) {
	m := ddbtest.NewMemS3()
	lines := []string{
		`{"Metadata":{"WriteTimestampMicros":{"N":"1700000000123456"}},"Keys":{"pk":{"S":"a"}},"OldImage":{"pk":{"S":"a"},"v":{"N":"1"}},"NewImage":{"pk":{"S":"a"},"v":{"N":"2"}}}`,
		`{"Metadata":{"WriteTimestampMicros":{"N":"1700000000000001"}},"Keys":{"pk":{"S":"new"}},"NewImage":{"pk":{"S":"new"},"b":{"BS":["AAE=","/w=="]}}}`,
		``,
		`{"Metadata":{"WriteTimestampMicros":{"N":"1700000000000002"}},"Keys":{"pk":{"S":"gone"}},"OldImage":{"pk":{"S":"gone"},"n":{"N":"12345678901234567890123456789012345678"}}}`,
	}
	te := ddbtest.WriteExportLines(t, m, "bkt", "", [][]string{lines}, ddbtest.ExportOptions{ExportType: IncrementalExport})
	e, err := Open(context.Background(), m, te.URL)
	if err != nil {
		t.Fatal(err)
	}
	s := e.Summary
	if !s.Incremental() || s.OutputView != "NEW_AND_OLD_IMAGES" || !s.ExportFromTime.Before(s.ExportToTime.Time) {
		t.Fatalf("summary %+v", s)
	}
	e.Files[0].ItemCount = 3 // the blank line is not a record
	recs := readAll(t, m, e)[0]
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	key := func(m map[string]types.AttributeValue) string {
		if m == nil {
			return "nil"
		}
		return ddbjson.KeyString(m)
	}
	got := []string{}
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%d %d %s %s %s", r.Line, r.WriteTimestampMicros, key(r.Keys), key(r.OldImage), key(r.NewImage)))
	}
	want := []string{
		`1 1700000000123456 {"pk":{"S":"a"}} {"pk":{"S":"a"},"v":{"N":"1"}} {"pk":{"S":"a"},"v":{"N":"2"}}`,
		`2 1700000000000001 {"pk":{"S":"new"}} nil {"b":{"BS":["AAE=","/w=="]},"pk":{"S":"new"}}`,
		`4 1700000000000002 {"pk":{"S":"gone"}} {"n":{"N":"12345678901234567890123456789012345678"},"pk":{"S":"gone"}} nil`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestVerification: a data file whose MD5, item count or gzip stream does
// not match its manifest entry yields no record, names the file, and
// leaves no local copy.
func TestVerification(t *testing.T) {
	good := []string{`{"Item":{"pk":{"S":"a"}}}`, `{"Item":{"pk":{"S":"b"}}}`}
	tests := []struct {
		name string
		edit func(i int, f *ddbtest.ExportFile)
		body []byte // replaces the data file after the manifest is written
		want string
	}{
		{name: "wrong md5", edit: func(_ int, f *ddbtest.ExportFile) {
			f.MD5Checksum = base64.StdEncoding.EncodeToString(make([]byte, 16))
		},
			want: "MD5 checksum is"},
		{name: "wrong item count", edit: func(_ int, f *ddbtest.ExportFile) { f.ItemCount = 3 }, want: "item count is 2 but the export manifest says 3"},
		{name: "object replaced", body: gz(`{"Item":{"pk":{"S":"a"}}}`), want: "MD5 checksum is"},
		{name: "not gzip, checksum right", body: []byte("plain text\n"), want: "gzip stream is broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ddbtest.NewMemS3()
			edit := tt.edit
			if tt.body != nil && strings.HasPrefix(tt.name, "not gzip") {
				sum := md5.Sum(tt.body)
				edit = func(_ int, f *ddbtest.ExportFile) { f.MD5Checksum = base64.StdEncoding.EncodeToString(sum[:]) }
			}
			te := ddbtest.WriteExportLines(t, m, "bkt", "p", [][]string{good}, ddbtest.ExportOptions{Edit: edit})
			if tt.body != nil {
				m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(te.Keys[0]), Body: bytes.NewReader(tt.body)})
			}
			e, err := Open(context.Background(), m, te.URL)
			if err != nil {
				t.Fatal(err)
			}
			tmp := t.TempDir()
			r, err := e.OpenFile(context.Background(), m, 0, ReadOptions{TempDir: tmp})
			var ve *VerifyError
			if r != nil || !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "s3://bkt/"+te.Keys[0]) {
				t.Fatalf("OpenFile = %v, %v; want a VerifyError naming the file and saying %q", r, err, tt.want)
			}
			if usage.Is(err) {
				t.Errorf("a damaged file is a failure (exit 1), not bad usage")
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("local copies left behind: %v", left)
			}
		})
	}
}

func gz(lines ...string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	for _, l := range lines {
		io.WriteString(w, l+"\n")
	}
	w.Close()
	return b.Bytes()
}

// TestLocalCopyIsPrivateAndGone: the local copy is owner-only, never
// visible by name (unlinked at once), and closed by Close.
func TestLocalCopyIsPrivateAndGone(t *testing.T) {
	m := ddbtest.NewMemS3()
	te := ddbtest.WriteExport(t, m, "bkt", "", ddbtest.MixedItems(50, 1), ddbtest.ExportOptions{Files: 1})
	e, err := Open(context.Background(), m, te.URL)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	r, err := e.OpenFile(context.Background(), m, 0, ReadOptions{TempDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := r.f.Stat()
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("local copy: %v, mode %v; want 0600", err, fi.Mode())
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("the local copy has a name while open: %v", left)
	}
	if err := r.Close(); err != nil || r.Close() != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestLineErrors: a verified file with a line that is not a record of the
// export's type stops at that line, naming file and line; it is a failure,
// not bad usage.
func TestLineErrors(t *testing.T) {
	tests := []struct {
		name, line, want string
		incremental      bool
	}{
		{name: "not json", line: `{"Item":{"pk":{"S":"a"}}`, want: "unterminated object"},
		{name: "untyped value", line: `{"Item":{"pk":"a"}}`, want: "Item: "},
		{name: "other field", line: `{"Item":{"pk":{"S":"a"}},"x":1}`, want: `want {"Item":{…}}`},
		{name: "duplicate field", line: `{"Keys":{"pk":{"S":"a"}},"Keys":{"pk":{"S":"a"}}}`, want: "duplicate field", incremental: true},
		{name: "incremental without keys", line: `{"NewImage":{"pk":{"S":"a"}}}`, want: `no "Keys"`, incremental: true},
		{name: "bad timestamp", line: `{"Metadata":{"WriteTimestampMicros":{"N":"1.5"}},"Keys":{"pk":{"S":"a"}}}`, want: "not an integer", incremental: true},
		{name: "incremental record in a full export", line: `{"Keys":{"pk":{"S":"a"}}}`, want: `want {"Item":{…}}`},
		{name: "trailing data", line: `{"Item":{"pk":{"S":"a"}}} x`, want: "data after the record"},
		{name: "bad value, not shown", line: `{"Item":{"pk":{"S":"a"},"m":{"M":{"n":{"N":"secret42"}}}}}`, want: `Item: attribute "m"."n": not valid typed DynamoDB JSON`},
		{name: "bad image value, not shown", line: `{"Keys":{"pk":{"S":"a"}},"NewImage":{"l":{"L":[{"N":"secret42"}]}}}`, want: `NewImage: attribute "l"[0]: not valid`, incremental: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ddbtest.NewMemS3()
			typ := ""
			first := `{"Item":{"pk":{"S":"ok"}}}`
			if tt.incremental {
				typ, first = IncrementalExport, `{"Keys":{"pk":{"S":"ok"}}}`
			}
			te := ddbtest.WriteExportLines(t, m, "bkt", "", [][]string{{first, tt.line}}, ddbtest.ExportOptions{ExportType: typ})
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
			if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), te.Keys[0]+":2:") {
				t.Fatalf("Next = %v; want a LineError at line 2 saying %q", err, tt.want)
			}
			if usage.Is(err) {
				t.Errorf("a line error must not be bad usage (exit 2)")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows an attribute value: %v", err)
			}
		})
	}
}

// TestSkipResumesAfterLine: Skip(n) moves past lines 1..n unparsed.
func TestSkipResumesAfterLine(t *testing.T) {
	m := ddbtest.NewMemS3()
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf(`{"Item":{"pk":{"S":"k%d"}}}`, i))
	}
	lines[3] = "broken, but skipped"
	te := ddbtest.WriteExportLines(t, m, "bkt", "", [][]string{lines}, ddbtest.ExportOptions{})
	e, _ := Open(context.Background(), m, te.URL)
	r, err := e.OpenFile(context.Background(), m, 0, ReadOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Skip(7); err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil || rec.Line != 8 || rec.Item["pk"].(*types.AttributeValueMemberS).Value != "k7" {
		t.Fatalf("after Skip(7): %+v, %v", rec, err)
	}
	if err := r.Skip(100); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the end: %v", err)
	}
}

// TestOpenRefusals: what is not a usable export is refused before any data
// file is read.
func TestOpenRefusals(t *testing.T) {
	m := ddbtest.NewMemS3()
	te := ddbtest.WriteExport(t, m, "bkt", "p", ddbtest.MixedItems(5, 1), ddbtest.ExportOptions{ID: "ok"})
	put := func(key, body string) {
		m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader(body)})
	}
	put("p/AWSDynamoDB/ion/manifest-summary.json", `{"tableArn":"arn:x","outputFormat":"ION","exportType":"FULL_EXPORT"}`)
	put("p/AWSDynamoDB/junk/manifest-summary.json", `{"tableArn":`)
	put("p/AWSDynamoDB/nofiles/manifest-summary.json", `{"tableArn":"arn:x","outputFormat":"DYNAMODB_JSON"}`)
	put("p/AWSDynamoDB/badmd5/manifest-summary.json", `{"tableArn":"arn:x","outputFormat":"DYNAMODB_JSON"}`)
	put("p/AWSDynamoDB/badmd5/manifest-files.json", `{"itemCount":1,"md5Checksum":"xyz","dataFileS3Key":"p/AWSDynamoDB/badmd5/data/a.json.gz"}`)
	put("p/AWSDynamoDB/shortmd5/manifest-summary.json", `{"tableArn":"arn:x","outputFormat":"DYNAMODB_JSON"}`)
	put("p/AWSDynamoDB/shortmd5/manifest-files.json", `{"itemCount":1,"md5Checksum":"AAAAAAAAAAAAAAAAAAAA","dataFileS3Key":"p/AWSDynamoDB/shortmd5/data/a.json.gz"}`)
	tests := []struct {
		url, want string
		usage     bool
	}{
		{"s3://bkt/p/AWSDynamoDB/none/", "no export there", true},
		{"s3://bkt/p/AWSDynamoDB/shortmd5/", "manifest-files.json:1: md5Checksum \"AAAAAAAAAAAAAAAAAAAA\" is not a base64 MD5", false},
		{"s3://bkt/p/AWSDynamoDB/ion/", "DYNAMODB_JSON exports only", true},
		{"s3://bkt/p/AWSDynamoDB/junk/", "does not parse", false},
		{"s3://bkt/p/AWSDynamoDB/nofiles/", "manifest-files.json", false},
		{"s3://bkt/p/AWSDynamoDB/badmd5/", "manifest-files.json:1: md5Checksum", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := Open(context.Background(), m, tt.url)
			if err == nil || !strings.Contains(err.Error(), tt.want) || usage.Is(err) != tt.usage {
				t.Fatalf("Open = %v; want %q (usage error: %v)", err, tt.want, tt.usage)
			}
		})
	}
	if _, err := Open(context.Background(), m, te.URL); err != nil {
		t.Fatal(err)
	}
}

// TestMovedExport: an export copied under another prefix still names its
// old keys in its manifests; they are resolved from where it is now.
func TestMovedExport(t *testing.T) {
	m := ddbtest.NewMemS3()
	items := ddbtest.MixedItems(20, 9)
	te := ddbtest.WriteExport(t, m, "bkt", "old/place", items, ddbtest.ExportOptions{ID: "x1", Files: 2})
	// Copy every object to new/prefix/… without touching its content.
	m2 := ddbtest.NewMemS3()
	for _, k := range append(te.Keys, "old/place/AWSDynamoDB/x1/manifest-summary.json", "old/place/AWSDynamoDB/x1/manifest-files.json") {
		out, err := m.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		m2.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("other"), Key: aws.String("new/" + strings.TrimPrefix(k, "old/place/")), Body: out.Body})
	}
	e, err := Open(context.Background(), m2, "s3://other/new/AWSDynamoDB/x1/")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.FileURL(1); got != "s3://other/new/AWSDynamoDB/x1/data/0001-x1.json.gz" {
		t.Errorf("FileURL(1) = %s", got)
	}
	n := 0
	for _, recs := range readAll(t, m2, e) {
		n += len(recs)
	}
	if n != 20 {
		t.Errorf("read %d items, want 20", n)
	}
}

// TestFileKeyFromTheLastMarker: a key is resolved from its last
// AWSDynamoDB/ segment — the one the containment check read — so a prefix
// holding AWSDynamoDB/ itself (an export written under another export's
// directory, or a hostile key) never reads from the directory its first
// marker names.
func TestFileKeyFromTheLastMarker(t *testing.T) {
	e := &Export{Loc: Location{Bucket: "b", Dir: "new/AWSDynamoDB/x1/"}, Files: []File{
		{DataFileS3Key: "old/AWSDynamoDB/other/AWSDynamoDB/x1/data/f.json.gz"},
		{DataFileS3Key: "AWSDynamoDB/x1/data/g.json.gz"},
	}}
	for i, want := range []string{"new/AWSDynamoDB/x1/data/f.json.gz", "new/AWSDynamoDB/x1/data/g.json.gz"} {
		if got := e.FileKey(i); got != want {
			t.Errorf("FileKey(%d) = %s, want %s", i, got, want)
		}
		if got := e.FileURL(i); got != "s3://b/"+want {
			t.Errorf("FileURL(%d) = %s, want s3://b/%s", i, got, want)
		}
	}
	if why := e.Loc.outside(e.Files[0].DataFileS3Key, true, false); why != "" {
		t.Errorf("the key with two markers is refused (%s): the test means it accepted and read from the last", why)
	}
}

// TestDigestFollowsTheManifest: a checkpoint's positions are lines of the
// files its manifests name, so the digest changes with anything that
// would change a line's meaning: the export, a file's key, its checksum
// alone (same key and count, other bytes), its count, the files' order.
func TestDigestFollowsTheManifest(t *testing.T) {
	base := func() *Export {
		return &Export{Summary: Summary{ExportArn: "arn:x/export/1"}, Files: []File{
			{ItemCount: 3, MD5Checksum: "AAAAAAAAAAAAAAAAAAAAAA==", DataFileS3Key: "AWSDynamoDB/1/data/a"},
			{ItemCount: 4, MD5Checksum: "BBBBBBBBBBBBBBBBBBBBBB==", DataFileS3Key: "AWSDynamoDB/1/data/b"},
		}}
	}
	same := base()
	same.Files[0].ETag = "ignored"
	if base().Digest() != same.Digest() {
		t.Errorf("the etag changed the digest")
	}
	for name, edit := range map[string]func(e *Export){
		"export":   func(e *Export) { e.Summary.ExportArn = "arn:x/export/2" },
		"key":      func(e *Export) { e.Files[1].DataFileS3Key = "AWSDynamoDB/1/data/c" },
		"checksum": func(e *Export) { e.Files[0].MD5Checksum = "CCCCCCCCCCCCCCCCCCCCCC==" },
		"count":    func(e *Export) { e.Files[1].ItemCount = 5 },
		"order":    func(e *Export) { e.Files[0], e.Files[1] = e.Files[1], e.Files[0] },
	} {
		e := base()
		edit(e)
		if e.Digest() == base().Digest() {
			t.Errorf("another %s gives the same digest", name)
		}
	}
}

// TestManifestCounts: a full export's manifest that lists no data file is
// refused when opened (AWS writes one per partition at least); an
// incremental one may list none. Missing says how many items the summary
// counts beyond the files' (0 without a summary count, or when the files
// list as many or more).
func TestManifestCounts(t *testing.T) {
	m := ddbtest.NewMemS3()
	put := func(key, body string) {
		m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key), Body: strings.NewReader(body)})
	}
	put("p/AWSDynamoDB/full/manifest-summary.json", `{"tableArn":"arn:x","outputFormat":"DYNAMODB_JSON","itemCount":0}`)
	put("p/AWSDynamoDB/full/manifest-files.json", "\n")
	put("p/AWSDynamoDB/inc/manifest-summary.json", `{"tableArn":"arn:x","exportType":"INCREMENTAL_EXPORT","exportFromTime":"2026-01-14T10:20:00Z","exportToTime":"2026-01-14T10:35:00Z","itemCount":0}`)
	put("p/AWSDynamoDB/inc/manifest-files.json", "")
	if _, err := Open(context.Background(), m, "s3://bkt/p/AWSDynamoDB/full/"); !usage.Is(err) || !strings.Contains(err.Error(), "manifest-files.json lists no data file") {
		t.Errorf("a full export without data files: %v; want a usage error", err)
	}
	if _, err := Open(context.Background(), m, "s3://bkt/p/AWSDynamoDB/inc/"); err != nil {
		t.Errorf("an incremental export without data files: %v", err)
	}
	files := []File{{ItemCount: 3}, {ItemCount: 4}}
	n := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		summary              *int64
		missing, sum, listed int64
	}{
		{nil, 0, 0, 7}, {n(7), 0, 0, 7}, {n(5), 0, 0, 7}, {n(10), 3, 10, 7},
	} {
		e := &Export{Files: files, summaryItemCount: tc.summary}
		if missing, sum, listed := e.Missing(); missing != tc.missing || sum != tc.sum || listed != tc.listed {
			t.Errorf("summary %v: Missing() = %d, %d, %d; want %d, %d, %d", tc.summary, missing, sum, listed, tc.missing, tc.sum, tc.listed)
		}
	}
}
