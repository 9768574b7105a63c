package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/copier"
	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestCopyFromIncrementalExports rewinds a table from two incremental
// exports forming one window (S3 on moto, the table on dynalite): the
// keys the window changed go back to their state at its start, items it
// created are deleted (--delete-extra), items written again after it are
// conflicts — left alone, listed, exit 3 — until --overwrite-conflicts;
// the journal undoes it; keys the window did not change are not touched.
func TestCopyFromIncrementalExports(t *testing.T) {
	t.Parallel()
	s := newExportSetup(t, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})
	item := func(pk, v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: v},
			"n": &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"}, "b": &types.AttributeValueMemberBS{Value: [][]byte{{0}, {0xff}}}}
	}
	enc := func(it map[string]types.AttributeValue) string {
		data, err := ddbjson.MarshalItem(it)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	rec := func(pk string, old, new map[string]types.AttributeValue) string {
		line := fmt.Sprintf(`{"Metadata":{"WriteTimestampMicros":{"N":"1700000000000000"}},"Keys":{"pk":{"S":%q}}`, pk)
		if old != nil {
			line += `,"OldImage":` + enc(old)
		}
		if new != nil {
			line += `,"NewImage":` + enc(new)
		}
		return line + "}"
	}
	// Window start: a0-a9 "start", plus untouched u0-u9. Export 1: a0-a4
	// changed to "bad", b0-b1 created; export 2: a0-a1 changed again, a9
	// deleted. After the window: a3 written again (a conflict).
	var e1, e2 []string
	for i := range 5 {
		pk := fmt.Sprintf("a%d", i)
		e1 = append(e1, rec(pk, item(pk, "start"), item(pk, "bad")))
	}
	e1 = append(e1, rec("b0", nil, item("b0", "new")), rec("b1", nil, item("b1", "new")))
	e2 = append(e2, rec("a0", item("a0", "bad"), item("a0", "worse")), rec("a1", item("a1", "bad"), item("a1", "worse")),
		rec("a9", item("a9", "start"), nil))
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	x1 := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "inc", [][]string{e1[:3], e1[3:]}, ddbtest.ExportOptions{ID: "01700000000000-aaaa0001", TableArn: s.arn, ExportType: "INCREMENTAL_EXPORT", ExportTime: t0})
	x2 := ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, "inc", [][]string{e2}, ddbtest.ExportOptions{ID: "01700000000000-aaaa0002", TableArn: s.arn, ExportType: "INCREMENTAL_EXPORT", ExportTime: t0.Add(time.Hour)})

	var now []map[string]types.AttributeValue
	for i := range 10 {
		pk := fmt.Sprintf("a%d", i)
		switch {
		case i < 2:
			now = append(now, item(pk, "worse"))
		case i == 3:
			now = append(now, item(pk, "written after the window"))
		case i < 5:
			now = append(now, item(pk, "bad"))
		case i < 9:
			now = append(now, item(pk, "start"))
		}
		now = append(now, item(fmt.Sprintf("u%d", i), "untouched"))
	}
	now = append(now, item("b0", "new"), item("b1", "new"))
	ddbtest.PutItems(t, s.c, s.table, now)
	before := ddbtest.ScanAll(t, s.c, s.table)
	journal := filepath.Join(t.TempDir(), "journal.jsonl")

	// diff first: the window's start state against main, and what a rewind would do.
	r := s.run(t, "diff", "--from-export", x1.URL, "--from-export", x2.URL, "--to", s.table, "-o", "json")
	var d struct {
		Identical, Different int64
		MissingInMain        int64 `json:"missing_in_main"`
		ExtraInMain          int64 `json:"extra_in_main"`
		Window               struct {
			copier.WindowDiff
			ConflictKeys []json.RawMessage `json:"conflict_keys"`
		} `json:"window"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); r.code != 3 || err != nil {
		t.Fatalf("diff of the window: exit %d, %v: %s", r.code, err, r.stdout)
	}
	w := d.Window
	if d.Identical != 0 || d.Different != 5 || d.MissingInMain != 1 || d.ExtraInMain != 2 ||
		w.ChangedKeys != 8 || w.WouldRewind != 5 || w.WouldDelete != 2 || w.Conflicts != 1 ||
		len(w.ConflictKeys) != 1 || strings.Join(strings.Fields(string(w.ConflictKeys[0])), "") != `{"pk":{"S":"a3"}}` {
		t.Errorf("diff of the window: %+v, want 5 different (a3 a conflict), 1 missing, 2 extra; rewind 5, delete 2", d)
	}
	if got := ddbtest.ScanAll(t, s.c, s.table); len(got) != len(before) {
		t.Fatalf("diff wrote into the table")
	}

	r = s.run(t, "copy", "--from-export", x1.URL, "--from-export", x2.URL, "--to", s.table, "--yes", "--delete-extra", "--journal", journal)
	if r.code != 3 || !strings.Contains(r.stderr, `conflicts=1`) || !strings.Contains(r.stderr, `{\"pk\":{\"S\":\"a3\"}}`) {
		t.Fatalf("exit %d, want 3 naming the conflict a3", r.code)
	}
	want := map[string]map[string]types.AttributeValue{}
	for k, it := range before {
		want[k] = it
	}
	for _, pk := range []string{"a0", "a1", "a2", "a4", "a9"} {
		want[ddbtest.KeyOf(item(pk, ""), "pk")] = item(pk, "start")
	}
	delete(want, ddbtest.KeyOf(item("b0", ""), "pk"))
	delete(want, ddbtest.KeyOf(item("b1", ""), "pk"))
	assertSame(t, "after the rewind", want, ddbtest.ScanAll(t, s.c, s.table))
	if got := summaryCount(t, r.stderr, "read"); got != 8 {
		t.Errorf("read=%d, want the 8 keys the window changed", got)
	}

	// --accept-conflicts: the same rewind again finishes, the conflict
	// left alone and listed in the report; with --overwrite-conflicts it
	// is refused.
	report := filepath.Join(t.TempDir(), "report.json")
	r = s.run(t, "copy", "--from-export", x1.URL, "--from-export", x2.URL, "--to", s.table, "--yes", "--delete-extra", "--accept-conflicts", "--report", report)
	if data, _ := os.ReadFile(report); r.code != 0 || !strings.Contains(string(data), `"conflicts": [`) || !strings.Contains(string(data), `a3`) || !strings.Contains(string(data), `"conflicts_accepted": true`) {
		t.Fatalf("--accept-conflicts: exit %d, report %s; want 0 with a3 listed", r.code, data)
	}
	assertSame(t, "after --accept-conflicts", want, ddbtest.ScanAll(t, s.c, s.table))
	r = s.run(t, "copy", "--from-export", x1.URL, "--from-export", x2.URL, "--to", s.table, "--yes", "--accept-conflicts", "--overwrite-conflicts")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "give one of them") {
		t.Errorf("--accept-conflicts with --overwrite-conflicts: exit %d, %q; want 2", r.code, lastLine(r.stderr))
	}
	r = s.run(t, "copy", "--from-export", x1.URL, "--from-export", x2.URL, "--to", s.table, "--yes", "--overwrite-conflicts-keys", filepath.Join(t.TempDir(), "none.jsonl"))
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "--overwrite-conflicts-keys") {
		t.Errorf("--overwrite-conflicts-keys of a missing file: exit %d, %q; want 2", r.code, lastLine(r.stderr))
	}

	r = s.run(t, "copy", "--from-export", x1.URL, "--from-export", x2.URL, "--to", s.table, "--yes", "--delete-extra", "--overwrite-conflicts")
	if r.code != 0 {
		t.Fatalf("--overwrite-conflicts: exit %d", r.code)
	}
	want[ddbtest.KeyOf(item("a3", ""), "pk")] = item("a3", "start")
	assertSame(t, "after --overwrite-conflicts", want, ddbtest.ScanAll(t, s.c, s.table))
	r = s.run(t, "diff", "--from-export", x1.URL, "--from-export", x2.URL, "--to", s.table)
	if r.code != 0 || !strings.Contains(r.stdout, "identical:        8") || !strings.Contains(r.stdout, "would rewind 0, delete 0, and leave 0 conflicts") {
		t.Errorf("diff after the rewind: exit %d, %q; want 0 with 8 identical", r.code, r.stdout)
	}

	// The first rewind's journal puts back what it changed (a3 was not).
	if r := s.run(t, "undo", "--journal", journal, "--table", s.table, "--yes"); r.code != 0 {
		t.Fatalf("undo: exit %d", r.code)
	}
	back := ddbtest.ScanAll(t, s.c, s.table)
	want = before
	want[ddbtest.KeyOf(item("a3", ""), "pk")] = item("a3", "start")
	assertSame(t, "after undo", want, back)

	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"a gap in the window", []string{"--from-export", x2.URL, "--from-export", x1.URL}, "without gaps"},
		{"a worker split", []string{"--from-export", x1.URL, "--worker-count", "2"}, "not split between workers"},
	} {
		r := s.run(t, append([]string{"copy", "--to", s.table, "--yes"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(lastLine(r.stderr), tc.msg) {
			t.Errorf("%s: exit %d, %q; want 2 with %q", tc.name, r.code, lastLine(r.stderr), tc.msg)
		}
	}
}
