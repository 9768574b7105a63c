package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// faultKinds is the fault matrix: each kind alone, then all together.
var faultKinds = []struct {
	name     string
	cfg      ddbtest.FaultConfig
	throttle bool // the summary must count throttles
}{
	{"throttling", ddbtest.FaultConfig{Seed: 1, Throttle: 0.3}, true},
	{"HTTP 500 and 503", ddbtest.FaultConfig{Seed: 2, Error500: 0.15, Error503: 0.15}, false},
	{"dropped connections", ddbtest.FaultConfig{Seed: 3, Drop: 0.15}, false},
	{"latency", ddbtest.FaultConfig{Seed: 4, Latency: 30 * time.Millisecond}, false},
	{"partial batches", ddbtest.FaultConfig{Seed: 5, Partial: 0.6}, true},
	{"everything at once", ddbtest.FaultConfig{Seed: 6, Throttle: 0.1, Error500: 0.05, Error503: 0.05, Drop: 0.05, Partial: 0.4, Latency: 10 * time.Millisecond}, true},
}

// copyModes are the writing variants of copy the matrix covers.
var copyModes = []struct {
	name string
	args []string
	// want computes the expected main table from the recovery items and
	// the main table before the copy.
	want func(rec, before map[string]map[string]types.AttributeValue) map[string]map[string]types.AttributeValue
}{
	{"overwrite", nil, func(rec, before map[string]map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
		out := clone(before)
		for k, v := range rec {
			out[k] = v
		}
		return out
	}},
	{"only-missing", []string{"--only-missing"}, func(rec, before map[string]map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
		out := clone(before)
		for k, v := range rec {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
		return out
	}},
	{"delete-extra", []string{"--delete-extra"}, func(rec, _ map[string]map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
		return clone(rec)
	}},
	{"if-main", []string{"--delete-extra", "--if-main", "#s = :b", "--expression-attribute-names", `{"#s":"status"}`, "--expression-attribute-values", `{":b":{"S":"broken"}}`},
		func(rec, before map[string]map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
			out := clone(before)
			for k, v := range before {
				if s, ok := v["status"].(*types.AttributeValueMemberS); ok && s.Value == "broken" {
					if r, inRec := rec[k]; inRec {
						out[k] = r
					} else {
						delete(out, k)
					}
				}
			}
			return out
		}},
}

func clone(m map[string]map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
	out := make(map[string]map[string]types.AttributeValue, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// brokenMainItems is the main table before a copy: some items changed to
// status "broken", some missing, some extra with status "broken".
func brokenMainItems(items []map[string]types.AttributeValue) []map[string]types.AttributeValue {
	var main []map[string]types.AttributeValue
	for i, it := range items {
		switch i % 4 {
		case 0:
			continue
		case 1:
			m := map[string]types.AttributeValue{}
			for k, v := range it {
				m[k] = v
			}
			m["status"] = &types.AttributeValueMemberS{Value: "broken"}
			main = append(main, m)
		default:
			main = append(main, it)
		}
	}
	for i := 0; i < 40; i++ {
		main = append(main, map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("extra#%d", i)}, "sk": &types.AttributeValueMemberN{Value: "1"},
			"status": &types.AttributeValueMemberS{Value: []string{"broken", "good"}[i%2]},
		})
	}
	return main
}

func TestFaultMatrixCopy(t *testing.T) {
	t.Parallel()
	for _, fk := range faultKinds {
		for _, mode := range copyModes {
			if fk.name != "everything at once" && mode.name != "overwrite" && mode.name != "delete-extra" {
				continue // each fault alone on two modes; all faults on every mode
			}
			t.Run(fk.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				items := ddbtest.MixedItems(400, 31, ddbtest.WithLargeEvery(0))
				srv, c, from, to := copyPair(t, mixedSpec, items)
				ddbtest.PutItems(t, c, to, brokenMainItems(items))
				rec, before := ddbtest.ScanAll(t, c, from), ddbtest.ScanAll(t, c, to)
				proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, fk.cfg)
				rep := filepath.Join(t.TempDir(), "report.json")
				r := ddb(t, append([]string{"copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes",
					"--segments", "3", "--report", rep}, mode.args...)...)
				if r.code != 0 {
					t.Fatalf("exit %d", r.code)
				}
				assertSame(t, "main after the copy", mode.want(rec, before), ddbtest.ScanAll(t, c, to))
				injected := proxy.Stats().Total()
				s := report(t, rep)
				if injected.Throttles+injected.Errors500+injected.Errors503+injected.Drops+injected.Partials > 0 && s.Counts.Retries == 0 {
					t.Errorf("faults were injected (%+v) but the summary counts no retry", injected)
				}
				if fk.throttle && injected.Throttles+injected.Partials > 0 && s.Counts.Throttles == 0 {
					t.Errorf("throttles were injected but the summary counts none")
				}
				if s.Counts.Failed != 0 || len(s.Unwritten) != 0 {
					t.Errorf("failed %d: nothing may fail under transient faults", s.Counts.Failed)
				}
			})
		}
	}
}

