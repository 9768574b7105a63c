package exportfile

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/tempfile"
)

// MaxLineSize bounds one line of a data file. An item is at most 400 KB,
// but its typed JSON is longer: base64 binaries and escaped strings grow it
// (a string of control characters by 6 times).
const MaxLineSize = 16 << 20

// VerifyError is a data file that does not match its manifest entry: its
// MD5 checksum or its number of records differs. None of its records were
// returned.
type VerifyError struct {
	// File is the data file's s3:// URL.
	File string
	// What is "MD5 checksum", "item count" or "gzip stream".
	What string
	// Manifest is what the manifest says, Actual what the file holds.
	Manifest, Actual string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("export file %s: %s is %s but the export manifest says %s: the file is damaged or is not the one the export wrote; none of its items were used",
		e.File, e.What, e.Actual, e.Manifest)
}

// LineError is a line of a verified data file that is not a record of the
// export's type. It names the file and the line; it is not reported as bad
// user input (the file passed its checksum: it is an export format this
// reader does not know).
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("export file %s:%d: %s", e.File, e.Line, e.Msg)
}

// ReadOptions configures OpenFile.
type ReadOptions struct {
	// TempDir holds the private local copies; "" means os.TempDir().
	TempDir string
}

// FileReader reads the records of one verified data file. It is not safe
// for concurrent use. Close it.
type FileReader struct {
	name        string // s3:// URL
	incremental bool
	f           *tempfile.File // the local copy, removed from its directory at once
	gz          *gzip.Reader
	br          *bufio.Reader
	line        int
	records     int64
	buf         []byte
}

// OpenFile downloads data file i into a private temporary file, verifying
// it on the way (see the package documentation), and returns a reader of
// its records. A file whose MD5 checksum or record count differs from the
// manifest returns a *VerifyError and no reader. The temporary file is gone
// when OpenFile fails or the reader is closed.
func (e *Export) OpenFile(ctx context.Context, api S3API, i int, opts ReadOptions) (_ *FileReader, err error) {
	mf := e.Files[i]
	r := &FileReader{name: e.FileURL(i), incremental: e.Summary.Incremental()}
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.Loc.Bucket), Key: aws.String(e.Loc.resolve(mf.DataFileS3Key))})
	if err != nil {
		return nil, fmt.Errorf("read export file %s: %w", r.name, err)
	}
	defer out.Body.Close()
	// Unlinked at once (package tempfile): no path is left behind
	// whatever happens to the process.
	f, err := tempfile.Create(opts.TempDir, "ddbrewind-export-*", false)
	if err != nil {
		return nil, fmt.Errorf("read export file %s: local copy: %w", r.name, err)
	}
	r.f = f
	defer func() {
		if err != nil {
			r.Close()
		}
	}()

	h := md5.New()
	tee := io.TeeReader(out.Body, io.MultiWriter(h, f))
	lines, gzErr := countRecords(tee)
	// Whatever gzip made of it, the checksum covers every byte.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, fmt.Errorf("read export file %s: %w", r.name, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if got := base64.StdEncoding.EncodeToString(h.Sum(nil)); got != mf.MD5Checksum {
		return nil, &VerifyError{File: r.name, What: "MD5 checksum", Manifest: mf.MD5Checksum, Actual: got}
	}
	if gzErr != nil {
		return nil, &VerifyError{File: r.name, What: "gzip stream", Manifest: "valid", Actual: "broken (" + gzErr.Error() + ")"}
	}
	if lines != mf.ItemCount {
		return nil, &VerifyError{File: r.name, What: "item count", Manifest: fmt.Sprint(mf.ItemCount), Actual: fmt.Sprint(lines)}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read export file %s: local copy: %w", r.name, err)
	}
	r.records = lines
	if lines > 0 {
		gz, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
		if err != nil {
			return nil, fmt.Errorf("read export file %s: local copy: %w", r.name, err)
		}
		r.gz = gz
		r.br = bufio.NewReaderSize(gz, 1<<20)
	}
	return r, nil
}

// countRecords gunzips r and counts its non-blank lines. An empty stream
// (an export writes an empty object for an empty partition) has none.
func countRecords(r io.Reader) (int64, error) {
	gz, err := gzip.NewReader(r)
	if err == io.EOF {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer gz.Close()
	buf := make([]byte, 256<<10)
	var n int64
	blank := true
	for {
		k, err := gz.Read(buf)
		for _, c := range buf[:k] {
			switch c {
			case '\n':
				if !blank {
					n++
				}
				blank = true
			case ' ', '\t', '\r':
			default:
				blank = false
			}
		}
		if err == io.EOF {
			if !blank {
				n++ // a last line without its newline
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// Name returns the data file's s3:// URL.
func (r *FileReader) Name() string { return r.name }

// Records returns the number of records the file holds (verified).
func (r *FileReader) Records() int64 { return r.records }

// Line returns the line number of the last line read (0 before the first).
func (r *FileReader) Line() int { return r.line }

// readLine returns the next line without its newline, or io.EOF.
func (r *FileReader) readLine() ([]byte, error) {
	if r.br == nil {
		return nil, io.EOF
	}
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(r.buf)+len(chunk) > MaxLineSize {
				return nil, &LineError{File: r.name, Line: r.line + 1, Msg: fmt.Sprintf("line longer than %d bytes", MaxLineSize)}
			}
			r.buf = append(r.buf, chunk...)
			continue
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read export file %s (local copy): %w", r.name, err)
		}
		if len(chunk) == 0 && len(r.buf) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		r.line++
		if len(r.buf) > 0 {
			r.buf = append(r.buf, chunk...)
			chunk = r.buf
		}
		if n := len(chunk); n > 0 && chunk[n-1] == '\n' {
			chunk = chunk[:n-1]
		}
		return chunk, nil
	}
}

// Skip moves past the lines up to line n (records and blank lines), without
// parsing them: a resumed read starts after the last line it had used.
func (r *FileReader) Skip(n int) error {
	for r.line < n {
		if _, err := r.readLine(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return nil
}

// Next returns the next record, or io.EOF after the last. The record's
// values are its own (nothing is reused by later calls). A line that is
// not a record of the export's type is a *LineError.
func (r *FileReader) Next() (Record, error) {
	for {
		line, err := r.readLine()
		if err != nil {
			return Record{}, err
		}
		if isBlank(line) {
			continue
		}
		rec, msg := parseRecord(line, r.incremental)
		if msg != "" {
			return Record{}, &LineError{File: r.name, Line: r.line, Msg: msg}
		}
		rec.Line = r.line
		return rec, nil
	}
}

// Close releases the local copy. It is idempotent.
func (r *FileReader) Close() error {
	var err error
	if r.gz != nil {
		r.gz.Close()
		r.gz = nil
	}
	if r.f != nil {
		err = r.f.Close()
		r.f = nil
	}
	return err
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
