package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/rewind"
)

// runTable creates a moto table with PITR holding n items.
func runTable(t *testing.T, n int) (*ddbtest.Server, string, []map[string]types.AttributeValue) {
	t.Helper()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	name := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, name, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeN, PITR: true})
	items := tenantItems(n, 5, "good", "app")
	ddbtest.PutItems(t, c, name, items)
	return srv, name, items
}

func readState(t *testing.T, path string) *rewind.State {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var st rewind.State
	if json.Unmarshal(data, &st) != nil {
		return nil
	}
	return &st
}

// waitForStep waits until the state file reaches step.
func waitForStep(t *testing.T, path, step string) *rewind.State {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if st := readState(t, path); st != nil && st.Step == step {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("state %s never reached step %s (now %+v)", path, step, readState(t, path))
	return nil
}

func TestRunEndToEndAndIdempotent(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 150)
	c := srv.Client(t)
	want := ddbtest.ScanAll(t, c, table)
	state := filepath.Join(t.TempDir(), "state.json")
	r := ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "rewound "+table) {
		t.Fatalf("run: exit %d, stdout %q", r.code, r.stdout)
	}
	// It ends saying which files it leaves (issue 22 row 18).
	if last := lastLine(r.stderr); !strings.HasPrefix(last, "run: files kept: "+state+" (state), "+rewind.DefaultCheckpoint(state)+" (checkpoint)") {
		t.Errorf("run's last line %q: want the files it keeps", last)
	}
	st := readState(t, state)
	if st == nil || st.Step != rewind.StepDone || tableExists(t, c, st.RecoveryTable) {
		t.Fatalf("state %+v; the recovery table must be gone", st)
	}
	assertSame(t, "main after run", want, ddbtest.ScanAll(t, c, table))
	if !strings.Contains(r.stderr, "msg=verification") || !strings.Contains(r.stderr, "different=0") {
		t.Errorf("run must verify the copy")
	}
	// The same command again: already done, nothing restored.
	r = ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "already done") {
		t.Fatalf("rerun: exit %d, %q", r.code, r.stdout)
	}
	if made := tablesWithPrefix(t, c, table+"-rewind-"); len(made) != 0 {
		t.Errorf("the rerun restored again: %v", made)
	}
	// Other restore-point flags than the state's, finished or not, are
	// another rewind: refused, naming the state file (flags compared as
	// given, not as resolved).
	r = ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--ago", "1m", "--state", state, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, state) || !strings.Contains(lastLine(r.stderr), "started with --latest") {
		t.Errorf("--ago after a finished --latest run: exit %d, want 2 naming the state file and its flags", r.code)
	}
	// Another --at with the same (finished) state file is refused only
	// while unfinished; a new rewind needs another --state.
	r = ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--at", "2020-01-01T00:00:00Z", "--state", state, "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, state) {
		t.Errorf("another --at with a state file: exit %d, want 2 naming the state file", r.code)
	}
}

