package export

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// ClientToken returns the ClientToken of one export request: the hex
// SHA-256 of what identifies the export — table ARN, export type, its time
// (full) or window (incremental), bucket and prefix — and of retry, the
// number of earlier exports with that identity that FAILED. The same command
// gets the same token, so DynamoDB returns the export the first attempt
// started instead of starting another (for 8 hours after that request
// completes, as DynamoDB keeps tokens); a failed export is not returned
// again, since the retry count changes the token (Start also moves to the
// next count when DynamoDB answers a token with a FAILED export).
//
// The token is 64 characters of [0-9a-f]: the API's ClientToken has no
// length limit and the pattern ^[^$]+$; 64 is also the common limit of AWS
// idempotency tokens. Options that do not identify the export (encryption,
// bucket owner) are not part of it: DynamoDB answers a request with a known
// token and other parameters with ExportConflictException.
func ClientToken(tableARN string, exportType types.ExportType, at time.Time, w Window, bucket, prefix string, retry int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ddbrewind export v1\ntable %s\ntype %s\n", tableARN, exportType)
	if exportType == types.ExportTypeIncrementalExport {
		fmt.Fprintf(&b, "from %s\nto %s\nview %s\n", tables.FormatTime(w.From), tables.FormatTime(w.To), types.ExportViewTypeNewAndOldImages)
	} else {
		fmt.Fprintf(&b, "at %s\n", tables.FormatTime(at))
	}
	fmt.Fprintf(&b, "bucket %s\nprefix %s\nretry %d\n", bucket, prefix, retry)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}
