package export

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// memAPI is DynamoDB's export API as documented, in memory, for one table:
// a ClientToken returns the export it started (ExportConflictException when
// the other parameters differ), ListExports lists newest first in pages of
// MaxResults, and an export completes (or fails) after doneAfter
// DescribeExport calls. Its knobs make it behave as moto does (ignoreToken)
// or hide exports in progress from ListExports (unlisted).
type memAPI struct {
	API // nil: a call to anything else panics

	mu       sync.Mutex
	name     string
	arn      string
	pitr     bool
	earliest time.Time
	latest   time.Time
	// created is when the next export is requested (its id's time).
	created time.Time

	ignoreToken bool
	unlisted    bool
	hideFailed  bool
	// noSummaryType lists exports without ExportType, as for exports made
	// before incremental exports existed.
	noSummaryType bool
	doneAfter     int
	failCode      string

	exports   []*types.ExportDescription
	describes map[string]int
	tokens    map[string]*types.ExportDescription
	requests  []*dynamodb.ExportTableToPointInTimeInput
	calls     map[string]int
}

func newMemAPI(latest time.Time) *memAPI {
	return &memAPI{
		name: "orders", arn: "arn:aws:dynamodb:us-east-1:111122223333:table/orders", pitr: true,
		earliest: latest.Add(-35 * 24 * time.Hour), latest: latest, created: latest.Add(5 * time.Minute),
		doneAfter: 2, describes: map[string]int{}, tokens: map[string]*types.ExportDescription{}, calls: map[string]int{},
	}
}

func (m *memAPI) count(op string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[op]
}

func (m *memAPI) notFound() error {
	return &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
}

func (m *memAPI) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["DescribeTable"]++
	if n := aws.ToString(in.TableName); n != m.name && n != m.arn {
		return nil, m.notFound()
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: aws.String(m.name), TableArn: aws.String(m.arn)}}, nil
}

func (m *memAPI) DescribeContinuousBackups(_ context.Context, _ *dynamodb.DescribeContinuousBackupsInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["DescribeContinuousBackups"]++
	d := &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: types.PointInTimeRecoveryStatusDisabled}
	if m.pitr {
		d = &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: types.PointInTimeRecoveryStatusEnabled,
			EarliestRestorableDateTime: aws.Time(m.earliest), LatestRestorableDateTime: aws.Time(m.latest)}
	}
	return &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: &types.ContinuousBackupsDescription{
		ContinuousBackupsStatus: types.ContinuousBackupsStatusEnabled, PointInTimeRecoveryDescription: d}}, nil
}

// params is what must be equal for a ClientToken to return its export.
func params(in *dynamodb.ExportTableToPointInTimeInput) string {
	s := fmt.Sprint(aws.ToString(in.TableArn), in.ExportType, aws.ToTime(in.ExportTime).UnixMilli(), aws.ToString(in.S3Bucket),
		aws.ToString(in.S3Prefix), aws.ToString(in.S3BucketOwner), in.S3SseAlgorithm, aws.ToString(in.S3SseKmsKeyId))
	if sp := in.IncrementalExportSpecification; sp != nil {
		s += fmt.Sprint(aws.ToTime(sp.ExportFromTime).UnixMilli(), aws.ToTime(sp.ExportToTime).UnixMilli(), sp.ExportViewType)
	}
	return s
}

