package restore

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// deletingAPI is a manyTables whose DeleteTable refuses a table with
// deletion protection and otherwise leaves it DELETING for two more
// DescribeTable calls, then gone; calls records the writes in order.
type deletingAPI struct {
	*manyTables
	calls    []string
	deleting map[string]int
	// updating: the table is UPDATING for that many more DescribeTable
	// calls, then ACTIVE; updateOnDelete: DeleteTable finds it UPDATING.
	updating       map[string]int
	updateOnDelete map[string]bool
}

func (d *deletingAPI) UpdateTable(_ context.Context, in *dynamodb.UpdateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error) {
	name := aws.ToString(in.TableName)
	d.calls = append(d.calls, "update "+name)
	t := d.desc[name]
	t.DeletionProtectionEnabled = in.DeletionProtectionEnabled
	d.desc[name] = t
	return &dynamodb.UpdateTableOutput{}, nil
}

func (d *deletingAPI) DeleteTable(_ context.Context, in *dynamodb.DeleteTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	name := aws.ToString(in.TableName)
	d.calls = append(d.calls, "delete "+name)
	if d.updateOnDelete[name] {
		// Someone started an update since the plan.
		d.updateOnDelete[name] = false
		t := d.desc[name]
		t.TableStatus = types.TableStatusUpdating
		d.desc[name] = t
	}
	t, ok := d.desc[name]
	switch {
	case !ok:
		return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
	case aws.ToBool(t.DeletionProtectionEnabled):
		return nil, fmt.Errorf("ValidationException: Resource cannot be deleted as it is currently protected against deletion")
	case t.TableStatus == types.TableStatusCreating:
		// DynamoDB's answer for a table being created or restored.
		return nil, &types.ResourceInUseException{Message: aws.String("Attempt to change a resource which is still in use: Table is being created: " + name)}
	case t.TableStatus == types.TableStatusUpdating:
		return nil, &types.ResourceInUseException{Message: aws.String("Attempt to change a resource which is still in use: Table is being updated: " + name)}
	}
	t.TableStatus = types.TableStatusDeleting
	d.desc[name] = t
	d.deleting[name] = 2
	return &dynamodb.DeleteTableOutput{}, nil
}

func (d *deletingAPI) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	name := aws.ToString(in.TableName)
	if n, ok := d.updating[name]; ok {
		d.updating[name] = n - 1
		if n == 0 {
			t := d.desc[name]
			t.TableStatus = types.TableStatusActive
			d.desc[name] = t
			delete(d.updating, name)
		}
	}
	if n, ok := d.deleting[name]; ok {
		if n == 0 {
			delete(d.desc, name)
		}
		d.deleting[name] = n - 1
	}
	return d.manyTables.DescribeTable(ctx, in, opts...)
}

// TestCleanupExecute: with --disable-deletion-protection the protection
// is turned off before the delete; a table deleted by someone else after
// the plan is not an error; with Wait, Execute returns once every table
// is gone.
func TestCleanupExecute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &deletingAPI{manyTables: &manyTables{desc: map[string]types.TableDescription{}, tags: map[string]map[string]string{}}, deleting: map[string]int{}}
		for _, name := range []string{"orders-rewind-a", "orders-rewind-b", "orders-rewind-c"} {
			d := recoveryDescription(name, "orders", types.TableStatusActive)
			d.DeletionProtectionEnabled = aws.Bool(name == "orders-rewind-a")
			api.add(d, map[string]string{tables.TagSourceTable: "orders"})
		}
		plan, err := PlanCleanup(context.Background(), api, CleanupOptions{Source: "orders", DisableDeletionProtection: true, Wait: true})
		if err != nil {
			t.Fatal(err)
		}
		delete(api.desc, "orders-rewind-c") // deleted by someone else meanwhile
		deleted, err := plan.Execute(context.Background(), api)
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		if got := fmt.Sprint(deleted); got != "[orders-rewind-a orders-rewind-b]" {
			t.Errorf("deleted %s", got)
		}
		if got := fmt.Sprint(api.calls); got != "[update orders-rewind-a delete orders-rewind-a delete orders-rewind-b delete orders-rewind-c]" {
			t.Errorf("calls %s", got)
		}
		for _, name := range deleted {
			if _, ok := api.desc[name]; ok {
				t.Errorf("Execute returned before %s was gone", name)
			}
		}
	})
}
