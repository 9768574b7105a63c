// Package awserr reads AWS error codes out of wrapped SDK errors. It does
// not classify errors for retrying: that is the SDK retryer's and the
// copier's job.
package awserr

import (
	"errors"

	"github.com/aws/smithy-go"
)

// Code returns the AWS error code of err (such as
// "ResourceNotFoundException"), or "" when err carries none.
func Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Message returns an AWS error as "Code: message", without the SDK's
// wrapping ("operation error DynamoDB: Query, https response error
// StatusCode: 400, RequestID: …, api error …"), for messages that quote
// what AWS answered; an error without a code is returned as it is.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if m := ae.ErrorMessage(); m != "" {
			return ae.ErrorCode() + ": " + m
		}
		return ae.ErrorCode()
	}
	return err.Error()
}

// IsNotFound reports whether err says the table (or resource) does not
// exist.
func IsNotFound(err error) bool {
	return Code(err) == "ResourceNotFoundException"
}

// IsS3NotFound reports S3's answer for a missing object (NoSuchKey, or a
// HEAD's bare 404).
func IsS3NotFound(err error) bool {
	switch Code(err) {
	case "NoSuchKey", "NotFound", "404":
		return true
	}
	return false
}
