package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
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

// TestServiceEndpointPrecedence: AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL_BATCH win over AWS_ENDPOINT_URL and over the profile's
// services section; without them AWS_ENDPOINT_URL is used (the SDK's
// order, as before serviceConfig set cfg.BaseEndpoint).
func TestServiceEndpointPrecedence(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "config")
	conf := "[profile p]\nregion = us-east-1\nservices = local\n\n[services local]\ns3 =\n  endpoint_url = http://127.0.0.1:7001\nbatch =\n  endpoint_url = http://127.0.0.1:7002\n"
	if err := os.WriteFile(cfgFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_PROFILE", "p")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7000")
	set := flag.NewFlagSet("test", flag.ContinueOnError)
	for _, f := range globalFlags() {
		if err := f.Apply(set); err != nil {
			t.Fatal(err)
		}
	}
	c := cli.NewContext(cli.NewApp(), set, nil)
	for _, tc := range []struct {
		name      string
		s3, batch string // AWS_ENDPOINT_URL_S3, _BATCH
		wantS3    string
		wantBatch string
	}{
		{"specific variables win", "http://127.0.0.1:9000", "http://127.0.0.1:9001", "http://127.0.0.1:9000", "http://127.0.0.1:9001"},
		{"else AWS_ENDPOINT_URL", "", "", "http://127.0.0.1:7000", "http://127.0.0.1:7000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range map[string]string{"AWS_ENDPOINT_URL_S3": tc.s3, "AWS_ENDPOINT_URL_BATCH": tc.batch} {
				t.Setenv(k, v) // restored after the test
				if v == "" {
					os.Unsetenv(k) // the SDK tells unset from empty
				}
			}
			env := &Env{Getenv: os.Getenv}
			s3c, err := s3Client(context.Background(), c, env)
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(s3c.Options().BaseEndpoint); got != tc.wantS3 {
				t.Errorf("S3: endpoint %q, want %q", got, tc.wantS3)
			}
			bc, err := batchClient(context.Background(), c, env, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(bc.Options().BaseEndpoint); got != tc.wantBatch {
				t.Errorf("Batch: endpoint %q, want %q", got, tc.wantBatch)
			}
		})
	}
}
