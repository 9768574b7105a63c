package restore

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// RecoveryTable is a table carrying ddbrewind's tags.
type RecoveryTable struct {
	Name         string    `json:"name"`
	ARN          string    `json:"arn"`
	SourceTable  string    `json:"source_table"`
	RestorePoint time.Time `json:"restore_point"`
	// BackupARN is the backup the table was restored from (its
	// ddbrewind:backup-arn tag); empty for a point-in-time restore.
	BackupARN string    `json:"backup_arn,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Status    string    `json:"status"`
	ItemCount int64     `json:"item_count"`
	SizeBytes int64     `json:"size_bytes"`
	// Restored is true when DynamoDB reports the table was created by a
	// restore (RestoreSummary present).
	Restored bool `json:"restored"`
	// DeletionProtection is the table's deletion protection setting.
	DeletionProtection bool `json:"deletion_protection"`
	// restoredFrom is the name of the table DynamoDB says it was restored
	// from (RestoreSummary.SourceTableArn); "" when it does not say.
	restoredFrom string
}

// ListOptions filters List.
type ListOptions struct {
	// Source keeps only recovery tables of that source table.
	Source string
	// Concurrency bounds parallel DescribeTable calls; 0 means 8.
	Concurrency int
	// Logger receives warnings about tables that cannot be inspected.
	Logger *slog.Logger
}

// List returns the recovery tables (tables with ddbrewind's tags), sorted by
// name.
func List(ctx context.Context, api API, opts ListOptions) ([]RecoveryTable, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	var names []string
	pager := dynamodb.NewListTablesPaginator(api, &dynamodb.ListTablesInput{})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		names = append(names, page.TableNames...)
	}
	found := make([]*RecoveryTable, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Concurrency)
	for i, name := range names {
		g.Go(func() error {
			rt, err := Inspect(gctx, api, name)
			if err != nil {
				switch awserr.Code(err) {
				case "ResourceNotFoundException":
					return nil // deleted meanwhile
				case "AccessDeniedException":
					// A table we may not describe is not one we made.
					opts.Logger.Warn("skipping a table that cannot be inspected", "table", name, "error", err.Error())
					return nil
				}
				return err
			}
			if rt != nil && (opts.Source == "" || rt.SourceTable == opts.Source) {
				found[i] = rt
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []RecoveryTable
	for _, rt := range found {
		if rt != nil {
			out = append(out, *rt)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Inspect describes one table and returns it as a RecoveryTable, or nil when
// it lacks ddbrewind's source-table tag.
func Inspect(ctx context.Context, api API, name string) (*RecoveryTable, error) {
	d, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", name, err)
	}
	t := d.Table
	tags, err := tables.Tags(ctx, api, aws.ToString(t.TableArn))
	if err != nil {
		return nil, fmt.Errorf("tags of %s: %w", name, err)
	}
	src, ok := tags[tables.TagSourceTable]
	if !ok {
		return nil, nil
	}
	rt := &RecoveryTable{
		Name:               name,
		ARN:                aws.ToString(t.TableArn),
		SourceTable:        src,
		BackupARN:          backupARNFromTags(tags),
		Status:             string(t.TableStatus),
		ItemCount:          aws.ToInt64(t.ItemCount),
		SizeBytes:          aws.ToInt64(t.TableSizeBytes),
		Restored:           t.RestoreSummary != nil,
		DeletionProtection: aws.ToBool(t.DeletionProtectionEnabled),
	}
	if t.RestoreSummary != nil && aws.ToString(t.RestoreSummary.SourceTableArn) != "" {
		rt.restoredFrom = tables.Name(aws.ToString(t.RestoreSummary.SourceTableArn))
	}
	rt.RestorePoint, _ = time.Parse(time.RFC3339Nano, tags[tables.TagRestorePoint])
	rt.CreatedAt, _ = time.Parse(time.RFC3339Nano, tags[tables.TagCreatedAt])
	return rt, nil
}
