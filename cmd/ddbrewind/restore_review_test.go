package main

import (
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestRestoreTaggingFailedSaysHowToFinish: the restore starts but
// TagResource is denied, so the recovery table lacks the tags list and
// cleanup trust. The restore fails (exit 1) and its error prints the
// command that tags it, rather than succeeding with a table cleanup will
// refuse. (The name is still printed on stdout: the table exists.)
func TestRestoreTaggingFailedSaysHowToFinish(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Respond: map[string]func() (int, []byte){
		"TagResource": func() (int, []byte) {
			return 400, []byte(`{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User is not authorized to perform: dynamodb:TagResource"}`)
		},
	}})
	rec := ddbtest.UniqueName(t, "rec")
	deleteAfter(t, c, rec)
	r := ddb(t, "restore", "--endpoint-url", proxy.URL(), "--table", table, "--latest", "--recovery-table", rec)
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	line := lastLine(r.stderr)
	for _, want := range []string{"tagging failed", "AccessDeniedException", "aws dynamodb tag-resource --resource-arn", "Key=ddbrewind:source-table,Value=" + table} {
		if !strings.Contains(line, want) {
			t.Errorf("the error does not say %q: %s", want, line)
		}
	}
}
