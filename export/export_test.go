package export

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/poll"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

var latest = time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)

// fast polls without sleeping for long.
var fast = poll.Schedule{Min: time.Millisecond, Max: time.Millisecond}

func TestSplit(t *testing.T) {
	from := latest.Add(-35 * 24 * time.Hour)
	tests := []struct {
		name   string
		length time.Duration
		want   []time.Duration // part lengths; nil: refused
	}{
		{"10 minutes: refused", 10 * time.Minute, nil},
		{"just under 15 minutes: refused", 15*time.Minute - time.Millisecond, nil},
		{"15 minutes: one export", 15 * time.Minute, []time.Duration{15 * time.Minute}},
		{"24 hours: one export", 24 * time.Hour, []time.Duration{24 * time.Hour}},
		{"24 h 10 min: two balanced parts", 24*time.Hour + 10*time.Minute, []time.Duration{12*time.Hour + 5*time.Minute, 12*time.Hour + 5*time.Minute}},
		{"24 h 1 s: two parts, rounded to seconds", 24*time.Hour + time.Second, []time.Duration{12*time.Hour + time.Second, 12 * time.Hour}},
		{"48 h less 500 ms: no part over 24 h", 48*time.Hour - 500*time.Millisecond, []time.Duration{24 * time.Hour, 24*time.Hour - 500*time.Millisecond}},
		{"3 days: three", 72 * time.Hour, []time.Duration{24 * time.Hour, 24 * time.Hour, 24 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := Split(from, from.Add(tt.length))
			if tt.want == nil {
				if !usage.Is(err) || !strings.Contains(err.Error(), "15 minutes to 24 hours") {
					t.Fatalf("Split = %v, %v; want a usage error naming the 15 minutes to 24 hours rule", parts, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []time.Duration
			for _, p := range parts {
				got = append(got, p.Duration())
			}
			if !equalDurations(got, tt.want) {
				t.Errorf("parts %v, want %v", got, tt.want)
			}
		})
	}
}

// Every window DynamoDB's PITR can hold splits into the fewest parts, each
// within DynamoDB's limits, consecutive and covering the window.
func TestSplitLimits(t *testing.T) {
	from := latest.Add(-35 * 24 * time.Hour)
	for d := MinWindow; d <= 35*24*time.Hour; d += 37*time.Minute + 123*time.Millisecond {
		parts, err := Split(from, from.Add(d))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if want := int((d + MaxWindow - 1) / MaxWindow); len(parts) != want {
			t.Fatalf("%s: %d parts, want %d", d, len(parts), want)
		}
		at := from
		for i, p := range parts {
			if !p.From.Equal(at) || p.Duration() < MinWindow || p.Duration() > MaxWindow {
				t.Fatalf("%s: part %d %v (%s) breaks the limits or the chain", d, i, p, p.Duration())
			}
			at = p.To
		}
		if !at.Equal(from.Add(d)) {
			t.Fatalf("%s: parts end at %s", d, at)
		}
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClientToken(t *testing.T) {
	arn := "arn:aws:dynamodb:us-east-1:111122223333:table/orders"
	w := Window{From: latest.Add(-time.Hour), To: latest}
	base := ClientToken(arn, types.ExportTypeIncrementalExport, time.Time{}, w, "b", "p", 0)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(base) {
		t.Fatalf("token %q: want 64 hex digits", base)
	}
	if again := ClientToken(arn, types.ExportTypeIncrementalExport, time.Time{}, w, "b", "p", 0); again != base {
		t.Errorf("the same export got another token")
	}
	others := map[string]string{
		"table":  ClientToken(arn+"2", types.ExportTypeIncrementalExport, time.Time{}, w, "b", "p", 0),
		"type":   ClientToken(arn, types.ExportTypeFullExport, w.From, Window{}, "b", "p", 0),
		"from":   ClientToken(arn, types.ExportTypeIncrementalExport, time.Time{}, Window{From: w.From.Add(time.Second), To: w.To}, "b", "p", 0),
		"to":     ClientToken(arn, types.ExportTypeIncrementalExport, time.Time{}, Window{From: w.From, To: w.To.Add(time.Second)}, "b", "p", 0),
		"bucket": ClientToken(arn, types.ExportTypeIncrementalExport, time.Time{}, w, "c", "p", 0),
		"prefix": ClientToken(arn, types.ExportTypeIncrementalExport, time.Time{}, w, "b", "q", 0),
		"retry":  ClientToken(arn, types.ExportTypeIncrementalExport, time.Time{}, w, "b", "p", 1),
		// bucket and prefix must not run into each other.
		"split": ClientToken(arn, types.ExportTypeIncrementalExport, time.Time{}, w, "bp", "", 0),
	}
	for what, tok := range others {
		if tok == base {
			t.Errorf("another %s gives the same token", what)
		}
	}
	full := ClientToken(arn, types.ExportTypeFullExport, latest, Window{}, "b", "p", 0)
	if full == ClientToken(arn, types.ExportTypeFullExport, latest.Add(time.Millisecond), Window{}, "b", "p", 0) {
		t.Errorf("two export times give the same token")
	}
}

func baseOpts() Options {
	return Options{Table: "orders", Bucket: "exports-bucket", Prefix: "rewinds/orders", Poll: fast, Wait: true}
}

func TestPrepareRefusals(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Options, *memAPI)
		want string
	}{
		{"neither --at nor --since", func(o *Options, _ *memAPI) {}, "exactly one of --at TIME"},
		{"both --at and --since", func(o *Options, _ *memAPI) { o.At, o.Since = latest, latest.Add(-time.Hour) }, "exactly one of --at TIME"},
		{"--until without --since", func(o *Options, _ *memAPI) { o.At, o.Until = latest, latest }, "--until goes with --since"},
		{"--since after --until", func(o *Options, _ *memAPI) { o.Since, o.Until = latest, latest.Add(-time.Hour) }, "is not before --until"},
		{"bucket with s3://", func(o *Options, _ *memAPI) { o.At, o.Bucket = latest, "s3://exports-bucket" }, "without s3://"},
		{"bucket with a path", func(o *Options, _ *memAPI) { o.At, o.Bucket = latest, "exports-bucket/orders" }, "--s3-prefix"},
		{"bucket with capitals", func(o *Options, _ *memAPI) { o.At, o.Bucket = latest, "Exports" }, "not a valid S3 bucket name"},
		{"bucket too short", func(o *Options, _ *memAPI) { o.At, o.Bucket = latest, "ab" }, "not a valid S3 bucket name"},
		{"bucket with ..", func(o *Options, _ *memAPI) { o.At, o.Bucket = latest, "a..b" }, "not a valid S3 bucket name"},
		{"bucket an IP address", func(o *Options, _ *memAPI) { o.At, o.Bucket = latest, "192.168.5.4" }, "IP address"},
		{"prefix with a trailing slash", func(o *Options, _ *memAPI) { o.At, o.Prefix = latest, "rewinds/" }, "trailing '/'"},
		{"bad bucket owner", func(o *Options, _ *memAPI) { o.At, o.BucketOwner = latest, "me" }, "12 digits"},
		{"bad table", func(o *Options, _ *memAPI) { o.At, o.Table = latest, "no spaces" }, "not a valid table name"},
		{"missing table", func(o *Options, _ *memAPI) { o.At, o.Table = latest, "missing" }, "table not found"},
		{"pitr off", func(o *Options, m *memAPI) { o.At, m.pitr = latest, false }, "point-in-time recovery is not enabled on the table"},
		{"--at after the window", func(o *Options, _ *memAPI) { o.At = latest.Add(time.Second) }, "outside the restorable window"},
		{"--at before the window", func(o *Options, m *memAPI) { o.At = m.earliest.Add(-time.Second) }, "outside the restorable window"},
		{"--since before the window", func(o *Options, m *memAPI) { o.Since = m.earliest.Add(-time.Hour) }, "--since"},
		{"--until after the window", func(o *Options, _ *memAPI) { o.Since, o.Until = latest.Add(-time.Hour), latest.Add(time.Hour) }, "--until"},
		{"window of 10 minutes", func(o *Options, _ *memAPI) { o.Since, o.Until = latest.Add(-time.Hour), latest.Add(-50*time.Minute) }, "15 minutes to 24 hours"},
		{"default --until 10 minutes after --since", func(o *Options, _ *memAPI) { o.Since = latest.Add(-10 * time.Minute) }, "lasts 10m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemAPI(latest)
			o := baseOpts()
			tt.edit(&o, m)
			tasks, err := Run(context.Background(), m, o)
			if !usage.Is(err) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, %v; want a usage error saying %q", tasks, err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is not one line: %q", err)
			}
			if n := m.count("ExportTableToPointInTime"); n != 0 {
				t.Errorf("a refusal started %d exports", n)
			}
		})
	}
}

