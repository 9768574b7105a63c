package main

import (
	"context"
	"flag"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/urfave/cli/v2"
)

// TestServiceClientsEndpoints: the S3, AWS Batch and AWS Backup clients
// take their endpoint from AWS_ENDPOINT_URL_S3, _BATCH and _BACKUP
// (serviceConfig), each its own; S3 is path-style only with
// AWS_ENDPOINT_URL_S3 (an emulator), virtual-hosted otherwise (AWS).
func TestServiceClientsEndpoints(t *testing.T) {
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_BATCH", "AWS_ENDPOINT_URL_BACKUP", "AWS_PROFILE", "AWS_CONFIG_FILE"} {
		t.Setenv(k, "")
	}
	set := flag.NewFlagSet("test", flag.ContinueOnError)
	for _, f := range globalFlags() {
		if err := f.Apply(set); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Parse([]string{"--region", "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	c := cli.NewContext(cli.NewApp(), set, nil)
	ctx := context.Background()
	tests := []struct {
		name      string
		env       map[string]string
		s3, batch string
		pathStyle bool
	}{
		{"none: AWS's endpoints", map[string]string{}, "", "", false},
		{"S3 alone", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, "http://127.0.0.1:9000", "", true},
		{"each its own", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_BATCH": "http://127.0.0.1:9001"}, "http://127.0.0.1:9000", "http://127.0.0.1:9001", true},
		{"Batch alone", map[string]string{"AWS_ENDPOINT_URL_BATCH": "http://127.0.0.1:9001"}, "", "http://127.0.0.1:9001", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := &Env{Getenv: func(k string) string { return tc.env[k] }}
			s3c, err := s3Client(ctx, c, env)
			if err != nil {
				t.Fatal(err)
			}
			if o := s3c.Options(); aws.ToString(o.BaseEndpoint) != tc.s3 || o.UsePathStyle != tc.pathStyle {
				t.Errorf("S3: endpoint %q, path-style %v; want %q, %v", aws.ToString(o.BaseEndpoint), o.UsePathStyle, tc.s3, tc.pathStyle)
			}
			bc, err := batchClient(ctx, c, env, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(bc.Options().BaseEndpoint); got != tc.batch {
				t.Errorf("Batch: endpoint %q, want %q", got, tc.batch)
			}
		})
	}
}
