package statefile

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// putRecorder is an S3API that records the PutObject calls and answers
// every GetObject and ListObjectsV2 with nothing.
type putRecorder struct {
	S3API
	mu   sync.Mutex
	puts []*s3.PutObjectInput
}

func (p *putRecorder) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.puts = append(p.puts, in)
	return &s3.PutObjectOutput{ETag: aws.String(`"e"`)}, nil
}

func (p *putRecorder) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{}, nil
}

// TestReviewKeysStateEncrypted: every state object ddbrewind writes to S3
// — a checkpoint, a journal's part — is encrypted at rest: under the
// given KMS key (SSE-KMS), else with SSE-S3; the bytes are the ones given.
func TestReviewKeysStateEncrypted(t *testing.T) {
	ctx := context.Background()
	for _, kms := range []string{"", "alias/rewinds"} {
		rec := &putRecorder{}
		s := &Store{S3: rec, KMSKey: kms}
		if err := s.Write(ctx, "s3://b/ckpt.json", []byte("{}\n")); err != nil {
			t.Fatal(err)
		}
		a, err := s.OpenAppend(ctx, "s3://b/journal.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Append(ctx, []byte("line\n")); err != nil {
			t.Fatal(err)
		}
		a.Close()
		if len(rec.puts) < 2 {
			t.Fatalf("kms %q: %d PutObject calls, want the checkpoint and a journal part", kms, len(rec.puts))
		}
		for _, in := range rec.puts {
			want := s3types.ServerSideEncryptionAes256
			if kms != "" {
				want = s3types.ServerSideEncryptionAwsKms
			}
			if in.ServerSideEncryption != want || aws.ToString(in.SSEKMSKeyId) != kms {
				t.Errorf("kms %q: PutObject %s with %q key %q, want %q key %q", kms, aws.ToString(in.Key), in.ServerSideEncryption, aws.ToString(in.SSEKMSKeyId), want, kms)
			}
		}
		body, _ := io.ReadAll(rec.puts[0].Body)
		if aws.ToString(rec.puts[0].Key) != "ckpt.json" || !strings.HasPrefix(string(body), "{}") {
			t.Errorf("checkpoint put %s %q", aws.ToString(rec.puts[0].Key), body)
		}
	}
}
