package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// sinceSetup is a dynalite table behind an exportFake (see exportsHold)
// and a bucket on moto.
type sinceSetup struct {
	*exportSetup
	fake         *exportFake
	since, until time.Time
	state        string
}

func newSinceSetup(t *testing.T) *sinceSetup {
	t.Helper()
	s := &sinceSetup{exportSetup: newExportSetup(t, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})}
	s.fake = newExportFake(t, s.ddb.Endpoint)
	latest := time.Now().UTC().Add(-5 * time.Minute).Truncate(time.Second)
	s.until = latest.Add(-time.Hour)
	s.since = s.until.Add(-time.Hour) // WriteExportLines's window lasts an hour
	s.state = filepath.Join(t.TempDir(), "state.json")
	s.fake.set(func(f *exportFake) { f.earliest, f.latest = latest.Add(-35*24*time.Hour), latest })
	return s
}

// run runs ddbrewind run --since with the window and state, plus args.
func (s *sinceSetup) run(t *testing.T, args ...string) result {
	t.Helper()
	base := []string{"run", "--endpoint-url", s.fake.URL(), "--table", s.table, "--since", tables.FormatTime(s.since),
		"--until", tables.FormatTime(s.until), "--s3-bucket", s.bucket, "--s3-prefix", "rewinds/x", "--state", s.state, "--yes"}
	return runCLI(t, cliOpts{env: s.env}, append(base, args...)...)
}