func TestRunFullExport(t *testing.T) {
	m := newMemAPI(latest)
	o := baseOpts()
	o.At = latest.Add(-time.Hour)
	tasks, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.requests) != 1 || len(tasks) != 1 {
		t.Fatalf("%d requests, %d tasks; want 1 and 1", len(m.requests), len(tasks))
	}
	in, task := m.requests[0], tasks[0]
	if aws.ToString(in.TableArn) != m.arn || in.ExportType != types.ExportTypeFullExport || in.ExportFormat != types.ExportFormatDynamodbJson ||
		!aws.ToTime(in.ExportTime).Equal(o.At) || in.IncrementalExportSpecification != nil {
		t.Errorf("request %+v: want a full DynamoDB JSON export of %s at %s", in, m.arn, o.At)
	}
	if aws.ToString(in.S3Bucket) != "exports-bucket" || aws.ToString(in.S3Prefix) != "rewinds/orders" || in.S3BucketOwner != nil {
		t.Errorf("request to s3://%s/%s owner %v", aws.ToString(in.S3Bucket), aws.ToString(in.S3Prefix), in.S3BucketOwner)
	}
	if in.S3SseAlgorithm != types.S3SseAlgorithmAes256 || in.S3SseKmsKeyId != nil {
		t.Errorf("encryption %s %v, want AES256 without a key", in.S3SseAlgorithm, in.S3SseKmsKeyId)
	}
	if want := ClientToken(m.arn, types.ExportTypeFullExport, o.At, Window{}, o.Bucket, o.Prefix, 0); aws.ToString(in.ClientToken) != want {
		t.Errorf("token %s, want %s", aws.ToString(in.ClientToken), want)
	}
	if task.Status != types.ExportStatusCompleted || task.Adopted || task.ItemCount != 20 {
		t.Errorf("task %+v: want a completed export, not adopted", task)
	}
	if want := "s3://exports-bucket/rewinds/orders/AWSDynamoDB/" + task.ID() + "/"; task.Directory != want {
		t.Errorf("directory %s, want %s", task.Directory, want)
	}
}

