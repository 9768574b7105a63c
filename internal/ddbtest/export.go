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
	ctx := context.Background()
	id := opts.ID
	if id == "" {
		sum := sha256.Sum256([]byte(t.Name()))
		id = "01700000000000-" + hex.EncodeToString(sum[:4])
	}
	root := strings.Trim(prefix, "/")
	if root != "" {
		root += "/"
	}
	dir := root + "AWSDynamoDB/" + id + "/"
	put := func(key string, body []byte) {
		t.Helper()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("WriteExport: put s3://%s/%s: %v", bucket, key, err)
		}
	}
	e := &TestExport{URL: "s3://" + bucket + "/" + dir, Bucket: bucket}
	var manifest bytes.Buffer
	var total int64
	entry := func(i int, key string, body []byte, count int64) {
		sum := md5.Sum(body)
		f := ExportFile{ItemCount: count, MD5Checksum: base64.StdEncoding.EncodeToString(sum[:]), ETag: hex.EncodeToString(sum[:]), DataFileS3Key: key}
		if opts.Edit != nil {
			opts.Edit(i, &f)
		}
		line, _ := json.Marshal(f)
		manifest.Write(append(line, '\n'))
		total += count
		e.Keys = append(e.Keys, key)
	}
	for i, lines := range files {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		for _, l := range lines {
			io.WriteString(w, l+"\n")
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%sdata/%04d-%s.json.gz", dir, i, id)
		put(key, gz.Bytes())
		entry(i, key, gz.Bytes(), int64(len(lines)))
	}
	if opts.EmptyFile {
		key := fmt.Sprintf("%sdata/%04d-%s-empty.json.gz", dir, len(files), id)
		put(key, nil)
		entry(len(files), key, nil, 0)
	}
	put(dir+"manifest-files.json", manifest.Bytes())

	typ, when := opts.ExportType, opts.ExportTime
	if typ == "" {
		typ = "FULL_EXPORT"
	}
	if when.IsZero() {
		when = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	}
	arn := opts.TableArn
	if arn == "" {
		arn = "arn:aws:dynamodb:us-east-1:123456789012:table/table"
	}
	summary := map[string]any{
		"version": "2023-08-01", "exportArn": arn + "/export/" + id,
		"startTime": when.Format(time.RFC3339Nano), "endTime": when.Add(5 * time.Minute).Format(time.RFC3339Nano),
		"tableArn": arn, "tableId": "12345a12-abcd-123a-ab12-1234abc12345", "exportTime": when.Format(time.RFC3339Nano),
		"s3Bucket": bucket, "s3Prefix": strings.TrimSuffix(root, "/"), "s3SseAlgorithm": "AES256", "s3SseKmsKeyId": nil,
		"manifestFilesS3Key": dir + "manifest-files.json", "billedSizeBytes": 1234, "itemCount": total,
		"outputFormat": "DYNAMODB_JSON", "exportType": typ,
	}
	if typ == "INCREMENTAL_EXPORT" {
		summary["exportFromTime"] = when.Add(-time.Hour).Format(time.RFC3339Nano)
		summary["exportToTime"] = when.Format(time.RFC3339Nano)
		summary["outputView"] = "NEW_AND_OLD_IMAGES"
	}
	data, _ := json.Marshal(summary)
	put(dir+"manifest-summary.json", data)
	return e
}

// S3Client returns an S3 client for the server (moto serves S3 on the same
// endpoint): path-style, static credentials, region us-east-1.
func (s *Server) S3Client(t testing.TB) *s3.Client {
	t.Helper()
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
