package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// batchEnv is the environment of an AWS Batch job attempt.
var batchEnv = map[string]string{"AWS_BATCH_JOB_ID": "job-4242", "AWS_BATCH_JOB_ATTEMPT": "3"}

// nonEmptyLines splits s into its non-blank lines.
func nonEmptyLines(s string) []string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// jsonLog checks that every stderr line of r is one JSON object with time,
// level and msg that carries the AWS Batch fields of env (and none of them
// when env is nil). When r failed, the last line is the error record: it is
// returned apart, its batch fields unchecked (see checkErrorRecord).
func jsonLog(t *testing.T, r result, env map[string]string) (recs []map[string]any, errRec map[string]any) {
	t.Helper()
	lines := nonEmptyLines(r.stderr)
	for i, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("stderr line %d is not one JSON object (%v): %q", i+1, err, l)
			continue
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("stderr line %d has no %q: %q", i+1, k, l)
			}
		}
		if r.code != 0 && i == len(lines)-1 {
			errRec = rec
			continue
		}
		for _, k := range []string{"batch_job_id", "batch_job_attempt"} {
			want, batch := env["AWS_"+strings.ToUpper(k)]
			got, has := rec[k]
			switch {
			case batch && got != want:
				t.Errorf("stderr line %d: %s = %v, want %q: %q", i+1, k, got, want, l)
			case env == nil && has:
				t.Errorf("stderr line %d has %s outside AWS Batch: %q", i+1, k, l)
			}
		}
		recs = append(recs, rec)
	}
	return recs, errRec
}

// checkErrorRecord checks the final error line of a failed command under
// --log-format json: level ERROR, the exit code, a message saying want,
// and the AWS Batch fields of env.
func checkErrorRecord(t *testing.T, r result, errRec map[string]any, env map[string]string, want string) {
	t.Helper()
	if errRec == nil {
		t.Fatalf("exit %d but no final error record", r.code)
	}
	if errRec["level"] != "ERROR" || errRec["exit_code"] != float64(r.code) {
		t.Errorf("final error record %v: want level ERROR and exit_code %d", errRec, r.code)
	}
	if msg, _ := errRec["msg"].(string); !strings.Contains(msg, want) {
		t.Errorf("final error record %v does not say %q", errRec, want)
	}
	if _, batch := env["AWS_BATCH_JOB_ID"]; batch && (errRec["batch_job_id"] != env["AWS_BATCH_JOB_ID"] || errRec["batch_job_attempt"] != env["AWS_BATCH_JOB_ATTEMPT"]) {
		t.Errorf("the final error record %v lacks batch_job_id/batch_job_attempt", errRec)
	}
}

// record returns the first record whose msg is msg, or nil.
func record(recs []map[string]any, msg string) map[string]any {
	for _, r := range recs {
		if r["msg"] == msg {
			return r
		}
	}
	return nil
}

// hasFields fails unless rec holds every field.
func hasFields(t *testing.T, what string, rec map[string]any, fields ...string) {
	t.Helper()
	if rec == nil {
		t.Errorf("no %s record", what)
		return
	}
	for _, f := range fields {
		if _, ok := rec[f]; !ok {
			t.Errorf("the %s record has no %q: %v", what, f, rec)
		}
	}
}

var summaryFields = []string{"step", "outcome", "dry_run", "from", "to", "read", "matched", "written", "skipped", "deleted",
	"failed", "not_in_recovery", "retries", "throttles", "elapsed", "items_per_second"}

