package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"

	"github.com/ddbrewind/ddbrewind/internal/awserr"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

// This file turns the two setup errors the SDK words worst into one line
// that says what to do: no credentials anywhere in the chain, and nothing
// at the endpoint.

// sdkLogger sends the SDK's own log lines (such as "WARN falling back to
// IMDSv1") to the command's logger at debug level instead of letting the
// SDK print them on stderr around ddbrewind's one-line error.
type sdkLogger struct{ log *slog.Logger }

// Logf logs one SDK message at debug level; without a logger it drops it.
func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	if l.log != nil {
		l.log.Debug(fmt.Sprintf(format, v...), "source", "aws-sdk", "classification", string(c))
	}
}

// msgNoCredentials is the error when the credential chain has nothing.
const msgNoCredentials = "no AWS credentials found (not in the environment, the shared config files or instance metadata): " +
	"set AWS_PROFILE or pass --profile, or run aws configure (aws sso login for SSO)"

// checkCredentials gets the credentials once, before any AWS call, so that
// a chain with none is one line naming what to do (exit 2), rather than the
// SDK's "get identity: get credentials: failed to refresh cached
// credentials, no EC2 IMDS role found, …" after the command has started.
// The credentials are cached: the first call does not get them again.
// emulator says an endpoint was given, whose emulator takes any keys.
func checkCredentials(ctx context.Context, cfg aws.Config, emulator bool) error {
	if cfg.Credentials == nil {
		return nil // anonymous, as configured
	}
	_, err := cfg.Credentials.Retrieve(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("get AWS credentials: %w", ctx.Err())
	}
	var sources []aws.CredentialSource
	if p, ok := cfg.Credentials.(aws.CredentialProviderSource); ok {
		sources = p.ProviderSources()
	}
	switch {
	case len(sources) == 0 || len(sources) == 1 && sources[0] == aws.CredentialSourceIMDS:
		// Nothing configured: the chain fell through to instance
		// metadata, which has no role (or is not there, or is disabled).
		msg := msgNoCredentials
		if emulator {
			msg += "; a local emulator takes any keys: export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
		}
		return &usage.Error{Msg: msg}
	case usesSSO(sources):
		return fmt.Errorf("get AWS credentials from SSO: %w (run aws sso login, with --profile if you use one)", err)
	default:
		return fmt.Errorf("get AWS credentials: %w", err)
	}
}

// usesSSO reports whether the credentials come from an SSO session.
func usesSSO(sources []aws.CredentialSource) bool {
	for _, s := range sources {
		switch s {
		case aws.CredentialSourceSSO, aws.CredentialSourceSSOLegacy, aws.CredentialSourceProfileSSO, aws.CredentialSourceProfileSSOLegacy:
			return true
		}
	}
	return false
}

// unreachableError is a request that found nothing at the endpoint
// (connection refused, or a host name that does not resolve) before the
// client ever got a response from it. It is not retried: the endpoint is
// wrong or its server is not running, and retrying would only make the
// user wait.
type unreachableError struct {
	// URL is the endpoint, scheme://host[:port].
	URL string
	// hint says where the endpoint came from, to fix it there.
	hint string
	// refused: connection refused; plainHTTP: an https:// URL whose
	// server answers plain HTTP; otherwise the host is unknown.
	refused, plainHTTP bool
	err                error
}

// Error is the one line ddbrewind prints for it.
func (e *unreachableError) Error() string {
	if e.plainHTTP {
		return fmt.Sprintf("%s answers plain HTTP, not TLS: use http://%s (fix %s)", e.URL, strings.TrimPrefix(e.URL, "https://"), e.hint)
	}
	if e.refused {
		return fmt.Sprintf("nothing is listening at %s (connection refused): start the server or emulator there, or fix %s", e.URL, e.hint)
	}
	return fmt.Sprintf("cannot reach %s: no such host: fix %s", e.URL, e.hint)
}

// Unwrap returns the transport's error.
func (e *unreachableError) Unwrap() error { return e.err }

// reachClient is the HTTP client of one service client. Until a first
// response comes back, a dial that finds nothing at the endpoint becomes
// an *unreachableError, which countingRetryer does not retry; once the
// endpoint has answered, every error goes to the retryer as usual (a
// restarting server mid-copy is retried).
type reachClient struct {
	inner   aws.HTTPClient
	hint    string
	reached atomic.Bool
}

