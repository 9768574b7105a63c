package awserr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ThrottleReason is one of the reasons DynamoDB gives for throttling a
// request (ThrottlingReasons on ProvisionedThroughputExceededException,
// RequestLimitExceeded and ThrottlingException): Reason is
// ResourceType+OperationType+LimitType, such as
// "TableWriteProvisionedThroughputExceeded", and Resource the ARN of the
// table or index throttled.
type ThrottleReason struct {
	Reason   string `json:"reason"`
	Resource string `json:"resource"`
}

// ThrottleReasons returns the reasons DynamoDB gave for the throttling
// error err, or nil. It reads the SDK's typed exceptions and, for what
// they drop, the raw error body kept by CaptureThrottleReasons: the SDK's
// model spells ThrottlingException's member throttlingReasons, so a body
// spelled ThrottlingReasons (as the other exceptions') keeps its code and
// loses its reasons there.
func ThrottleReasons(err error) []ThrottleReason {
	var typed []types.ThrottlingReason
	var pe *types.ProvisionedThroughputExceededException
	var re *types.RequestLimitExceeded
	var te *types.ThrottlingException
	switch {
	case errors.As(err, &pe):
		typed = pe.ThrottlingReasons
	case errors.As(err, &re):
		typed = re.ThrottlingReasons
	case errors.As(err, &te):
		typed = te.ThrottlingReasons
	}
	var out []ThrottleReason
	for _, r := range typed {
		if reason := aws.ToString(r.Reason); reason != "" {
			out = append(out, ThrottleReason{Reason: reason, Resource: aws.ToString(r.Resource)})
		}
	}
	if len(out) > 0 {
		return out
	}
	var be *bodyReasonsError
	if errors.As(err, &be) {
		return be.reasons
	}
	return nil
}

// ParseThrottleReasons reads the reasons of a DynamoDB error body (JSON
// 1.0 protocol), whichever the spelling of the member
// (ThrottlingReasons or throttlingReasons); nil when it has none or is not
// JSON.
func ParseThrottleReasons(body []byte) []ThrottleReason {
	var v map[string]json.RawMessage
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	for k, raw := range v {
		if !strings.EqualFold(k, "ThrottlingReasons") {
			continue
		}
		var list []ThrottleReason
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		var out []ThrottleReason
		for _, r := range list {
			if r.Reason != "" {
				out = append(out, r)
			}
		}
		return out
	}
	return nil
}

// CaptureThrottleReasons is an APIOptions function for the DynamoDB
// client (per client or per call): it keeps the reasons of an error
// response's raw body, so that ThrottleReasons finds them even where the
// SDK's model drops them. Given twice (client and call), it adds itself
// once.
func CaptureThrottleReasons(stack *middleware.Stack) error {
	if _, ok := stack.Deserialize.Get((*reasonsWrapper).ID(nil)); ok {
		return nil
	}
	if err := stack.Deserialize.Add(&reasonsWrapper{}, middleware.Before); err != nil {
		return err
	}
	return stack.Deserialize.Add(&bodyReader{}, middleware.After)
}

// reasonsKey is the metadata key under which bodyReader passes the reasons
// to reasonsWrapper.
type reasonsKey struct{}

// maxErrorBody is the most of an error body read for its reasons.
const maxErrorBody = 64 << 10

// bodyReader runs next to the transport: it reads the body of an error
// response, puts it back for the SDK's deserializer and records its
// reasons in the metadata.
type bodyReader struct{}

func (*bodyReader) ID() string { return "ddbrewind.ThrottleReasonsBody" }

func (*bodyReader) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok || resp.StatusCode < 400 || resp.Body == nil {
		return out, md, err
	}
	head, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if rerr == nil {
		if reasons := ParseThrottleReasons(head); len(reasons) > 0 {
			md.Set(reasonsKey{}, reasons)
		}
	}
	return out, md, err
}

// reasonsWrapper runs outside the SDK's deserializer: it wraps the error
// it made with the reasons bodyReader found.
type reasonsWrapper struct{}

func (*reasonsWrapper) ID() string { return "ddbrewind.ThrottleReasons" }

func (*reasonsWrapper) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		if reasons, ok := md.Get(reasonsKey{}).([]ThrottleReason); ok {
			err = &bodyReasonsError{err: err, reasons: reasons}
		}
	}
	return out, md, err
}

// bodyReasonsError is an SDK error with the reasons of its raw body.
type bodyReasonsError struct {
	err     error
	reasons []ThrottleReason
}

func (e *bodyReasonsError) Error() string { return e.err.Error() }
func (e *bodyReasonsError) Unwrap() error { return e.err }

// The parts of a reason's name: ResourceType+OperationType+LimitType.
var (
	reasonResources = []string{"Table", "Index"}
	reasonOps       = []string{"Read", "Write"}
	reasonLimits    = map[string]string{
		"ProvisionedThroughputExceeded": "provisioned",
		"KeyRangeThroughputExceeded":    "hot key range",
		"MaxOnDemandThroughputExceeded": "on-demand maximum",
		"AccountLimitExceeded":          "account limit",
	}
)

// ReasonParts splits a reason such as "IndexWriteProvisionedThroughputExceeded"
// into its resource type ("table" or "index"), operation ("read" or
// "write") and limit ("provisioned", "hot key range", "on-demand maximum",
// "account limit"); ok is false for a name not of that form.
func ReasonParts(reason string) (resource, op, limit string, ok bool) {
	for _, r := range reasonResources {
		rest, found := strings.CutPrefix(reason, r)
		if !found {
			continue
		}
		for _, o := range reasonOps {
			l, found := strings.CutPrefix(rest, o)
			if !found {
				continue
			}
			if limit, ok := reasonLimits[l]; ok {
				return strings.ToLower(r), strings.ToLower(o), limit, true
			}
		}
	}
	return "", "", "", false
}

// IsHotKeyRange reports whether reason is a key range's throughput
// (TableWriteKeyRangeThroughputExceeded and the like): a few partition
// keys, not the table, are over their limit.
func IsHotKeyRange(reason string) bool {
	_, _, limit, ok := ReasonParts(reason)
	return ok && limit == "hot key range"
}

// ResourceName names the table or index of a resource ARN
// ("arn:aws:dynamodb:…:table/T/index/I" → table T, index I); a resource
// that is not a DynamoDB table ARN is returned as the table.
func ResourceName(arn string) (table, index string) {
	_, rest, found := strings.Cut(arn, ":table/")
	if !found {
		return arn, ""
	}
	table, index, _ = strings.Cut(rest, "/index/")
	return table, index
}
