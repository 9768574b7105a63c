package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// exportBucket is the bucket of the benchmark's in-memory S3.
const exportBucket = "bench-exports"

// exportFiles is the number of data files of the benchmark's export.
const exportFiles = 4

// exportRun rewinds a table of 10·N items from an incremental export of N
// changed keys (N = 1 % of Items, at least 10): the table is seeded, every
// tenth item is damaged (an attribute added), the export records each
// damaged key's old and new image, and ddbrewind copy --from-export puts
// them back. The export is served from memory over HTTP (the S3 API's
// GetObject, path style) and DynamoDB calls go through a counting proxy:
// the rewind must read and write N items and never Scan or Query the
// table. It runs with --overwrite-conflicts: dynalite fails "#a = :v"
// whenever the attribute is a list or a map (L, M), equal or not, where
// DynamoDB compares them, so the rewind's "still what the window left"
// condition would turn every item of this data set with a list or a map
// into a conflict there; the reads (the window's keys, read before
// writing) and writes are the same in number.
func (b *bench) exportRun(ctx context.Context) error {
	n := max(b.cfg.Items/100, 10)
	table := b.name("export")
	_, want, err := b.seedTable(ctx, table, 10*n)
	if err != nil {
		return err
	}
	d, err := b.c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("describe %s: %w", table, err)
	}
	fmt.Fprintf(b.progress, "… damaging %s of %s items and writing their incremental export\n", commas(n), commas(10*n))
	mem := ddbtest.NewMemS3()
	url, err := b.damage(ctx, table, aws.ToString(d.Table.TableArn), 10*n, mem)
	if err != nil {
		return err
	}
	s3srv := httptest.NewServer(memS3Handler(mem))
	defer s3srv.Close()
	proxy, err := newOpCounter(b.endpoint)
	if err != nil {
		return err
	}
	defer proxy.Close()

	fmt.Fprintf(b.progress, "… ddbrewind copy --from-export %s --to %s\n", url, table)
	run, err := b.copyFromExport(ctx, proxy.URL, url, table, s3srv.URL, "--delete-extra", "--overwrite-conflicts")
	if b.lacksFlag(err, &b.res.ExportSkipped, "export", "--from-export") {
		return b.drop(ctx, table)
	}
	if err != nil {
		return err
	}
	got, err := scanDigest(ctx, b.c, table, nil)
	if err != nil {
		return err
	}
	if err := sameDigests(want, got); err != nil {
		return fmt.Errorf("rewind of %s from the export: %w", table, err)
	}
	c := run.Report.Counts
	ops := proxy.Counts()
	r := &b.res
	r.ExportItems, r.ExportChanged, r.ExportRead, r.ExportWritten = 10*n, n, c.Read, c.Written
	r.ExportScans = ops["Scan"] + ops["Query"]
	r.ExportRate = float64(c.Written) / run.Wall.Seconds()
	verdict := "reads and writes follow the changed keys, the table is never scanned"
	if c.Read != int64(n) || c.Written != int64(n) || r.ExportScans != 0 {
		verdict = "reads or writes do NOT follow the changed keys"
		b.failures = append(b.failures, fmt.Sprintf("export rewind of %d changed keys in a %d-item table: read %d, wrote %d, %d Scan/Query calls",
			n, 10*n, c.Read, c.Written, r.ExportScans))
	}
	fmt.Fprintf(b.out, "export     incremental export of %s changed keys, table of %s: read %s, wrote %s (%.1f%%), %d Scan/Query, %d BatchGetItem in %s · %s items/s · peak RSS %s · verified · %s\n",
		commas(n), commas(10*n), commas(c.Read), commas(c.Written), pct(c.Written, 10*n), r.ExportScans, ops["BatchGetItem"],
		secs(run.Wall), commas(r.ExportRate), mib(run.RSSKiB), verdict)
	return b.drop(ctx, table)
}

