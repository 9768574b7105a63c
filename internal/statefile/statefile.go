// Package statefile reads and writes ddbrewind's state files — checkpoints,
// run states, reports and journals — at a local path or at an
// s3://bucket/key URL, so that an AWS Batch job retried on a fresh container
// finds the state its previous attempt left.
//
// Local files are created readable by the owner only (0600) and replaced
// atomically (temp file, fsync, rename, fsync of the directory). S3 objects
// are written with server-side encryption: SSE-KMS with the given key, else
// SSE-S3. A journal on S3 is a series of part objects (KEY.part-00000000, …)
// since S3 objects cannot be appended to.
//
// Several processes may append to one journal (see [Appender]); other state
// files are meant to have one writer: a run's state file is held by its
// lock (see [Store.Lock]) for the run's life; a copy's checkpoint is not
// locked (each worker of a split copy has its own path), and a write
// replaces it whole, so a reader never sees a torn one.
package statefile

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/backoff"
	"github.com/ddbrewind/ddbrewind/internal/tempfile"
)

// S3API is the subset of the S3 client the store calls.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

var _ S3API = (*s3.Client)(nil)

// Store reads and writes state files. The zero value handles local paths
// only.
type Store struct {
	// S3 is used for s3:// locations; nil refuses them.
	S3 S3API
	// KMSKey, if set, encrypts S3 objects with SSE-KMS under this key.
	KMSKey string

	// syncDir makes a directory's entries durable; nil uses the
	// platform's fsync of the directory. Tests replace it to observe it.
	syncDir func(dir string) error
	// syncFile makes a file's content durable; nil uses f.Sync. Tests
	// replace it to observe it.
	syncFile func(f *os.File) error
}

// fileSync makes the content of f durable, so that a file renamed over a
// state file after it is never empty or torn after a crash of the machine.
func (s *Store) fileSync(f *os.File) error {
	if s.syncFile != nil {
		return s.syncFile(f)
	}
	return f.Sync()
}

// dirSync makes the entries of dir durable, so that a created or renamed
// file survives a crash of the machine.
func (s *Store) dirSync(dir string) error {
	if s.syncDir != nil {
		return s.syncDir(dir)
	}
	return syncDir(dir)
}

// IsS3 reports whether loc is an s3:// URL.
func IsS3(loc string) bool { return strings.HasPrefix(loc, "s3://") }

// ParseS3 splits s3://bucket/key.
func ParseS3(loc string) (bucket, key string, err error) {
	rest := strings.TrimPrefix(loc, "s3://")
	bucket, key, ok := strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" || strings.HasSuffix(key, "/") {
		return "", "", fmt.Errorf("%q is not an S3 location: use s3://bucket/key", loc)
	}
	return bucket, key, nil
}

func (s *Store) s3For(loc string) (string, string, error) {
	bucket, key, err := ParseS3(loc)
	if err != nil {
		return "", "", err
	}
	if s.S3 == nil {
		return "", "", fmt.Errorf("%s: S3 is not configured", loc)
	}
	return bucket, key, nil
}

