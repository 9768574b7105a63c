package copier

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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

// TestWindowExportsRefused: incremental exports that cannot make one window
// of the main table are refused (exit 2) before any data file is read —
// given out of time order or with a gap, of another table than --to's, of
// two tables (even with --allow-other-table, which lets the window be
// another table's, not two tables'), or listing more changed keys than
// the memory limit holds by their data files' counts while the summary
// says 0, or whose files manifest lists fewer keys than the summary
// counts (truncated) — and a record whose Keys are not the table's key is refused
// naming its file and line, selected or not. On the code before, the
// copier's tests caught none of these but the first (the time order was
// only checked by the command's tests), and the two tables and the
// summary of 0 were accepted.
func TestWindowExportsRefused(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	good := [][]string{{incLine("k000", "old", "good")}}
	type exp struct {
		at    time.Duration // the window's end, after t0 (it lasts an hour)
		table string        // "" is main
		files [][]string
		edit  func(s map[string]any)
	}
	tests := []struct {
		name    string
		exports []exp
		opts    func(o *Options)
		want    string
		read    bool // a data file may have been read
	}{
		{name: "out of time order", exports: []exp{{at: 2 * time.Hour, files: good}, {at: time.Hour, files: good}}, want: "starts at 2026-11-30T10:00:00Z, not where"},
		{name: "a gap", exports: []exp{{at: time.Hour, files: good}, {at: 3 * time.Hour, files: good}}, want: "give incremental exports in time order, without gaps"},
		{name: "another table", exports: []exp{{at: time.Hour, table: "other", files: good}}, want: "table/other, not of --to's table"},
		{name: "two tables, --allow-other-table", exports: []exp{{at: time.Hour, table: "other", files: good}, {at: 2 * time.Hour, table: "third", files: good}},
			opts: func(o *Options) { o.AllowOtherTable = true }, want: "give incremental exports of one table"},
		{name: "two tables, the first main's, --allow-other-table", exports: []exp{{at: time.Hour, files: good}, {at: 2 * time.Hour, table: "other", files: good}},
			opts: func(o *Options) { o.AllowOtherTable = true }, want: "give incremental exports of one table"},
		{name: "a summary of 0 changed keys over the memory limit", exports: []exp{{at: time.Hour, files: [][]string{{incLine("k000", "old", "good"), incLine("k001", "old", "good"), incLine("k002", "old", "good")}},
			edit: func(s map[string]any) { s["itemCount"] = 0 }}},
			opts: func(o *Options) { o.MemoryLimit = 2 * windowBytesPerKey }, want: "the exports list 3 changed keys"},
		{name: "a files manifest listing fewer keys than the summary", exports: []exp{{at: time.Hour, files: good, edit: func(s map[string]any) { s["itemCount"] = 2 }}},
			want: "says it holds 2 changed keys (manifest-summary.json) but its manifest-files.json lists 1: the keys of the data files it leaves out would not be rewound"},
		{name: "a record's Keys of another type, not selected", exports: []exp{{at: time.Hour, files: [][]string{{incLine("k000", "old", "good"),
			`{"Metadata":{"WriteTimestampMicros":{"N":"1"}},"Keys":{"pk":{"N":"7"}},"NewImage":{"pk":{"N":"7"}}}`}}}},
			opts: func(o *Options) {
				o.Selection = Selection{KeyCondition: "pk = :p", Values: map[string]types.AttributeValue{":p": vS("k000")}}
			},
			want: `.json.gz:2: Keys: key attribute "pk" has type N, the table says S`, read: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newExportEnv(t, confItems(1), ddbtest.ExportOptions{})
			now := confItem("k000", "good")
			e.api.tables["main"][ddbjson.KeyString(keyOf(now, memKey))] = now
			before := e.main()
			o := e.opts
			o.FromExport = nil
			var data []string
			for i, x := range tt.exports {
				arn := tableArn(t, e.api, "main")
				if x.table != "" {
					arn = strings.Replace(arn, "table/main", "table/"+x.table, 1)
				}
				te := ddbtest.WriteExportLines(t, e.s3, "bkt", "inc", x.files, ddbtest.ExportOptions{ID: fmt.Sprintf("01700000000000-0000%04d", i),
					ExportType: "INCREMENTAL_EXPORT", TableArn: arn, ExportTime: t0.Add(x.at), EditSummary: x.edit})
				o.FromExport = append(o.FromExport, te.URL)
				data = append(data, te.Keys...)
			}
			o.OverwriteConflicts = true
			if tt.opts != nil {
				tt.opts(&o)
			}
			p, err := Prepare(context.Background(), e.api, o)
			if err == nil {
				_, err = p.Run(context.Background(), e.api)
			}
			if !usage.Is(err) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v; want one line, a usage error (exit 2) saying %q", err, tt.want)
			}
			for _, k := range data {
				if n := e.s3.Gets("bkt", k); n > 0 && !tt.read {
					t.Errorf("the data file %s was read before the refusal", k)
				}
			}
			assertItems(t, "after the refusal", before, e.main())
		})
	}
}

