package restore

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// TestCleanupTableStillBeingRestored: a recovery table still CREATING (a
// restore in progress) cannot be deleted — DynamoDB answers DeleteTable
// with ResourceInUseException ("Table is being created"). Named with
// --recovery-table, the cleanup is refused with one line naming the table,
// why and what to do (exit 2), before any other table is deleted; picked
// by --source or --older-than, it is left out with a warning and the other
// tables are deleted.
func TestCleanupTableStillBeingRestored(t *testing.T) {
	const ready, creating = "orders-rewind-a", "orders-rewind-b"
	tests := []struct {
		name        string
		opts        CleanupOptions
		wantErr     []string // substrings of the refusal; nil: no error
		wantDeleted string
		wantCalls   string
		wantWarn    string
	}{
		{
			name: "named",
			opts: CleanupOptions{Tables: []string{ready, creating}},
			wantErr: []string{"cleanup " + creating + ": refused: the table is still being created (status CREATING",
				"wait for the restore to finish", "ddbrewind cleanup --recovery-table " + creating},
			wantCalls: "[]",
		},
		{
			name:        "by source",
			opts:        CleanupOptions{Source: "orders"},
			wantDeleted: "[" + ready + "]",
			wantCalls:   "[delete " + ready + "]",
			wantWarn:    "table=" + creating,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &deletingAPI{manyTables: &manyTables{desc: map[string]types.TableDescription{}, tags: map[string]map[string]string{}}, deleting: map[string]int{}}
				api.add(recoveryDescription(ready, "orders", types.TableStatusActive), map[string]string{tables.TagSourceTable: "orders"})
				d := recoveryDescription(creating, "orders", types.TableStatusCreating)
				d.RestoreSummary.RestoreInProgress = aws.Bool(true)
				api.add(d, map[string]string{tables.TagSourceTable: "orders"})
				var logs bytes.Buffer
				tt.opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				tt.opts.Wait = true
				plan, err := PlanCleanup(context.Background(), api, tt.opts)
				var deleted []string
				if err == nil {
					deleted, err = plan.Execute(context.Background(), api)
				}
				switch {
				case tt.wantErr != nil:
					if err == nil || !usage.Is(err) {
						t.Fatalf("cleanup = %v, want a refusal (exit 2)", err)
					}
					for _, w := range tt.wantErr {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("refusal %q lacks %q", err, w)
						}
					}
					if strings.Contains(err.Error(), "\n") {
						t.Errorf("refusal is not one line: %q", err)
					}
				case err != nil:
					t.Fatalf("cleanup: %v", err)
				}
				if tt.wantDeleted != "" && fmt.Sprint(deleted) != tt.wantDeleted {
					t.Errorf("deleted %v, want %s", deleted, tt.wantDeleted)
				}
				if got := fmt.Sprint(api.calls); got != tt.wantCalls {
					t.Errorf("calls %s, want %s", got, tt.wantCalls)
				}
				if tt.wantWarn != "" && (!strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), tt.wantWarn)) {
					t.Errorf("no warning naming %s in the log:\n%s", tt.wantWarn, logs.String())
				}
				if _, ok := api.desc[creating]; !ok {
					t.Errorf("%s was deleted", creating)
				}
			})
		})
	}
}

// TestCleanupTableBeingUpdated: DynamoDB refuses DeleteTable on an
// UPDATING table too. One UPDATING when planned is waited for until ACTIVE,
// then deleted; one whose update starts after the plan (DeleteTable answers
// ResourceInUseException) ends the cleanup with one line that keeps AWS's
// code and says what to do, the tables deleted before it reported.
func TestCleanupTableBeingUpdated(t *testing.T) {
	t.Run("updating when planned", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			api := &deletingAPI{manyTables: &manyTables{desc: map[string]types.TableDescription{}, tags: map[string]map[string]string{}}, deleting: map[string]int{}, updating: map[string]int{}}
			api.add(recoveryDescription("orders-rewind-a", "orders", types.TableStatusUpdating), map[string]string{tables.TagSourceTable: "orders"})
			api.updating["orders-rewind-a"] = 3 // Inspect, then two polls of the wait
			plan, err := PlanCleanup(context.Background(), api, CleanupOptions{Tables: []string{"orders-rewind-a"}, Wait: true})
			if err != nil {
				t.Fatal(err)
			}
			deleted, err := plan.Execute(context.Background(), api)
			if err != nil || fmt.Sprint(deleted) != "[orders-rewind-a]" {
				t.Fatalf("Execute = %v, %v; want the table deleted once ACTIVE", deleted, err)
			}
			if got := fmt.Sprint(api.calls); got != "[delete orders-rewind-a]" {
				t.Errorf("calls %s, want one DeleteTable once ACTIVE", got)
			}
		})
	})
	t.Run("update started after the plan", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			api := &deletingAPI{manyTables: &manyTables{desc: map[string]types.TableDescription{}, tags: map[string]map[string]string{}}, deleting: map[string]int{}, updateOnDelete: map[string]bool{"orders-rewind-b": true}}
			for _, n := range []string{"orders-rewind-a", "orders-rewind-b"} {
				api.add(recoveryDescription(n, "orders", types.TableStatusActive), map[string]string{tables.TagSourceTable: "orders"})
			}
			plan, err := PlanCleanup(context.Background(), api, CleanupOptions{Source: "orders", Wait: true})
			if err != nil {
				t.Fatal(err)
			}
			deleted, err := plan.Execute(context.Background(), api)
			want := "cleanup orders-rewind-b: DynamoDB cannot delete the table now (ResourceInUseException: Attempt to change a resource which is still in use: Table is being updated: orders-rewind-b): it is being created or updated; wait until ddbrewind list shows it ACTIVE, then run ddbrewind cleanup --recovery-table orders-rewind-b again"
			if err == nil || err.Error() != want {
				t.Errorf("Execute error\n %v\nwant\n %s", err, want)
			}
			if fmt.Sprint(deleted) != "[orders-rewind-a]" {
				t.Errorf("deleted %v, want [orders-rewind-a] reported", deleted)
			}
		})
	})
}