// TestRunMessageTimesToTheSecond: run's result line gives the restore
// point to the second (issue 22 row 17) while the state file keeps it, and
// the --at flag it records for resuming, exactly.
func TestRunMessageTimesToTheSecond(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 20)
	c := srv.Client(t)
	at := latestRestorable(t, c, table).UTC()
	if at.Nanosecond() == 0 {
		t.Logf("moto's latest restorable time %s has no fraction: the test proves less", tables.FormatTime(at))
	}
	state := filepath.Join(t.TempDir(), "state.json")
	r := ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--at", tables.FormatTime(at), "--state", state, "--yes")
	if r.code != 0 {
		t.Fatalf("run: exit %d", r.code)
	}
	if want := "rewound " + table + " to " + at.Truncate(time.Second).Format(time.RFC3339) + "\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	raw := readFile(t, state)
	for _, want := range []string{`"restore_point": "` + at.Format(time.RFC3339Nano) + `"`, `"point_flag": "--at ` + at.Format(time.RFC3339Nano) + `"`} {
		if !strings.Contains(raw, want) {
			t.Errorf("the state file lacks %s (exact times):\n%s", want, raw)
		}
	}
	// The same command resumes (here: already done) with that state file.
	if r = ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--at", tables.FormatTime(at), "--state", state, "--yes"); r.code != 0 || !strings.Contains(r.stdout, "already done") {
		t.Errorf("rerun: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestRunKilledAndResumed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		op    string        // operation slowed down so the kill lands in the step
		step  string        // step in which the process is killed
		delay time.Duration // latency added to op
	}{
		{"during the restore wait", "DescribeTable", rewind.StepRestore, 700 * time.Millisecond},
		{"during the copy", "BatchWriteItem", rewind.StepCopy, 150 * time.Millisecond},
		{"during the cleanup", "DeleteTable", rewind.StepCleanup, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, table, _ := runTable(t, 120)
			c := srv.Client(t)
			want := ddbtest.ScanAll(t, c, table)
			proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{tt.op}, Latency: tt.delay})
			dir := t.TempDir()
			state := filepath.Join(dir, "state.json")
			args := []string{"run", "--endpoint-url", proxy.URL(), "--table", table, "--latest", "--state", state, "--yes", "--page-size", "10", "--writers", "1"}
			cmd := startRun(t, args...)
			st := waitForStep(t, state, tt.step)
			if tt.step == rewind.StepRestore {
				// Kill once the restore was started in DynamoDB, while waiting.
				deadline := time.Now().Add(30 * time.Second)
				for !tableExists(t, c, st.RecoveryTable) && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
			}
			if tt.step == rewind.StepCopy {
				waitForFile(t, st.Checkpoint)
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			_ = cmd.Wait()
			if tt.step == rewind.StepRestore {
				// Break the main table after the restore point: the resumed
				// run must put it back.
				ddbtest.PutItems(t, c, table, tenantItems(40, 5, "broken", "badjob"))
			}
			proxy.SetConfig(ddbtest.FaultConfig{})
			r := ddb(t, args...)
			if r.code != 0 {
				t.Fatalf("resumed run: exit %d", r.code)
			}
			if n := proxy.Stats().Ops["RestoreTableToPointInTime"].Calls; n != 1 {
				t.Errorf("RestoreTableToPointInTime called %d times, want exactly 1", n)
			}
			if made := tablesWithPrefix(t, c, table+"-rewind-"); len(made) != 0 {
				t.Errorf("recovery tables left: %v", made)
			}
			assertSame(t, "main after the resumed run", want, ddbtest.ScanAll(t, c, table))
			if st := readState(t, state); st.Step != rewind.StepDone {
				t.Errorf("state step %s, want done", st.Step)
			}
		})
	}
}

// startRun starts the binary with args.
func startRun(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := binaryCommand(t, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func TestRunFailedCopyKeepsRecoveryTable(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 60)
	c := srv.Client(t)
	want := ddbtest.ScanAll(t, c, table)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Ops: []string{"BatchWriteItem"}, FailAll: true})
	state := filepath.Join(t.TempDir(), "state.json")
	r := ddb(t, "run", "--endpoint-url", proxy.URL(), "--table", table, "--latest", "--state", state, "--yes", "--max-retry-time", "1s")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3 (items could not be written)", r.code)
	}
	st := readState(t, state)
	if st == nil || st.Step != rewind.StepCopy || !tableExists(t, c, st.RecoveryTable) {
		t.Fatalf("state %+v: the recovery table must be kept", st)
	}
	if !strings.Contains(lastLine(r.stderr), "resume with: ddbrewind run --endpoint-url "+proxy.URL()) {
		t.Fatalf("the error must print the command that resumes")
	}
	// Another selection is refused while unfinished.
	r = ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--yes", "--only-missing")
	if r.code != 2 || !strings.Contains(r.stderr, state) {
		t.Fatalf("another selection: exit %d, want 2 naming the state file", r.code)
	}
	proxy.SetConfig(ddbtest.FaultConfig{})
	r = ddb(t, "run", "--endpoint-url", proxy.URL(), "--table", table, "--latest", "--state", state, "--yes", "--max-retry-time", "1s")
	if r.code != 0 {
		t.Fatalf("resume: exit %d", r.code)
	}
	if n := proxy.Stats().Ops["RestoreTableToPointInTime"].Calls; n != 1 {
		t.Errorf("%d restores, want 1", n)
	}
	assertSame(t, "main", want, ddbtest.ScanAll(t, c, table))
}