// objects lists the objects under the exports' prefix.
func (s *sinceSetup) objects(t *testing.T) []string {
	t.Helper()
	out, err := s.s3.S3Client(t).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String("rewinds/x/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func sinceItem(pk, v string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "v": &types.AttributeValueMemberS{Value: v}}
}

// sinceRecord is an incremental export's line for pk (nil images: absent).
func sinceRecord(t *testing.T, pk string, old, new map[string]types.AttributeValue) string {
	t.Helper()
	return changeRecord(t, sinceItem(pk, ""), old, new, "pk")
}

// sinceTable fills the table as the window and a later write left it:
// a0-a4 changed to "bad" in the window (a3 written again after it), a9
// deleted, b0 created; a5-a8 and u0-u4 not changed. It returns the
// export's records and the table's state at the window's start.
func sinceTable(t *testing.T, s *sinceSetup) ([]string, map[string]map[string]types.AttributeValue) {
	t.Helper()
	var records []string
	var now []map[string]types.AttributeValue
	start := map[string]map[string]types.AttributeValue{}
	for i := range 10 {
		pk := fmt.Sprintf("a%d", i)
		start[ddbtest.KeyOf(sinceItem(pk, ""), "pk")] = sinceItem(pk, "start")
		switch {
		case i < 5:
			records = append(records, sinceRecord(t, pk, sinceItem(pk, "start"), sinceItem(pk, "bad")))
			now = append(now, sinceItem(pk, "bad"))
		case i == 9:
			records = append(records, sinceRecord(t, pk, sinceItem(pk, "start"), nil))
		default:
			now = append(now, sinceItem(pk, "start"))
		}
	}
	now[3] = sinceItem("a3", "written after the window")
	for i := range 5 {
		u := sinceItem(fmt.Sprintf("u%d", i), "untouched")
		now = append(now, u)
		start[ddbtest.KeyOf(u, "pk")] = u
	}
	records = append(records, sinceRecord(t, "b0", nil, sinceItem("b0", "new")))
	now = append(now, sinceItem("b0", "new"))
	ddbtest.PutItems(t, s.c, s.table, now)
	return records, start
}

// TestRunSince rewinds a table from an incremental export with run
// --since: the export is requested once; the changed keys go back to their
// state at --since, the key created in the window is deleted
// (--delete-extra) and the one written again after the window is a
// conflict (exit 3, exports and state kept) until a rerun with
// --overwrite-conflicts, which verifies and deletes the export files. The
// same command then says already done; another --since is refused.
func TestRunSince(t *testing.T) {
	t.Parallel()
	s := newSinceSetup(t)
	records, start := sinceTable(t, s)
	s.exportsHold(t, records)

	r := s.run(t, "--delete-extra")
	if r.code != 3 || !strings.Contains(lastLine(r.stderr), "--overwrite-conflicts") || !strings.Contains(r.stderr, `a3`) {
		t.Fatalf("exit %d, %q: want 3 naming the conflict a3 and --overwrite-conflicts", r.code, lastLine(r.stderr))
	}
	want := map[string]map[string]types.AttributeValue{}
	for k, it := range start {
		want[k] = it
	}
	want[ddbtest.KeyOf(sinceItem("a3", ""), "pk")] = sinceItem("a3", "written after the window")
	assertSame(t, "after the first run", want, ddbtest.ScanAll(t, s.c, s.table))
	if len(s.objects(t)) == 0 {
		t.Errorf("the export files are gone after a run that stopped at conflicts")
	}

	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"another --since, unfinished", []string{"--since", tables.FormatTime(s.since.Add(-time.Hour))}, "unfinished rewind"},
		{"another --s3-prefix", []string{"--s3-prefix", "other"}, "state file " + s.state},
		{"--at instead", []string{"--at", tables.FormatTime(s.since)}, "--at does not go with it"},
	} {
		r := s.run(t, append([]string{"--delete-extra"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(lastLine(r.stderr), tc.msg) {
			t.Errorf("%s: exit %d, %q; want 2 with %q", tc.name, r.code, lastLine(r.stderr), tc.msg)
		}
	}

	r = s.run(t, "--delete-extra", "--overwrite-conflicts")
	if r.code != 0 || !strings.Contains(r.stdout, "rewound "+s.table+" to "+tables.MessageTime(s.since)) {
		t.Fatalf("--overwrite-conflicts: exit %d, stdout %q", r.code, r.stdout)
	}
	assertSame(t, "after --overwrite-conflicts", start, ddbtest.ScanAll(t, s.c, s.table))
	if keys := s.objects(t); len(keys) != 0 {
		t.Errorf("export files left after the cleanup: %v", keys)
	}
	if n := s.fake.count("ExportTableToPointInTime"); n != 1 {
		t.Errorf("%d export requests, want 1", n)
	}
	if !strings.Contains(r.stderr, "verification") {
		t.Errorf("no verification logged")
	}

	r = s.run(t, "--delete-extra", "--overwrite-conflicts")
	if r.code != 0 || !strings.Contains(r.stdout, "already done") {
		t.Errorf("rerun after done: exit %d, stdout %q; want 0, already done", r.code, r.stdout)
	}
	r = s.run(t, "--delete-extra", "--until", tables.FormatTime(s.until.Add(30*time.Minute)))
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "finished rewind") || !strings.Contains(lastLine(r.stderr), s.state) {
		t.Errorf("another --until after done: exit %d, %q; want 2 naming the state file", r.code, lastLine(r.stderr))
	}
}

// exportsHold has each incremental export of the table, as it completes,
// written into moto's S3 holding records (the fake writes no files itself).
func (s *sinceSetup) exportsHold(t *testing.T, records []string) {
	exportsHold(t, s.fake, s.s3.S3Client(t), records)
}

// exportsHold has each incremental export f completes written with s3c
// holding records: one data file, the window ending at its ExportToTime
// (WriteExportLines's window lasts an hour).
func exportsHold(t *testing.T, f *exportFake, s3c *s3.Client, records []string) {
	t.Helper()
	f.set(func(f *exportFake) {
		f.onComplete = func(d map[string]any) {
			arn := fmt.Sprint(d["ExportArn"])
			prefix, _ := d["S3Prefix"].(string)
			spec, _ := d["IncrementalExportSpecification"].(map[string]any)
			to, _ := spec["ExportToTime"].(float64)
			ddbtest.WriteExportLines(t, s3c, fmt.Sprint(d["S3Bucket"]), prefix, [][]string{records},
				ddbtest.ExportOptions{ID: arn[strings.LastIndexByte(arn, '/')+1:], TableArn: fmt.Sprint(d["TableArn"]), ExportType: "INCREMENTAL_EXPORT",
					ExportTime: time.UnixMilli(int64(to * 1000)).UTC()})
		}
	})
}

// changeRecord is an incremental export's line for the key of item (nil
// images: absent).
func changeRecord(t *testing.T, item, old, new map[string]types.AttributeValue, keys ...string) string {
	t.Helper()
	k := map[string]types.AttributeValue{}
	for _, n := range keys {
		k[n] = item[n]
	}
	kd, err := ddbjson.MarshalItem(k)
	if err != nil {
		t.Fatal(err)
	}
	line := `{"Metadata":{"WriteTimestampMicros":{"N":"1700000000000000"}},"Keys":` + string(kd)
	for _, im := range []struct {
		name string
		item map[string]types.AttributeValue
	}{{"OldImage", old}, {"NewImage", new}} {
		if im.item != nil {
			data, err := ddbjson.MarshalItem(im.item)
			if err != nil {
				t.Fatal(err)
			}
			line += `,"` + im.name + `":` + string(data)
		}
	}
	return line + "}"
}

// TestRunSinceResumes: a run whose wait for the export times out (as a
// kill would stop it) is resumed by the same command, which adopts the
// export instead of requesting a second one; --keep-export keeps the
// files.
func TestRunSinceResumes(t *testing.T) {
	t.Parallel()
	s := newSinceSetup(t)
	records, start := sinceTable(t, s)
	s.exportsHold(t, records)
	s.fake.set(func(f *exportFake) { f.doneAfter = 0 })

	r := s.run(t, "--delete-extra", "--overwrite-conflicts", "--keep-export", "--timeout", "1s")
	if r.code == 0 || r.code == 2 || !strings.Contains(lastLine(r.stderr), "resume with") {
		t.Fatalf("exit %d, %q; want a failed export step saying how to resume", r.code, lastLine(r.stderr))
	}
	s.fake.set(func(f *exportFake) { f.doneAfter = 1 })
	r = s.run(t, "--delete-extra", "--overwrite-conflicts", "--keep-export")
	if r.code != 0 {
		t.Fatalf("resume: exit %d", r.code)
	}
	if n := s.fake.count("ExportTableToPointInTime"); n != 1 {
		t.Errorf("%d export requests, want 1 (the resume adopts the export)", n)
	}
	assertSame(t, "after the resumed run", start, ddbtest.ScanAll(t, s.c, s.table))
	if len(s.objects(t)) == 0 {
		t.Errorf("--keep-export: the export files were deleted")
	}
}

// TestRunSinceRefusals: bad input of run --since exits 2 before anything
// starts.
func TestRunSinceRefusals(t *testing.T) {
	t.Parallel()
	s := newSinceSetup(t)
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"a window under 15 minutes", []string{"--until", tables.FormatTime(s.since.Add(10 * time.Minute))}, "15 minutes"},
		{"--ago with --since", []string{"--ago", "1h"}, "--ago does not go with it"},
		{"--keep-recovery-table", []string{"--keep-recovery-table"}, "--keep-recovery-table does not go with it"},
		{"--only-missing", []string{"--only-missing"}, "--only-missing"},
		{"--worker-count", []string{"--worker-count", "2", "--segments", "4"}, "--worker-count"},
		{"a bad bucket", []string{"--s3-bucket", "s3://x"}, "--s3-bucket"},
		{"--accept-conflicts with --overwrite-conflicts", []string{"--accept-conflicts", "--overwrite-conflicts"}, "give one of them"},
		{"--overwrite-conflicts-keys with --overwrite-conflicts", []string{"--overwrite-conflicts-keys", "k.jsonl", "--overwrite-conflicts"}, "give one of them"},
		{"--overwrite-conflicts-keys of a missing file", []string{"--overwrite-conflicts-keys", filepath.Join(t.TempDir(), "none.jsonl")}, "--overwrite-conflicts-keys"},
	} {
		r := s.run(t, tc.args...)
		if r.code != 2 || !strings.Contains(lastLine(r.stderr), tc.msg) {
			t.Errorf("%s: exit %d, %q; want 2 with %q", tc.name, r.code, lastLine(r.stderr), tc.msg)
		}
	}
	// --since at the latest restorable time, no --until: nothing to
	// rewind yet, said (issue 22 row 5: exit 1 with no reason).
	var latest time.Time
	s.fake.set(func(f *exportFake) { latest = f.latest })
	r := runCLI(t, cliOpts{env: s.env}, "run", "--endpoint-url", s.fake.URL(), "--table", s.table, "--since", tables.FormatTime(latest),
		"--s3-bucket", s.bucket, "--state", filepath.Join(t.TempDir(), "latest.json"), "--yes")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "is the latest restorable time") {
		t.Errorf("--since at the latest restorable time: exit %d, %q; want 2 saying why", r.code, lastLine(r.stderr))
	}
	r = runCLI(t, cliOpts{env: s.env}, "run", "--endpoint-url", s.fake.URL(), "--table", s.table, "--at", tables.FormatTime(s.since), "--s3-bucket", s.bucket, "--yes")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "--s3-bucket goes with --since") {
		t.Errorf("--s3-bucket without --since: exit %d, %q", r.code, lastLine(r.stderr))
	}
	r = runCLI(t, cliOpts{env: s.env}, "run", "--endpoint-url", s.fake.URL(), "--table", s.table, "--at", tables.FormatTime(s.since), "--accept-conflicts", "--yes")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "--accept-conflicts goes with --since") {
		t.Errorf("--accept-conflicts without --since: exit %d, %q", r.code, lastLine(r.stderr))
	}
	if n := s.fake.count("ExportTableToPointInTime"); n != 0 {
		t.Errorf("%d exports started by refused runs", n)
	}
}

