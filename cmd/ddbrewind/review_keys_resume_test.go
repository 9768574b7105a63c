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

// TestReviewKeysIdleWorker: workers of an array job with fewer segments
// than workers — and, for a key condition, every worker but 0 — have
// nothing to read: they exit 0, write nothing, and each keeps its own
// report and checkpoint (PATH.worker-I-of-K); the busy ones copy
// everything once.
func TestReviewKeysIdleWorker(t *testing.T) {
	t.Parallel()
	items := tenantItems(300, 3, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	dir := t.TempDir()
	report, cp := filepath.Join(dir, "report.json"), filepath.Join(dir, "ckpt")
	var written int64
	for i := range 5 {
		r := runCLI(t, cliOpts{env: map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": fmt.Sprint(i)}}, "copy", "--endpoint-url", srv.Endpoint,
			"--from", from, "--to", to, "--yes", "--segments", "3", "--worker-count", "5", "--report", report, "--checkpoint", cp)
		if r.code != 0 {
			t.Fatalf("worker %d of 5 over 3 segments: exit %d", i, r.code)
		}
		n := summaryCount(t, r.stderr, "written")
		if i >= 3 && n != 0 {
			t.Errorf("worker %d has no segment but wrote %d", i, n)
		}
		written += n
		suffix := fmt.Sprintf(".worker-%d-of-5", i)
		for _, p := range []string{report + suffix, cp + suffix} {
			if _, err := os.Stat(p); err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
		}
	}
	if written != 300 {
		t.Errorf("the workers wrote %d items, want 300", written)
	}
	assertSameTables(t, c, from, to)
	for _, p := range []string{report, cp} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s written without a worker suffix", p)
		}
	}

	// A key condition is one Query: worker 0 copies the slice, the others
	// nothing.
	for i := range 3 {
		r := runCLI(t, cliOpts{}, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--worker-count", "3",
			"--worker-index", fmt.Sprint(i), "--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`)
		want := map[bool]int64{true: 100, false: 0}[i == 0]
		if n := summaryCount(t, r.stderr, "written"); r.code != 0 || n != want {
			t.Errorf("query worker %d of 3: exit %d, wrote %d; want 0 and %d", i, r.code, n, want)
		}
	}
}