func TestRunIncrementalExports(t *testing.T) {
	m := newMemAPI(latest)
	o := baseOpts()
	o.Since = latest.Add(-3*24*time.Hour - 30*time.Minute)
	o.Until = latest.Add(-30 * time.Minute)
	o.KMSKey, o.BucketOwner, o.Prefix = "alias/exports", "444455556666", ""
	tasks, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.requests) != 3 || len(tasks) != 3 {
		t.Fatalf("%d requests, %d tasks; want 3 of 24 hours", len(m.requests), len(tasks))
	}
	at := o.Since
	for i, in := range m.requests {
		sp := in.IncrementalExportSpecification
		want := Window{From: at, To: at.Add(24 * time.Hour)}
		if in.ExportType != types.ExportTypeIncrementalExport || in.ExportTime != nil || sp == nil ||
			!aws.ToTime(sp.ExportFromTime).Equal(want.From) || !aws.ToTime(sp.ExportToTime).Equal(want.To) ||
			sp.ExportViewType != types.ExportViewTypeNewAndOldImages {
			t.Errorf("request %d %+v: want an incremental export of %v with new and old images", i, in, want)
		}
		if in.S3SseAlgorithm != types.S3SseAlgorithmKms || aws.ToString(in.S3SseKmsKeyId) != "alias/exports" ||
			aws.ToString(in.S3BucketOwner) != "444455556666" || in.S3Prefix != nil {
			t.Errorf("request %d: SSE %s %s, owner %s, prefix %v", i, in.S3SseAlgorithm, aws.ToString(in.S3SseKmsKeyId),
				aws.ToString(in.S3BucketOwner), in.S3Prefix)
		}
		if tok := ClientToken(m.arn, types.ExportTypeIncrementalExport, time.Time{}, want, o.Bucket, "", 0); aws.ToString(in.ClientToken) != tok {
			t.Errorf("request %d: token %s, want %s", i, aws.ToString(in.ClientToken), tok)
		}
		if tasks[i].Window != want || tasks[i].Status != types.ExportStatusCompleted {
			t.Errorf("task %d: %v %s", i, tasks[i].Window, tasks[i].Status)
		}
		if d := "s3://exports-bucket/AWSDynamoDB/" + tasks[i].ID() + "/"; tasks[i].Directory != d {
			t.Errorf("task %d: directory %s, want %s", i, tasks[i].Directory, d)
		}
		at = want.To
	}
}

