package main

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/copier"
)

// copyArgv runs argv through copy's flags and returns the options the
// command would hand to copier, without calling AWS: the argv → Options
// layer, tested apart from what the options do.
func copyArgv(t *testing.T, env map[string]string, argv ...string) (copier.Options, error) {
	t.Helper()
	var opts copier.Options
	var optErr error
	e := &Env{Now: time.Now, Getenv: func(k string) string { return env[k] }}
	app := &cli.App{Name: "ddbrewind", Commands: []*cli.Command{{
		Name:  "copy",
		Flags: withGlobals(copyFlags()...),
		Action: func(c *cli.Context) error {
			opts, optErr = copyOptions(c, e)
			return nil
		},
	}}}
	if err := app.RunContext(context.Background(), append([]string{"ddbrewind", "copy"}, argv...)); err != nil {
		t.Fatalf("parse %v: %v", argv, err)
	}
	opts.Now = nil // a func: compared apart
	return opts, optErr
}

func TestCopyArgvToOptions(t *testing.T) {
	base := copier.Options{From: "rec", To: "main", PageSize: copier.DefaultPageSize, Writers: copier.DefaultWriters, WorkerCount: 1}
	with := func(f func(o *copier.Options)) copier.Options {
		o := base
		f(&o)
		return o
	}
	tests := []struct {
		name string
		env  map[string]string
		argv []string
		want copier.Options
	}{
		{"defaults", nil, []string{"--from", "rec", "--to", "main"}, base},
		{"write modes and speed", nil, []string{"--from", "rec", "--to", "main", "--delete-extra", "--if-main", "a = :b",
			"--expression-attribute-values", `{":b":{"N":"7.0"}}`, "--segments", "16", "--writers", "3", "--max-wcu", "250",
			"--max-retry-time", "90s", "--dry-run", "--page-size", "100"},
			with(func(o *copier.Options) {
				o.DeleteExtra, o.IfMain, o.Segments, o.Writers, o.MaxWCU = true, "a = :b", 16, 3, 250
				o.MaxRetryTime, o.DryRun, o.PageSize = 90*time.Second, true, 100
				o.Selection.Values = map[string]types.AttributeValue{":b": &types.AttributeValueMemberN{Value: "7.0"}}
			})},
		{"selection", nil, []string{"--from", "rec", "--to", "main", "--key-condition-expression", "#p = :p", "--filter-expression", "s = :s",
			"--expression-attribute-names", `{"#p":"pk"}`, "--expression-attribute-values", `{":p":{"S":"t"},":s":{"S":"x"}}`},
			with(func(o *copier.Options) {
				o.Selection = copier.Selection{KeyCondition: "#p = :p", Filter: "s = :s", Names: map[string]string{"#p": "pk"},
					Values: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "t"}, ":s": &types.AttributeValueMemberS{Value: "x"}}}
			})},
		{"from an export, repeatable", nil, []string{"--from-export", "s3://b/p/AWSDynamoDB/x/", "--from-export", "s3://b/q/AWSDynamoDB/y/manifest-summary.json",
			"--allow-other-table", "--to", "main"},
			with(func(o *copier.Options) {
				o.From, o.AllowOtherTable = "", true
				o.FromExport = []string{"s3://b/p/AWSDynamoDB/x/", "s3://b/q/AWSDynamoDB/y/manifest-summary.json"}
			})},
		{"array job: index from AWS Batch, per-worker state files", map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "2"},
			[]string{"--from", "rec", "--to", "main", "--worker-count", "4", "--segments", "32", "--checkpoint", "cp", "--journal", "j"},
			with(func(o *copier.Options) {
				o.WorkerIndex, o.WorkerCount, o.Segments = 2, 4, 32
				o.Checkpoint, o.Journal = "cp.worker-2-of-4", "j.worker-2-of-4"
			})},
		{"explicit index wins over AWS Batch's", map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "2"},
			[]string{"--from", "rec", "--to", "main", "--worker-count", "4", "--worker-index", "1", "--segments", "8"},
			with(func(o *copier.Options) { o.WorkerIndex, o.WorkerCount, o.Segments = 1, 4, 8 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := copyArgv(t, tt.env, tt.argv...)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := copyArgv(t, map[string]string{"AWS_BATCH_JOB_ARRAY_INDEX": "x"}, "--from", "a", "--to", "b", "--worker-count", "2"); err == nil || exitCode(err) != exitUsage {
		t.Errorf("a bad AWS_BATCH_JOB_ARRAY_INDEX: %v, want a usage error", err)
	}
}