// TestLogJSON: with --log-format json every stderr line of every command is
// one JSON object, for CloudWatch, and carries the AWS Batch job id and
// attempt when the command runs as an AWS Batch job.
func TestLogJSON(t *testing.T) {
	t.Parallel()
	items := tenantItems(500, 5, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	batch := cliOpts{env: batchEnv}

	t.Run("copy with progress", func(t *testing.T) {
		proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, Latency: 50 * time.Millisecond})
		r := runCLI(t, batch, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes",
			"--log-format", "json", "--progress-interval", "100ms", "--segments", "1", "--writers", "1")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		recs, _ := jsonLog(t, r, batchEnv)
		hasFields(t, "progress", record(recs, "progress"), "step", "read", "written", "skipped", "deleted", "failed", "retries", "throttles", "elapsed")
		sum := record(recs, "summary")
		hasFields(t, "summary", sum, summaryFields...)
		if sum != nil && (sum["step"] != "copy" || sum["written"] != float64(len(items)) || sum["read"] != float64(len(items))) {
			t.Errorf("summary %v: want step copy, read and written %d", sum, len(items))
		}
		hasFields(t, "copy starting", record(recs, "copy starting"), "from", "to", "segments", "writers")
		if r.stdout != "" {
			t.Errorf("copy printed %q on stdout", r.stdout)
		}
	})

	t.Run("copy as a process", func(t *testing.T) {
		// The real binary: nothing else (SDK, runtime) may write on stderr.
		proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Seed: 9, Ops: []string{"BatchWriteItem"}, Throttle: 0.2, Partial: 0.3})
		cmd := binaryCommand(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes",
			"--log-format", "json", "--log-level", "debug", "--progress-interval", "100ms")
		cmd.Env = append(os.Environ(), "AWS_BATCH_JOB_ID="+batchEnv["AWS_BATCH_JOB_ID"], "AWS_BATCH_JOB_ATTEMPT="+batchEnv["AWS_BATCH_JOB_ATTEMPT"])
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		recs, _ := jsonLog(t, result{stdout: stdout.String(), stderr: stderr.String()}, batchEnv)
		sum := record(recs, "summary")
		hasFields(t, "summary", sum, summaryFields...)
		if sum != nil && (sum["retries"] == float64(0) || sum["throttles"] == float64(0)) {
			t.Errorf("summary %v: the injected faults (%+v) must be counted", sum, proxy.Stats().Total())
		}
	})

	t.Run("copy fails on bad input", func(t *testing.T) {
		copyArgs := func(extra ...string) []string {
			return append([]string{"copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes"}, extra...)
		}
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"checked by copy", copyArgs("--log-format", "json", "--segments", "-1"), "--segments -1"},
			{"flag parse error", copyArgs("--log-format=json", "--frobnicate"), "frobnicate"},
			{"global flag before the command", append([]string{"--log-format", "json"}, copyArgs("--segments", "-1")...), "--segments -1"},
			{"single-dash flag", copyArgs("-log-format", "json", "--segments", "-1"), "--segments -1"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := runCLI(t, batch, tc.args...)
				if r.code != 2 {
					t.Fatalf("exit %d, want 2", r.code)
				}
				_, errRec := jsonLog(t, r, batchEnv)
				checkErrorRecord(t, r, errRec, batchEnv, tc.want)
			})
		}
	})

	t.Run("copy fails writing", func(t *testing.T) {
		proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
		r := runCLI(t, batch, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes",
			"--log-format", "json", "--max-retry-time", "300ms",
			"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`)
		if r.code != 3 {
			t.Fatalf("exit %d, want 3", r.code)
		}
		recs, errRec := jsonLog(t, r, batchEnv)
		if sum := record(recs, "summary"); sum == nil || sum["outcome"] != "incomplete" || sum["failed"] == float64(0) {
			t.Errorf("summary %v: want outcome incomplete and failed > 0", sum)
		}
		if w := record(recs, "items could not be written"); w == nil || w["level"] != "WARN" {
			t.Errorf("no WARN record for the items that could not be written")
		}
		checkErrorRecord(t, r, errRec, batchEnv, "items could not be written")
	})

	t.Run("diff with differences", func(t *testing.T) {
		ddbtest.PutItems(t, c, to, tenantItems(3, 5, "changed", "app"))
		r := runCLI(t, batch, "diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--log-format", "json", "--log-level", "debug")
		if r.code != 3 {
			t.Fatalf("exit %d, want 3", r.code)
		}
		_, errRec := jsonLog(t, r, batchEnv)
		checkErrorRecord(t, r, errRec, batchEnv, "tables differ")
	})

	t.Run("undo", func(t *testing.T) {
		journal := filepath.Join(t.TempDir(), "journal.jsonl")
		if r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--journal", journal); r.code != 0 {
			t.Fatalf("copy: exit %d", r.code)
		}
		r := runCLI(t, batch, "undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to, "--yes", "--log-format", "json")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		recs, _ := jsonLog(t, r, batchEnv)
		hasFields(t, "summary", record(recs, "summary"), summaryFields...)
		hasFields(t, "undo starting", record(recs, "undo starting"), "table", "journal", "records")
	})

	t.Run("without AWS Batch", func(t *testing.T) {
		r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--log-format", "json")
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		recs, _ := jsonLog(t, r, nil)
		if len(recs) == 0 {
			t.Errorf("no log record")
		}
	})

	t.Run("restore list cleanup run", func(t *testing.T) {
		msrv, table, _ := runTable(t, 20)
		mc := msrv.Client(t)
		name := ddbtest.UniqueName(t, "rec")
		deleteAfter(t, mc, name)
		r := runCLI(t, batch, "restore", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest", "--recovery-table", name, "--log-format", "json")
		if r.code != 0 || r.stdout != name+"\n" {
			t.Fatalf("restore: exit %d, stdout %q", r.code, r.stdout)
		}
		recs, _ := jsonLog(t, r, batchEnv)
		hasFields(t, "restore", record(recs, "starting point-in-time restore"), "table", "recovery_table", "restore_point")

		r = runCLI(t, batch, "list", "--endpoint-url", msrv.Endpoint, "--source", table, "--log-format", "json", "--output", "json")
		if r.code != 0 || !strings.Contains(r.stdout, name) {
			t.Fatalf("list: exit %d, stdout %q", r.code, r.stdout)
		}
		jsonLog(t, r, batchEnv)

		r = runCLI(t, batch, "cleanup", "--endpoint-url", msrv.Endpoint, "--recovery-table", name, "--yes", "--log-format", "json")
		if r.code != 0 {
			t.Fatalf("cleanup: exit %d", r.code)
		}
		recs, _ = jsonLog(t, r, batchEnv)
		hasFields(t, "cleanup", record(recs, "deleting recovery table"), "table", "source_table")

		state := filepath.Join(t.TempDir(), "state.json")
		r = runCLI(t, batch, "run", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest", "--state", state, "--yes",
			"--log-format", "json", "--progress-interval", "10ms")
		if r.code != 0 {
			t.Fatalf("run: exit %d", r.code)
		}
		recs, _ = jsonLog(t, r, batchEnv)
		hasFields(t, "verification", record(recs, "verification"), "table", "identical", "different", "missing_in_main", "extra_in_main")
		hasFields(t, "summary", record(recs, "summary"), summaryFields...)

		r = runCLI(t, batch, "restore", "--endpoint-url", msrv.Endpoint, "--table", table, "--at", "2001-01-01T00:00:00Z", "--log-format", "json")
		if r.code != 2 {
			t.Fatalf("restore outside the window: exit %d, want 2", r.code)
		}
		_, errRec := jsonLog(t, r, batchEnv)
		checkErrorRecord(t, r, errRec, batchEnv, "outside the restorable window")
	})
}

// secretItems are tenantItems that also hold secret values: a top-level
// string, one nested in a map and one in a string set.
func secretItems(n int) []map[string]types.AttributeValue {
	items := tenantItems(n, 4, "good", "app")
	for i, it := range items {
		it["secret"] = &types.AttributeValueMemberS{Value: fmt.Sprintf("SECRET-VALUE-123-%d", i)}
		it["card"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"number": &types.AttributeValueMemberS{Value: "SECRET-VALUE-123-card"},
		}}
		it["tokens"] = &types.AttributeValueMemberSS{Value: []string{"SECRET-VALUE-123-token", "other"}}
	}
	return items
}

