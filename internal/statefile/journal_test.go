package statefile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

var pool = ddbtest.NewPool()

func TestMain(m *testing.M) {
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code := m.Run()
	if err := pool.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// record is line i of writer w, padded so that some records are large.
func record(w string, i int) []byte {
	pad := strings.Repeat("x", (i%7)*3000)
	return []byte(fmt.Sprintf(`{"writer":%q,"n":%d,"pad":%q}`+"\n", w, i, pad))
}

// checkJournal fails unless data is header followed by exactly the records
// of every writer, each whole, in each writer's order.
func checkJournal(t *testing.T, data []byte, header string, writers []string, n int) {
	t.Helper()
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 || lines[0] != header {
		t.Fatalf("first line %q, want the header %q", lines[0], header)
	}
	next := map[string]int{}
	for i, l := range lines[1:] {
		if l == header {
			t.Fatalf("line %d: a second header", i+2)
		}
		w, _, ok := strings.Cut(strings.TrimPrefix(l, `{"writer":"`), `"`)
		if !ok || l != string(record(w, next[w])) {
			t.Fatalf("line %d is not writer %s's record %d: %.80q", i+2, w, next[w], l)
		}
		next[w]++
	}
	for _, w := range writers {
		if next[w] != n {
			t.Errorf("writer %s: %d of %d records in the journal", w, next[w], n)
		}
	}
}

// appendConcurrently opens one appender per writer (all before any writes,
// so each finds the journal empty), then has each write the header through
// Init and n records, concurrently.
func appendConcurrently(t *testing.T, open func() *Appender, header string, writers []string, n int) {
	t.Helper()
	ctx := context.Background()
	apps := make([]*Appender, len(writers))
	for i := range writers {
		apps[i] = open()
		if !apps[i].Empty() {
			t.Fatalf("appender %d: the new journal is not empty", i)
		}
	}
	var wg sync.WaitGroup
	created := make([]bool, len(writers))
	errs := make([]error, len(writers))
	for i, w := range writers {
		wg.Go(func() {
			defer apps[i].Close()
			created[i], errs[i] = apps[i].Init(ctx, []byte(header))
			if errs[i] == nil && string(apps[i].FirstLine()) != header {
				errs[i] = fmt.Errorf("FirstLine %q after Init", apps[i].FirstLine())
			}
			for j := 0; j < n && errs[i] == nil; j++ {
				errs[i] = apps[i].Append(ctx, record(w, j))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if c := len(slices.DeleteFunc(created, func(b bool) bool { return !b })); c != 1 {
		t.Errorf("%d appenders wrote the header, want exactly 1", c)
	}
}

// TestLocalJournalSharedByTwoAppenders opens one local journal twice, as
// two processes would, and appends from both at once.
func TestLocalJournalSharedByTwoAppenders(t *testing.T) {
	ctx := context.Background()
	var s Store
	j := filepath.Join(t.TempDir(), "journal.jsonl")
	const header, n = `{"journal":"test"}` + "\n", 300
	writers := []string{"a", "b"}
	appendConcurrently(t, func() *Appender {
		a, err := s.OpenAppend(ctx, j)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}, header, writers, n)
	data, err := os.ReadFile(j)
	if err != nil {
		t.Fatal(err)
	}
	checkJournal(t, data, header, writers, n)
}

// TestLocalJournalCutsTornTail appends to journals left by a process killed
// in the middle of an append: the torn last line goes, nothing else does.
func TestLocalJournalCutsTornTail(t *testing.T) {
	ctx := context.Background()
	const header = `{"journal":"test"}` + "\n"
	good := header + `{"key":1}` + "\n" + `{"key":2}` + "\n"
	tests := []struct {
		name      string
		before    string // the journal on disk when opened
		tornLater string // appended by "another process" after the open
		wantFirst string
		wantCut   int64
		want      string
	}{
		{name: "torn record", before: good + `{"key":3,"bef`, wantFirst: header, wantCut: 13,
			want: good + `{"key":9}` + "\n"},
		{name: "torn record of another process after the open", before: good, tornLater: `{"key":3`, wantFirst: header, wantCut: 8,
			want: good + `{"key":9}` + "\n"},
		{name: "large torn record", before: good + `{"key":3,"before":"` + strings.Repeat("y", 200<<10), wantFirst: header, wantCut: 19 + 200<<10,
			want: good + `{"key":9}` + "\n"},
		{name: "torn header", before: `{"journal":"te`, wantCut: 14,
			want: header + `{"key":9}` + "\n"},
		{name: "whole journal", before: good, wantFirst: header, want: good + `{"key":9}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Store
			j := filepath.Join(t.TempDir(), "journal.jsonl")
			if err := os.WriteFile(j, []byte(tt.before), 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := s.OpenAppend(ctx, j)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if got := string(a.FirstLine()); got != tt.wantFirst || a.Empty() != (tt.wantFirst == "") {
				t.Errorf("FirstLine %q, Empty %v after open, want %q", got, a.Empty(), tt.wantFirst)
			}
			if tt.tornLater != "" {
				f, err := os.OpenFile(j, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString(tt.tornLater)
				f.Close()
			}
			if _, err := a.Init(ctx, []byte(header)); err != nil {
				t.Fatal(err)
			}
			if err := a.Append(ctx, []byte(`{"key":9}`+"\n")); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(j)
			if string(data) != tt.want {
				t.Errorf("journal %.200q, want %.200q", data, tt.want)
			}
			if a.Cut() != tt.wantCut {
				t.Errorf("Cut() = %d, want %d", a.Cut(), tt.wantCut)
			}
		})
	}
}

func TestAppendRefusesDataWithoutNewline(t *testing.T) {
	ctx := context.Background()
	var s Store
	a, err := s.OpenAppend(ctx, filepath.Join(t.TempDir(), "j"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Append(ctx, []byte("no newline")); err == nil {
		t.Error("Append of a line without newline: no error")
	}
	if _, err := a.Init(ctx, []byte("no newline")); err == nil {
		t.Error("Init of a line without newline: no error")
	}
}

// TestDirectorySynced checks the directory is synced after an atomic
// replacement (once the rename is done) and after a journal is created.
func TestDirectorySynced(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	state, journal := filepath.Join(dir, "state.json"), filepath.Join(dir, "journal.jsonl")
	var synced []string
	s := &Store{syncDir: func(d string) error {
		data, _ := os.ReadFile(state)
		synced = append(synced, fmt.Sprintf("%s %s", d, data))
		return nil
	}}
	steps := []struct {
		name string
		do   func() error
		want []string
	}{
		{"write", func() error { return s.Write(ctx, state, []byte("one")) }, []string{dir + " one"}},
		{"replace", func() error { return s.Write(ctx, state, []byte("two")) }, []string{dir + " two"}},
		{"create journal", func() error { a, err := s.OpenAppend(ctx, journal); a.Close(); return err }, []string{dir + " two"}},
		{"reopen journal", func() error { a, err := s.OpenAppend(ctx, journal); a.Close(); return err }, nil},
	}
	for _, st := range steps {
		synced = nil
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !slices.Equal(synced, st.want) {
			t.Errorf("%s: directory syncs %q, want %q", st.name, synced, st.want)
		}
	}
	s.syncDir = func(string) error { return errors.New("disk on fire") }
	if err := s.Write(ctx, state, []byte("three")); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("a failed directory sync: %v, want it reported", err)
	}
}

// fakeS3 is an in-memory bucket that honours If-None-Match: * as S3 does.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
	// conflicts, if set, is called before each conditional put; true answers
	// 409 ConditionalRequestConflict.
	conflicts func(key string) bool
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey"}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data))}, nil
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	key := aws.ToString(in.Key)
	if aws.ToString(in.IfNoneMatch) == "*" {
		if f.conflicts != nil && f.conflicts(key) {
			return nil, &smithy.GenericAPIError{Code: "ConditionalRequestConflict"}
		}
		if _, ok := f.objects[key]; ok {
			return nil, &smithy.GenericAPIError{Code: "PreconditionFailed"}
		}
	}
	f.objects[key] = data
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := &s3.ListObjectsV2Output{}
	for _, k := range keys {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
	}
	return out, nil
}

// TestS3JournalNeverOverwritesParts has two appenders that both found the
// journal empty take turns: every part is written once, by one of them.
func TestS3JournalNeverOverwritesParts(t *testing.T) {
	ctx := context.Background()
	conflicted := map[string]int{}
	f := &fakeS3{objects: map[string][]byte{}, conflicts: func(key string) bool {
		conflicted[key]++ // called under f.mu
		return strings.HasSuffix(key, "part-00000003") && conflicted[key] == 1
	}}
	s := &Store{S3: f}
	const loc, header = "s3://bucket/j.jsonl", `{"journal":"test"}` + "\n"
	a, errA := s.OpenAppend(ctx, loc)
	b, errB := s.OpenAppend(ctx, loc)
	if err := errors.Join(errA, errB); err != nil || !a.Empty() || !b.Empty() {
		t.Fatalf("open: %v, empty %v %v", err, a.Empty(), b.Empty())
	}
	for i, app := range []*Appender{a, b} {
		created, err := app.Init(ctx, []byte(header))
		if err != nil || created != (i == 0) || string(app.FirstLine()) != header {
			t.Fatalf("Init %d: created %v, %v, first %q", i, created, err, app.FirstLine())
		}
	}
	for j := range 5 {
		for i, app := range []*Appender{a, b} {
			if err := app.Append(ctx, record(string(rune('a'+i)), j)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(f.objects) != 11 {
		t.Errorf("%d parts, want 11", len(f.objects))
	}
	if conflicted["j.jsonl.part-00000003"] < 2 {
		t.Errorf("part 3 was not retried after a 409")
	}
	path, cleanup, err := s.Fetch(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	data, _ := os.ReadFile(path)
	checkJournal(t, data, header, []string{"a", "b"}, 5)

	// A third appender opened now continues after the last part.
	c, err := s.OpenAppend(ctx, loc)
	if err != nil || c.Empty() || string(c.FirstLine()) != header || c.next != 11 {
		t.Fatalf("reopen: %v, empty %v, first %q, next part %d", err, c.Empty(), c.FirstLine(), c.next)
	}
}

// TestS3JournalSharedByTwoAppenders appends to one journal in moto's S3
// from two appenders at once, as two copies given the same --journal
// s3://… would.
func TestS3JournalSharedByTwoAppenders(t *testing.T) {
	srv := pool.Get(t, ddbtest.Moto)
	ctx := context.Background()
	// moto's conditional PutObject is not atomic under concurrency; S3's is.
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(ddbtest.SerializeConditionalPuts(t, srv.Endpoint)), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	bucket := strings.Trim(strings.ReplaceAll(ddbtest.UniqueName(t, "j"), "_", "-"), "-.")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	loc := "s3://" + bucket + "/rewinds/journal.jsonl"
	const header, n = `{"journal":"test"}` + "\n", 100
	writers := []string{"a", "b", "c"}
	appendConcurrently(t, func() *Appender {
		a, err := (&Store{S3: c}).OpenAppend(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}, header, writers, n)
	path, cleanup, err := (&Store{S3: c}).Fetch(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	data, _ := os.ReadFile(path)
	checkJournal(t, data, header, writers, n)
}

// TestFirstLine: a journal's first line is read without opening it for
// appending: nil (and nothing created) where there is none yet, the header
// of a local journal or of an S3 journal's first part.
func TestFirstLine(t *testing.T) {
	ctx := context.Background()
	const header = `{"journal":"test"}` + "\n"
	dir := t.TempDir()
	s3 := &fakeS3{objects: map[string][]byte{}}
	s := &Store{S3: s3}
	for _, loc := range []string{filepath.Join(dir, "j.jsonl"), "s3://bucket/j.jsonl"} {
		line, err := s.FirstLine(ctx, loc)
		if err != nil || line != nil {
			t.Fatalf("%s before it exists: %q, %v; want nil", loc, line, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "j.jsonl")); !errors.Is(err, fs.ErrNotExist) || len(s3.objects) != 0 {
			t.Fatalf("%s: FirstLine created something (%v, %d objects)", loc, err, len(s3.objects))
		}
	}
	for _, loc := range []string{filepath.Join(dir, "j.jsonl"), "s3://bucket/j.jsonl"} {
		a, err := s.OpenAppend(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Init(ctx, []byte(header)); err != nil {
			t.Fatal(err)
		}
		if err := a.Append(ctx, record("a", 1)); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if line, err := s.FirstLine(ctx, loc); err != nil || string(line) != header {
			t.Errorf("%s: first line %q, %v; want the header", loc, line, err)
		}
	}
}
