package export

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// headFake answers HeadObject with err and records the keys asked for.
type headFake struct {
	err  error
	keys []string
}

func (h *headFake) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	h.keys = append(h.keys, aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key))
	if h.err != nil {
		return nil, h.err
	}
	return &s3.HeadObjectOutput{}, nil
}

// TestCompletedExportManifestCheck: once an export is COMPLETED, its
// manifest-summary.json is looked up; a missing one (moto) is one warning
// line naming its URL, the export still succeeds; a present one, or an
// answer that cannot tell (access denied), warns of nothing.
func TestCompletedExportManifestCheck(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		missing bool
	}{
		{"present", nil, false},
		{"missing", &smithy.GenericAPIError{Code: "NotFound", Message: "Not Found"}, true},
		{"denied", &smithy.GenericAPIError{Code: "Forbidden", Message: "Forbidden"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			head := &headFake{err: tt.err}
			o := baseOpts()
			o.At = latest.Add(-time.Hour)
			o.Manifests = head
			o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
			tasks, err := Run(context.Background(), newMemAPI(latest), o)
			if err != nil {
				t.Fatalf("Run: %v (a missing manifest is a warning, not an error)", err)
			}
			task := tasks[0]
			if want := "exports-bucket/rewinds/orders/AWSDynamoDB/" + task.ID() + "/manifest-summary.json"; len(head.keys) != 1 || head.keys[0] != want {
				t.Errorf("HeadObject of %v, want %s", head.keys, want)
			}
			url := task.Directory + "manifest-summary.json"
			warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), url+" does not exist: some emulators (moto) complete exports without writing their files")
			if task.ManifestMissing != tt.missing || warned != tt.missing {
				t.Errorf("ManifestMissing %v, warned %v, want %v; logs:\n%s", task.ManifestMissing, warned, tt.missing, logs.String())
			}
		})
	}
	// Without Wait there is nothing COMPLETED to check.
	head := &headFake{}
	o := baseOpts()
	o.At, o.Wait, o.Manifests = latest.Add(-time.Hour), false, head
	if _, err := Run(context.Background(), newMemAPI(latest), o); err != nil || len(head.keys) != 0 {
		t.Errorf("--wait=false: %v, HeadObject of %v, want none", err, head.keys)
	}
}
