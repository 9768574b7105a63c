package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/rewind"
)

// TestRunFailedVerificationKeepsRecoveryTable: "if in doubt, keep the
// recovery table". A copy whose writes were acknowledged but did not land
// (BatchWriteItem answered without being forwarded), after items were
// deleted from the main table, fails the verification: exit 3, the state
// stays at verify, the recovery table is kept; the rerun verifies again,
// fails again and still keeps it.
func TestRunFailedVerificationKeepsRecoveryTable(t *testing.T) {
	t.Parallel()
	srv, table, items := runTable(t, 20)
	c := srv.Client(t)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"run", "--endpoint-url", proxy.URL(), "--table", table, "--latest", "--state", state, "--yes", "--max-retry-time", "1s"}
	// The restore, then a copy that fails: the recovery table holds the 20 items.
	if r := ddb(t, args...); r.code != 3 {
		t.Fatalf("first run: exit %d, want 3", r.code)
	}
	st := readState(t, state)
	if st == nil || st.Step != rewind.StepCopy {
		t.Fatalf("state %+v, want step copy", st)
	}
	deleteAfter(t, c, st.RecoveryTable)
	for _, it := range items[:3] {
		if _, err := c.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(table),
			Key: map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]}}); err != nil {
			t.Fatal(err)
		}
	}
	proxy.SetConfig(ddbtest.FaultConfig{Respond: map[string]func() (int, []byte){
		"BatchWriteItem": func() (int, []byte) { return 200, []byte(`{"UnprocessedItems":{}}`) },
	}})
	for attempt := 1; attempt <= 2; attempt++ {
		r := ddb(t, args...)
		if r.code != 3 || !strings.Contains(r.stderr, "verification failed") {
			t.Fatalf("attempt %d: exit %d, want 3 with a failed verification; stderr:\n%s", attempt, r.code, r.stderr)
		}
		if st := readState(t, state); st == nil || st.Step != rewind.StepVerify {
			t.Fatalf("attempt %d: state %+v, want step verify", attempt, st)
		}
		if !tableExists(t, c, st.RecoveryTable) {
			t.Fatalf("attempt %d: the recovery table %s was deleted after a failed verification", attempt, st.RecoveryTable)
		}
	}
}

// TestRunKeepRecoveryTable: with --keep-recovery-table a finished run
// leaves the recovery table in place (still tagged, so cleanup takes it
// later); without it the same run deletes it (first, so that the two
// runs may pick the same default name).
func TestRunKeepRecoveryTable(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 10)
	c := srv.Client(t)
	for _, keep := range []bool{false, true} {
		state := filepath.Join(t.TempDir(), "state.json")
		args := []string{"run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--yes"}
		if keep {
			args = append(args, "--keep-recovery-table")
		}
		if r := ddb(t, args...); r.code != 0 {
			t.Fatalf("keep=%v: exit %d; stderr:\n%s", keep, r.code, r.stderr)
		}
		st := readState(t, state)
		if st == nil || st.Step != rewind.StepDone {
			t.Fatalf("keep=%v: state %+v, want done", keep, st)
		}
		deleteAfter(t, c, st.RecoveryTable)
		if got := tableExists(t, c, st.RecoveryTable); got != keep {
			t.Errorf("keep=%v: recovery table %s exists = %v", keep, st.RecoveryTable, got)
		}
		if keep {
			r := ddb(t, "list", "--endpoint-url", srv.Endpoint, "--source", table)
			if r.code != 0 || !strings.Contains(r.stdout, st.RecoveryTable) {
				t.Errorf("the kept recovery table is not listed: exit %d\n%s", r.code, r.stdout)
			}
		}
	}
}

// TestRunResumesCleanupOfADeletedRecoveryTable: a run killed after
// DeleteTable but before it recorded "done" (the state file still says
// cleanup) finishes on the rerun: the recovery table being gone is the
// cleanup done, exit 0, state done.
func TestRunResumesCleanupOfADeletedRecoveryTable(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 10)
	c := srv.Client(t)
	state := filepath.Join(t.TempDir(), "state.json")
	args := []string{"run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--yes"}
	if r := ddb(t, args...); r.code != 0 {
		t.Fatalf("run: exit %d", r.code)
	}
	data, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	st := readState(t, state)
	if st == nil || tableExists(t, c, st.RecoveryTable) {
		t.Fatalf("state %+v: the recovery table must be deleted", st)
	}
	// The state as a kill right after the deletion leaves it.
	edited := strings.Replace(string(data), `"step": "done"`, `"step": "cleanup"`, 1)
	if edited == string(data) {
		t.Fatalf("no step done in the state file:\n%s", data)
	}
	if err := os.WriteFile(state, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	r := ddb(t, args...)
	if r.code != 0 {
		t.Fatalf("rerun: exit %d; stderr:\n%s", r.code, r.stderr)
	}
	if st := readState(t, state); st == nil || st.Step != rewind.StepDone {
		t.Fatalf("rerun: state %+v, want done", st)
	}
}
