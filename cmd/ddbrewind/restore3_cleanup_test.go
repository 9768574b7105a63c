package main

import "testing"

// TestCleanupSelectionNamesTheTablesItSkips: a recovery table that
// --source picks while it is still being restored (CREATING) is left
// alone, and the output names it like the tables it deletes: `would skip
// R (still being created)` in a dry run (which listed nothing of it
// before), `skipped R (still being created)` after the deletion, and the
// same lines when it is the only table picked (a dry run said "nothing to
// delete" before, the cleanup nothing at all on stdout). Exit 0 each time.
func TestCleanupSelectionNamesTheTablesItSkips(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	ready := restored(t, srv, c, table, "ready")
	busy := restored(t, srv, c, table, "busy")
	proxy := creatingProxy(t, srv, busy)

	steps := []struct {
		name     string
		endpoint string
		args     []string
		want     string // stdout
		gone     string // the table deleted by the step, "" none
	}{
		{"dry run", proxy, []string{"--dry-run"}, "would delete " + ready + "\nwould skip " + busy + " (still being created)\n", ""},
		{"cleanup", proxy, []string{"--yes"}, "deleted " + ready + "\nskipped " + busy + " (still being created)\n", ready},
		{"dry run, only a table being created", proxy, []string{"--dry-run"}, "would skip " + busy + " (still being created)\n", ""},
		{"cleanup, only a table being created", proxy, []string{"--yes"}, "skipped " + busy + " (still being created)\n", ""},
		{"dry run once it is restored", srv.Endpoint, []string{"--dry-run"}, "would delete " + busy + "\n", ""},
	}
	for _, s := range steps {
		r := ddb(t, append([]string{"cleanup", "--endpoint-url", s.endpoint, "--source", table}, s.args...)...)
		if r.code != 0 || r.stdout != s.want {
			t.Errorf("%s: exit %d, stdout %q; want exit 0 and %q (stderr %q)", s.name, r.code, r.stdout, s.want, r.stderr)
		}
		if s.gone != "" && tableExists(t, c, s.gone) {
			t.Errorf("%s: %s not deleted", s.name, s.gone)
		}
		if !tableExists(t, c, busy) {
			t.Fatalf("%s: deleted %s, which is still being created", s.name, busy)
		}
	}
}
