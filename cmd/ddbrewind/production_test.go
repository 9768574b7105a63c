package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

var ttlSpec = ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS}

// ttlSource is k0..k5: k0 and k1 expired a day ago, k2 expires in a day,
// k3 has no TTL, k4 and k5 carry a 2017 global table's aws:rep:*.
func ttlSource() []map[string]types.AttributeValue {
	now := time.Now()
	var items []map[string]types.AttributeValue
	for i := range 6 {
		it := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%d", i)}}
		switch {
		case i < 2:
			it["exp"] = &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(-24 * time.Hour).Unix())}
		case i == 2:
			it["exp"] = &types.AttributeValueMemberN{Value: fmt.Sprint(now.Add(24 * time.Hour).Unix())}
		case i > 3:
			it["aws:rep:updateregion"] = &types.AttributeValueMemberS{Value: "eu-west-1"}
			it["aws:rep:updatetime"] = &types.AttributeValueMemberN{Value: "1700000000.123456"}
			it["aws:rep:deleting"] = &types.AttributeValueMemberBOOL{Value: false}
		}
		items = append(items, it)
	}
	return items
}

// enableTTL turns TTL on for table's attribute exp.
func enableTTL(t *testing.T, c *dynamodb.Client, table string) {
	t.Helper()
	if _, err := c.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
}