// assertNoSecret fails when "SECRET-VALUE-123" appears in any of the texts.
func assertNoSecret(t *testing.T, texts map[string]string) {
	t.Helper()
	for what, s := range texts {
		if strings.Contains(s, "SECRET-VALUE-123") {
			i := strings.Index(s, "SECRET-VALUE-123")
			t.Errorf("%s leaks an attribute value: …%s…", what, s[max(0, i-120):min(len(s), i+40)])
		}
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
	}
	return string(data)
}

// TestDataProtection: logs at every level, progress, summaries, reports and
// checkpoints name keys, never other attribute values.
func TestDataProtection(t *testing.T) {
	t.Parallel()
	items := secretItems(400)
	srv, c, from, to := copyPair(t, mixedSpec, items)
	// The main table holds other versions of some items, also secret.
	changed := secretItems(40)
	for _, it := range changed {
		it["secret"] = &types.AttributeValueMemberS{Value: "SECRET-VALUE-123-newer"}
	}
	ddbtest.PutItems(t, c, to, changed)
	dir := t.TempDir()

	for _, format := range []string{"json", "text"} {
		t.Run("copy with faults, debug logs, "+format, func(t *testing.T) {
			proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Seed: 3, Throttle: 0.2, Partial: 0.4, Error500: 0.05})
			rep, cp, journal := filepath.Join(dir, format+".report"), filepath.Join(dir, format+".checkpoint"), filepath.Join(dir, format+".journal")
			r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--segments", "3", "--page-size", "50",
				"--log-format", format, "--log-level", "debug", "--progress-interval", "20ms",
				"--report", rep, "--checkpoint", cp, "--journal", journal)
			if r.code != 0 {
				t.Fatalf("exit %d", r.code)
			}
			if st := report(t, rep); st.Counts.Retries == 0 || st.Counts.Throttles == 0 {
				t.Fatalf("no retry or throttle counted: the test proves nothing (proxy: %+v)", proxy.Stats().Total())
			}
			assertNoSecret(t, map[string]string{"stderr": r.stderr, "stdout": r.stdout, "report": readText(t, rep), "checkpoint": readText(t, cp)})
			if !strings.Contains(readText(t, journal), "SECRET-VALUE-123") {
				t.Errorf("the journal must hold the before-images (that is its purpose)")
			}
		})
	}

	t.Run("retry logged at debug", func(t *testing.T) {
		proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{})
		keys := filepath.Join(dir, "retry-keys.jsonl")
		var lines []string
		for _, it := range items[:5] {
			lines = append(lines, ddbtestKeyString(it))
		}
		if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"json", "text"} {
			throttleUntilSDKGivesUp(proxy)
			r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--keys-file", keys, "--writers", "1",
				"--log-format", format, "--log-level", "debug")
			if r.code != 0 {
				t.Fatalf("exit %d", r.code)
			}
			if !strings.Contains(r.stderr, "retrying") || !strings.Contains(r.stderr, "ThrottlingException") {
				t.Fatalf("no retry with its error logged at debug level: the test proves nothing")
			}
			assertNoSecret(t, map[string]string{format + " stderr": r.stderr})
		}
	})

	t.Run("keys file with a key the recovery table lacks", func(t *testing.T) {
		keys := filepath.Join(dir, "keys.jsonl")
		missing := `{"pk":{"S":"tenant#9"},"sk":{"N":"999999"}}`
		lines := []string{ddbtestKeyString(items[1]), ddbtestKeyString(items[2]), missing}
		if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		rep := filepath.Join(dir, "keys.report")
		r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--keys-file", keys,
			"--log-format", "json", "--log-level", "debug", "--report", rep)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		text := readText(t, rep)
		assertNoSecret(t, map[string]string{"stderr": r.stderr, "report": text})
		if !strings.Contains(text, `tenant#9`) || !strings.Contains(text, "999999") {
			t.Errorf("the report does not name the key missing from the recovery table:\n%s", text)
		}
	})

	t.Run("items that could not be written", func(t *testing.T) {
		proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
		rep := filepath.Join(dir, "failed.report")
		r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--max-retry-time", "300ms",
			"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`,
			"--log-format", "json", "--log-level", "debug", "--report", rep)
		if r.code != 3 {
			t.Fatalf("exit %d, want 3", r.code)
		}
		text := readText(t, rep)
		assertNoSecret(t, map[string]string{"stderr": r.stderr, "report": text})
		if !strings.Contains(text, "tenant#") {
			t.Errorf("the report does not name the unwritten keys")
		}
	})

	t.Run("diff and undo", func(t *testing.T) {
		ddbtest.PutItems(t, c, to, changed)
		r := ddb(t, "diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--log-level", "debug", "--show", "100")
		if r.code != 3 {
			t.Fatalf("diff: exit %d, want 3", r.code)
		}
		assertNoSecret(t, map[string]string{"diff stdout": r.stdout, "diff stderr": r.stderr})
		if !strings.Contains(r.stdout, ddbtestKeyString(changed[0])) {
			t.Errorf("diff does not name the differing keys")
		}
		r = ddb(t, "diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--output", "json", "--log-format", "json", "--log-level", "debug")
		assertNoSecret(t, map[string]string{"diff json stdout": r.stdout, "diff json stderr": r.stderr})

		journal := filepath.Join(dir, "undo.journal")
		if r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes", "--journal", journal); r.code != 0 {
			t.Fatalf("copy: exit %d", r.code)
		}
		rep := filepath.Join(dir, "undo.report")
		r = ddb(t, "undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to, "--yes",
			"--log-format", "json", "--log-level", "debug", "--report", rep)
		if r.code != 0 {
			t.Fatalf("undo: exit %d", r.code)
		}
		assertNoSecret(t, map[string]string{"undo stderr": r.stderr, "undo report": readText(t, rep)})
	})
}

