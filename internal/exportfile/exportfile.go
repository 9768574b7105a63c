// Package exportfile reads DynamoDB exports to S3 in DYNAMODB_JSON format,
// full and incremental, as AWS documents their layout:
//
//	PREFIX/AWSDynamoDB/EXPORT_ID/manifest-summary.json  one JSON object: table, export type, item count, …
//	PREFIX/AWSDynamoDB/EXPORT_ID/manifest-files.json    JSON Lines, one per data file: itemCount, md5Checksum, etag, dataFileS3Key
//	PREFIX/AWSDynamoDB/EXPORT_ID/data/*.json.gz        a full export's data: gzip'd JSON Lines of {"Item":{…}}
//	PREFIX/AWSDynamoDB/data/*.json.gz                  an incremental export's data, in a folder shared by every
//	                                                    incremental export to PREFIX (as AWS writes them; its own
//	                                                    EXPORT_ID/data/ is accepted too): gzip'd JSON Lines of
//	                                                    {"Metadata":{…},"Keys":{…},"OldImage":{…},"NewImage":{…}}
//
// [Open] reads nothing but the export: every key its manifests name must be
// one of those places (see Location.outside), or the export is refused
// before any data object is read.
//
// [Open] reads both manifests of one export; [Export.OpenFile] opens one
// data file for reading and verifies it before any record is returned: the
// object is streamed once from S3 into a private temporary file (0600,
// unlinked at once where the platform allows it, so nothing is left behind
// even by a kill -9) while its MD5 is computed over the raw bytes and its
// lines are counted through gunzip; the MD5 and the line count must match
// the manifest. Only then does [FileReader.Next] gunzip the local copy
// again and parse each line, with ddbjson's exact typed-JSON parser (numbers
// stay the strings they were, binaries their bytes). Memory stays flat:
// nothing holds more than a line at a time.
//
// It does not know tables, key schemas, selections or write modes: which
// records to use, and what an incremental record means for a rewind, is
// the caller's (package copier). It does not list buckets or request
// exports either.
package exportfile

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// S3API is the subset of the S3 client the reader calls.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Export types of manifest-summary.json's exportType.
const (
	FullExport        = "FULL_EXPORT"
	IncrementalExport = "INCREMENTAL_EXPORT"
)

// SummaryFile and FilesManifest are the names of the manifests in an
// export's directory.
const (
	SummaryFile   = "manifest-summary.json"
	FilesManifest = "manifest-files.json"
)

// dirMarker is the path segment every export directory has.
const dirMarker = "AWSDynamoDB/"

// Location is where an export's manifests are: s3://Bucket/Dir, Dir being
// "PREFIX/AWSDynamoDB/EXPORT_ID/" (PREFIX may be empty).
type Location struct {
	Bucket string
	Dir    string
}

// URL returns the export directory's canonical URL,
// s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/.
func (l Location) URL() string { return "s3://" + l.Bucket + "/" + l.Dir }

// root is the export prefix: Dir without AWSDynamoDB/EXPORT_ID/.
func (l Location) root() string {
	i := strings.LastIndex(l.Dir, dirMarker)
	return l.Dir[:i]
}

// ID returns the export id (the last segment of Dir).
func (l Location) ID() string {
	return strings.TrimSuffix(l.Dir[len(l.root())+len(dirMarker):], "/")
}

// resolve returns the object key of a key a manifest names. Manifests name
// objects from the bucket's root ("PREFIX/AWSDynamoDB/…"), but an export
// copied to another prefix or bucket keeps its old keys inside: the part
// from AWSDynamoDB/ on is taken relative to where the export is now.
func (l Location) resolve(key string) string {
	if i := strings.LastIndex(key, dirMarker); i >= 0 {
		return l.root() + key[i:]
	}
	return key
}

