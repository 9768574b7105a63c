package restore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// CleanupOptions selects the recovery tables to delete: the named Tables, or
// those of Source and/or older than OlderThan.
type CleanupOptions struct {
	Tables                    []string
	Source                    string
	OlderThan                 time.Duration
	DisableDeletionProtection bool
	Wait                      bool
	Timeout                   time.Duration
	Poll                      Poll
	Now                       func() time.Time
	Logger                    *slog.Logger
}

// CleanupPlan lists the tables a cleanup will delete; every guard has passed.
type CleanupPlan struct {
	opts   CleanupOptions
	Tables []RecoveryTable
	// Skipped are the tables --source/--older-than picked that are still
	// being created (a restore in progress): DynamoDB cannot delete them
	// yet, so they are left alone, with a warning.
	Skipped []RecoveryTable
}

// PlanCleanup selects the tables and checks every guard: each must carry
// ddbrewind's tags, must have been created by a restore (RestoreSummary),
// must not have deletion protection unless DisableDeletionProtection, and
// must not be still being created (CREATING: DynamoDB refuses to delete it
// until it is ACTIVE). A table named with Tables that is still being created
// is refused; one picked by Source/OlderThan is left out (Skipped) with a
// warning. Any refusal is a *usage.Error and nothing is deleted.
func PlanCleanup(ctx context.Context, api API, opts CleanupOptions) (*CleanupPlan, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Hour
	}
	if opts.Poll == (Poll{}) {
		opts.Poll = DefaultPoll
	}
	if len(opts.Tables) == 0 && opts.Source == "" && opts.OlderThan == 0 {
		return nil, usage.Errorf("cleanup: name the tables with --recovery-table NAME, or select them with --source TABLE and/or --older-than DURATION")
	}
	if len(opts.Tables) > 0 && (opts.Source != "" || opts.OlderThan != 0) {
		return nil, usage.Errorf("cleanup: use either --recovery-table or --source/--older-than, not both")
	}
	plan := &CleanupPlan{opts: opts}
	if len(opts.Tables) > 0 {
		seen := map[string]bool{}
		for _, name := range opts.Tables {
			if seen[name] {
				continue
			}
			seen[name] = true
			if err := tables.ValidateName("--recovery-table", name); err != nil {
				return nil, err
			}
			rt, err := Inspect(ctx, api, name)
			if err != nil {
				if isNotFound(err) {
					return nil, usage.Errorf("cleanup %s: table not found (see ddbrewind list)", name)
				}
				return nil, fmt.Errorf("cleanup %s: %w", name, err)
			}
			if rt == nil {
				return nil, usage.Errorf("cleanup %s: refused: the table has no %s tag, so ddbrewind did not create it; delete it yourself if you really mean to", name, tables.TagSourceTable)
			}
			plan.Tables = append(plan.Tables, *rt)
		}
	} else {
		all, err := List(ctx, api, ListOptions{Source: opts.Source, Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("cleanup: %w", err)
		}
		cutoff := opts.Now().Add(-opts.OlderThan)
		for _, rt := range all {
			if opts.OlderThan != 0 && (rt.CreatedAt.IsZero() || rt.CreatedAt.After(cutoff)) {
				continue
			}
			if rt.Status == string(types.TableStatusCreating) {
				opts.Logger.Warn("skipping a recovery table that is still being created (a restore in progress): DynamoDB cannot delete it until it is ACTIVE; run cleanup again once the restore has finished",
					"table", rt.Name, "source_table", rt.SourceTable)
				plan.Skipped = append(plan.Skipped, rt)
				continue
			}
			plan.Tables = append(plan.Tables, rt)
		}
	}
	for _, rt := range plan.Tables {
		if !rt.Restored {
			return nil, usage.Errorf("cleanup %s: refused: DynamoDB reports no restore for this table (no RestoreSummary), so it is not a recovery table even though it is tagged", rt.Name)
		}
		if rt.SourceTable == rt.Name {
			return nil, usage.Errorf("cleanup %s: refused: its %s tag names the table itself, which a recovery table never is (ddbrewind restores into a new name), so the tag was copied or forged; delete it yourself if you really mean to", rt.Name, tables.TagSourceTable)
		}
		if rt.restoredFrom != "" && rt.restoredFrom != rt.SourceTable {
			return nil, usage.Errorf("cleanup %s: refused: its %s tag says it is a recovery table of %s, but DynamoDB reports it was restored from %s, so the tag was not written by ddbrewind's restore; delete it yourself if you really mean to", rt.Name, tables.TagSourceTable, rt.SourceTable, rt.restoredFrom)
		}
		if rt.DeletionProtection && !opts.DisableDeletionProtection {
			return nil, usage.Errorf("cleanup %s: refused: the table has deletion protection; add --disable-deletion-protection to turn it off and delete the table", rt.Name)
		}
		if rt.Status == string(types.TableStatusCreating) {
			return nil, usage.Errorf("cleanup %s: refused: the table is still being created (status CREATING, a restore in progress) and DynamoDB cannot delete it until it is ACTIVE; wait for the restore to finish (ddbrewind list shows its status), then run ddbrewind cleanup --recovery-table %s again", rt.Name, rt.Name)
		}
	}
	return plan, nil
}