// damage adds an attribute to every tenth of the table's items (the table
// holds genItems(0, total)) and writes the incremental export of that
// change (old and new images) into mem; it returns the export's URL.
func (b *bench) damage(ctx context.Context, table, arn string, total int, mem *ddbtest.MemS3) (url string, err error) {
	files := make([][]string, exportFiles)
	var reqs []types.WriteRequest
	var werr error
	genItems(0, total, b.cfg.Seed, func(i int, old map[string]types.AttributeValue) bool {
		if i%10 != 0 {
			return true
		}
		damaged := make(map[string]types.AttributeValue, len(old)+1)
		for k, v := range old {
			damaged[k] = v
		}
		damaged["damagedBy"] = &types.AttributeValueMemberS{Value: "bench"}
		line, err := changeRecord(old, damaged)
		if err != nil {
			werr = err
			return false
		}
		f := (i / 10) % exportFiles
		files[f] = append(files[f], line)
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: damaged}})
		if len(reqs) == 25 {
			werr = ddbtest.WriteBatch(ctx, b.c, table, reqs)
			reqs = nil
		}
		return werr == nil
	})
	if werr == nil && len(reqs) > 0 {
		werr = ddbtest.WriteBatch(ctx, b.c, table, reqs)
	}
	if werr != nil {
		return "", fmt.Errorf("damage %s: %w", table, werr)
	}
	w := ddbtest.NewExportWriter(ctx, mem, exportBucket, "bench", ddbtest.ExportOptions{
		ID: "01700000000000-bench001", TableArn: arn, ExportType: "INCREMENTAL_EXPORT"})
	for _, lines := range files {
		for _, l := range lines {
			if err := w.Line(l); err != nil {
				return "", fmt.Errorf("write the export: %w", err)
			}
		}
		if err := w.EndFile(); err != nil {
			return "", fmt.Errorf("write the export: %w", err)
		}
	}
	e, err := w.Close()
	if err != nil {
		return "", fmt.Errorf("write the export: %w", err)
	}
	return e.URL, nil
}

// changeRecord is one incremental export record: the key, the old and the
// new image.
func changeRecord(old, new map[string]types.AttributeValue) (string, error) {
	var parts [3][]byte
	for i, it := range []map[string]types.AttributeValue{{"pk": old["pk"], "sk": old["sk"]}, old, new} {
		data, err := ddbjson.MarshalItem(it)
		if err != nil {
			return "", err
		}
		parts[i] = data
	}
	return `{"Metadata":{"WriteTimestampMicros":{"N":"1700000000000000"}},"Keys":` + string(parts[0]) +
		`,"OldImage":` + string(parts[1]) + `,"NewImage":` + string(parts[2]) + `}`, nil
}

// sameDigests reports how got differs from want (nil: equal).
func sameDigests(want, got *tableDigest) error {
	if len(got.items) != len(want.items) {
		return fmt.Errorf("%d items, want %d", len(got.items), len(want.items))
	}
	for k, d := range want.items {
		if got.items[k] != d {
			return fmt.Errorf("item %s differs from its original", k)
		}
	}
	return nil
}

// memS3Handler serves mem's objects over HTTP as S3 does for GetObject in
// path style (GET /BUCKET/KEY); anything else is refused.
func memS3Handler(mem *ddbtest.MemS3) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if r.Method != http.MethodGet || key == "" {
			http.Error(w, "<Error><Code>NotImplemented</Code></Error>", http.StatusNotImplemented)
			return
		}
		out, err := mem.GetObject(r.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, "<Error><Code>NoSuchKey</Code><Message>%s</Message></Error>", key)
			return
		}
		defer out.Body.Close()
		w.Header().Set("Content-Length", strconv.FormatInt(aws.ToInt64(out.ContentLength), 10))
		w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
		io.Copy(w, out.Body)
	})
}

// opCounter is a reverse proxy in front of DynamoDB that counts the
// operations (X-Amz-Target) it forwards.
type opCounter struct {
	*httptest.Server
	mu  sync.Mutex
	ops map[string]int
}

func newOpCounter(upstream string) (*opCounter, error) {
	target, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %w", upstream, err)
	}
	p := &opCounter{ops: map[string]int{}}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := r.Header.Get("X-Amz-Target")
		p.mu.Lock()
		p.ops[t[strings.LastIndexByte(t, '.')+1:]]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	return p, nil
}

// Counts returns the operations forwarded so far.
func (p *opCounter) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.ops))
	for k, v := range p.ops {
		out[k] = v
	}
	return out
}
