package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestReviewKeysKilledWorkerResumes: a copy selected by a keys file
// (numbers respelled, keys listed twice, CRLF) and split between two
// workers is killed with -9 in worker 0 while its writes are slowed by the
// fault proxy; worker 0 run again (its index now from
// AWS_BATCH_JOB_ARRAY_INDEX) resumes from its own checkpoint, worker 1
// runs; together they leave the main table holding exactly the selected
// items of the recovery table — none lost, none outside the selection —
// and the resumed worker does not start over. The keys file changed under
// the checkpoint is refused (exit 2) before anything is written.
func TestReviewKeysKilledWorkerResumes(t *testing.T) {
	t.Parallel()
	items := tenantItems(2400, 4, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	var lines []string
	want := map[string]map[string]types.AttributeValue{}
	for i, it := range items {
		if i%5 == 4 {
			continue // not selected
		}
		pk, sk := it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberN).Value
		spell := []string{sk, sk + ".0", sk + "e0", "0" + sk}[i%4]
		lines = append(lines, fmt.Sprintf(`{"pk":{"S":%q},"sk":{"N":%q}}`, pk, spell))
		if i%50 == 0 {
			lines = append(lines, "", fmt.Sprintf(`{"sk":{"N":"%s00e-2"},"pk":{"S":%q}}`, sk, pk)) // again, other spelling and order
		}
		want[ddbtest.KeyOf(it, "pk", "sk")] = it
	}
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.jsonl")
	if err := os.WriteFile(keys, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(dir, "copy.checkpoint")
	mine := cp + ".worker-0-of-2"
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, Latency: 80 * time.Millisecond})
	common := []string{"--from", from, "--to", to, "--yes", "--writers", "1", "--keys-file", keys, "--checkpoint", cp, "--worker-count", "2"}

	cmd, stderr := startCopy(t, proxy.URL(), append(common, "--worker-index", "0")...)
	waitForFile(t, mine)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("killed worker:\n%s", stderr.String())
	if _, err := os.Stat(cp); err == nil {
		t.Errorf("worker 0 wrote the checkpoint path without its worker suffix")
	}

	env := map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "0"}
	// Another keys file at the same path: refused, nothing written.
	before := len(ddbtest.ScanAll(t, c, to))
	saved, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keys, []byte(strings.Join(lines[len(lines)/2:], "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, cliOpts{env: env}, append([]string{"copy", "--endpoint-url", srv.Endpoint}, common...)...)
	if r.code != 2 || !strings.Contains(r.stderr, "was made for another keys file") {
		t.Errorf("resume with another keys file: exit %d, stderr %q; want 2, refused", r.code, r.stderr)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != before {
		t.Errorf("the refused resume wrote %d items", n-before)
	}
	if err := os.WriteFile(keys, saved, 0o600); err != nil {
		t.Fatal(err)
	}

	r = runCLI(t, cliOpts{env: env}, append([]string{"copy", "--endpoint-url", srv.Endpoint}, common...)...)
	if r.code != 0 || !strings.Contains(r.stderr, "resumed=true") {
		t.Fatalf("resumed worker 0: exit %d, want 0 and resumed=true", r.code)
	}
	resumedRead := summaryCount(t, r.stderr, "read")
	r = runCLI(t, cliOpts{env: map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "1"}}, append([]string{"copy", "--endpoint-url", srv.Endpoint}, common...)...)
	if r.code != 0 || strings.Contains(r.stderr, "resumed=true") {
		t.Fatalf("worker 1: exit %d, want 0, not resumed", r.code)
	}
	if read := summaryCount(t, r.stderr, "read"); resumedRead >= read {
		t.Errorf("the resumed worker 0 read %d keys, worker 1 (half the file) %d: worker 0 started over", resumedRead, read)
	}
	assertSame(t, "main after the split copy", want, ddbtest.ScanAll(t, c, to))
}
