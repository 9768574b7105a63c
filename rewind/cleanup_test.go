package rewind

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// bucketS3 is one in-memory bucket's objects (Get, Put, List, Delete),
// for the cleanup's tests.
type bucketS3 struct {
	mu      sync.Mutex
	objects map[string][]byte // "bucket/key"
}

func (m *bucketS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	var data []byte
	if in.Body != nil {
		data, _ = io.ReadAll(in.Body)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = data
	return &s3.PutObjectOutput{}, nil
}

func (m *bucketS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, &s3types.NoSuchKey{Message: aws.String("no such key")}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data))}, nil
}

func (m *bucketS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out := &s3.ListObjectsV2Output{}
	for _, k := range m.keys(aws.ToString(in.Bucket) + "/" + aws.ToString(in.Prefix)) {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(strings.TrimPrefix(k, aws.ToString(in.Bucket)+"/"))})
	}
	return out, nil
}

func (m *bucketS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

// keys lists the "bucket/key" names under prefix, sorted.
func (m *bucketS3) keys(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ks []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

// TestCleanupDeletesSharedDataFiles: AWS writes an incremental export's
// data files to PREFIX/AWSDynamoDB/data/, shared by the exports to PREFIX,
// not under the export's directory: the cleanup deletes those its
// manifest lists too — and only those (another export's files in the
// folder stay) — and a rerun after a cleanup killed at any point, the
// manifests gone or not, finishes it. On the code before, the listing of
// the export's directory left every data file behind.
func TestCleanupDeletesSharedDataFiles(t *testing.T) {
	for _, killedAfter := range []string{"", "shared data files", "manifest-files.json"} {
		t.Run("killed after "+killedAfter, func(t *testing.T) {
			m := &bucketS3{objects: map[string][]byte{}}
			rec := `{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"a"}},"NewImage":{"pk":{"S":"a"}}}`
			mine := ddbtest.WriteExportLines(t, m, "b", "p/ddbrewind-rewind-x", [][]string{{rec}, {rec}},
				ddbtest.ExportOptions{ID: "01700000000000-aaaa0001", ExportType: "INCREMENTAL_EXPORT", SharedData: true, EmptyFile: true})
			other := ddbtest.WriteExportLines(t, m, "b", "p/ddbrewind-rewind-x", [][]string{{rec}},
				ddbtest.ExportOptions{ID: "01700000000000-bbbb0002", ExportType: "INCREMENTAL_EXPORT", SharedData: true})
			m.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("p/unrelated.txt"), Body: strings.NewReader("x")})
			keep := append(m.keys("b/p/ddbrewind-rewind-x/AWSDynamoDB/01700000000000-bbbb0002/"), "b/"+other.Keys[0], "b/p/unrelated.txt")
			if len(mine.Keys) != 3 || !strings.Contains(mine.Keys[0], "/AWSDynamoDB/data/") {
				t.Fatalf("the export's data files are %v, want 3 in the shared data folder", mine.Keys)
			}
			switch killedAfter {
			case "manifest-files.json":
				m.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("p/ddbrewind-rewind-x/AWSDynamoDB/01700000000000-aaaa0001/manifest-files.json")})
				fallthrough
			case "shared data files":
				for _, k := range mine.Keys {
					m.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String(k)})
				}
			}
			o := Options{S3: m, Files: &statefile.Store{S3: m}, Logger: slog.New(slog.DiscardHandler)}
			st := &State{WindowState: WindowState{ExportDirs: []string{mine.URL}, Bucket: "b"}}
			for run := range 2 {
				if err := deleteExports(context.Background(), o, st); err != nil {
					t.Fatalf("cleanup run %d: %v", run+1, err)
				}
				if got := m.keys("b/"); !slices.Equal(got, sorted(keep)) {
					t.Fatalf("after cleanup run %d the bucket holds\n%s\nwant\n%s", run+1, strings.Join(got, "\n"), strings.Join(sorted(keep), "\n"))
				}
			}
		})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