// ParseURL parses an export's location: its directory
// s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/ (the trailing slash may be
// left out) or the URL of its manifest-summary.json. A bad URL is a
// *usage.Error.
func ParseURL(u string) (Location, error) {
	bad := func(why string) (Location, error) {
		return Location{}, usage.Errorf("--from-export %s: %s: give the export's directory s3://BUCKET/PREFIX/AWSDynamoDB/EXPORT_ID/ (as ddbrewind export prints it) or its %s", u, why, SummaryFile)
	}
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return bad("not an s3:// URL")
	}
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return bad("no bucket")
	}
	key = strings.TrimSuffix(key, SummaryFile)
	if key != "" && !strings.HasSuffix(key, "/") {
		key += "/"
	}
	segs := strings.Split(strings.TrimSuffix(key, "/"), "/")
	if len(segs) < 2 || segs[len(segs)-2]+"/" != dirMarker || segs[len(segs)-1] == "" {
		return bad("not an export directory (no AWSDynamoDB/EXPORT_ID/ at its end)")
	}
	for _, s := range segs {
		switch s {
		case "":
			return bad("empty path segment")
		case ".", "..":
			return bad(fmt.Sprintf("a %q path segment", s))
		}
	}
	if segs[len(segs)-1] == SharedDataDir {
		return bad("AWSDynamoDB/" + SharedDataDir + "/ is the data folder incremental exports share, not an export")
	}
	return Location{Bucket: bucket, Dir: key}, nil
}

// Time is a time in a manifest: RFC 3339 text, as AWS writes it, or a
// number of seconds since the Unix epoch; the zero Time when absent or
// null.
type Time struct{ time.Time }

// UnmarshalJSON accepts an RFC 3339 string, a number of seconds, or null.
func (t *Time) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	switch {
	case s == "null" || s == `""`:
		return nil
	case strings.HasPrefix(s, `"`):
		var str string
		if err := json.Unmarshal(data, &str); err != nil {
			return err
		}
		v, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return fmt.Errorf("time %q: %w", str, err)
		}
		t.Time = v.UTC()
		return nil
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("time %s: not RFC 3339 text or Unix seconds", s)
		}
		sec := int64(f)
		t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
		return nil
	}
}

// Summary is manifest-summary.json. Times are UTC; fields an export type
// does not have are zero.
type Summary struct {
	Version            string `json:"version"`
	ExportArn          string `json:"exportArn"`
	StartTime          Time   `json:"startTime"`
	EndTime            Time   `json:"endTime"`
	TableArn           string `json:"tableArn"`
	TableID            string `json:"tableId"`
	ExportTime         Time   `json:"exportTime"`
	S3Bucket           string `json:"s3Bucket"`
	S3Prefix           string `json:"s3Prefix"`
	S3SseAlgorithm     string `json:"s3SseAlgorithm"`
	S3SseKmsKeyID      string `json:"s3SseKmsKeyId"`
	ManifestFilesS3Key string `json:"manifestFilesS3Key"`
	BilledSizeBytes    int64  `json:"billedSizeBytes"`
	ItemCount          int64  `json:"itemCount"`
	OutputFormat       string `json:"outputFormat"`
	// ExportType is FullExport or IncrementalExport; an export made
	// before incremental exports existed has none, and is full.
	ExportType string `json:"exportType"`
	// ExportFromTime, ExportToTime and OutputView are an incremental
	// export's window and view (NEW_AND_OLD_IMAGES or NEW_IMAGE).
	ExportFromTime Time   `json:"exportFromTime"`
	ExportToTime   Time   `json:"exportToTime"`
	OutputView     string `json:"outputView"`
}

// Incremental reports whether the export is an incremental export.
func (s *Summary) Incremental() bool { return s.ExportType == IncrementalExport }

// Export views of an incremental export, as View returns them.
const (
	ViewNewAndOld = "NEW_AND_OLD_IMAGES"
	ViewNew       = "NEW_IMAGE"
)

// View returns the incremental export's view in one spelling, ViewNewAndOld
// or ViewNew, whether the summary spells it with or without the DYNAMODB_
// prefix (AWS's guide shows DYNAMODB_NEW_AND_OLD_IMAGES in its example
// summary; the API's ExportViewType is NEW_AND_OLD_IMAGES); "" when the
// summary has none, and the summary's own text for a view it does not know.
//
// NEW_IMAGES (the spelling of the API reference's prose for
// ExportViewType, whose enum is NEW_IMAGE) is read as ViewNew too.
func (s *Summary) View() string {
	v := strings.TrimPrefix(s.OutputView, "DYNAMODB_")
	if v == "NEW_IMAGES" {
		return ViewNew
	}
	return v
}

