// Package statefile reads and writes ddbrewind's state files — checkpoints,
// run states, reports and journals — at a local path or at an
// s3://bucket/key URL, so that an AWS Batch job retried on a fresh container
// finds the state its previous attempt left.
//
// Local files are created readable by the owner only (0600) and replaced
// atomically (temp file, fsync, rename). S3 objects are written with
// server-side encryption: SSE-KMS with the given key, else SSE-S3. A
// journal on S3 is a series of part objects (KEY.part-00000001, …) since S3
// objects cannot be appended to.
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
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
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
		if notFound(err) {
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
		return writeFileAtomic(loc, data)
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return err
	}
	return s.put(ctx, bucket, key, data, loc)
}

func (s *Store) put(ctx context.Context, bucket, key string, data []byte, loc string) error {
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))), ServerSideEncryption: s3types.ServerSideEncryptionAes256}
	if s.KMSKey != "" {
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(s.KMSKey)
	}
	if _, err := s.S3.PutObject(ctx, in); err != nil {
		return fmt.Errorf("write %s: %w", loc, err)
	}
	return nil
}

// writeFileAtomic writes data to a temp file in path's directory, syncs it
// and renames it over path, with mode 0600.
func writeFileAtomic(path string, data []byte) error {
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
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Appender appends to a journal durably: each Append is on disk (fsync) or
// in S3 (one part object) when it returns.
type Appender struct {
	loc    string
	store  *Store
	f      *os.File
	bucket string
	key    string
	next   int
	empty  bool
	first  []byte
}

// OpenAppend opens loc for appending, creating it if needed.
func (s *Store) OpenAppend(ctx context.Context, loc string) (*Appender, error) {
	a := &Appender{loc: loc, store: s}
	if !IsS3(loc) {
		f, err := os.OpenFile(loc, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		a.f, a.empty = f, fi.Size() == 0
		if !a.empty {
			line, _ := bufio.NewReader(io.NewSectionReader(f, 0, fi.Size())).ReadBytes('\n')
			a.first = line
		}
		return a, nil
	}
	bucket, key, err := s.s3For(loc)
	if err != nil {
		return nil, err
	}
	a.bucket, a.key = bucket, key
	parts, err := s.parts(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	a.next, a.empty = len(parts), len(parts) == 0
	if !a.empty {
		data, err := s.Read(ctx, "s3://"+bucket+"/"+parts[0])
		if err != nil {
			return nil, err
		}
		a.first, _ = bufio.NewReader(bytes.NewReader(data)).ReadBytes('\n')
	}
	return a, nil
}

// Empty reports whether the journal had no content when opened.
func (a *Appender) Empty() bool { return a.empty }

// FirstLine returns the journal's first line when it was opened.
func (a *Appender) FirstLine() []byte { return a.first }

// Append adds data durably.
func (a *Appender) Append(ctx context.Context, data []byte) error {
	if a.f != nil {
		if _, err := a.f.Write(data); err != nil {
			return fmt.Errorf("append to %s: %w", a.loc, err)
		}
		if err := a.f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", a.loc, err)
		}
		return nil
	}
	key := partKey(a.key, a.next)
	if err := a.store.put(ctx, a.bucket, key, data, a.loc); err != nil {
		return err
	}
	a.next++
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
// disk, which cleanup removes. Input files such as a keys file use it.
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
		if notFound(err) {
			return "", nil, fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
		}
		return "", nil, fmt.Errorf("read %s: %w", loc, err)
	}
	defer out.Body.Close()
	f, err := os.CreateTemp("", "ddbrewind-input-*")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, out.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("read %s: %w", loc, err)
	}
	return f.Name(), cleanup, nil
}

// Fetch returns a local file holding the whole content of loc (for S3, a
// private temp copy of all journal parts, removed by cleanup).
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
	f, err := os.CreateTemp("", "ddbrewind-journal-*")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.Remove(f.Name()) }
	defer f.Close()
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
	return f.Name(), cleanup, nil
}

func notFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "404":
			return true
		}
	}
	return false
}