// A second run of the same command starts nothing: it adopts what the first
// started, whether DynamoDB honours the ClientToken and lists the exports
// in progress, ignores the token (as moto does), or does not list exports
// in progress (ListExports is documented to list completed ones).
func TestRetryAdopts(t *testing.T) {
	modes := []struct {
		name                  string
		ignoreToken, unlisted bool
		byToken               bool // the retry's export comes from the token, not the listing
	}{
		{name: "token and listing"},
		{name: "listing only (token ignored)", ignoreToken: true},
		{name: "token only (in progress not listed)", unlisted: true, byToken: true},
	}
	kinds := []struct {
		name  string
		edit  func(*Options)
		parts int
	}{
		{"full", func(o *Options) { o.At = latest.Add(-2 * time.Hour) }, 1},
		{"incremental", func(o *Options) { o.Since, o.Until = latest.Add(-40*time.Hour), latest.Add(-time.Hour) }, 2},
	}
	for _, md := range modes {
		for _, k := range kinds {
			t.Run(md.name+"/"+k.name, func(t *testing.T) {
				m := newMemAPI(latest)
				m.ignoreToken, m.unlisted = md.ignoreToken, md.unlisted
				m.doneAfter = 0 // still in progress at the retry
				o := baseOpts()
				k.edit(&o)
				o.Wait = false
				first, err := Run(context.Background(), m, o)
				if err != nil {
					t.Fatal(err)
				}
				m.doneAfter = 1
				o.Wait = true
				second, err := Run(context.Background(), m, o)
				if err != nil {
					t.Fatal(err)
				}
				if len(m.exports) != k.parts {
					t.Fatalf("%d exports after the retry, want the %d the first run started", len(m.exports), k.parts)
				}
				for i := range second {
					if second[i].ARN != first[i].ARN || second[i].Directory != first[i].Directory || second[i].Status != types.ExportStatusCompleted {
						t.Errorf("part %d: retry got %s (%s), first run %s", i, second[i].ARN, second[i].Status, first[i].ARN)
					}
					if second[i].Adopted == md.byToken {
						t.Errorf("part %d: adopted from the listing = %v, want %v", i, second[i].Adopted, !md.byToken)
					}
				}
			})
		}
	}
}

// Without --until, the window ends at the latest restorable time, which
// moves between attempts: the retry adopts the exports that chain from
// --since and exports only what follows them, if 15 minutes or more.
func TestRetryDefaultUntilFollowsTheChain(t *testing.T) {
	m := newMemAPI(latest)
	m.ignoreToken = true // the tokens differ anyway: the window moved
	o := baseOpts()
	o.Since = latest.Add(-30 * time.Hour)
	first, err := Run(context.Background(), m, o)
	if err != nil || len(first) != 2 {
		t.Fatalf("first run: %d tasks, %v", len(first), err)
	}
	m.latest = latest.Add(10 * time.Minute)
	second, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.exports) != 2 || len(second) != 2 || !second[0].Adopted || !second[1].Adopted || !second[1].Window.To.Equal(latest) {
		t.Fatalf("10 minutes later: %d exports, tasks %+v; want the 2 adopted, ending at %s", len(m.exports), second, latest)
	}
	m.latest = latest.Add(2 * time.Hour)
	third, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.exports) != 3 || len(third) != 3 || third[2].Adopted || !third[2].Window.From.Equal(latest) || !third[2].Window.To.Equal(m.latest) {
		t.Fatalf("2 hours later: %d exports, tasks %+v; want the 2 adopted and one of [%s, %s)", len(m.exports), third, latest, m.latest)
	}
}