// File is one line of manifest-files.json: a data file and what it must
// hold.
type File struct {
	// ItemCount is the number of records (lines) in the file.
	ItemCount int64 `json:"itemCount"`
	// MD5Checksum is the base64 MD5 of the object's bytes (gzip'd).
	MD5Checksum string `json:"md5Checksum"`
	// ETag is the object's S3 ETag (not checked: a multipart upload's
	// ETag is not an MD5).
	ETag string `json:"etag"`
	// DataFileS3Key is the object key, from the bucket's root.
	DataFileS3Key string `json:"dataFileS3Key"`
}

// Export is one export's manifests.
type Export struct {
	Loc     Location
	Summary Summary
	// Files are the data files, in the order of manifest-files.json.
	Files []File
	// summaryItemCount is the summary's itemCount, nil when it has none.
	summaryItemCount *int64
}

// URL returns the export directory's canonical URL.
func (e *Export) URL() string { return e.Loc.URL() }

// Digest identifies what the export's manifests say it holds: its ARN and
// each data file's key, MD5 and item count, in manifest order, hashed
// (SHA-256, hex). Two reads of the same export give the same digest; a
// manifest rewritten to list other files or checksums gives another.
func (e *Export) Digest() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", e.Summary.ExportArn)
	for _, f := range e.Files {
		fmt.Fprintf(h, "%s %s %d\n", f.DataFileS3Key, f.MD5Checksum, f.ItemCount)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FileKey returns the object key of data file i, in the export's bucket
// (Loc.Bucket): where the manifest's dataFileS3Key is now (see resolve).
func (e *Export) FileKey(i int) string { return e.Loc.resolve(e.Files[i].DataFileS3Key) }

// FileURL returns the s3:// URL of data file i, for messages.
func (e *Export) FileURL(i int) string {
	return "s3://" + e.Loc.Bucket + "/" + e.Loc.resolve(e.Files[i].DataFileS3Key)
}

// Open reads the manifests of the export at u (see ParseURL). A bad URL,
// or a location without manifest-summary.json, is a *usage.Error; a
// manifest that does not parse, or lists a file without its checksum, is
// an error naming the manifest.
func Open(ctx context.Context, api S3API, u string) (*Export, error) {
	loc, err := ParseURL(u)
	if err != nil {
		return nil, err
	}
	e := &Export{Loc: loc}
	summaryURL := loc.URL() + SummaryFile
	data, err := get(ctx, api, loc.Bucket, loc.Dir+SummaryFile)
	if err != nil {
		if awserr.IsS3NotFound(err) {
			return nil, usage.Errorf("--from-export %s: no export there (%s not found): check the URL; an export is only usable once it has COMPLETED", u, summaryURL)
		}
		return nil, fmt.Errorf("read export manifest %s: %w", summaryURL, err)
	}
	if err := json.Unmarshal(data, &e.Summary); err != nil {
		return nil, fmt.Errorf("export manifest %s does not parse: %v", summaryURL, err)
	}
	var count struct {
		ItemCount *int64 `json:"itemCount"`
	}
	if err := json.Unmarshal(data, &count); err == nil {
		e.summaryItemCount = count.ItemCount
	}
	s := &e.Summary
	if s.ExportType == "" {
		s.ExportType = FullExport
	}
	switch {
	case s.OutputFormat != "" && s.OutputFormat != "DYNAMODB_JSON":
		return nil, usage.Errorf("--from-export %s: the export's format is %s; ddbrewind reads DYNAMODB_JSON exports only", u, s.OutputFormat)
	case s.ExportType != FullExport && s.ExportType != IncrementalExport:
		return nil, fmt.Errorf("export manifest %s: unknown exportType %q (want %s or %s)", summaryURL, s.ExportType, FullExport, IncrementalExport)
	case s.TableArn == "":
		return nil, fmt.Errorf("export manifest %s has no tableArn", summaryURL)
	case s.Incremental() && (s.ExportFromTime.IsZero() || s.ExportToTime.IsZero()):
		return nil, usage.Errorf("export manifest %s: an incremental export's summary must have exportFromTime and exportToTime, and this one lacks %s: its window, and so its place among other exports, is unknown; refusing the export",
			summaryURL, missingTimes(s))
	case s.Incremental() && !s.ExportFromTime.Before(s.ExportToTime.Time):
		return nil, usage.Errorf("export manifest %s: exportFromTime %s is not before exportToTime %s: an incremental export's window cannot be empty or reversed; refusing the export",
			summaryURL, s.ExportFromTime.Format(time.RFC3339Nano), s.ExportToTime.Format(time.RFC3339Nano))
	}
	filesKey := loc.Dir + FilesManifest
	if s.ManifestFilesS3Key != "" {
		if why := loc.outside(s.ManifestFilesS3Key, false, false); why != "" {
			return nil, usage.Errorf("export manifest %s: manifestFilesS3Key %q is not in the export's directory %s (%s): refusing the export without reading it; a manifest may only name the export's own files",
				summaryURL, s.ManifestFilesS3Key, loc.URL(), why)
		}
		filesKey = loc.resolve(s.ManifestFilesS3Key)
	}
	filesURL := "s3://" + loc.Bucket + "/" + filesKey
	data, err = get(ctx, api, loc.Bucket, filesKey)
	if err != nil {
		return nil, fmt.Errorf("read export manifest %s: %w", filesURL, err)
	}
	incremental := s.Incremental()
	check := func(key string) string { return loc.outside(key, true, incremental) }
	if e.Files, err = parseFiles(data, filesURL, check, loc.resolve); err != nil {
		return nil, err
	}
	if err := e.checkCounts(filesURL); err != nil {
		return nil, err
	}
	return e, nil
}

// checkCounts refuses a full export whose manifest lists no data file:
// AWS writes at least one per partition (an empty one for an empty
// partition), and read as an empty table it would make --delete-extra
// delete every item.
func (e *Export) checkCounts(filesURL string) error {
	if len(e.Files) == 0 && !e.Summary.Incremental() {
		return usage.Errorf("export manifest %s lists no data file: a full export has at least one per partition (an empty one for an empty partition), and read as an empty table it would make --delete-extra delete every item; refusing the export",
			filesURL)
	}
	return nil
}

// Missing returns how many items the summary's itemCount says the export
// holds beyond the sum of its data files' item counts (AWS writes both
// from one export, so a truncated or edited manifest-files.json lists
// fewer), and the two counts; 0 when the summary has no itemCount or the
// files list as many or more.
func (e *Export) Missing() (missing, summary, files int64) {
	for _, f := range e.Files {
		files += f.ItemCount
	}
	if e.summaryItemCount == nil || *e.summaryItemCount <= files {
		return 0, 0, files
	}
	return *e.summaryItemCount - files, *e.summaryItemCount, files
}

// missingTimes names the window's ends an incremental summary lacks.
func missingTimes(s *Summary) string {
	switch {
	case s.ExportFromTime.IsZero() && s.ExportToTime.IsZero():
		return "both"
	case s.ExportFromTime.IsZero():
		return "exportFromTime"
	}
	return "exportToTime"
}

// SharedDataDir is the directory, under PREFIX/AWSDynamoDB/, where AWS
// writes the data files of incremental exports: one folder shared by every
// incremental export to the same prefix (a full export's data files are in
// its own directory, EXPORT_ID/data/).
const SharedDataDir = "data"

// outside returns why key, an object key named by one of this export's
// manifests, is not one of the export's objects, or "" when it is. Every
// segment must be non-empty and neither "." nor ".."; the key must have an
// AWSDynamoDB segment, and after the last one: this export's id and a file
// name (the files manifest), or this export's id, data and a file name (a
// data file) — or, for an incremental export's data file, the shared data
// folder and a file name (data/NAME), where AWS writes them. What comes
// before AWSDynamoDB/ is the prefix the export was written to; it is not
// compared (see resolve: an export copied elsewhere keeps its keys).
func (l Location) outside(key string, dataFile, incremental bool) string {
	segs := strings.Split(key, "/")
	marker := -1
	for i, seg := range segs {
		switch seg {
		case "":
			return "it has an empty path segment"
		case ".", "..":
			return fmt.Sprintf("it has a %q path segment", seg)
		}
		if seg+"/" == dirMarker {
			marker = i
		}
	}
	if marker < 0 {
		return "it has no AWSDynamoDB/ segment"
	}
	rest, id := segs[marker+1:], l.ID()
	switch {
	case !dataFile && len(rest) == 2 && rest[0] == id:
		return ""
	case dataFile && len(rest) == 3 && rest[0] == id && rest[1] == "data":
		return ""
	case dataFile && incremental && len(rest) == 2 && rest[0] == SharedDataDir:
		return ""
	case dataFile && !incremental && len(rest) == 2 && rest[0] == SharedDataDir:
		return "a full export's data files are in its own directory, not in the shared AWSDynamoDB/data/ of incremental exports"
	case len(rest) > 0 && rest[0] != id && rest[0] != SharedDataDir:
		return fmt.Sprintf("it names the directory AWSDynamoDB/%s/, not this export's AWSDynamoDB/%s/", rest[0], id)
	case dataFile && incremental:
		return "want PREFIX/AWSDynamoDB/" + id + "/data/NAME or PREFIX/AWSDynamoDB/data/NAME"
	case dataFile:
		return "want PREFIX/AWSDynamoDB/" + id + "/data/NAME"
	}
	return "want PREFIX/AWSDynamoDB/" + id + "/" + FilesManifest
}

// parseFiles parses manifest-files.json (JSON Lines; blank lines skipped).
// check, if not nil, says why a dataFileS3Key is not one the export may
// name ("" when it may): such a key is a *usage.Error naming the line.
// object, if not nil, is the object a dataFileS3Key names (Location.resolve):
// two lines naming one object are a *usage.Error too — its records would be
// read twice (copied twice, or taken for keys listed twice), and a genuine
// export names each of its data files once.
func parseFiles(data []byte, where string, check, object func(key string) string) ([]File, error) {
	var files []File
	lineOf := map[string]int{} // the object of each line's dataFileS3Key (with object)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var f File
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("export manifest %s:%d does not parse: %v", where, line, err)
		}
		sum, err := base64.StdEncoding.DecodeString(f.MD5Checksum)
		switch {
		case f.DataFileS3Key == "":
			return nil, fmt.Errorf("export manifest %s:%d has no dataFileS3Key", where, line)
		case err != nil || len(sum) != 16:
			return nil, fmt.Errorf("export manifest %s:%d: md5Checksum %q is not a base64 MD5", where, line, f.MD5Checksum)
		case f.ItemCount < 0:
			return nil, fmt.Errorf("export manifest %s:%d: itemCount %d", where, line, f.ItemCount)
		}
		if check != nil {
			if why := check(f.DataFileS3Key); why != "" {
				return nil, usage.Errorf("export manifest %s:%d: dataFileS3Key %q is not a data file of this export (%s): refusing the export before reading any of its data files; a manifest may only name the export's own files",
					where, line, f.DataFileS3Key, why)
			}
		}
		if object != nil {
			obj := object(f.DataFileS3Key)
			if first, dup := lineOf[obj]; dup {
				return nil, usage.Errorf("export manifest %s:%d: dataFileS3Key %q names the data file of line %d again: refusing the export before reading any of its data files; a manifest lists each data file once",
					where, line, f.DataFileS3Key, first)
			}
			lineOf[obj] = line
		}
		files = append(files, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("export manifest %s: %w", where, err)
	}
	return files, nil
}

// get reads a whole (small) object.
func get(ctx context.Context, api S3API, bucket, key string) ([]byte, error) {
	out, err := api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(io.LimitReader(out.Body, 256<<20))
}