// Read returns the content of loc; a missing file or object returns an
// error that errors.Is fs.ErrNotExist.
func (s *Store) Read(ctx context.Context, loc string) ([]byte, error) {
	if !IsS3(loc) {
		return os.ReadFile(loc)
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return nil, err
	}
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if awserr.IsS3NotFound(err) {
			return nil, fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("read %s: %w", loc, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// Write replaces loc with data atomically.
func (s *Store) Write(ctx context.Context, loc string, data []byte) error {
	if !IsS3(loc) {
		return s.writeFileAtomic(loc, data)
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return err
	}
	return s.put(ctx, bucket, key, data, loc, false)
}

// put writes one object; with ifNew the write is conditional
// (If-None-Match: *) and fails with 412 PreconditionFailed when the object
// exists, instead of replacing it.
func (s *Store) put(ctx context.Context, bucket, key string, data []byte, loc string, ifNew bool) error {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ServerSideEncryption: s3types.ServerSideEncryptionAes256}
	if ifNew {
		in.IfNoneMatch = aws.String("*")
	}
	if s.KMSKey != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(s.KMSKey)
	}
	if _, err := s.S3.PutObject(ctx, in); err != nil {
		return fmt.Errorf("write %s: %w", loc, err)
	}
	return nil
}

// writeFileAtomic writes data to a temp file in path's directory, syncs it,
// renames it over path, with mode 0600, and syncs the directory so that the
// rename itself is durable.
func (s *Store) writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = s.fileSync(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = s.dirSync(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Appender appends whole lines to a journal durably: each Append is on disk
// (fsync) or in S3 (one part object) when it returns.
//
// Several appenders — in one process or in several — may share a journal
// without losing each other's lines:
//
//   - A local journal is locked (flock, exclusive) around each append rather
//     than for the appender's life, so two copies given the same file both
//     run and their appends interleave as whole writes. Under the same lock,
//     a last line without its newline — left by a process killed while
//     appending — is cut off before anything is appended after it (see
//     [Appender.Cut]). On platforms without flock (Windows) nothing is
//     locked; the torn tail is still cut.
//   - On S3 each append is a new part object written with If-None-Match: *,
//     so it never replaces another writer's part: when the part number is
//     taken (412 PreconditionFailed) the append moves on to the next one.
//     S3 writes are atomic, so an S3 journal has no torn lines.
//
// Data appended must end with a newline: a last line without one is taken
// for a torn write. An Appender is not safe for concurrent use: open one per
// writer, or serialize the calls.
type Appender struct {
	loc    string
	store  *Store
	f      *os.File
	bucket string
	key    string
	next   int // S3: the part number to try next
	empty  bool
	first  []byte
	cut    int64
}

// conflictRetries bounds how often an S3 part write is retried after 409
// ConditionalRequestConflict (another conditional write to the same key in
// flight); conflictPause is the pause before the first retry, growing
// linearly.
const (
	conflictRetries = 10
	conflictPause   = 50 * time.Millisecond
)

// OpenAppend opens loc for appending, creating it if needed. A local
// journal created here has its directory synced; a torn last line is cut
// off (see [Appender.Cut]).
func (s *Store) OpenAppend(ctx context.Context, loc string) (*Appender, error) {
	if !IsS3(loc) {
		return s.openLocal(loc)
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return nil, err
	}
	a := &Appender{loc: loc, store: s, bucket: bucket, key: key}
	parts, err := s.parts(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	a.next, a.empty = nextPart(key, parts), len(parts) == 0
	if !a.empty {
		data, err := s.Read(ctx, "s3://"+bucket+"/"+parts[0])
		if err != nil {
			return nil, err
		}
		a.first = firstLine(data)
	}
	return a, nil
}

func (s *Store) openLocal(loc string) (*Appender, error) {
	f, err := os.OpenFile(loc, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o600)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(loc, os.O_RDWR|os.O_APPEND, 0o600)
	}
	if err != nil {
		return nil, err
	}
	if created {
		if err := s.dirSync(filepath.Dir(loc)); err != nil {
			f.Close()
			return nil, fmt.Errorf("create %s: %w", loc, err)
		}
	}
	a := &Appender{loc: loc, store: s, f: f}
	err = a.locked(func(size int64) error {
		a.empty = size == 0
		if a.empty {
			return nil
		}
		var rerr error
		a.first, rerr = readFirstLine(f, size)
		return rerr
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

// FirstLine returns the first line of the journal at loc without opening
// it for appending (nothing is created): nil when there is no journal
// there yet. A local journal is read up to its first newline only.
func (s *Store) FirstLine(ctx context.Context, loc string) ([]byte, error) {
	if !IsS3(loc) {
		f, err := os.Open(loc)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		line, err := bufio.NewReader(f).ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s: %w", loc, err)
		}
		return line, nil
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return nil, err
	}
	parts, err := s.parts(ctx, bucket, key)
	if err != nil || len(parts) == 0 {
		return nil, err
	}
	data, err := s.Read(ctx, "s3://"+bucket+"/"+parts[0])
	if err != nil {
		return nil, err
	}
	return firstLine(data), nil
}

// Empty reports whether the journal had no content when opened.
func (a *Appender) Empty() bool { return a.empty }

// FirstLine returns the journal's first line: as found when it was opened,
// or as Init wrote or found it.
func (a *Appender) FirstLine() []byte { return a.first }

// Cut returns how many bytes of torn last lines this appender has cut off
// the local journal so far (0 for S3). A torn line is what a process
// killed in the middle of an append leaves; appending after it would make
// the journal unreadable.
func (a *Appender) Cut() int64 { return a.cut }

// Init writes first (a header line) as the journal's first line if the
// journal is still empty, and reports whether it did. When the journal is
// not empty — it had content when opened, or another appender wrote its
// first line since — Init writes nothing and FirstLine returns the line
// that is there, for the caller to check. Of several appenders that find
// one journal empty, exactly one writes its first line.
func (a *Appender) Init(ctx context.Context, first []byte) (bool, error) {
	if err := checkLines(first); err != nil {
		return false, fmt.Errorf("append to %s: %w", a.loc, err)
	}
	if a.f != nil {
		wrote := false
		err := a.locked(func(size int64) error {
			a.empty = false
			if size > 0 {
				var err error
				a.first, err = readFirstLine(a.f, size)
				return err
			}
			wrote, a.first = true, firstLine(first)
			return a.writeLocal(first)
		})
		return wrote, err
	}
	if !a.empty {
		return false, nil
	}
	taken, err := a.putPart(ctx, 0, first)
	if err != nil {
		return false, err
	}
	a.empty, a.next = false, max(a.next, 1)
	if !taken {
		a.first = firstLine(first)
		return true, nil
	}
	data, err := a.store.Read(ctx, "s3://"+a.bucket+"/"+partKey(a.key, 0))
	if err != nil {
		return false, err
	}
	a.first = firstLine(data)
	return false, nil
}

// Append adds data (whole lines) durably after everything in the journal,
// including what other appenders added since this one was opened.
func (a *Appender) Append(ctx context.Context, data []byte) error {
	if err := checkLines(data); err != nil {
		return fmt.Errorf("append to %s: %w", a.loc, err)
	}
	if a.f != nil {
		return a.locked(func(int64) error { return a.writeLocal(data) })
	}
	for {
		taken, err := a.putPart(ctx, a.next, data)
		if err != nil {
			return err
		}
		a.next++
		if !taken {
			return nil
		}
		// Another appender wrote this part: try the next one. (If it was
		// this appender's own write, retried by the SDK after a lost
		// response, the lines are journaled twice, which undo tolerates.)
	}
}

// putPart writes part n if it does not exist yet; taken reports that it
// did exist (412 PreconditionFailed) and nothing was written. A 409
// ConditionalRequestConflict is retried a few times after a pause.
func (a *Appender) putPart(ctx context.Context, n int, data []byte) (taken bool, err error) {
	for attempt := 1; ; attempt++ {
		err := a.store.put(ctx, a.bucket, partKey(a.key, n), data, a.loc, true)
		switch {
		case err == nil:
			return false, nil
		case partTaken(err):
			return true, nil
		case partConflict(err) && attempt <= conflictRetries:
			if err := backoff.Sleep(ctx, time.Duration(attempt)*conflictPause); err != nil {
				return false, fmt.Errorf("append to %s: %w", a.loc, err)
			}
		default:
			return false, err
		}
	}
}

// writeLocal writes data and syncs; the caller holds the lock.
func (a *Appender) writeLocal(data []byte) error {
	if _, err := a.f.Write(data); err != nil {
		return fmt.Errorf("append to %s: %w", a.loc, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", a.loc, err)
	}
	return nil
}

// locked runs fn holding the exclusive lock on the local journal, after
// cutting a torn last line; size is the journal's length after the cut.
func (a *Appender) locked(fn func(size int64) error) (err error) {
	if err := lockFile(a.f); err != nil {
		return fmt.Errorf("lock %s: %w", a.loc, err)
	}
	defer func() {
		if uerr := unlockFile(a.f); uerr != nil && err == nil {
			err = fmt.Errorf("unlock %s: %w", a.loc, uerr)
		}
	}()
	size, err := a.cutTornTail()
	if err != nil {
		return err
	}
	return fn(size)
}

// cutTornTail truncates the journal to just after its last newline when it
// does not end with one, and returns its length. Only a process killed (or
// failing) in the middle of an append leaves such a tail, and the journal
// is written before the writes it protects, so the cut lines protect
// nothing that happened.
func (a *Appender) cutTornTail() (int64, error) {
	fi, err := a.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", a.loc, err)
	}
	size := fi.Size()
	if size == 0 {
		return 0, nil
	}
	var last [1]byte
	if _, err := a.f.ReadAt(last[:], size-1); err != nil {
		return 0, fmt.Errorf("read %s: %w", a.loc, err)
	}
	if last[0] == '\n' {
		return size, nil
	}
	keep, err := afterLastNewline(a.f, size)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", a.loc, err)
	}
	if err := a.f.Truncate(keep); err != nil {
		return 0, fmt.Errorf("cut the torn last line of %s: %w", a.loc, err)
	}
	if err := a.f.Sync(); err != nil {
		return 0, fmt.Errorf("sync %s: %w", a.loc, err)
	}
	a.cut += size - keep
	return keep, nil
}

// afterLastNewline returns the offset just after the last '\n' in the first
// size bytes of f, or 0 when there is none.
func afterLastNewline(f io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// readFirstLine returns the first line of the first size bytes of f.
func readFirstLine(f io.ReaderAt, size int64) ([]byte, error) {
	line, err := bufio.NewReader(io.NewSectionReader(f, 0, size)).ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, err
	}
	return line, nil
}

// firstLine returns data's first line, newline included.
func firstLine(data []byte) []byte {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return data[:i+1]
	}
	return data
}

// checkLines refuses data whose last line has no newline: the next append
// would take it for a torn write.
func checkLines(data []byte) error {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return errors.New("data must end with a newline")
	}
	return nil
}

// Close releases the appender.
func (a *Appender) Close() error {
	if a.f != nil {
		return a.f.Close()
	}
	return nil
}

func partKey(key string, n int) string { return fmt.Sprintf("%s.part-%08d", key, n) }

// nextPart returns the number after the last listed part.
func nextPart(key string, parts []string) int {
	if len(parts) == 0 {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimPrefix(parts[len(parts)-1], key+".part-"))
	if err != nil || n < len(parts)-1 {
		return len(parts)
	}
	return n + 1
}

// partTaken reports a conditional write refused because the object exists.
func partTaken(err error) bool {
	return awserr.Code(err) == "PreconditionFailed" || httpStatus(err) == 412
}

// partConflict reports a conditional write that collided with another one
// in flight; it may be retried.
func partConflict(err error) bool {
	return awserr.Code(err) == "ConditionalRequestConflict" || httpStatus(err) == 409
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// parts lists a journal's part objects in order.
func (s *Store) parts(ctx context.Context, bucket, key string) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.S3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key + ".part-")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, key, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys, nil // S3 lists keys in UTF-8 binary order: zero-padded parts sort right
}

// Local returns a local path holding the content of loc: loc itself when it
// is local; for s3:// a private (0600) temp copy of the object, streamed to
// disk and removed from $TMPDIR at once where the platform allows it (the
// path is then /proc/self/fd/N, valid until cleanup: see package tempfile),
// so that a killed process leaves nothing behind. Input files such as a
// keys file use it.
func (s *Store) Local(ctx context.Context, loc string) (path string, cleanup func(), err error) {
	if !IsS3(loc) {
		return loc, func() {}, nil
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return "", nil, err
	}
	out, err := s.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if awserr.IsS3NotFound(err) {
			return "", nil, fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
		}
		return "", nil, fmt.Errorf("read %s: %w", loc, err)
	}
	defer out.Body.Close()
	f, err := tempfile.Create("", "ddbrewind-input-*", true)
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", loc, err)
	}
	cleanup = func() { f.Close() }
	if _, err = io.Copy(f, out.Body); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("read %s: %w", loc, err)
	}
	return f.Path(), cleanup, nil
}

// Fetch returns a local file holding the whole content of loc (for S3, a
// private temp copy of all journal parts, made as [Store.Local] makes its
// copies: nothing is left in $TMPDIR, even after a kill; the path is valid
// until cleanup).
func (s *Store) Fetch(ctx context.Context, loc string) (path string, cleanup func(), err error) {
	if !IsS3(loc) {
		if _, err := os.Stat(loc); err != nil {
			return "", nil, err
		}
		return loc, func() {}, nil
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return "", nil, err
	}
	parts, err := s.parts(ctx, bucket, key)
	if err != nil {
		return "", nil, err
	}
	if len(parts) == 0 {
		return "", nil, fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
	}
	f, err := tempfile.Create("", "ddbrewind-journal-*", true)
	if err != nil {
		return "", nil, fmt.Errorf("read %s: %w", loc, err)
	}
	cleanup = func() { f.Close() }
	for _, p := range parts {
		data, err := s.Read(ctx, "s3://"+bucket+"/"+p)
		if err == nil {
			_, err = f.Write(data)
		}
		if err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return f.Path(), cleanup, nil
}