// mainKeys returns the pk of every item of table, and fails on an aws:rep:*
// attribute.
func mainKeys(t *testing.T, c *dynamodb.Client, table string) []string {
	t.Helper()
	var keys []string
	for _, it := range ddbtest.ScanAll(t, c, table) {
		keys = append(keys, it["pk"].(*types.AttributeValueMemberS).Value)
		for name := range it {
			if strings.HasPrefix(name, "aws:rep:") {
				t.Errorf("%s written with %s", ddbjson.KeyString(map[string]types.AttributeValue{"pk": it["pk"]}), name)
			}
		}
	}
	return sortedCopy(keys)
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestCopyTTL (moto keeps TTL settings): the main table's TTL attribute is
// read once; without --skip-expired the expired items are written and the
// confirmation and the closing sentence say so; with it they are left out
// and counted as expired (report, plan); aws:rep:* is never written; a
// checkpoint made without --skip-expired is refused with it (exit 2).
func TestCopyTTL(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	from := ddbtest.UniqueName(t, "rec")
	ddbtest.CreateTable(t, c, from, ttlSpec)
	ddbtest.PutItems(t, c, from, ttlSource())
	newMain := func() string {
		to := ddbtest.UniqueName(t, "main")
		ddbtest.CreateTable(t, c, to, ttlSpec)
		enableTTL(t, c, to)
		return to
	}
	dir := t.TempDir()
	base := func(to string, more ...string) []string {
		return append([]string{"copy", "--endpoint-url", srv.Endpoint, "--region", "us-east-1", "--from", from, "--to", to}, more...)
	}
	report := func(t *testing.T, r result) map[string]any {
		t.Helper()
		var rep map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("report: %v", err)
		}
		return rep
	}

	t.Run("confirmation", func(t *testing.T) {
		r := ddb(t, base(newMain())...)
		line := lastLine(r.stderr)
		if want := "items whose TTL attribute exp has passed are written back, and DynamoDB deletes them again (add --skip-expired to leave them out)"; r.code != 2 || !strings.Contains(line, want) {
			t.Errorf("exit %d, confirmation %q: want it to say %q", r.code, line, want)
		}
		r = ddb(t, base(newMain(), "--skip-expired")...)
		if want := "items whose TTL attribute exp has passed are left out (--skip-expired)"; !strings.Contains(lastLine(r.stderr), want) {
			t.Errorf("confirmation %q: want %q", lastLine(r.stderr), want)
		}
	})
	t.Run("without --skip-expired", func(t *testing.T) {
		to := newMain()
		r := ddb(t, base(to, "--yes", "--report", "-")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if got := strings.Join(mainKeys(t, c, to), " "); got != "k0 k1 k2 k3 k4 k5" {
			t.Errorf("main holds %s, want every item", got)
		}
		if want := "copy: 6 items written in "; !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "; 2 items had already expired (TTL attribute exp): DynamoDB deletes them again once written (--skip-expired leaves them out)") {
			t.Errorf("closing sentence %q does not count the expired items", lastLine(r.stderr))
		}
		rep := report(t, r)
		if n := rep["counts"].(map[string]any)["expired"]; n != float64(2) {
			t.Errorf("report counts.expired %v, want 2", n)
		}
		if m := rep["main_table"].(map[string]any); m["ttl_attribute"] != "exp" || m["skip_expired"] != nil {
			t.Errorf("report main_table %v", m)
		}
	})
	t.Run("--skip-expired", func(t *testing.T) {
		to := newMain()
		ckpt := filepath.Join(dir, "skip.ckpt")
		r := ddb(t, base(to, "--dry-run", "--skip-expired")...)
		if want := "dry run: 4 items would be written"; r.code != 0 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "; 2 expired items whose TTL attribute exp had passed left out (--skip-expired)") {
			t.Errorf("exit %d, plan %q: want 4 written and 2 expired left out", r.code, lastLine(r.stderr))
		}
		r = ddb(t, base(to, "--yes", "--skip-expired", "--checkpoint", ckpt, "--report", "-")...)
		if r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		if got := strings.Join(mainKeys(t, c, to), " "); got != "k2 k3 k4 k5" {
			t.Errorf("main holds %s, want k2 k3 k4 k5", got)
		}
		rep := report(t, r)
		counts := rep["counts"].(map[string]any)
		if counts["expired"] != float64(2) || counts["written"] != float64(4) || counts["matched"] != float64(4) {
			t.Errorf("report counts %v: want expired 2, written and matched 4", counts)
		}
		if m := rep["main_table"].(map[string]any); m["skip_expired"] != true {
			t.Errorf("report main_table %v: want skip_expired", m)
		}
		// The check it names leaves the expired items out too.
		if !strings.Contains(r.stderr, "--to "+to+" --skip-expired") {
			t.Errorf("closing sentence %q: the check command lacks --skip-expired", lastLine(r.stderr))
		}
		diff := []string{"diff", "--endpoint-url", srv.Endpoint, "--region", "us-east-1", "--from", from, "--to", to}
		if r := ddb(t, append(diff, "--skip-expired")...); r.code != 0 || !strings.Contains(r.stdout, "identical:        4") || !strings.Contains(r.stdout, "missing in main:  0") {
			t.Errorf("diff --skip-expired: exit %d, %s", r.code, r.stdout)
		}
		if r := ddb(t, diff...); r.code != 3 || !strings.Contains(r.stdout, "missing in main:  2") {
			t.Errorf("diff without --skip-expired: exit %d, %s: want the 2 expired items missing", r.code, r.stdout)
		}
	})
	t.Run("checkpoint made without --skip-expired", func(t *testing.T) {
		to := newMain()
		ckpt := filepath.Join(dir, "plain.ckpt")
		if r := ddb(t, base(to, "--yes", "--checkpoint", ckpt)...); r.code != 0 {
			t.Fatalf("exit %d", r.code)
		}
		r := ddb(t, base(to, "--yes", "--checkpoint", ckpt, "--skip-expired")...)
		if line := lastLine(r.stderr); r.code != 2 || !strings.Contains(line, "was made for another copy") || !strings.Contains(line, "skip-expired=true") {
			t.Errorf("exit %d, %q: want the checkpoint refused (exit 2) naming skip-expired", r.code, line)
		}
		// Without the flag it still resumes: complete, nothing to copy.
		r = ddb(t, base(to, "--yes", "--checkpoint", ckpt)...)
		if r.code != 0 || !strings.Contains(r.stderr, "is complete: nothing left to copy") {
			t.Errorf("exit %d, %q: want the checkpoint resumed", r.code, lastLine(r.stderr))
		}
	})
}

// replicasRewrite adds replicas in regions to the DescribeTable responses
// of table (moto has no global tables).
func replicasRewrite(table string, regions ...string) func(op string, body []byte) []byte {
	return func(op string, body []byte) []byte {
		if op != "DescribeTable" {
			return body
		}
		var out map[string]map[string]any
		if err := json.Unmarshal(body, &out); err != nil || out["Table"]["TableName"] != table {
			return body
		}
		var reps []map[string]any
		for _, r := range append([]string{"us-east-1"}, regions...) {
			reps = append(reps, map[string]any{"RegionName": r, "ReplicaStatus": "ACTIVE"})
		}
		out["Table"]["Replicas"] = reps
		b, err := json.Marshal(out)
		if err != nil {
			return body
		}
		return b
	}
}