func TestRunIfMainVerifies(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 50)
	state := filepath.Join(t.TempDir(), "state.json")
	r := ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--yes",
		"--if-main", "lastWriter = :bad", "--expression-attribute-values", `{":bad":{"S":"badjob"}}`, "--delete-extra")
	if r.code != 0 {
		t.Fatalf("run --if-main: exit %d (its placeholders must not break the verification)", r.code)
	}
	r = ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--worker-count", "2", "--yes")
	if r.code != 2 {
		t.Errorf("run --worker-count 2: exit %d, want 2", r.code)
	}
}

// TestRunRefusesToAdoptAnotherRestore resumes a run whose state file names
// a recovery table that exists but is not this run's restore: restored from
// another table, tagged with another restore point, or not a restore at
// all. The run must refuse (exit 2) before copying from it, and leave it in
// place: it is not ddbrewind's to delete.
func TestRunRefusesToAdoptAnotherRestore(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 30)
	c := srv.Client(t)
	// A finished run gives a genuine state file (selection, point).
	done := filepath.Join(t.TempDir(), "done.json")
	if r := ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", done, "--yes"); r.code != 0 {
		t.Fatalf("setup run: exit %d", r.code)
	}
	base := readState(t, done)
	if base == nil {
		t.Fatal("setup run left no state")
	}

	tests := []struct {
		name string
		make func(t *testing.T, name string) // creates the foreign table
		want string
	}{
		{"restored from another table", func(t *testing.T, name string) {
			_, other, _ := runTable(t, 10)
			if r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", other, "--latest", "--recovery-table", name); r.code != 0 {
				t.Fatalf("restore of another table: exit %d", r.code)
			}
		}, "is a restore of"},
		{"tagged with another restore point", func(t *testing.T, name string) {
			if r := ddb(t, "restore", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--recovery-table", name); r.code != 0 {
				t.Fatalf("restore: exit %d", r.code)
			}
			if _, err := c.TagResource(context.Background(), &dynamodb.TagResourceInput{ResourceArn: aws.String(describeARN(t, c, name)),
				Tags: []types.Tag{{Key: aws.String(tables.TagRestorePoint), Value: aws.String(tables.FormatTime(base.RestorePoint.Add(-time.Hour)))}}}); err != nil {
				t.Fatal(err)
			}
		}, "was restored to " + tables.FormatTime(base.RestorePoint.Add(-time.Hour))},
		{"not a restore", func(t *testing.T, name string) {
			ddbtest.CreateTable(t, c, name, mixedSpec)
		}, "not created by a restore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			foreign := ddbtest.UniqueName(t, "foreign")
			deleteAfter(t, c, foreign)
			tt.make(t, foreign)
			tagsBefore := tagsOf(t, c, foreign)
			want := ddbtest.ScanAll(t, c, table)

			state := filepath.Join(t.TempDir(), "state.json")
			st := *base
			st.Step, st.RecoveryTable, st.Checkpoint = rewind.StepRestore, foreign, rewind.DefaultCheckpoint(state)
			data, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(state, data, 0o600); err != nil {
				t.Fatal(err)
			}
			r := ddb(t, "run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--state", state, "--yes")
			if last := lastLine(r.stderr); r.code != 2 || !strings.Contains(last, "refusing to adopt") || !strings.Contains(last, tt.want) {
				t.Errorf("exit %d, last line %q: want exit 2, refusing to adopt %s because it %s", r.code, last, foreign, tt.want)
			}
			if !tableExists(t, c, foreign) {
				t.Fatalf("the run deleted %s, a table it did not restore", foreign)
			}
			if got := tagsOf(t, c, foreign); !maps.Equal(got, tagsBefore) {
				t.Errorf("tags of %s changed from %v to %v", foreign, tagsBefore, got)
			}
			assertSame(t, "main after the refused run", want, ddbtest.ScanAll(t, c, table))
			if st := readState(t, state); st == nil || st.Step != rewind.StepRestore {
				t.Errorf("state %+v, want it left at step restore", st)
			}
		})
	}
}
