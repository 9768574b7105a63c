package ddbtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
)

// S3Putter is the S3 call WriteExport makes: an *s3.Client (moto) or a
// *MemS3.
type S3Putter interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// ExportFile is one line of a test export's manifest-files.json, written
// here independently of the reader under test.
type ExportFile struct {
	ItemCount     int64  `json:"itemCount"`
	MD5Checksum   string `json:"md5Checksum"`
	ETag          string `json:"etag"`
	DataFileS3Key string `json:"dataFileS3Key"`
}

// ExportOptions shapes a test export. The zero value makes a full export
// of 3 data files, of a table named "table".
type ExportOptions struct {
	// ID is the export id; "" derives one from the test's name.
	ID string
	// TableArn is the manifest's tableArn; "" is
	// arn:aws:dynamodb:us-east-1:123456789012:table/table.
	TableArn string
	// Files is the number of data files items are spread over (item i in
	// file i*Files/len(items)); 0 means 3. WriteExportLines ignores it.
	Files int
	// EmptyFile adds an empty (0-byte) data file with 0 items at the
	// end, as an export writes for an empty partition.
	EmptyFile bool
	// ExportType is the manifest's exportType; "" means FULL_EXPORT.
	ExportType string
	// ExportTime is the manifest's exportTime (and the window's end of an
	// incremental export); zero means 2024-01-02T03:04:05Z.
	ExportTime time.Time
	// Edit, if set, changes manifest entry i before the manifest is
	// written (to make a checksum or item count wrong).
	Edit func(i int, f *ExportFile)
	// EditSummary, if set, changes manifest-summary.json's fields before
	// it is written (to leave one out, or spell it otherwise).
	EditSummary func(summary map[string]any)
	// SharedData puts the data files in PREFIX/AWSDynamoDB/data/, the
	// folder shared by incremental exports, as AWS writes an incremental
	// export's data, instead of under the export's own directory.
	SharedData bool
}

// TestExport is what WriteExport wrote.
type TestExport struct {
	// URL is the export directory, s3://BUCKET/PREFIX/AWSDynamoDB/ID/.
	URL string
	// Bucket and Keys are the data files' bucket and object keys, in
	// manifest order.
	Bucket string
	Keys   []string
	// Items are each data file's items (WriteExport only).
	Items [][]map[string]types.AttributeValue
}

// WriteExport writes items as a full DynamoDB export (the documented
// layout: manifest-summary.json, manifest-files.json with each file's MD5
// and item count, gzip'd JSON Lines data files of {"Item":{…}}) under
// s3://bucket/prefix, spread over opts.Files data files.
func WriteExport(t testing.TB, c S3Putter, bucket, prefix string, items []map[string]types.AttributeValue, opts ExportOptions) *TestExport {
	t.Helper()
	n := opts.Files
	if n <= 0 {
		n = 3
	}
	files := make([][]string, n)
	parts := make([][]map[string]types.AttributeValue, n)
	for i, it := range items {
		f := i * n / len(items)
		data, err := ddbjson.MarshalItem(it)
		if err != nil {
			t.Fatalf("WriteExport: item %d: %v", i, err)
		}
		files[f] = append(files[f], `{"Item":`+string(data)+`}`)
		parts[f] = append(parts[f], it)
	}
	e := WriteExportLines(t, c, bucket, prefix, files, opts)
	e.Items = parts
	return e
}

// WriteExportLines writes an export whose data file i holds the lines
// files[i] (gzip'd, one line each, newline-terminated), with a manifest
// entry counting them. It serves incremental records and broken lines.
func WriteExportLines(t testing.TB, c S3Putter, bucket, prefix string, files [][]string, opts ExportOptions) *TestExport {
	t.Helper()
	if opts.ID == "" {
		sum := sha256.Sum256([]byte(t.Name()))
		opts.ID = "01700000000000-" + hex.EncodeToString(sum[:4])
	}
	w := NewExportWriter(context.Background(), c, bucket, prefix, opts)
	for _, lines := range files {
		for _, l := range lines {
			if err := w.Line(l); err != nil {
				t.Fatalf("WriteExport: %v", err)
			}
		}
		if err := w.EndFile(); err != nil {
			t.Fatalf("WriteExport: %v", err)
		}
	}
	e, err := w.Close()
	if err != nil {
		t.Fatalf("WriteExport: %v", err)
	}
	return e
}