// TestStreamAndReplicas (moto keeps stream specifications; the replicas
// come from the fault proxy rewriting DescribeTable): the confirmation and
// the dry-run plan of copy, and run's confirmation, say that the writes
// reach the stream's consumers (with the estimate) and name the Regions
// they replicate to.
func TestStreamAndReplicas(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	from, to := ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, from, ttlSpec)
	ddbtest.CreateTable(t, c, to, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, PITR: true})
	if _, err := c.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String(to),
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages}}); err != nil {
		t.Fatal(err)
	}
	var items []map[string]types.AttributeValue
	for i := range 12 {
		items = append(items, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%02d", i)}})
	}
	ddbtest.PutItems(t, c, from, items)
	ddbtest.PutItems(t, c, to, items[:3])
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Rewrite: replicasRewrite(to, "us-west-2", "eu-west-1")})
	stream := to + " has a stream (NEW_AND_OLD_IMAGES): each write and delete will reach its consumers (Lambda triggers, replicas, pipelines)"
	replicas := to + " is a global table: the writes replicate to eu-west-1, us-west-2 (the last writer wins there)"

	r := ddb(t, "copy", "--endpoint-url", proxy.URL(), "--region", "us-east-1", "--from", from, "--to", to)
	line := lastLine(r.stderr)
	for _, want := range []string{stream + ": expect up to about 12 stream records", replicas} {
		if r.code != 2 || !strings.Contains(line, want) {
			t.Errorf("exit %d, confirmation %q: want %q", r.code, line, want)
		}
	}
	r = ddb(t, "copy", "--endpoint-url", proxy.URL(), "--region", "us-east-1", "--from", from, "--to", to, "--dry-run", "--delete-extra")
	line = lastLine(r.stderr)
	for _, want := range []string{"dry run: 12 items would be written", stream + ": expect up to about 12 stream records", replicas, "; nothing was written"} {
		if r.code != 0 || !strings.Contains(line, want) {
			t.Errorf("exit %d, plan %q: want %q", r.code, line, want)
		}
	}
	r = ddb(t, "run", "--endpoint-url", proxy.URL(), "--region", "us-east-1", "--table", to, "--latest", "--state", filepath.Join(t.TempDir(), "state.json"))
	line = lastLine(r.stderr)
	for _, want := range []string{"rewind " + to + " to ", stream + ": expect up to about 3 stream records", replicas} {
		if r.code != 2 || !strings.Contains(line, want) {
			t.Errorf("exit %d, run's confirmation %q: want %q", r.code, line, want)
		}
	}
}

// TestRunSkipExpired: run takes --skip-expired to its copy (the expired
// items of the restored table are left out and counted) and to its
// verification (which does not count them as missing).
func TestRunSkipExpired(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	table := ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, table, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, PITR: true})
	enableTTL(t, c, table)
	ddbtest.PutItems(t, c, table, ttlSource())
	r := ddb(t, "run", "--endpoint-url", srv.Endpoint, "--region", "us-east-1", "--table", table, "--latest", "--yes", "--skip-expired",
		"--state", filepath.Join(t.TempDir(), "state.json"), "--report", "-")
	if r.code != 0 {
		t.Fatalf("run: exit %d", r.code)
	}
	var rep map[string]any
	if err := json.NewDecoder(strings.NewReader(r.stdout)).Decode(&rep); err != nil {
		t.Fatalf("report: %v", err)
	}
	if counts := rep["counts"].(map[string]any); counts["expired"] != float64(2) || counts["written"] != float64(4) {
		t.Errorf("report counts %v: want expired 2, written 4", counts)
	}
	if !strings.Contains(r.stderr, "copy: 4 items written") || !strings.Contains(r.stderr, "2 expired items whose TTL attribute exp had passed left out (--skip-expired)") {
		t.Errorf("closing sentence: %s", r.stderr)
	}
}