// Execute deletes the planned tables (turning deletion protection off first
// where allowed) and, with Wait, waits until they are gone. It returns the
// names deleted so far.
func (p *CleanupPlan) Execute(ctx context.Context, api API) ([]string, error) {
	o := p.opts
	var deleted []string
	for _, rt := range p.Tables {
		if rt.Status == string(types.TableStatusDeleting) {
			// DeleteTable would fail (ResourceInUseException): a previous
			// cleanup, killed while it waited, deleted it already.
			o.Logger.Info("recovery table is being deleted already", "table", rt.Name)
			deleted = append(deleted, rt.Name)
			continue
		}
		if rt.Status == string(types.TableStatusUpdating) {
			// DeleteTable would fail (ResourceInUseException) until the
			// update is done.
			o.Logger.Info("recovery table is being updated: waiting until it is ACTIVE to delete it", "table", rt.Name)
			if _, err := WaitActive(ctx, api, rt.Name, o.Timeout, o.Poll, o.Now, o.Logger); err != nil {
				return deleted, fmt.Errorf("cleanup %s: %w", rt.Name, err)
			}
		}
		if rt.DeletionProtection {
			o.Logger.Info("turning off deletion protection", "table", rt.Name)
			if _, err := api.UpdateTable(ctx, &dynamodb.UpdateTableInput{
				TableName:                 aws.String(rt.Name),
				DeletionProtectionEnabled: aws.Bool(false),
			}); err != nil {
				return deleted, fmt.Errorf("cleanup %s: turn off deletion protection: %w", rt.Name, err)
			}
			if _, err := WaitActive(ctx, api, rt.Name, o.Timeout, o.Poll, o.Now, o.Logger); err != nil {
				return deleted, fmt.Errorf("cleanup %s: %w", rt.Name, err)
			}
		}
		o.Logger.Info("deleting recovery table", "table", rt.Name, "source_table", rt.SourceTable)
		if _, err := api.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(rt.Name)}); err != nil {
			if isNotFound(err) {
				continue
			}
			if awserr.Code(err) == "ResourceInUseException" {
				// Its status changed since the plan (someone is updating
				// it): one line, with AWS's code and what to do.
				return deleted, fmt.Errorf("cleanup %s: DynamoDB cannot delete the table now (%s): it is being created or updated; wait until ddbrewind list shows it ACTIVE, then run ddbrewind cleanup --recovery-table %s again",
					rt.Name, awserr.Message(err), rt.Name)
			}
			return deleted, fmt.Errorf("cleanup %s: delete table: %w", rt.Name, err)
		}
		deleted = append(deleted, rt.Name)
	}
	if o.Wait {
		for _, name := range deleted {
			if err := WaitGone(ctx, api, name, o.Timeout, o.Poll, o.Now, o.Logger); err != nil {
				return deleted, fmt.Errorf("cleanup: %w", err)
			}
		}
	}
	return deleted, nil
}