// newReachClient wraps inner; hint names where the endpoint came from.
func newReachClient(inner aws.HTTPClient, hint string) *reachClient {
	return &reachClient{inner: inner, hint: hint}
}

// Do sends req with the wrapped client.
func (c *reachClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := c.inner.Do(req)
	if err == nil {
		c.reached.Store(true)
		return resp, nil
	}
	if c.reached.Load() {
		return resp, err
	}
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &op) && op.Op == "dial" && errors.Is(err, syscall.ECONNREFUSED):
		return resp, &unreachableError{URL: req.URL.Scheme + "://" + req.URL.Host, hint: c.hint, refused: true, err: err}
	case errors.As(err, &dns) && dns.IsNotFound:
		return resp, &unreachableError{URL: req.URL.Scheme + "://" + req.URL.Host, hint: c.hint, err: err}
	case req.URL.Scheme == "https" && (errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, new(tls.RecordHeaderError))):
		// An https:// endpoint that answers plain HTTP (an emulator):
		// retrying cannot help.
		return resp, &unreachableError{URL: req.URL.Scheme + "://" + req.URL.Host, hint: c.hint, plainHTTP: true, err: err}
	}
	return resp, err
}

// endpointHint names where a service's endpoint comes from: the flag, the
// SDK's environment variables (service-specific first), or the region.
func endpointHint(flag, serviceEnv string) string {
	switch {
	case flag != "":
		return "--endpoint-url"
	case os.Getenv(serviceEnv) != "":
		return serviceEnv
	case os.Getenv("AWS_ENDPOINT_URL") != "":
		return "AWS_ENDPOINT_URL"
	}
	return "--region (or pass --endpoint-url)"
}

// checkEndpoint refuses an endpoint URL (from flag or variable where)
// that is not http:// or https:// with a host: "127.0.0.1:8000" would
// otherwise fail deep in the SDK with a parse error (exit 1).
func checkEndpoint(where, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	if !strings.Contains(v, "://") {
		return &usage.Error{Msg: fmt.Sprintf("%s %s has no scheme: add http:// (http://%s), or https:// for a TLS endpoint", where, v, v)}
	}
	return &usage.Error{Msg: fmt.Sprintf("%s %s is not an http:// or https:// URL with a host, such as http://127.0.0.1:8000", where, v)}
}

// s3EndpointHint names where S3's endpoint comes from, to fix it there.
// --endpoint-url (endpointFlag) sets DynamoDB's endpoint only: with it
// given and no S3 endpoint, S3's comes from the region, and an emulator's
// S3 is set with AWS_ENDPOINT_URL_S3. getenv reads the environment the
// S3 client is built from.
func s3EndpointHint(endpointFlag string, getenv func(string) string) string {
	switch {
	case getenv("AWS_ENDPOINT_URL_S3") != "":
		return "AWS_ENDPOINT_URL_S3"
	case getenv("AWS_ENDPOINT_URL") != "":
		return "AWS_ENDPOINT_URL (or set AWS_ENDPOINT_URL_S3 for S3 alone)"
	case endpointFlag != "":
		return "--region, or set AWS_ENDPOINT_URL_S3 to your S3 emulator (--endpoint-url is DynamoDB's endpoint, not S3's)"
	}
	return "--region (or set AWS_ENDPOINT_URL_S3)"
}

// errorLine is the one line printed for a command's error: the endpoint's
// own message when nothing was found there (the SDK's wrapping adds only
// noise: "operation error …, exceeded maximum number of attempts, …"); an
// AWS error answer as "Service Operation: Code: message", without the
// SDK's "https response error StatusCode: 404, RequestID: …, HostID: …,
// api error" (issue 22 row 13: a missing bucket).
func errorLine(err error) string {
	var ue *unreachableError
	if errors.As(err, &ue) {
		return ue.Error()
	}
	msg := err.Error()
	var oe *smithy.OperationError
	var ae smithy.APIError
	if errors.As(err, &oe) && errors.As(err, &ae) {
		full := oe.Error()
		short := fmt.Sprintf("%s %s: %s", oe.Service(), oe.Operation(), awserr.Message(err))
		if m := attemptsRe.FindStringSubmatch(full); m != nil {
			short += " (after " + m[1] + " attempts)"
		}
		msg = strings.Replace(msg, full, short, 1)
	}
	return oneLine(msg)
}

// attemptsRe finds the SDK's count of attempts in an operation error.
var attemptsRe = regexp.MustCompile(`exceeded maximum number of attempts, (\d+)`)