// An explicit --until that ends 10 minutes past an earlier export of the
// window's start cannot adopt it (10 minutes cannot be exported alone): the
// window is exported as asked.
func TestExplicitUntilDoesNotAdoptWhatDoesNotFit(t *testing.T) {
	m := newMemAPI(latest)
	o := baseOpts()
	o.Since, o.Until = latest.Add(-2*time.Hour), latest.Add(-time.Hour)
	if _, err := Run(context.Background(), m, o); err != nil {
		t.Fatal(err)
	}
	o.Until = o.Until.Add(10 * time.Minute)
	tasks, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 1 || tasks[0].Adopted || tasks[0].Window != (Window{From: o.Since, To: o.Until}) || len(m.exports) != 2 {
		t.Fatalf("tasks %+v, %d exports; want one new export of the whole window", tasks, len(m.exports))
	}
}

func TestFailedExportIsReportedAndNotAdopted(t *testing.T) {
	m := newMemAPI(latest)
	m.failCode = "S3AccessDenied"
	o := baseOpts()
	o.At = latest.Add(-time.Hour)
	_, err := Run(context.Background(), m, o)
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Code != "S3AccessDenied" || !strings.Contains(err.Error(), "S3AccessDenied: Access Denied") || usage.Is(err) {
		t.Fatalf("err = %v, want a FailedError with the failure code and message", err)
	}
	m.failCode = ""
	tasks, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.exports) != 2 || tasks[0].Adopted || tasks[0].Status != types.ExportStatusCompleted {
		t.Fatalf("%d exports, task %+v: want a new export after the failed one", len(m.exports), tasks[0])
	}
	if aws.ToString(m.requests[0].ClientToken) == aws.ToString(m.requests[1].ClientToken) {
		t.Errorf("the retry after a failure reused the failed export's token")
	}
	if len(m.requests) != 2 {
		t.Errorf("%d requests, want 2: the listed failure counts in the retry's token at once", len(m.requests))
	}
}

// When the listing does not show a FAILED export, the retry's token is the
// failed one's and DynamoDB answers it with that export: the next retry
// count gives a new token, and a new export.
func TestFailedExportNotListedIsNotAdoptedEither(t *testing.T) {
	m := newMemAPI(latest)
	m.failCode = "S3AccessDenied"
	o := baseOpts()
	o.Since, o.Until = latest.Add(-2*time.Hour), latest.Add(-time.Hour)
	if _, err := Run(context.Background(), m, o); err == nil {
		t.Fatal("the first export did not fail")
	}
	m.failCode, m.hideFailed = "", true
	tasks, err := Run(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.exports) != 2 || len(m.requests) != 3 || tasks[0].Status != types.ExportStatusCompleted || tasks[0].ARN == aws.ToString(m.exports[0].ExportArn) {
		t.Fatalf("%d exports, %d requests, task %+v: want the failed token's answer refused and a new export", len(m.exports), len(m.requests), tasks[0])
	}
}

// The listing is newest first: exports requested before the asked time
// cannot be of it, so the listing stops at the first such one and older
// exports are not described; newer ones are, over every page.
func TestOldExportsAreNotDescribed(t *testing.T) {
	m := newMemAPI(latest)
	m.doneAfter = 1
	o := baseOpts()
	for i := 0; i < 30; i++ { // full exports at -30h … -1h, each requested a minute later
		o.At = latest.Add(-time.Duration(30-i) * time.Hour)
		m.created = o.At.Add(time.Minute)
		if _, err := Run(context.Background(), m, o); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name              string
		at                time.Time
		described, listed int
	}{
		{"two newer exports", latest.Add(-150 * time.Minute), 2, 1},
		{"all newer (the 30 and the one above): two pages", latest.Add(-31 * time.Hour), 31, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, l := m.count("DescribeExport"), m.count("ListExports")
			o.At = tt.at
			m.created = latest.Add(time.Minute)
			if _, err := Run(context.Background(), m, o); err != nil {
				t.Fatal(err)
			}
			// One more DescribeExport polls the new export.
			if n := m.count("DescribeExport") - d - 1; n != tt.described {
				t.Errorf("%d exports described, want %d", n, tt.described)
			}
			if n := m.count("ListExports") - l; n != tt.listed {
				t.Errorf("%d ListExports pages, want %d", n, tt.listed)
			}
		})
	}
}

func TestWaitInterruptedSaysTheExportGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemAPI(latest)
		m.doneAfter = 0
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Second, cancel)
		o := baseOpts()
		o.At, o.Poll = latest, poll.Default
		_, err := Run(ctx, m, o)
		if !errors.Is(err, ErrWaitInterrupted) || !strings.Contains(err.Error(), "the exports go on in DynamoDB") {
			t.Fatalf("err = %v, want ErrWaitInterrupted saying the exports go on", err)
		}
	})
}

func TestWaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemAPI(latest)
		m.doneAfter = 0
		o := baseOpts()
		o.At, o.Poll, o.Timeout = latest, poll.Default, time.Minute
		_, err := Run(context.Background(), m, o)
		if err == nil || !strings.Contains(err.Error(), "timed out after 1m0s") || errors.Is(err, ErrWaitInterrupted) {
			t.Fatalf("err = %v, want a timeout", err)
		}
	})
}

func TestDirectory(t *testing.T) {
	id := "01674026761587-0931cdbf"
	tests := []struct{ prefix, manifest, want string }{
		{"", "", "s3://b/AWSDynamoDB/" + id + "/"},
		{"x/y", "", "s3://b/x/y/AWSDynamoDB/" + id + "/"},
		{"x/y", "x/y/AWSDynamoDB/" + id + "/manifest-summary.json", "s3://b/x/y/AWSDynamoDB/" + id + "/"},
		{"x/y", "AWSDynamoDB/" + id + "/manifest-summary.json", "s3://b/x/y/AWSDynamoDB/" + id + "/"},
		{"", "AWSDynamoDB/" + id + "/manifest-summary.json", "s3://b/AWSDynamoDB/" + id + "/"},
	}
	for _, tt := range tests {
		if got := directory("b", tt.prefix, id, tt.manifest); got != tt.want {
			t.Errorf("directory(%q, %q) = %s, want %s", tt.prefix, tt.manifest, got, tt.want)
		}
	}
}

func TestIDTime(t *testing.T) {
	if got, ok := idTime("01674026761587-0931cdbf"); !ok || !got.Equal(time.UnixMilli(1674026761587)) {
		t.Errorf("idTime = %s, %v", got, ok)
	}
	for _, id := range []string{"", "0931cdbf", "4fa1b2c3d4e5f60718293a4b5c6d7e8f", "1674026761587-0931cdbf", "01674026761587-0931CDBG"} {
		if _, ok := idTime(id); ok {
			t.Errorf("idTime(%q) parsed", id)
		}
	}
}

// A retry after a kill, with --until given, whose window splits into parts
// that are not a whole number of seconds (50 h 1 s: parts of 16 h 40 min
// 1 s, the last shorter): the first part is COMPLETED and listed, the
// second still running and not listed (ListExports lists completed
// exports). The retry must ask for exactly the parts the first attempt
// asked for, so that their ClientTokens return the running exports: a
// split of what follows the adopted part alone makes other windows and
// starts duplicates.
func TestRetryAfterPartialChainKeepsTheFirstSplit(t *testing.T) {
	for _, length := range []time.Duration{50*time.Hour + time.Second, 70*time.Hour + time.Second, 49*time.Hour + 1500*time.Millisecond} {
		t.Run(length.String(), func(t *testing.T) {
			m := newMemAPI(latest)
			m.unlisted, m.doneAfter = true, 0
			o := baseOpts()
			o.Until = latest.Add(-time.Hour)
			o.Since = o.Until.Add(-length)
			o.Wait = false
			first, err := Run(context.Background(), m, o)
			if err != nil || len(first) != 3 {
				t.Fatalf("first run: %d tasks, %v", len(first), err)
			}
			m.exports[0].ExportStatus = types.ExportStatusCompleted // listed now; the others still running
			second, err := Run(context.Background(), m, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.exports) != 3 {
				t.Fatalf("%d exports after the retry, want the 3 the first attempt started", len(m.exports))
			}
			for i := range first {
				if second[i].ARN != first[i].ARN || second[i].Window != first[i].Window {
					t.Errorf("part %d: retry %s %v, first attempt %s %v", i, second[i].ID(), second[i].Window, first[i].ID(), first[i].Window)
				}
			}
		})
	}
}