func TestFaultMatrixKeysFileAndUndo(t *testing.T) {
	t.Parallel()
	fk := faultKinds[len(faultKinds)-1]
	items := ddbtest.MixedItems(300, 41, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	ddbtest.PutItems(t, c, to, brokenMainItems(items))
	before := ddbtest.ScanAll(t, c, to)
	dir := t.TempDir()
	var lines []string
	for _, it := range items {
		lines = append(lines, ddbtestKeyString(it))
	}
	keys := filepath.Join(dir, "keys.jsonl")
	if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(dir, "journal.jsonl")
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, fk.cfg)
	r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--keys-file", keys, "--journal", journal)
	if r.code != 0 {
		t.Fatalf("copy --keys-file: exit %d", r.code)
	}
	want := clone(before)
	for k, v := range ddbtest.ScanAll(t, c, from) {
		want[k] = v
	}
	assertSame(t, "main after the keys-file copy", want, ddbtest.ScanAll(t, c, to))
	if proxy.Stats().Ops["BatchGetItem"].Partials == 0 {
		t.Errorf("no partial BatchGetItem injected: the test does not cover UnprocessedKeys")
	}
	r = ddb(t, "undo", "--endpoint-url", proxy.URL(), "--journal", journal, "--table", to, "--yes")
	if r.code != 0 {
		t.Fatalf("undo: exit %d", r.code)
	}
	assertSame(t, "main after undo", before, ddbtest.ScanAll(t, c, to))
	if summaryCount(t, r.stderr, "retries") == 0 {
		t.Errorf("undo under faults counted no retry")
	}
}

func TestFaultMatrixRunAndCleanup(t *testing.T) {
	t.Parallel()
	fk := faultKinds[len(faultKinds)-1]
	srv, table, _ := runTable(t, 80)
	c := srv.Client(t)
	want := ddbtest.ScanAll(t, c, table)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, fk.cfg)
	state := filepath.Join(t.TempDir(), "state.json")
	r := ddb(t, "run", "--endpoint-url", proxy.URL(), "--table", table, "--latest", "--state", state, "--yes")
	if r.code != 0 {
		t.Fatalf("run: exit %d", r.code)
	}
	assertSame(t, "main after run", want, ddbtest.ScanAll(t, c, table))
	if n := proxy.Stats().Ops["RestoreTableToPointInTime"].Forwarded; n != 1 {
		t.Errorf("%d restores reached the emulator, want 1", n)
	}
	rec := restored(t, srv, c, table, "rec")
	r = ddb(t, "cleanup", "--endpoint-url", proxy.URL(), "--recovery-table", rec, "--yes")
	if r.code != 0 || tableExists(t, c, rec) {
		t.Fatalf("cleanup: exit %d, table still there: %v", r.code, tableExists(t, c, rec))
	}
}

func TestPermanentFailureReportsUnwrittenKeys(t *testing.T) {
	t.Parallel()
	items := ddbtest.MixedItems(200, 51, ddbtest.WithLargeEvery(0))
	srv, c, from, to := copyPair(t, mixedSpec, items)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
	dir := t.TempDir()
	cp, rep := filepath.Join(dir, "cp.json"), filepath.Join(dir, "report.json")
	r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--segments", "2",
		"--max-retry-time", "1s", "--checkpoint", cp, "--report", rep)
	if r.code != 3 && r.code != 1 {
		t.Fatalf("exit %d, want 3 (or 1)", r.code)
	}
	s := report(t, rep)
	if s.Counts.Written != 0 || s.Counts.Failed != int64(len(items)) || len(s.Unwritten) != len(items) {
		t.Errorf("written %d failed %d unwritten keys %d: want 0, %d, %d", s.Counts.Written, s.Counts.Failed, len(s.Unwritten), len(items), len(items))
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 0 {
		t.Errorf("%d items in main although every write failed", n)
	}
	if _, err := os.Stat(cp); err != nil {
		t.Errorf("checkpoint not saved: %v", err)
	}
	if !strings.Contains(lastLine(r.stderr), "could not be written") {
		t.Errorf("last line must say items could not be written")
	}
	// Once the table accepts writes again, the same command finishes the job.
	proxy.SetConfig(ddbtest.FaultConfig{})
	r = ddb(t, "copy", "--endpoint-url", proxy.URL(), "--from", from, "--to", to, "--yes", "--segments", "2",
		"--max-retry-time", "1s", "--checkpoint", cp, "--report", rep)
	if r.code != 0 {
		t.Fatalf("retry: exit %d", r.code)
	}
	assertSameTables(t, c, from, to)
}