// throttleUntilSDKGivesUp throttles every BatchWriteItem until the SDK has
// given up on one call (8 attempts), then lets writes through: with one
// writer, ddbrewind's own retry loop runs once, and logs at debug level.
func throttleUntilSDKGivesUp(proxy *ddbtest.FaultProxy) {
	start := proxy.Stats().Ops["BatchWriteItem"].Throttles
	proxy.SetConfig(ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
	go func() {
		deadline := time.Now().Add(time.Minute)
		for proxy.Stats().Ops["BatchWriteItem"].Throttles < start+8 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		proxy.SetConfig(ddbtest.FaultConfig{})
	}()
}

// exitCase is one command line and the exit code the contract gives it.
type exitCase struct {
	name string
	args []string
	want int
	ctx  func(t *testing.T) context.Context
}

// TestExitCodesEndToEnd runs every command into each exit code of the
// contract that a test can reach: 0 success, 1 failure (AWS unreachable),
// 2 bad usage or refusal, 3 differences or unwritten items, 130
// interrupted.
func TestExitCodesEndToEnd(t *testing.T) {
	t.Parallel()
	items := tenantItems(300, 3, "good", "app")
	srv, c, from, to := copyPair(t, mixedSpec, items)
	same := ddbtest.UniqueName(t, "same")
	ddbtest.CreateTable(t, c, same, mixedSpec)
	ddbtest.PutItems(t, c, same, items)
	// tenantItems, not MixedItems: moto fails (HTTP 500, decimal.Rounded)
	// on the projected Scan of run's verification with MixedItems' numbers.
	msrv, table, _ := runTable(t, 20)
	mc := msrv.Client(t)
	rec := restored(t, msrv, mc, table, "rec")
	dir := t.TempDir()
	journal, sameJournal := filepath.Join(dir, "journal.jsonl"), filepath.Join(dir, "same.jsonl")
	if r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", same, "--yes", "--journal", sameJournal); r.code != 0 {
		t.Fatalf("setup copy: exit %d", r.code)
	}
	failing := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
	mfailing := ddbtest.NewFaultProxy(t, msrv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
	cancelled := func(t *testing.T) context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	const down = "http://127.0.0.1:1" // refuses connections
	dynCopy := func(endpoint string, extra ...string) []string {
		return append([]string{"copy", "--endpoint-url", endpoint, "--from", from, "--to", to}, extra...)
	}

	// In order: later cases use what earlier ones made.
	t.Run("in order", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []exitCase{
			{"copy ok", dynCopy(srv.Endpoint, "--yes", "--journal", journal), 0, nil},
			{"copy dry run", dynCopy(srv.Endpoint, "--dry-run"), 0, nil},
			{"copy bad input", dynCopy(srv.Endpoint, "--yes", "--segments", "-1"), 2, nil},
			{"copy not confirmed", dynCopy(srv.Endpoint), 2, nil},
			{"copy unwritten items", dynCopy(failing.URL(), "--yes", "--max-retry-time", "300ms",
				"--key-condition-expression", "pk = :p", "--expression-attribute-values", `{":p":{"S":"tenant#1"}}`), 3, nil},
			{"copy interrupted before starting", dynCopy(srv.Endpoint, "--yes"), 130, cancelled},
			{"diff equal", []string{"diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", same}, 0, nil},
			{"diff bad output", []string{"diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", same, "--output", "yaml"}, 2, nil},
			{"diff interrupted", []string{"diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", same}, 130, cancelled},
			{"undo ok", []string{"undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to, "--yes"}, 0, nil},
			{"undo refused", []string{"undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", from, "--yes"}, 2, nil},
			{"undo interrupted", []string{"undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to, "--yes"}, 130, cancelled},
			{"diff different", []string{"diff", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to}, 3, nil},
			{"list ok", []string{"list", "--endpoint-url", msrv.Endpoint}, 0, nil},
			{"list bad output", []string{"list", "--endpoint-url", msrv.Endpoint, "--output", "yaml"}, 2, nil},
			{"list interrupted", []string{"list", "--endpoint-url", msrv.Endpoint}, 130, cancelled},
			{"restore refused", []string{"restore", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest", "--recovery-table", rec}, 2, nil},
			{"restore interrupted", []string{"restore", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest"}, 130, cancelled},
			{"cleanup dry run", []string{"cleanup", "--endpoint-url", msrv.Endpoint, "--recovery-table", rec, "--dry-run"}, 0, nil},
			{"cleanup not confirmed", []string{"cleanup", "--endpoint-url", msrv.Endpoint, "--recovery-table", rec}, 2, nil},
			{"cleanup refused", []string{"cleanup", "--endpoint-url", msrv.Endpoint, "--recovery-table", table, "--yes"}, 2, nil},
			{"cleanup interrupted", []string{"cleanup", "--endpoint-url", msrv.Endpoint, "--recovery-table", rec, "--yes"}, 130, cancelled},
			{"cleanup ok", []string{"cleanup", "--endpoint-url", msrv.Endpoint, "--recovery-table", rec, "--yes"}, 0, nil},
			{"run interrupted", []string{"run", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest", "--state", filepath.Join(dir, "cancelled.json"), "--yes"}, 130, cancelled},
			{"run unwritten items", []string{"run", "--endpoint-url", mfailing.URL(), "--table", table, "--latest", "--state", filepath.Join(dir, "failing.json"), "--yes", "--max-retry-time", "300ms", "--recovery-table", rec + "-failing"}, 3, nil},
			{"run ok", []string{"run", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest", "--state", filepath.Join(dir, "run.json"), "--yes", "--recovery-table", rec + "-run"}, 0, nil},
			{"run already done", []string{"run", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest", "--state", filepath.Join(dir, "run.json"), "--yes", "--recovery-table", rec + "-run"}, 0, nil},
			{"run refused", []string{"run", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest", "--state", filepath.Join(dir, "run.json"), "--yes", "--recovery-table", rec + "-run", "--only-missing"}, 2, nil},
			{"restore ok", []string{"restore", "--endpoint-url", msrv.Endpoint, "--table", table, "--latest", "--recovery-table", rec + "-2"}, 0, nil},
			{"help", []string{"copy", "--help"}, 0, nil},
			{"unknown command", []string{"rewindify"}, 2, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.name == "restore ok" {
					deleteAfter(t, mc, rec+"-2")
				}
				o := cliOpts{}
				if tc.ctx != nil {
					o.ctx = tc.ctx(t)
				}
				if r := runCLI(t, o, tc.args...); r.code != tc.want {
					t.Errorf("exit %d, want %d", r.code, tc.want)
				}
			})
		}
		// The failed run kept its recovery table: remove it.
		deleteAfter(t, mc, rec+"-failing")
	})

	// An endpoint that refuses connections: each command fails with exit 1,
	// at once (an endpoint that never answered is not retried).
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []exitCase{
			{"copy", dynCopy(down, "--yes", "--max-retry-time", "1s"), 1, nil},
			{"diff", []string{"diff", "--endpoint-url", down, "--from", from, "--to", same}, 1, nil},
			{"undo", []string{"undo", "--endpoint-url", down, "--journal", sameJournal, "--table", same, "--yes"}, 1, nil},
			{"list", []string{"list", "--endpoint-url", down}, 1, nil},
			{"restore", []string{"restore", "--endpoint-url", down, "--table", table, "--latest"}, 1, nil},
			{"cleanup", []string{"cleanup", "--endpoint-url", down, "--recovery-table", rec, "--yes"}, 1, nil},
			{"run", []string{"run", "--endpoint-url", down, "--table", table, "--latest", "--state", filepath.Join(dir, "down.json"), "--yes"}, 1, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				r := ddb(t, tc.args...)
				if r.code != tc.want {
					t.Errorf("exit %d, want %d", r.code, tc.want)
				}
				if !strings.Contains(r.stderr, "connection refused") {
					t.Errorf("the error does not say why: %q", lastLine(r.stderr))
				}
			})
		}
	})

	// Cancelled in the middle of a copy: the batches in flight finish, the
	// checkpoint is saved, the summary is printed, exit 130.
	t.Run("copy interrupted mid-copy", func(t *testing.T) {
		t.Parallel()
		big := ddbtest.MixedItems(1500, 5, ddbtest.WithLargeEvery(0))
		srv2, c2, from2, to2 := copyPair(t, mixedSpec, big)
		proxy := ddbtest.NewFaultProxy(t, srv2.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, Latency: 50 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			for proxy.Stats().Ops["BatchWriteItem"].Forwarded < 5 {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		cp := filepath.Join(t.TempDir(), "cp.json")
		r := runCLI(t, cliOpts{ctx: ctx}, "copy", "--endpoint-url", proxy.URL(), "--from", from2, "--to", to2, "--yes",
			"--segments", "2", "--writers", "2", "--page-size", "100", "--checkpoint", cp)
		if r.code != 130 {
			t.Fatalf("exit %d, want 130", r.code)
		}
		n := len(ddbtest.ScanAll(t, c2, to2))
		if n == 0 || n >= len(big) {
			t.Errorf("main has %d of %d items: the cancel did not land mid-copy", n, len(big))
		}
		if !strings.Contains(r.stderr, "outcome=interrupted") || !strings.Contains(lastLine(r.stderr), "run the same command again to resume") {
			t.Errorf("the interrupted copy must print its summary and how to resume")
		}
		if _, err := os.Stat(cp); err != nil {
			t.Errorf("checkpoint not saved: %v", err)
		}
	})
}
