package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// fullExportFiles is the number of data files of the benchmark's full
// export; ddbrewind reads them all at once (--segments fullExportFiles).
const fullExportFiles = 4

// fullExportRun copies the source table's items from a full export into a
// new empty table: the export (the seeded items, Items of them over
// fullExportFiles gzip'd data files, its manifest naming the source table)
// is written into an in-memory S3 served over HTTP, and ddbrewind copy
// --from-export URL --to DST --allow-other-table reads it with the table
// copy's writers. The copy is timed and verified like a table copy.
func (b *bench) fullExportRun(ctx context.Context, src string, want *tableDigest) error {
	d, err := b.c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(src)})
	if err != nil {
		return fmt.Errorf("describe %s: %w", src, err)
	}
	n := b.cfg.Items
	fmt.Fprintf(b.progress, "… writing a full export of %s's %s items (%d data files)\n", src, commas(n), fullExportFiles)
	mem := ddbtest.NewMemS3()
	start := time.Now()
	url, size, err := writeFullExport(ctx, mem, aws.ToString(d.Table.TableArn), n, b.cfg.Seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.progress, "… wrote %.1f MiB of gzip'd data files in %s\n", float64(size)/(1<<20), secs(time.Since(start)))
	s3srv := httptest.NewServer(memS3Handler(mem))
	defer s3srv.Close()

	dst := b.name("fullexport")
	if err := b.create(ctx, dst); err != nil {
		return err
	}
	fmt.Fprintf(b.progress, "… ddbrewind copy --from-export %s --to %s --allow-other-table\n", url, dst)
	run, err := b.copyFromExport(ctx, b.endpoint, url, dst, s3srv.URL, "--allow-other-table", "--segments", strconv.Itoa(fullExportFiles))
	if b.lacksFlag(err, &b.res.FullExportSkipped, "full export", "--from-export") {
		return b.drop(ctx, dst)
	}
	if err != nil {
		return err
	}
	if err := b.checkCopy(ctx, src, dst, run, want, int64(n)); err != nil {
		return err
	}
	r := &b.res
	r.FullExportItems, r.FullExportFiles = n, fullExportFiles
	r.FullExportRate = float64(run.Report.Counts.Written) / run.Wall.Seconds()
	r.FullExportRSSKiB, r.FullExportCPU = run.RSSKiB, run.CPU
	fmt.Fprintf(b.out, "full exp   ddbrewind  %s items from a full export (%d files) in %s · %s items/s (own timer %s) · CPU %s · peak RSS %s · verified\n",
		commas(run.Report.Counts.Written), fullExportFiles, secs(run.Wall), commas(r.FullExportRate), commas(run.Report.Rate),
		secs(run.CPU), mib(run.RSSKiB))
	return b.drop(ctx, dst)
}

// writeFullExport writes the benchmark's items [0, n) for seed into mem as
// a full export of the table arn, in the documented layout
// (ddbtest.ExportWriter: one gzip'd data file held at a time, item i in
// file i·fullExportFiles/n), and returns the export's URL and the data
// files' total size.
func writeFullExport(ctx context.Context, mem *ddbtest.MemS3, arn string, n int, seed int64) (url string, size int64, err error) {
	w := ddbtest.NewExportWriter(ctx, mem, exportBucket, "bench", ddbtest.ExportOptions{ID: "01700000000000-benchfull", TableArn: arn})
	file := 0
	var werr error
	genItems(0, n, seed, func(i int, it map[string]types.AttributeValue) bool {
		for ; i*fullExportFiles/n > file; file++ {
			if werr = w.EndFile(); werr != nil {
				return false
			}
		}
		data, err := ddbjson.MarshalItem(it)
		if err != nil {
			werr = fmt.Errorf("item %d: %w", i, err)
			return false
		}
		werr = w.Line(`{"Item":` + string(data) + `}`)
		return werr == nil
	})
	for ; werr == nil && file < fullExportFiles; file++ {
		werr = w.EndFile()
	}
	var e *ddbtest.TestExport
	if werr == nil {
		e, werr = w.Close()
	}
	if werr != nil {
		return "", 0, fmt.Errorf("write the full export: %w", werr)
	}
	return e.URL, w.Size(), nil
}
