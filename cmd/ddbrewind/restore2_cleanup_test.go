package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// creatingProxy is a proxy to srv that reports table as still being
// restored (CREATING, RestoreInProgress), which moto, whose restores are
// instant, never does.
func creatingProxy(t *testing.T, srv *ddbtest.Server, table string) string {
	t.Helper()
	return ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Rewrite: func(op string, body []byte) []byte {
		if op != "DescribeTable" {
			return body
		}
		var out map[string]map[string]any
		if err := json.Unmarshal(body, &out); err != nil || out["Table"]["TableName"] != table {
			return body
		}
		out["Table"]["TableStatus"] = "CREATING"
		if rs, ok := out["Table"]["RestoreSummary"].(map[string]any); ok {
			rs["RestoreInProgress"] = true
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Error(err)
			return body
		}
		return b
	}}).URL()
}

// TestCleanupRecoveryTableStillBeingRestored: cleanup of a recovery table
// that is still being restored says so in one line, naming the table and
// what to do, and exits 2 before deleting any table it was given — not
// DeleteTable's ResourceInUseException after deleting the others; picked
// by --source, it is left alone with a warning and the others are deleted
// (exit 0).
func TestCleanupRecoveryTableStillBeingRestored(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	ready := restored(t, srv, c, table, "ready")
	busy := restored(t, srv, c, table, "busy")
	proxy := creatingProxy(t, srv, busy)

	r := ddb(t, "cleanup", "--endpoint-url", proxy, "--recovery-table", ready, "--recovery-table", busy, "--yes")
	want := "cleanup " + busy + ": refused: the table is still being created (status CREATING, a restore in progress) and DynamoDB cannot delete it until it is ACTIVE; wait for the restore to finish (ddbrewind list shows its status), then run ddbrewind cleanup --recovery-table " + busy + " again"
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Errorf("cleanup by name: exit %d, stderr %q; want exit 2 and %q", r.code, r.stderr, want)
	}
	if strings.Contains(r.stderr, "ResourceInUseException") {
		t.Errorf("cleanup by name shows DynamoDB's raw error: %q", r.stderr)
	}
	if !tableExists(t, c, ready) || !tableExists(t, c, busy) {
		t.Fatalf("a refused cleanup deleted a table")
	}

	r = ddb(t, "cleanup", "--endpoint-url", proxy, "--source", table, "--yes")
	if want := "deleted " + ready + "\nskipped " + busy + " (still being created)\n"; r.code != 0 || r.stdout != want {
		t.Errorf("cleanup --source: exit %d, stdout %q; want exit 0 and %q", r.code, r.stdout, want)
	}
	if !strings.Contains(r.stderr, "still being created") || !strings.Contains(r.stderr, busy) {
		t.Errorf("cleanup --source: no warning naming %s: %q", busy, r.stderr)
	}
	if tableExists(t, c, ready) || !tableExists(t, c, busy) {
		t.Errorf("cleanup --source: %s exists %v (want gone), %s exists %v (want kept)", ready, tableExists(t, c, ready), busy, tableExists(t, c, busy))
	}
}
