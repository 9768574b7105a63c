package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestS3EndpointHint: when S3 cannot be reached, the hint names where S3's
// endpoint comes from. --endpoint-url is DynamoDB's only: with it given
// and no S3 endpoint set, the hint names AWS_ENDPOINT_URL_S3 rather than
// "pass --endpoint-url" (issue 22 row 4).
func TestS3EndpointHint(t *testing.T) {
	tests := []struct {
		name    string
		flag    string
		env     map[string]string
		want    []string
		wantNot []string
	}{
		{"endpoint flag, no S3 endpoint", "http://localhost:8000", nil, []string{"AWS_ENDPOINT_URL_S3", "--endpoint-url is DynamoDB's"}, []string{"pass --endpoint-url"}},
		{"nothing set", "", nil, []string{"--region", "AWS_ENDPOINT_URL_S3"}, []string{"--endpoint-url"}},
		{"S3 endpoint set", "http://localhost:8000", map[string]string{"AWS_ENDPOINT_URL_S3": "http://localhost:9000"}, []string{"AWS_ENDPOINT_URL_S3"}, []string{"--region"}},
		{"shared endpoint set", "", map[string]string{"AWS_ENDPOINT_URL": "http://localhost:9000"}, []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"}, []string{"--region"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s3EndpointHint(tc.flag, func(k string) string { return tc.env[k] })
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("hint %q does not name %q", got, w)
				}
			}
			for _, n := range tc.wantNot {
				if strings.Contains(got, n) {
					t.Errorf("hint %q says %q", got, n)
				}
			}
		})
	}
}

// TestRunExistingRecoveryTableHint: run refuses an existing recovery table
// with what run accepts (another --recovery-table, cleanup, or copying
// from it), never --if-exists, a flag run does not have (issue 22 row 4).
func TestRunExistingRecoveryTableHint(t *testing.T) {
	t.Parallel()
	srv, table, _ := runTable(t, 5)
	c := srv.Client(t)
	existing := ddbtest.UniqueName(t, "rec")
	ddbtest.CreateTable(t, c, existing, mixedSpec)
	state := filepath.Join(t.TempDir(), "state.json")
	runUsageCases(t, []usageCase{{"run into an existing recovery table",
		[]string{"run", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--recovery-table", existing, "--state", state, "--yes"}, 2,
		[]string{"already exists", "cleanup --recovery-table " + existing, "copy --from " + existing + " --to " + table},
		[]string{"--if-exists"}}})
	// restore itself still offers --if-exists adopt.
	runUsageCases(t, []usageCase{{"restore into an existing recovery table",
		[]string{"restore", "--endpoint-url", srv.Endpoint, "--table", table, "--latest", "--recovery-table", existing}, 2,
		[]string{"already exists", "--if-exists adopt"}, nil}})
}

// TestEndpointSchemeMistakes: an endpoint without http:// is bad input
// (exit 2, "add http://"), not an SDK parse error (exit 1); an https://
// URL of a plain HTTP server says so at once instead of retrying for
// seconds and printing a TLS error (issue 22 row 13).
func TestEndpointSchemeMistakes(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Dynalite)
	hostPort := strings.TrimPrefix(srv.Endpoint, "http://")
	runUsageCases(t, []usageCase{
		{"no scheme", []string{"list", "--endpoint-url", hostPort}, 2, []string{"--endpoint-url " + hostPort + " has no scheme: add http:// (http://" + hostPort + ")"}, nil},
		{"localhost:port", []string{"list", "--endpoint-url", "localhost:8000"}, 2, []string{"has no scheme: add http://"}, nil},
		{"https to plain HTTP", []string{"list", "--endpoint-url", "https://" + hostPort}, 1,
			[]string{"https://" + hostPort + " answers plain HTTP, not TLS: use http://" + hostPort}, []string{"tls:", "exceeded maximum number of attempts"}},
	})
}

// TestRejectedSelectionIsOneLine: an expression DynamoDB rejects is quoted
// as its code and message, without the SDK's wrapping (issue 22 row 13).
func TestRejectedSelectionIsOneLine(t *testing.T) {
	t.Parallel()
	srv, _, from, to := copyPair(t, mixedSpec, tenantItems(5, 1, "good", "app"))
	runUsageCases(t, []usageCase{{"key condition on a non-key attribute",
		[]string{"copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes",
			"--key-condition-expression", "lastWriter = :s", "--expression-attribute-values", `{":s":{"S":"x"}}`}, 2,
		[]string{"DynamoDB rejects the selection on " + to + ": ValidationException: "}, []string{"operation error", "RequestID", "StatusCode"}}})
}

// TestErrorLineQuotesAWSAnswers: an AWS error answer is printed as
// "Service Operation: Code: message", without the SDK's StatusCode,
// RequestID and HostID (issue 22 row 13: a missing bucket); a retried one
// keeps its count of attempts.
func TestErrorLineQuotesAWSAnswers(t *testing.T) {
	noBucket := &smithy.GenericAPIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist"}
	throttled := &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"missing bucket", fmt.Errorf("copy: read s3://nope/x/manifest-summary.json: %w", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject",
			Err: fmt.Errorf("https response error StatusCode: 404, RequestID: R1, HostID: H1, api error %w", noBucket)}),
			"copy: read s3://nope/x/manifest-summary.json: S3 GetObject: NoSuchBucket: The specified bucket does not exist"},
		{"retried", fmt.Errorf("list tables: %w", &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "ListTables",
			Err: fmt.Errorf("exceeded maximum number of attempts, 8, https response error StatusCode: 400, RequestID: R2, api error %w", throttled)}),
			"list tables: DynamoDB ListTables: ThrottlingException: Rate exceeded (after 8 attempts)"},
		{"not an AWS answer", errors.New("plain failure"), "plain failure"},
	}
	for _, tt := range tests {
		if got := errorLine(tt.err); got != tt.want {
			t.Errorf("%s: errorLine = %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestServiceEndpointChecked: AWS_ENDPOINT_URL_S3, _BATCH and _BACKUP are
// checked like --endpoint-url (serviceConfig): one without http:// is bad
// input (exit 2, one line naming the variable), before any call.
func TestServiceEndpointChecked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  string
		args []string
	}{
		{"S3", "AWS_ENDPOINT_URL_S3", []string{"copy", "--from", "rec", "--to", "orders", "--checkpoint", "s3://b/cp.json", "--yes"}},
		{"Batch", "AWS_ENDPOINT_URL_BATCH", []string{"batch", "start", "--job-queue", "Q", "--job-definition", "D", "--table", "orders", "--latest", "--state-prefix", "s3://b/p", "--yes"}},
		{"Backup", "AWS_ENDPOINT_URL_BACKUP", []string{"restore", "--table", "orders", "--backup", "arn:aws:backup:us-east-1:123456789012:recovery-point:0f1e2d3c", "--backup-role-arn", "arn:aws:iam::123456789012:role/r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{tc.env: "localhost:4566"}
			if tc.env != "AWS_ENDPOINT_URL_S3" {
				env["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:1"
			}
			r := runCLI(t, cliOpts{env: env}, append(tc.args, "--endpoint-url", "http://127.0.0.1:1")...)
			want := tc.env + " localhost:4566 has no scheme: add http:// (http://localhost:4566)"
			if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Fatalf("exit %d, stderr %q: want exit 2 and one line %q", r.code, r.stderr, want)
			}
		})
	}
}