// TestRunSinceSkipExpired: in an incremental rewind, a key whose start
// image's TTL has passed was deleted in the window (by TTL): the
// confirmation says a rewind recreates it; run --since --skip-expired
// leaves it deleted (and its verification passes), without the flag it
// comes back.
func TestRunSinceSkipExpired(t *testing.T) {
	t.Parallel()
	past := fmt.Sprint(time.Now().Add(-24 * time.Hour).Unix())
	expiredStart := sinceItem("e0", "start")
	expiredStart["exp"] = &types.AttributeValueMemberN{Value: past}
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("skip=%v", skip), func(t *testing.T) {
			t.Parallel()
			s := newSinceSetup(t)
			s.fake.set(func(f *exportFake) { f.ttl = "exp" })
			// e0 expired and TTL deleted it in the window; a0 was
			// changed to bad.
			records := []string{changeRecord(t, expiredStart, expiredStart, nil, "pk"), sinceRecord(t, "a0", sinceItem("a0", "start"), sinceItem("a0", "bad"))}
			ddbtest.PutItems(t, s.c, s.table, []map[string]types.AttributeValue{sinceItem("a0", "bad")})
			s.exportsHold(t, records)
			if !skip {
				base := []string{"run", "--endpoint-url", s.fake.URL(), "--table", s.table, "--since", tables.FormatTime(s.since),
					"--until", tables.FormatTime(s.until), "--s3-bucket", s.bucket, "--s3-prefix", "rewinds/x", "--state", s.state}
				r := runCLI(t, cliOpts{env: s.env}, base...)
				want := "items put back as they were at the start whose TTL attribute exp has passed (TTL deleted them in the window) are recreated, and DynamoDB deletes them again (add --skip-expired to leave them out)"
				if r.code != 2 || !strings.Contains(lastLine(r.stderr), want) {
					t.Errorf("exit %d, confirmation %q: want %q", r.code, lastLine(r.stderr), want)
				}
			}
			args := []string{}
			if skip {
				args = append(args, "--skip-expired")
			}
			r := s.run(t, args...)
			if r.code != 0 {
				t.Fatalf("run --since: exit %d", r.code)
			}
			var keys []string
			for _, it := range ddbtest.ScanAll(t, s.c, s.table) {
				keys = append(keys, it["pk"].(*types.AttributeValueMemberS).Value+"="+it["v"].(*types.AttributeValueMemberS).Value)
			}
			want := "a0=start e0=start"
			if skip {
				want = "a0=start"
			}
			if got := strings.Join(sortedCopy(keys), " "); got != want {
				t.Errorf("table holds %s, want %s", got, want)
			}
		})
	}
}

// TestSubmitQuestionNotes: batch start's confirmation ends with what the
// main table's stream, replicas and TTL make of the writes.
func TestSubmitQuestionNotes(t *testing.T) {
	at := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)
	tests := []struct {
		rec  chainRecord
		want string
	}{
		{chainRecord{Table: "orders"}, "submit an AWS Batch job that rewinds main table orders from incremental exports (it writes items of orders)"},
		{chainRecord{Table: "orders", notes: "orders has a stream (NEW_IMAGE): each write and delete will reach its consumers (Lambda triggers, replicas, pipelines)"},
			"submit an AWS Batch job that rewinds main table orders from incremental exports (it writes items of orders); orders has a stream (NEW_IMAGE): each write and delete will reach its consumers (Lambda triggers, replicas, pipelines)"},
		{chainRecord{Table: "orders", RestorePoint: &at, RecoveryTable: "orders-rewind-x", Workers: 2, notes: "orders is a global table: the writes replicate to eu-west-1 (the last writer wins there)"},
			"submit AWS Batch jobs that restore orders to 2026-11-25T08:30:00Z as orders-rewind-x and copy it back with 2 workers: they write items of main table orders; orders is a global table: the writes replicate to eu-west-1 (the last writer wins there)"},
		// No "worker(s)" (issue 22 row 18's nits).
		{chainRecord{Table: "orders", RestorePoint: &at, RecoveryTable: "orders-rewind-x", Workers: 1},
			"submit AWS Batch jobs that restore orders to 2026-11-25T08:30:00Z as orders-rewind-x and copy it back with 1 worker: they write items of main table orders"},
	}
	for _, tt := range tests {
		if got := submitQuestion(&tt.rec); got != tt.want {
			t.Errorf("submitQuestion:\n got %q\nwant %q", got, tt.want)
		}
	}
}

// kinesisResponder answers DescribeKinesisStreamingDestination (which
// neither moto nor dynalite serves) through the fault proxy: an ACTIVE
// destination and a DISABLED one, or, once denied is set, AccessDenied.
func kinesisResponder(table string, denied *atomic.Bool) map[string]func() (int, []byte) {
	return map[string]func() (int, []byte){"DescribeKinesisStreamingDestination": func() (int, []byte) {
		if denied.Load() {
			return http.StatusBadRequest, []byte(`{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/rewinder/s is not authorized to perform: dynamodb:DescribeKinesisStreamingDestination on resource: arn:aws:dynamodb:us-east-1:123456789012:table/` + table + ` because no identity-based policy allows the dynamodb:DescribeKinesisStreamingDestination action"}`)
		}
		return http.StatusOK, []byte(`{"TableName":"` + table + `","KinesisDataStreamDestinations":[` +
			`{"StreamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/orders-changes","DestinationStatus":"ACTIVE","ApproximateCreationDateTimePrecision":"MILLISECOND"},` +
			`{"StreamArn":"arn:aws:kinesis:us-east-1:123456789012:stream/orders-old","DestinationStatus":"DISABLED"}]}`)
	}}
}

