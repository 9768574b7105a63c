package copier

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// readSegment scans one segment page by page and sends its items in
// batches of at most 25. It holds at most one page in memory.
func (p *Plan) readSegment(ctx context.Context, api API, seg int, out chan<- *batch) error {
	o := p.opts
	in := &dynamodb.ScanInput{
		TableName:     aws.String(o.From),
		Segment:       aws.Int32(int32(seg)),
		TotalSegments: aws.Int32(int32(o.Segments)),
	}
	if o.Segments == 1 {
		in.Segment, in.TotalSegments = nil, nil
	}
	pager := dynamodb.NewScanPaginator(api, in)
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("copy: scan %s segment %d: %w", o.From, seg, err)
		}
		o.Stats.Read.Add(int64(len(page.Items)))
		o.Stats.Matched.Add(int64(len(page.Items)))
		for i := 0; i < len(page.Items); i += 25 {
			b := &batch{items: page.Items[i:min(i+25, len(page.Items))], seg: seg}
			select {
			case out <- b:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}
