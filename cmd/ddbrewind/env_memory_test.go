package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestContainerMemoryLimit: a container's memory limit (cgroup v2, else
// v1) becomes memoryShare of it; none, "max" or v1's unlimited give 0.
func TestContainerMemoryLimit(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name  string
		files map[string]string
		want  int64
	}{
		{"cgroup v2", map[string]string{"/sys/fs/cgroup/memory.max": "2147483648\n"}, shareOf(2 * gib)},
		{"cgroup v2 without a limit", map[string]string{"/sys/fs/cgroup/memory.max": "max\n"}, 0},
		{"cgroup v1", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824"}, shareOf(gib)},
		{"cgroup v1 unlimited", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712"}, 0},
		{"no cgroup", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := func(name string) ([]byte, error) {
				if s, ok := tt.files[name]; ok {
					return []byte(s), nil
				}
				return nil, fs.ErrNotExist
			}
			if got := containerMemoryLimit(read); got != tt.want {
				t.Errorf("containerMemoryLimit = %d, want %d", got, tt.want)
			}
		})
	}
}

func shareOf(n int64) int64 { return int64(float64(n) * memoryShare) }

// TestWindowOverTheMemoryLimit: the real binary under GOMEMLIMIT refuses a
// rewind whose exports list more changed keys than the limit holds (exit
// 2, one line saying how to select fewer), before anything is written.
func TestWindowOverTheMemoryLimit(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf(`{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":"k%03d"}},"OldImage":{"pk":{"S":"k%03d"},"v":{"S":"old"}}}`, i, i))
	}
	te := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "inc", [][]string{lines}, ddbtest.ExportOptions{ExportType: "INCREMENTAL_EXPORT", TableArn: s.arn})
	cmd := binaryCommand(t, "copy", "--endpoint-url", s.ddb.Endpoint, "--from-export", te.URL, "--to", s.table, "--yes")
	cmd.Env = append(os.Environ(), "GOMEMLIMIT=2MiB", "AWS_ENDPOINT_URL_S3="+s.s3.Endpoint, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "the exports list 300 changed keys") || !strings.Contains(stderr.String(), "memory limit of 2 MiB") {
		t.Fatalf("exit %v, want 2 saying the window is over the memory limit:\n%s", err, stderr.String())
	}
	t.Logf("refused: %s", strings.TrimSpace(stderr.String()))
	if got := ddbtest.ScanAll(t, s.c, s.table); len(got) != 0 {
		t.Errorf("the refused rewind wrote %d items", len(got))
	}
}
