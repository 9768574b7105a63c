package copier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier/checkpoint"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// exportLine is a full export's line for the item {pk: S pk, v: S v}.
func exportLine(pk, v string) string {
	return fmt.Sprintf(`{"Item":{"pk":{"S":%q},"v":{"S":%q}}}`, pk, v)
}

// exportLines returns the lines of items pk prefix+from .. prefix+to-1.
func exportLines(from, to int) []string {
	var ls []string
	for i := from; i < to; i++ {
		ls = append(ls, exportLine(fmt.Sprintf("k%03d", i), "good"))
	}
	return ls
}

// newLinesEnv is newExportEnv for an export of the given lines, with a
// main table holding the item "gone" (an extra).
func newLinesEnv(t *testing.T, files [][]string) *exportEnv {
	t.Helper()
	m := newMemAPI()
	m.create("main")
	if _, err := m.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		"main": {{PutRequest: &types.PutRequest{Item: confItem("gone", "extra")}}}}}); err != nil {
		t.Fatal(err)
	}
	s3 := ddbtest.NewMemS3()
	te := ddbtest.WriteExportLines(t, s3, "bkt", "exp", files, ddbtest.ExportOptions{TableArn: tableArn(t, m, "main")})
	return &exportEnv{api: m, s3: s3, to: "main", te: te,
		opts: Options{To: "main", FromExport: []string{te.URL}, Files: &statefile.Store{S3: s3}, PageSize: 10, Writers: 2, Segments: 1}}
}

// TestExportKeyTwiceInAFile: a key on two lines of one data file stops the
// copy with a usage error naming the file, both lines and the key, before
// the page holding the second record is written.
func TestExportKeyTwiceInAFile(t *testing.T) {
	for _, tt := range []struct {
		name         string
		lines        []string
		first, dup   int // lines, from 1
		mayBeWritten int // lines before this one may be written
	}{
		{"in one page", append(exportLines(0, 4), append([]string{exportLine("k001", "second")}, exportLines(5, 8)...)...), 2, 5, 1},
		{"across pages", append(exportLines(0, 14), append([]string{exportLine("k001", "second")}, exportLines(15, 25)...)...), 2, 15, 11},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newLinesEnv(t, [][]string{exportLines(100, 105), tt.lines})
			o := e.opts
			o.Segments = 1
			p, err := Prepare(context.Background(), e.api, o)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Run(context.Background(), e.api)
			want := fmt.Sprintf(`export file %s: the key {"pk":{"S":"k001"}} is on lines %d and %d: a key twice in a full export is refused`,
				"s3://bkt/"+e.te.Keys[1], tt.first, tt.dup)
			if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("the items read before line %d may already be written", tt.dup)) {
				t.Fatalf("Run = %v; want a usage error saying %q", err, want)
			}
			got := e.main()
			for n := tt.mayBeWritten; n <= len(tt.lines); n++ {
				k := fmt.Sprintf(`{"pk":{"S":"k%03d"}}`, n-1)
				if n == tt.dup {
					k = `{"pk":{"S":"k001"}}`
					if it, ok := got[k]; ok && it["v"].(*types.AttributeValueMemberS).Value == "second" {
						t.Errorf("the second record of k001 (line %d) was written", n)
					}
					continue
				}
				if _, ok := got[k]; ok {
					t.Errorf("line %d (%s), in or after the page of the second record, was written", n, k)
				}
			}
		})
	}
}

// TestExportKeyInTwoFiles: where the export's key index is built (diff,
// --delete-extra, a keys file), a key in two data files is refused with a
// usage error naming both files, lines and the key; no extra is deleted.
func TestExportKeyInTwoFiles(t *testing.T) {
	files := [][]string{exportLines(0, 5), append(exportLines(5, 7), append([]string{exportLine("k002", "again")}, exportLines(7, 10)...)...)}
	kf := filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(kf, []byte(`{"pk":{"S":"k002"}}`+"\n"+`{"pk":{"S":"k007"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		run  func(e *exportEnv) error
	}{
		{"diff", func(e *exportEnv) error {
			p, err := PrepareDiff(context.Background(), e.api, DiffOptions{Options: e.opts})
			if err != nil {
				return err
			}
			_, err = p.Diff(context.Background(), e.api, 0)
			return err
		}},
		{"delete-extra", func(e *exportEnv) error {
			o := e.opts
			o.DeleteExtra = true
			p, err := Prepare(context.Background(), e.api, o)
			if err != nil {
				return err
			}
			_, err = p.Run(context.Background(), e.api)
			return err
		}},
		{"keys file", func(e *exportEnv) error {
			o := e.opts
			o.Selection.KeysFile, o.DeleteExtra = kf, true
			p, err := Prepare(context.Background(), e.api, o)
			if err != nil {
				return err
			}
			_, err = p.Run(context.Background(), e.api)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newLinesEnv(t, files)
			err := tt.run(e)
			want := fmt.Sprintf(`has the key {"pk":{"S":"k002"}} twice, in s3://bkt/%s:3 and s3://bkt/%s:3: a key twice in a full export is refused`, e.te.Keys[0], e.te.Keys[1])
			if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v; want a usage error saying %q", err, want)
			}
			if _, ok := e.main()[`{"pk":{"S":"gone"}}`]; !ok {
				t.Errorf("the extra was deleted")
			}
		})
	}
}

// TestExportResumeRereadIsNotADuplicate: a resumed --delete-extra copy
// reads a file from the middle, then again whole for the key index: the
// same file read twice is not a key twice.
func TestExportResumeRereadIsNotADuplicate(t *testing.T) {
	e := newLinesEnv(t, [][]string{exportLines(0, 10), exportLines(10, 20), exportLines(20, 30)})
	o := e.opts
	o.DeleteExtra = true
	o.Checkpoint = filepath.Join(t.TempDir(), "cp.json")
	p, err := Prepare(context.Background(), e.api, o)
	if err != nil {
		t.Fatal(err)
	}
	st := p.state
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
	if _, err := p.Run(context.Background(), e.api); err != nil {
		t.Fatalf("Run = %v; want the resumed copy to finish", err)
	}
	if e.s3.Gets("bkt", e.te.Keys[1]) != 2 {
		t.Errorf("file 1 was read %d times, want twice (from line 4, then whole for the index)", e.s3.Gets("bkt", e.te.Keys[1]))
	}
	got := e.main()
	if _, ok := got[`{"pk":{"S":"gone"}}`]; ok {
		t.Errorf("the extra was not deleted")
	}
	if len(got) != 26 {
		t.Errorf("main holds %d items, want 26 (the checkpoint skips lines 1-4 of file 1)", len(got))
	}
}
