package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/urfave/cli/v2"

	"github.com/ddbrewind/ddbrewind/internal/tables"
	"github.com/ddbrewind/ddbrewind/internal/usage"
	"github.com/ddbrewind/ddbrewind/restore"
)

// restoreAction is restore's action.
func restoreAction(c *cli.Context, env *Env) error {
	opts, log, api, err := optionsSession(c, env, restoreOptions)
	if err != nil {
		return err
	}
	opts.Logger = log
	opts.IfExists = c.String("if-exists")
	if opts.Backup, err = backupClientFor(c.Context, c, env, opts.Point, log); err != nil {
		return err
	}
	res, err := restore.Restore(c.Context, api, opts)
	if res != nil {
		env.line.end()
		fmt.Fprintln(env.Out, res.RecoveryTable)
	}
	return err
}

// restoreFlags are restore's own flags (the table in commands.go adds the global ones).
func restoreFlags() []cli.Flag {
	return append(restoreRunFlags(),
		&cli.StringFlag{Name: "if-exists", Value: restore.IfExistsFail, Usage: "when the recovery table exists: fail, or adopt a restore of the same table and point that a previous attempt started (retried jobs)"},
	)
}

// restoreOptions fills restore.Options from the flags.
func restoreOptions(c *cli.Context, env *Env) (restore.Options, error) {
	opts := restore.Options{
		Table:         c.String("table"),
		RecoveryTable: c.String("recovery-table"),
		ReadCapacity:  c.Int64("read-capacity"),
		WriteCapacity: c.Int64("write-capacity"),
		SSEKMSKey:     c.String("sse-kms-key"),
		BackupRoleARN: c.String("backup-role-arn"),
		Wait:          c.Bool("wait"),
		Timeout:       c.Duration("timeout"),
		Now:           env.Now,
	}
	// Left empty when not given, so that a restore AWS Backup makes (which
	// takes no billing or index overrides) can tell a default from a choice.
	if c.IsSet("billing-mode") {
		opts.BillingMode = types.BillingMode(strings.ToUpper(c.String("billing-mode")))
	}
	if c.IsSet("indexes") {
		opts.Indexes = c.String("indexes")
	}
	point, err := pointFlags(c)
	if err != nil {
		return opts, err
	}
	opts.Point = point
	tags, err := parseTags(c.StringSlice("tag"))
	if err != nil {
		return opts, err
	}
	opts.Tags = tags
	return opts, nil
}

// pointFlags reads --at/--ago/--latest/--backup/--backup-before.
func pointFlags(c *cli.Context) (restore.Point, error) {
	var p restore.Point
	if err := parseFlag(c, "at", tables.ParseTimeFlag, &p.At); err != nil {
		return p, err
	}
	if err := parseFlag(c, "backup-before", tables.ParseTimeFlag, &p.BackupBefore); err != nil {
		return p, err
	}
	p.Ago = c.Duration("ago")
	p.Latest = c.Bool("latest")
	p.Backup = strings.TrimSpace(c.String("backup"))
	if err := p.Validate(); err != nil {
		return p, err
	}
	if c.IsSet("backup-role-arn") && !restore.IsRecoveryPointARN(p.Backup) {
		return p, &usage.Error{Msg: "--backup-role-arn is only for --backup with an AWS Backup recovery point ARN (arn:aws:backup:…:recovery-point:…): DynamoDB restores its own backups without a role"}
	}
	return p, nil
}

func parseTags(kvs []string) (map[string]string, error) {
	tags := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, &usage.Error{Msg: fmt.Sprintf("--tag %q: use KEY=VALUE", kv)}
		}
		tags[k] = v
	}
	return tags, nil
}

// restoreRunFlags are the flags restore and run share.
func restoreRunFlags() []cli.Flag {
	return []cli.Flag{
		tableFlag("source table name or ARN (an ARN from another region restores cross-region)"),
		atFlag("restore point: RFC 3339 (2026-11-25T08:30:00Z) or Unix seconds"),
		&cli.DurationFlag{Name: "ago", Usage: "restore point as a duration before now, e.g. 90m"},
		&cli.BoolFlag{Name: "latest", Usage: "restore to the latest restorable time"},
		&cli.StringFlag{Name: "backup", Usage: "restore from this backup instead of point-in-time recovery: a DynamoDB backup ARN (arn:aws:dynamodb:…:table/T/backup/…) or an AWS Backup recovery point ARN (arn:aws:backup:…:recovery-point:…)"},
		&cli.StringFlag{Name: "backup-before", Usage: "restore from the newest available backup of the table created at or before TIME (RFC 3339 or Unix seconds)"},
		&cli.StringFlag{Name: "backup-role-arn", Usage: "IAM role AWS Backup assumes to restore an AWS Backup recovery point (required for one; it must trust backup.amazonaws.com)"},
		&cli.StringFlag{Name: "recovery-table", Usage: "name of the new table (default <table>-rewind-<yyyymmddThhmmssZ of the restore point>)"},
		&cli.StringFlag{Name: "billing-mode", Value: "PAY_PER_REQUEST", Usage: "PAY_PER_REQUEST or PROVISIONED"},
		&cli.Int64Flag{Name: "read-capacity", Usage: "read capacity units with --billing-mode PROVISIONED"},
		&cli.Int64Flag{Name: "write-capacity", Usage: "write capacity units with --billing-mode PROVISIONED"},
		&cli.StringFlag{Name: "indexes", Value: "none", Usage: "secondary indexes to restore: none, all or NAME,NAME (none is faster and cheaper; copy does not need them)"},
		sseKMSKeyFlag("KMS key id or ARN to encrypt the recovery table"),
		&cli.StringSliceFlag{Name: "tag", Usage: "extra tag KEY=VALUE for the recovery table (repeatable)"},
		waitFlag("the recovery table is ACTIVE", "return at once"),
		timeoutFlag(12*time.Hour, "the restore"),
	}
}