// ExportWriter writes an export in the documented layout data file after
// data file, holding one gzip'd file in memory at a time (the benchmark's
// exports of 100,000 items and more): Line adds a line to the current data
// file, EndFile puts it with its manifest entry, Close writes the
// manifests. opts.ID must be set; Files is ignored.
type ExportWriter struct {
	ctx          context.Context
	c            S3Putter
	bucket, root string
	dir          string
	opts         ExportOptions
	manifest     bytes.Buffer
	gz           bytes.Buffer
	zw           *gzip.Writer
	lines, total int64
	size         int64
	e            *TestExport
}

// NewExportWriter starts an export under s3://bucket/prefix.
func NewExportWriter(ctx context.Context, c S3Putter, bucket, prefix string, opts ExportOptions) *ExportWriter {
	root := strings.Trim(prefix, "/")
	if root != "" {
		root += "/"
	}
	dir := root + "AWSDynamoDB/" + opts.ID + "/"
	w := &ExportWriter{ctx: ctx, c: c, bucket: bucket, root: root, dir: dir, opts: opts,
		e: &TestExport{URL: "s3://" + bucket + "/" + dir, Bucket: bucket}}
	w.zw = gzip.NewWriter(&w.gz)
	return w
}

// Line adds one line (newline-terminated) to the current data file.
func (w *ExportWriter) Line(l string) error {
	if _, err := io.WriteString(w.zw, l+"\n"); err != nil {
		return err
	}
	w.lines++
	return nil
}

// EndFile puts the current data file and its manifest entry.
func (w *ExportWriter) EndFile() error {
	if err := w.zw.Close(); err != nil {
		return err
	}
	key := fmt.Sprintf("%sdata/%04d-%s.json.gz", w.dataDir(), len(w.e.Keys), w.opts.ID)
	if err := w.put(key, w.gz.Bytes()); err != nil {
		return err
	}
	w.entry(key, w.gz.Bytes(), w.lines)
	w.size += int64(w.gz.Len())
	w.gz.Reset()
	w.zw.Reset(&w.gz)
	w.lines = 0
	return nil
}

// dataDir is the directory the data files' data/ folder is in.
func (w *ExportWriter) dataDir() string {
	if w.opts.SharedData {
		return w.root + "AWSDynamoDB/"
	}
	return w.dir
}

// Size returns the total size of the data files put so far.
func (w *ExportWriter) Size() int64 { return w.size }

func (w *ExportWriter) put(key string, body []byte) error {
	if _, err := w.c.PutObject(w.ctx, &s3.PutObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", w.bucket, key, err)
	}
	return nil
}

func (w *ExportWriter) entry(key string, body []byte, count int64) {
	sum := md5.Sum(body)
	f := ExportFile{ItemCount: count, MD5Checksum: base64.StdEncoding.EncodeToString(sum[:]), ETag: hex.EncodeToString(sum[:]), DataFileS3Key: key}
	if w.opts.Edit != nil {
		w.opts.Edit(len(w.e.Keys), &f)
	}
	line, _ := json.Marshal(f)
	w.manifest.Write(append(line, '\n'))
	w.total += count
	w.e.Keys = append(w.e.Keys, key)
}