// TestRunSinceCopyFailsThenResumes: a copy step that fails (the export's
// files are not there yet) keeps the state; the same command then resumes
// at the copy with the recorded export, requesting no second one. A
// verification that finds a key not rewound exits 3 and keeps the files.
func TestRunSinceCopyFailsThenResumes(t *testing.T) {
	t.Parallel()
	s := newSinceSetup(t)
	records, start := sinceTable(t, s)

	r := s.run(t, "--delete-extra", "--overwrite-conflicts", "--keep-export")
	st := readState(t, s.state)
	if r.code == 0 || !strings.Contains(lastLine(r.stderr), "copy step") || !strings.Contains(lastLine(r.stderr), "resume with") ||
		st == nil || st.Step != "copy" || len(st.ExportDirs) != 1 {
		t.Fatalf("exit %d, %q, state %+v; want a failed copy step, the state at copy with the export recorded", r.code, lastLine(r.stderr), st)
	}
	dir := strings.TrimSuffix(st.ExportDirs[0], "/")
	ddbtest.WriteExportLines(t, s.s3.S3Client(t), s.bucket, st.ExportPrefix, [][]string{records},
		ddbtest.ExportOptions{ID: dir[strings.LastIndexByte(dir, '/')+1:], TableArn: s.arn, ExportType: "INCREMENTAL_EXPORT", ExportTime: s.until})

	r = s.run(t, "--delete-extra", "--overwrite-conflicts", "--keep-export")
	if r.code != 0 {
		t.Fatalf("resume: exit %d", r.code)
	}
	if n := s.fake.count("ExportTableToPointInTime"); n != 1 {
		t.Errorf("%d export requests, want 1", n)
	}
	assertSame(t, "after the resumed copy", start, ddbtest.ScanAll(t, s.c, s.table))

	// The verification again, after a0 was changed back to what the
	// window left: it finds a key not rewound.
	ddbtest.PutItems(t, s.c, s.table, []map[string]types.AttributeValue{sinceItem("a0", "bad")})
	data, err := os.ReadFile(s.state)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.state, []byte(strings.Replace(string(data), `"step": "done"`, `"step": "verify"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.run(t, "--delete-extra", "--overwrite-conflicts", "--keep-export")
	if r.code != 3 || !strings.Contains(lastLine(r.stderr), "verification failed: 1 item is not in its state") {
		t.Errorf("verify: exit %d, %q; want 3, verification failed", r.code, lastLine(r.stderr))
	}
	if len(s.objects(t)) == 0 {
		t.Errorf("the export files are gone after a failed verification")
	}
}

// TestRunSinceSelection: run --since with a keys file rewinds only the
// window's keys it names (the export is of the whole window; the others are
// left as they are, so the conflict a3 outside it stops nothing), verifies
// them and deletes the export files; another selection with the same state
// file is refused; a key condition, in a second rewind of the same window
// (another state file), selects the same way — that rewind makes its own
// export in a directory of its own instead of adopting the first one's,
// whose files are deleted —; a filter expression is refused before any
// export starts.
func TestRunSinceSelection(t *testing.T) {
	t.Parallel()
	s := newSinceSetup(t)
	records, start := sinceTable(t, s)
	s.exportsHold(t, records)
	before := ddbtest.ScanAll(t, s.c, s.table)
	keysFile := filepath.Join(t.TempDir(), "keys.jsonl")
	if err := os.WriteFile(keysFile, []byte(`{"pk":{"S":"a0"}}`+"\n"+`{"pk":{"S":"a9"}}`+"\n"+`{"pk":{"S":"b0"}}`+"\n"+`{"pk":{"S":"u0"}}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := func(pk string) string { return ddbtest.KeyOf(sinceItem(pk, ""), "pk") }

	r := s.run(t, "--delete-extra", "--keys-file", keysFile)
	if r.code != 0 || !strings.Contains(r.stdout, "rewound "+s.table) {
		t.Fatalf("keys file: exit %d, %q", r.code, lastLine(r.stderr))
	}
	want := map[string]map[string]types.AttributeValue{}
	for k, it := range before {
		want[k] = it
	}
	want[key("a0")], want[key("a9")] = start[key("a0")], start[key("a9")]
	delete(want, key("b0"))
	assertSame(t, "after the rewind of the keys file's keys", want, ddbtest.ScanAll(t, s.c, s.table))
	if got := summaryCount(t, r.stderr, "written"); got != 2 {
		t.Errorf("written=%d, want 2 (a0, a9)", got)
	}
	if keys := s.objects(t); len(keys) != 0 {
		t.Errorf("export files left after the cleanup: %v", keys)
	}

	vals := `{":p":{"S":"a1"}}`
	r = s.run(t, "--delete-extra", "--key-condition-expression", "pk = :p", "--expression-attribute-values", vals)
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "another selection") {
		t.Errorf("another selection with the same state file: exit %d, %q; want 2", r.code, lastLine(r.stderr))
	}
	s.state = filepath.Join(t.TempDir(), "state2.json")
	r = s.run(t, "--delete-extra", "--key-condition-expression", "pk = :p", "--expression-attribute-values", vals)
	if r.code != 0 {
		t.Fatalf("key condition: exit %d, %q", r.code, lastLine(r.stderr))
	}
	want[key("a1")] = start[key("a1")]
	assertSame(t, "after the rewind of the key condition's key", want, ddbtest.ScanAll(t, s.c, s.table))

	s.state = filepath.Join(t.TempDir(), "state3.json")
	r = s.run(t, "--filter-expression", "attribute_exists(v)")
	if r.code != 2 || !strings.Contains(lastLine(r.stderr), "--filter-expression cannot select from an export") {
		t.Errorf("a filter: exit %d, %q; want 2", r.code, lastLine(r.stderr))
	}
	if n := s.fake.count("ExportTableToPointInTime"); n != 2 {
		t.Errorf("%d export requests, want 2 (one per rewind; none for the refused ones)", n)
	}
}
