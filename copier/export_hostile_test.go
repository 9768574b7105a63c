package copier

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// incLine is an incremental export's record of key pk changed from old to
// new (values of v; "" leaves that image out).
func incLine(pk, old, new string) string {
	img := func(name, v string) string {
		if v == "" {
			return ""
		}
		return fmt.Sprintf(`,%q:{"pk":{"S":%q},"v":{"S":%q}}`, name, pk, v)
	}
	return fmt.Sprintf(`{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"S":%q}}%s%s}`, pk, img("OldImage", old), img("NewImage", new))
}

// TestHostileExportsRefusedBeforeAnyWrite: exports that list a data file
// twice in their manifest, or (incremental) one key twice, are refused as
// bad input (exit 2) naming the export and where, before anything is
// written — a plain copy, a worker's copy and a rewind alike. On the code
// before, the full export's copy wrote every item and then refused with
// the same file:line named twice (and a worker split wrote without
// refusing); the incremental one failed with exit 1, naming the export by
// its number.
func TestHostileExportsRefusedBeforeAnyWrite(t *testing.T) {
	tests := []struct {
		name   string
		files  [][]string
		inc    bool
		worker bool
		edit   func(i int, f *ddbtest.ExportFile, first *ddbtest.ExportFile)
		want   string
	}{
		{name: "full: a data file listed twice", files: [][]string{{confLine("k000"), confLine("k001")}, {confLine("k002")}},
			edit: sameFileTwice, want: "names the data file of line 1 again"},
		{name: "full, worker 1 of 2: a data file listed twice", files: [][]string{{confLine("k000"), confLine("k001")}, {confLine("k002")}},
			worker: true, edit: sameFileTwice, want: "names the data file of line 1 again"},
		{name: "incremental: a data file listed twice", inc: true, files: [][]string{{incLine("k000", "old", "good")}, {incLine("k001", "old", "good")}},
			edit: sameFileTwice, want: "names the data file of line 1 again"},
		{name: "incremental: a key in two files", inc: true, files: [][]string{{incLine("k000", "old", "good"), incLine("k001", "old", "good")}, {incLine("k000", "good", "x")}},
			want: `lists the key {"pk":{"S":"k000"}} twice (at s3://bkt/inc/AWSDynamoDB/`},
		{name: "incremental: a key twice in a file", inc: true, files: [][]string{{incLine("k000", "old", "good"), incLine("k001", "old", "good"), incLine("k000", "old", "good")}},
			want: `.json.gz:3): an incremental export lists each changed key once`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExportEnv(t, confItems(1), ddbtest.ExportOptions{})
			now := confItem("k000", "now")
			e.api.tables["main"][ddbjson.KeyString(keyOf(now, memKey))] = now
			before := e.main()
			eo := ddbtest.ExportOptions{TableArn: tableArn(t, e.api, "main")}
			if tt.inc {
				eo.ExportType = "INCREMENTAL_EXPORT"
			}
			if tt.edit != nil {
				var first ddbtest.ExportFile
				eo.Edit = func(i int, f *ddbtest.ExportFile) { tt.edit(i, f, &first) }
			}
			te := ddbtest.WriteExportLines(t, e.s3, "bkt", "inc", tt.files, eo)
			o := e.opts
			o.FromExport = []string{te.URL}
			if tt.inc {
				o.OverwriteConflicts = true
			}
			if tt.worker {
				o.WorkerIndex, o.WorkerCount = 1, 2
			}
			p, err := Prepare(context.Background(), e.api, o)
			if err == nil {
				_, err = p.Run(context.Background(), e.api)
			}
			if !usage.Is(err) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), te.URL) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v; want one line, a usage error (exit 2) naming %s and saying %q", err, te.URL, tt.want)
			}
			assertItems(t, "after the refusal", before, e.main())
		})
	}
}

// confLine is a full export's record of confItem(pk, "good").
func confLine(pk string) string {
	return fmt.Sprintf(`{"Item":{"pk":{"S":%q},"v":{"S":"good"},"n":{"N":"12345678901234567890123456789012345678"},"b":{"BS":["AAE=","/w=="]}}}`, pk)
}

// sameFileTwice makes manifest entry 1 name the data file of entry 0 (its
// checksum and count too, so that the file verifies).
func sameFileTwice(i int, f, first *ddbtest.ExportFile) {
	if i == 0 {
		*first = *f
		return
	}
	*f = *first
}
