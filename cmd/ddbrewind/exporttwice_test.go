package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestCopyFromExportKeyInTwoFiles: a plain copy from a full export (no
// --delete-extra, no keys file) whose key {a, 7} is in two data files
// (spelled 7 and 7.0) exits 2 naming both places, file:line, and saying
// what is written stays written; a dry run reports it too; a worker of a
// split copy finds it among its own files; a rerun is refused again, even
// from a checkpoint whose files are all done.
func TestCopyFromExportKeyInTwoFiles(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, mixedSpec)
	line := func(pk, sk, v string) string {
		return fmt.Sprintf(`{"Item":{"pk":{"S":%q},"sk":{"N":%q},"v":{"S":%q}}}`, pk, sk, v)
	}
	te := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "twofiles",
		[][]string{{line("b", "1", "x"), line("a", "7", "first")}, {line("c", "2", "y")}, {line("d", "3", "z"), line("a", "7.0", "second")}},
		ddbtest.ExportOptions{TableArn: s.arn})
	want := fmt.Sprintf(`has the key {"pk":{"S":"a"},"sk":{"N":"7"}} twice, in s3://%s/%s:2 and s3://%s/%s:2: a key twice in a full export is refused (one version would win at random)`,
		s.bucket, te.Keys[0], s.bucket, te.Keys[2])
	written := "the copy phase has written the export's items, one of the key's versions among them, and nothing is deleted (with --journal, undo puts them back)"
	for _, tt := range []struct {
		name    string
		args    []string
		written bool
	}{
		{"copy", []string{"--segments", "2"}, true},
		{"dry run", []string{"--dry-run"}, false},
		{"worker 0 of 2 (files 0 and 2)", []string{"--worker-count", "2", "--worker-index", "0"}, true},
		{"with a checkpoint, run twice", []string{"--checkpoint", filepath.Join(t.TempDir(), "cp.json")}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Twice: a rerun (from the checkpoint, whose files are all
			// done) is refused again, not "complete".
			for range 2 {
				r := s.run(t, append([]string{"copy", "--from-export", te.URL, "--to", s.table, "--yes"}, tt.args...)...)
				last := lastLine(r.stderr)
				if r.code != 2 || !strings.Contains(last, want) || strings.Contains(last, written) != tt.written {
					t.Fatalf("exit %d %q, want 2 saying %q (and, if it writes, %q)", r.code, last, want, written)
				}
			}
		})
	}
}