// TestFullExportItemOfAnotherKeySchema: a full export's item whose key
// attribute has another type than the table's (or lacks it) stops the
// copy naming the file and line, before the page holding it is written.
func TestFullExportItemOfAnotherKeySchema(t *testing.T) {
	for _, bad := range []string{`{"Item":{"pk":{"N":"7"},"v":{"S":"x"}}}`, `{"Item":{"id":{"S":"7"},"v":{"S":"x"}}}`} {
		lines := append(exportLines(0, 3), bad)
		e := newLinesEnv(t, [][]string{lines})
		before := e.main()
		p, err := Prepare(context.Background(), e.api, e.opts)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Run(context.Background(), e.api)
		if err == nil || !strings.Contains(err.Error(), "s3://bkt/"+e.te.Keys[0]+":4: ") || !strings.Contains(err.Error(), "another key schema") {
			t.Fatalf("%s: %v; want an error naming line 4 and another key schema", bad, err)
		}
		assertItems(t, "after the refusal", before, e.main())
	}
}

// TestFileKeysNumbersByValue: the check for a key twice compares numbers
// as DynamoDB does: {"N":"10.10"}, {"N":"10.1"}, {"N":"1.01E1"} and {"N":"010.1000"} are
// one key; 10.1 and 10.2 are two.
func TestFileKeysNumbersByValue(t *testing.T) {
	seeds := newDupSeeds()
	item := func(n string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": vS("a"), "sk": &types.AttributeValueMemberN{Value: n}, "v": vS(n)}
	}
	f := newFileKeys(seeds, []string{"pk", "sk"}, 4)
	if f.add(item("10.1"), 1) != 0 || f.add(item("10.2"), 2) != 0 {
		t.Fatal("two different keys taken for one")
	}
	for _, n := range []string{"10.10", "1.01E1", "010.1000"} {
		if first := f.add(item(n), 3); first != 1 {
			t.Errorf("%s after 10.1: first line %d, want 1", n, first)
		}
	}
}

// TestExportIndexReadsEachFileOnce: a copy with --delete-extra builds the
// export's key index while it copies, so each data file is downloaded
// once (not once more, keys only, before the delete phase).
func TestExportIndexReadsEachFileOnce(t *testing.T) {
	e := newExportEnv(t, confItems(30), ddbtest.ExportOptions{Files: 3})
	o := e.opts
	o.DeleteExtra = true
	p, err := Prepare(context.Background(), e.api, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(context.Background(), e.api); err != nil {
		t.Fatal(err)
	}
	for _, k := range e.te.Keys {
		if n := e.s3.Gets("bkt", k); n != 1 {
			t.Errorf("%s downloaded %d times, want once", k, n)
		}
	}
}

// TestDeleteExtraRefusesAShortManifest: a copy with --delete-extra deletes
// the main items the export lacks, so an export whose manifest-files.json
// lists fewer items than its summary says (truncated or edited: here its
// last line is gone) — or no data file at all — is refused (exit 2) before
// anything is written or deleted; without --delete-extra the copy of the
// files listed goes on. On the code before, both deleted the main items
// of the files not listed (every item, for no data file).
func TestDeleteExtraRefusesAShortManifest(t *testing.T) {
	for _, tc := range []struct {
		name  string
		keep  int // manifest lines kept
		extra bool
		want  string
	}{
		{"a line gone, --delete-extra", 2, true, "says it holds 30 items (manifest-summary.json) but its manifest-files.json lists 20"},
		{"no data file, --delete-extra", 0, true, "lists no data file: a full export has at least one per partition"},
		{"no data file", 0, false, "lists no data file"},
		{"a line gone", 2, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := confItems(30)
			e := newExportEnv(t, items, ddbtest.ExportOptions{Files: 3})
			for _, it := range items {
				e.api.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = confItem(it["pk"].(*types.AttributeValueMemberS).Value, "now")
			}
			dir := strings.TrimPrefix(e.te.URL, "s3://bkt/")
			out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(dir + "manifest-files.json")})
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(out.Body)
			lines := strings.SplitAfter(strings.TrimSpace(string(data)), "\n")
			e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(dir + "manifest-files.json"),
				Body: strings.NewReader(strings.Join(lines[:tc.keep], ""))})
			before := e.main()
			o := e.opts
			o.DeleteExtra = tc.extra
			p, err := Prepare(context.Background(), e.api, o)
			if err == nil {
				_, err = p.Run(context.Background(), e.api)
			}
			if tc.want == "" {
				if err != nil {
					t.Fatalf("copy: %v", err)
				}
				if n := len(e.main()); n != 30 {
					t.Errorf("the main table holds %d items after the copy, want 30", n)
				}
				return
			}
			if !usage.Is(err) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v; want one line, a usage error (exit 2) saying %q", err, tc.want)
			}
			assertItems(t, "after the refusal", before, e.main())
			for _, k := range e.te.Keys {
				if e.s3.Gets("bkt", k) != 0 {
					t.Errorf("the data file %s was read before the refusal", k)
				}
			}
		})
	}
}