// Close adds the empty data file of opts.EmptyFile and writes
// manifest-files.json and manifest-summary.json; the export is then
// complete.
func (w *ExportWriter) Close() (*TestExport, error) {
	if w.opts.EmptyFile {
		key := fmt.Sprintf("%sdata/%04d-%s-empty.json.gz", w.dataDir(), len(w.e.Keys), w.opts.ID)
		if err := w.put(key, nil); err != nil {
			return nil, err
		}
		w.entry(key, nil, 0)
	}
	if err := w.put(w.dir+"manifest-files.json", w.manifest.Bytes()); err != nil {
		return nil, err
	}
	typ, when := w.opts.ExportType, w.opts.ExportTime
	if typ == "" {
		typ = "FULL_EXPORT"
	}
	if when.IsZero() {
		when = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	arn := w.opts.TableArn
	if arn == "" {
		arn = "arn:aws:dynamodb:us-east-1:123456789012:table/table"
	}
	summary := map[string]any{
		"version": "2023-08-01", "exportArn": arn + "/export/" + w.opts.ID,
		"startTime": when.Format(time.RFC3339Nano), "endTime": when.Add(5 * time.Minute).Format(time.RFC3339Nano),
		"tableArn": arn, "tableId": "12345a12-abcd-123a-ab12-1234abc12345", "exportTime": when.Format(time.RFC3339Nano),
		"s3Bucket": w.bucket, "s3Prefix": strings.TrimSuffix(w.root, "/"), "s3SseAlgorithm": "AES256", "s3SseKmsKeyId": nil,
		"manifestFilesS3Key": w.dir + "manifest-files.json", "billedSizeBytes": w.size, "itemCount": w.total,
		"outputFormat": "DYNAMODB_JSON", "exportType": typ,
	}
	if typ == "INCREMENTAL_EXPORT" {
		summary["exportFromTime"] = when.Add(-time.Hour).Format(time.RFC3339Nano)
		summary["exportToTime"] = when.Format(time.RFC3339Nano)
		summary["outputView"] = "NEW_AND_OLD_IMAGES"
	}
	if w.opts.EditSummary != nil {
		w.opts.EditSummary(summary)
	}
	data, _ := json.Marshal(summary)
	if err := w.put(w.dir+"manifest-summary.json", data); err != nil {
		return nil, err
	}
	return w.e, nil
}

// S3Client returns an S3 client for the server (moto serves S3 on the same
// endpoint): path-style, static credentials, region us-east-1. An emulator
// that has gone down ends the test at once, as at Client.
func (s *Server) S3Client(t testing.TB) *s3.Client {
	t.Helper()
	if err := s.Err(); err != nil {
		t.Fatalf("%v", err)
	}
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	if hc, ok := c.Options().HTTPClient.(*http.Client); ok {
		t.Cleanup(hc.CloseIdleConnections)
	}
	return c
}

// CreateBucket creates a bucket with a name unique to the test and returns
// it.
func CreateBucket(t testing.TB, c *s3.Client) string {
	t.Helper()
	b := strings.Trim(strings.NewReplacer("_", "-", ".", "-").Replace(strings.ToLower(UniqueName(t, "b"))), "-")
	if len(b) > 63 {
		b = strings.Trim(b[len(b)-63:], "-")
	}
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatalf("create bucket %s: %v", b, err)
	}
	return b
}

// MemS3 is an in-memory S3 of objects (GetObject, PutObject and a prefix
// ListObjectsV2), for tests without an emulator. Safe for concurrent use.
type MemS3 struct {
	mu      sync.Mutex
	objects map[string][]byte // "bucket/key"
	gets    map[string]int
}

// NewMemS3 returns an empty MemS3.
func NewMemS3() *MemS3 {
	return &MemS3{objects: map[string][]byte{}, gets: map[string]int{}}
}

// PutObject stores the object.
func (m *MemS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	var data []byte
	if in.Body != nil {
		var err error
		if data, err = io.ReadAll(in.Body); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = data
	return &s3.PutObjectOutput{}, nil
}

// GetObject returns the object, or NoSuchKey.
func (m *MemS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	k := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key)
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[k]
	if !ok {
		return nil, &s3types.NoSuchKey{Message: aws.String("no object " + k)}
	}
	m.gets[k]++
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data)), ContentLength: aws.Int64(int64(len(data)))}, nil
}

// ListObjectsV2 lists the keys under Prefix (one page).
func (m *MemS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &s3.ListObjectsV2Output{}
	b := aws.ToString(in.Bucket) + "/"
	for k := range m.objects {
		if key, ok := strings.CutPrefix(k, b); ok && strings.HasPrefix(key, aws.ToString(in.Prefix)) {
			out.Contents = append(out.Contents, s3types.Object{Key: aws.String(key)})
		}
	}
	slices.SortFunc(out.Contents, func(a, b s3types.Object) int { return strings.Compare(*a.Key, *b.Key) })
	return out, nil
}

// Gets returns how many times the object was read.
func (m *MemS3) Gets(bucket, key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gets[bucket+"/"+key]
}