func (m *memAPI) ExportTableToPointInTime(_ context.Context, in *dynamodb.ExportTableToPointInTimeInput, _ ...func(*dynamodb.Options)) (*dynamodb.ExportTableToPointInTimeOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["ExportTableToPointInTime"]++
	m.requests = append(m.requests, in)
	tok := aws.ToString(in.ClientToken)
	if d, ok := m.tokens[tok]; ok && !m.ignoreToken {
		if aws.ToString(d.ClientToken) != tok || params(in) != m.paramsOf(d) {
			return nil, &types.ExportConflictException{Message: aws.String("same token, other parameters")}
		}
		c := *d
		return &dynamodb.ExportTableToPointInTimeOutput{ExportDescription: &c}, nil
	}
	id := fmt.Sprintf("%014d-%08x", m.created.UnixMilli(), len(m.exports))
	m.created = m.created.Add(time.Second)
	prefix := ""
	if p := aws.ToString(in.S3Prefix); p != "" {
		prefix = p + "/"
	}
	d := &types.ExportDescription{
		ExportArn: aws.String(m.arn + "/export/" + id), ExportStatus: types.ExportStatusInProgress, ClientToken: in.ClientToken,
		TableArn: in.TableArn, S3Bucket: in.S3Bucket, S3Prefix: in.S3Prefix, S3BucketOwner: in.S3BucketOwner,
		S3SseAlgorithm: in.S3SseAlgorithm, S3SseKmsKeyId: in.S3SseKmsKeyId, ExportFormat: in.ExportFormat,
		ExportType: in.ExportType, ExportTime: in.ExportTime, IncrementalExportSpecification: in.IncrementalExportSpecification,
		ExportManifest: aws.String(prefix + "AWSDynamoDB/" + id + "/manifest-summary.json"),
	}
	m.exports = append(m.exports, d)
	m.tokens[tok] = d
	c := *d
	c.ExportManifest = nil // known once completed
	return &dynamodb.ExportTableToPointInTimeOutput{ExportDescription: &c}, nil
}

// paramsOf rebuilds the request parameters of an export.
func (m *memAPI) paramsOf(d *types.ExportDescription) string {
	return params(&dynamodb.ExportTableToPointInTimeInput{TableArn: d.TableArn, ExportType: d.ExportType, ExportTime: d.ExportTime,
		S3Bucket: d.S3Bucket, S3Prefix: d.S3Prefix, S3BucketOwner: d.S3BucketOwner, S3SseAlgorithm: d.S3SseAlgorithm,
		S3SseKmsKeyId: d.S3SseKmsKeyId, IncrementalExportSpecification: d.IncrementalExportSpecification})
}

func (m *memAPI) find(arn string) *types.ExportDescription {
	for _, d := range m.exports {
		if aws.ToString(d.ExportArn) == arn {
			return d
		}
	}
	return nil
}

func (m *memAPI) DescribeExport(ctx context.Context, in *dynamodb.DescribeExportInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeExportOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["DescribeExport"]++
	d := m.find(aws.ToString(in.ExportArn))
	if d == nil {
		return nil, &types.ExportNotFoundException{Message: aws.String("no such export")}
	}
	m.describes[aws.ToString(d.ExportArn)]++
	if d.ExportStatus == types.ExportStatusInProgress && m.doneAfter > 0 && m.describes[aws.ToString(d.ExportArn)] >= m.doneAfter {
		d.ExportStatus = types.ExportStatusCompleted
		d.ItemCount = aws.Int64(20)
		if m.failCode != "" {
			d.ExportStatus, d.FailureCode, d.FailureMessage = types.ExportStatusFailed, aws.String(m.failCode), aws.String("Access Denied")
			d.ItemCount = nil
		}
	}
	c := *d
	if c.ExportStatus != types.ExportStatusCompleted {
		c.ExportManifest = nil
	}
	return &dynamodb.DescribeExportOutput{ExportDescription: &c}, nil
}

func (m *memAPI) ListExports(_ context.Context, in *dynamodb.ListExportsInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListExportsOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls["ListExports"]++
	var all []types.ExportSummary
	for i := len(m.exports) - 1; i >= 0; i-- { // newest first
		d := m.exports[i]
		if aws.ToString(in.TableArn) != "" && aws.ToString(d.TableArn) != aws.ToString(in.TableArn) {
			continue
		}
		if m.unlisted && d.ExportStatus == types.ExportStatusInProgress || m.hideFailed && d.ExportStatus == types.ExportStatusFailed {
			continue
		}
		sum := types.ExportSummary{ExportArn: d.ExportArn, ExportStatus: d.ExportStatus, ExportType: d.ExportType}
		if m.noSummaryType {
			sum.ExportType = ""
		}
		all = append(all, sum)
	}
	start, _ := strconv.Atoi(aws.ToString(in.NextToken))
	size := int(aws.ToInt32(in.MaxResults))
	if size == 0 {
		size = 25
	}
	out := &dynamodb.ListExportsOutput{}
	end := min(start+size, len(all))
	out.ExportSummaries = all[start:end]
	if end < len(all) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}
