package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/export"
	"github.com/ddbrewind/ddbrewind/internal/tables"
)

// exportAction is export's action.
func exportAction(c *cli.Context, env *Env) error {
	opts, log, api, err := optionsSession(c, env, exportOptions)
	if err != nil {
		return err
	}
	opts.Logger = log
	if opts.Manifests, err = manifestChecker(c, env, opts.Wait); err != nil {
		return err
	}
	tasks, err := export.Run(c.Context, api, opts)
	if err != nil {
		return err
	}
	env.line.end()
	for _, t := range tasks {
		fmt.Fprintln(env.Out, t.Directory)
	}
	return nil
}

// exportFlags are export's own flags (the table in commands.go adds the global ones).
func exportFlags() []cli.Flag {
	return []cli.Flag{
		tableFlag("table name or ARN (needs point-in-time recovery)"),
		atFlag("full export of the table as it was at TIME: RFC 3339 (2026-11-25T08:30:00Z) or Unix seconds"),
		sinceFlag("incremental exports of what changed from TIME (RFC 3339 or Unix seconds)"),
		untilFlag("end of the incremental window (default: the latest time DynamoDB allows)"),
		s3BucketFlag("S3 bucket the export files go to"),
		s3PrefixFlag("path in the bucket, without leading or trailing '/' (files go to PREFIX/AWSDynamoDB/EXPORT-ID/)"),
		sseKMSKeyFlag("KMS key id, ARN or alias to encrypt the files with (SSE-KMS; default SSE-S3)"),
		waitFlag("every export is COMPLETED", "print the directories at once"),
		timeoutFlag(12*time.Hour, "the exports, in all"),
	}
}

// exportOptions fills export.Options from the flags.
func exportOptions(c *cli.Context, env *Env) (export.Options, error) {
	opts := export.Options{
		Table:       c.String("table"),
		Bucket:      c.String("s3-bucket"),
		Prefix:      c.String("s3-prefix"),
		BucketOwner: gString(c, "s3-bucket-owner"),
		KMSKey:      c.String("sse-kms-key"),
		Wait:        c.Bool("wait"),
		Timeout:     c.Duration("timeout"),
		Now:         env.Now,
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"at", &opts.At}, {"since", &opts.Since}, {"until", &opts.Until}} {
		if err := parseFlag(c, f.name, tables.ParseTimeFlag, f.to); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// manifestChecker is the S3 client that checks each COMPLETED export's
// manifest (export.Options.Manifests), nil when there is nothing to check:
// without --wait, or when --endpoint-url is an emulator's and S3's
// endpoint is still AWS's (neither AWS_ENDPOINT_URL_S3 nor
// AWS_ENDPOINT_URL), where the emulator's export is not.
func manifestChecker(c *cli.Context, env *Env, wait bool) (export.ObjectChecker, error) {
	if !wait {
		return nil, nil
	}
	getenv := func(k string) string {
		if v := env.Getenv(k); v != "" {
			return v
		}
		return os.Getenv(k)
	}
	if gString(c, "endpoint-url") != "" && getenv("AWS_ENDPOINT_URL_S3") == "" && getenv("AWS_ENDPOINT_URL") == "" {
		return nil, nil
	}
	s3c, err := s3Client(c.Context, c, env)
	if err != nil {
		return nil, err
	}
	return s3c, nil
}