// TestKinesisDestination (the fault proxy answers
// DescribeKinesisStreamingDestination): copy's confirmation and dry-run
// plan, and run's confirmation, name the main table's active Kinesis
// stream with the estimate; when the call is denied, they say it could
// not be read and name the permission, and the copy proceeds.
func TestKinesisDestination(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Moto)
	c := srv.Client(t)
	from, to := ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "orders")
	ddbtest.CreateTable(t, c, from, ttlSpec)
	ddbtest.CreateTable(t, c, to, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, PITR: true})
	var items []map[string]types.AttributeValue
	for i := range 12 {
		items = append(items, map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("k%02d", i)}})
	}
	ddbtest.PutItems(t, c, from, items)
	ddbtest.PutItems(t, c, to, items[:3])
	var denied atomic.Bool
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Respond: kinesisResponder(to, &denied)})
	copyArgs := []string{"copy", "--endpoint-url", proxy.URL(), "--region", "us-east-1", "--from", from, "--to", to}
	active := to + " streams to Kinesis (stream orders-changes): each write and delete will also reach that stream and its consumers"
	unread := "the Kinesis Data Streams destination of " + to + " could not be read (missing permission dynamodb:DescribeKinesisStreamingDestination): if it streams to Kinesis, each write and delete reaches that stream too"

	checks := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"copy's confirmation", copyArgs, 2, []string{active + ": expect up to about 12 Kinesis records"}},
		{"copy's dry-run plan", append(slices.Clone(copyArgs), "--dry-run", "--delete-extra"), 0,
			[]string{"dry run: 12 items would be written", active + ": expect up to about 12 Kinesis records", "; nothing was written"}},
		{"run's confirmation", []string{"run", "--endpoint-url", proxy.URL(), "--region", "us-east-1", "--table", to, "--latest", "--state", filepath.Join(t.TempDir(), "state.json")}, 2,
			[]string{"rewind " + to + " to ", active + ": expect up to about 3 Kinesis records"}},
	}
	for _, ck := range checks {
		r := ddb(t, ck.args...)
		line := lastLine(r.stderr)
		for _, want := range ck.want {
			if r.code != ck.code || !strings.Contains(line, want) {
				t.Errorf("%s: exit %d, %q: want exit %d and %q", ck.name, r.code, line, ck.code, want)
			}
		}
		if strings.Contains(line, "orders-old") {
			t.Errorf("%s names the disabled destination: %q", ck.name, line)
		}
	}

	denied.Store(true)
	r := ddb(t, copyArgs...)
	if line := lastLine(r.stderr); r.code != 2 || !strings.Contains(line, unread) {
		t.Errorf("denied: confirmation exit %d, %q: want %q", r.code, line, unread)
	}
	r = ddb(t, append(slices.Clone(copyArgs), "--dry-run")...)
	if line := lastLine(r.stderr); r.code != 0 || !strings.Contains(line, unread) {
		t.Errorf("denied: plan exit %d, %q: want %q", r.code, line, unread)
	}
	r = ddb(t, append(slices.Clone(copyArgs), "--yes")...)
	if r.code != 0 || !strings.Contains(r.stderr, "copy: 12 items written") {
		t.Fatalf("denied: copy exit %d, %s: want it to proceed", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "cannot read the main table's Kinesis Data Streams destination") || !strings.Contains(r.stderr, "permission=dynamodb:DescribeKinesisStreamingDestination") {
		t.Errorf("denied: no warning naming the permission in %s", r.stderr)
	}
	if n := len(ddbtest.ScanAll(t, c, to)); n != 12 {
		t.Errorf("main holds %d items, want 12", n)
	}
	if st := proxy.Stats().Ops["DescribeKinesisStreamingDestination"]; st.Responded != 6 || st.Forwarded != 0 {
		t.Errorf("DescribeKinesisStreamingDestination %+v: want 6 calls, each answered once by the proxy", st)
	}
}
