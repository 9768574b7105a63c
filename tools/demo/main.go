// Command demo shows a whole rewind with ddbrewind on a local moto_server:
// no AWS account, nothing beyond the clone. make demo runs it as
//
//	go run ./tools/demo -bin bin/ddbrewind
//
// It starts moto_server on a free loopback port, creates an "orders" table
// with point-in-time recovery, restores it into a recovery table, breaks
// the table with a "bad migration", copies the recovery table back, checks
// every item attribute by attribute, and deletes the recovery table. Each
// ddbrewind command is run as a child process and printed with its output.
//
// It exits 1 when any step fails (and 130 when interrupted); moto_server is
// stopped in every case. It is not a test fixture: demo_test.go runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// The demo table and the size of its data.
const (
	mainTable = "orders"
	customers = 60
	orders    = 300
	// damaged and deleted are how many orders the bad migration rewrites
	// and removes.
	damaged = 50
	deleted = 20
)

func main() {
	bin := flag.String("bin", "bin/ddbrewind", "the ddbrewind binary to demonstrate (make build writes bin/ddbrewind)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The demo always starts its own moto_server: a DYNAMODB_ENDPOINT left
	// over from the tests may point at dynalite, which has no restores.
	os.Unsetenv(ddbtest.EndpointEnv)
	err := run(ctx, *bin, os.Stdout)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "demo: interrupted; moto_server stopped")
		stop()
		os.Exit(130)
	default:
		fmt.Fprintf(os.Stderr, "demo failed: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// demo holds what the steps share.
type demo struct {
	out      io.Writer
	bin      string
	endpoint string
	env      []string // the environment of ddbrewind's processes
	api      *dynamodb.Client
	step     int
}

// totalSteps is the number of steps run prints.
const totalSteps = 8

// run runs the whole demo against the ddbrewind binary at bin, printing to
// out. It starts moto_server and stops it before returning; an error that
// wraps ddbtest.ErrUnavailable means moto_server is not installed.
func run(ctx context.Context, bin string, out io.Writer) (err error) {
	start := time.Now()
	if bin, err = checkBinary(bin); err != nil {
		return err
	}
	d := &demo{out: out, bin: bin}
	fmt.Fprintln(out, "ddbrewind demo: rewind a DynamoDB table after a bad migration, on a local emulator (no AWS account)")

	d.stepf("Start a local DynamoDB emulator (moto_server)")
	srv, err := ddbtest.Launch(ctx, ddbtest.Moto)
	if err != nil {
		return fmt.Errorf("step 1: %w", err)
	}
	defer func() {
		if serr := srv.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	d.endpoint = srv.Endpoint
	d.env = childEnv(os.Environ())
	d.api = ddbtest.NewClient(d.endpoint)
	d.notef("moto_server is listening on %s", d.endpoint)
	d.notef("ddbrewind runs with AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1")

	items, err := d.createOrders(ctx)
	if err != nil {
		return fmt.Errorf("step 2: %w", err)
	}
	recovery, err := d.restore(ctx)
	if err != nil {
		return fmt.Errorf("step 3: %w", err)
	}
	if err := d.breakTable(ctx, items, recovery); err != nil {
		return fmt.Errorf("step 4: %w", err)
	}
	if err := d.list(ctx, recovery); err != nil {
		return fmt.Errorf("step 5: %w", err)
	}
	if err := d.copyBack(ctx, recovery); err != nil {
		return fmt.Errorf("step 6: %w", err)
	}
	if err := d.check(ctx, recovery); err != nil {
		return fmt.Errorf("step 7: %w", err)
	}
	if err := d.cleanup(ctx, recovery); err != nil {
		return fmt.Errorf("step 8: %w", err)
	}
	fmt.Fprintf(out, "\nDone in %.1fs: %s is back at its restore point and the recovery table is gone.\n",
		time.Since(start).Seconds(), mainTable)
	return nil
}

// createOrders is step 2: it creates the main table with point-in-time
// recovery and writes the orders into it, and returns them.
func (d *demo) createOrders(ctx context.Context) ([]item, error) {
	d.stepf("Create table %s (pk customer#NNN, sk order#NNNN) with %d orders, point-in-time recovery on", mainTable, orders)
	items := makeOrders(orders, customers)
	spec := ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeS, PITR: true}
	if err := ddbtest.CreateTableContext(ctx, d.api, mainTable, spec); err != nil {
		return nil, err
	}
	if err := ddbtest.PutItemsContext(ctx, d.api, mainTable, items); err != nil {
		return nil, err
	}
	d.notef("%d items with status (S), total (N with decimals), paymentRef (N, 38 digits), lines (L of M),", len(items))
	d.notef("tags (SS), receiptHash (B), shipTo (nested M), couponCode (NULL or S), giftWrap (BOOL)")
	return items, nil
}

// restore is step 3: ddbrewind restore makes the recovery table, whose
// name it returns.
func (d *demo) restore(ctx context.Context) (string, error) {
	d.stepf("Restore %s into a recovery table", mainTable)
	d.notef("moto restores the table's current state, so the demo restores before breaking the table;")
	d.notef("on AWS you would restore to a time before the bad migration (--at TIME or --ago DURATION).")
	res, err := d.ddbrewind(ctx, "restore", "--table", mainTable, "--latest", "--log-level", "warn")
	if err != nil {
		return "", err
	}
	recovery := strings.TrimSpace(res.stdout)
	if recovery == "" || strings.ContainsAny(recovery, " \n") {
		return "", fmt.Errorf("ddbrewind restore printed %q on stdout, want the recovery table's name alone", res.stdout)
	}
	d.notef("(stdout is the recovery table's name alone, so scripts can run REC=$(ddbrewind restore ...))")
	return recovery, nil
}

// breakTable is step 4: a bad migration damages and deletes orders of
// the main table, which then differs from the recovery table by exactly
// that.
func (d *demo) breakTable(ctx context.Context, items []item, recovery string) error {
	d.stepf("A bad migration breaks %s", mainTable)
	m, err := badMigration(ctx, d.api, mainTable, items, damaged, deleted)
	if err != nil {
		return err
	}
	d.notef("set status=CANCELLED_BY_BUG and total=0 on %d orders, deleted %d orders", m.updated, m.deleted)
	d.notef("e.g. %s: status %s -> CANCELLED_BY_BUG, total %s -> 0", m.exampleKey, m.exampleStatus, m.exampleTotal)
	before, err := d.compare(ctx, recovery, mainTable)
	if err != nil {
		return err
	}
	d.notef("%s now differs from the restore point: %d items changed, %d missing, %d extra", mainTable, before.Changed, before.Missing, before.Extra)
	if before.Changed != m.updated || before.Missing != m.deleted || before.Extra != 0 {
		return fmt.Errorf("expected %d changed and %d missing items, found %d changed, %d missing, %d extra",
			m.updated, m.deleted, before.Changed, before.Missing, before.Extra)
	}
	return nil
}

// list is step 5: ddbrewind list shows the recovery table.
func (d *demo) list(ctx context.Context, recovery string) error {
	d.stepf("List the recovery tables")
	res, err := d.ddbrewind(ctx, "list")
	if err != nil {
		return err
	}
	if !strings.Contains(res.stdout, recovery) {
		return fmt.Errorf("ddbrewind list does not show %s", recovery)
	}
	return nil
}

// copyBack is step 6: ddbrewind copy writes the recovery table back into
// the main table; its summary line is shown.
func (d *demo) copyBack(ctx context.Context, recovery string) error {
	d.stepf("Copy the recovery table back into %s", mainTable)
	d.notef("(--yes because stdin is not a terminal here; interactively ddbrewind asks first)")
	res, err := d.ddbrewind(ctx, "copy", "--from", recovery, "--to", mainTable, "--yes")
	if err != nil {
		return err
	}
	summary := summaryLine(res.stderr)
	if summary == "" {
		return fmt.Errorf("ddbrewind copy printed no summary line on stderr:\n%s", res.stderr)
	}
	d.output(summary)
	return nil
}

// check is step 7: the main table matches the recovery table, item by
// item and attribute by attribute.
func (d *demo) check(ctx context.Context, recovery string) error {
	d.stepf("Check %s against the restore point, item by item", mainTable)
	after, err := d.compare(ctx, recovery, mainTable)
	if err != nil {
		return err
	}
	if !after.Equal() {
		for _, l := range after.Lines {
			d.output(l)
		}
		return fmt.Errorf("%s does not match the restore point: %d changed, %d missing, %d extra",
			mainTable, after.Changed, after.Missing, after.Extra)
	}
	d.notef("%s matches the restore point: %d items, 0 differences", mainTable, after.Items)
	d.notef("(every attribute compared: numbers as exact strings, binaries as bytes, sets in any order;")
	d.notef("without --delete-extra, items created after the restore point would have stayed: the demo made none)")
	return nil
}

// cleanup is step 8: ddbrewind cleanup deletes the recovery table, and
// ddbrewind list no longer shows it.
func (d *demo) cleanup(ctx context.Context, recovery string) error {
	d.stepf("Delete the recovery table")
	if _, err := d.ddbrewind(ctx, "cleanup", "--recovery-table", recovery, "--yes", "--log-level", "warn"); err != nil {
		return err
	}
	res, err := d.ddbrewind(ctx, "list")
	if err != nil {
		return err
	}
	if strings.Contains(res.stdout, recovery) {
		return fmt.Errorf("%s is still listed after cleanup", recovery)
	}
	d.notef("(no recovery tables left)")
	return nil
}

// checkBinary returns bin as an absolute path after checking it is there.
func checkBinary(bin string) (string, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", fmt.Errorf("ddbrewind binary %s: %w", bin, err)
	}
	fi, err := os.Stat(abs)
	if err != nil || fi.IsDir() {
		return "", fmt.Errorf("ddbrewind binary %s not found: build it with make build (or pass -bin PATH)", bin)
	}
	return abs, nil
}

// childEnv returns env without any AWS_ setting (profiles, endpoints, real
// credentials) plus the emulator's test credentials and region, with the
// shared config files and the instance metadata service out of the way.
func childEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return append(out,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// stepf prints the next step's title.
func (d *demo) stepf(format string, args ...any) {
	d.step++
	fmt.Fprintf(d.out, "\n[%d/%d] %s\n", d.step, totalSteps, fmt.Sprintf(format, args...))
}

// notef prints a line of commentary under the current step.
func (d *demo) notef(format string, args ...any) {
	fmt.Fprintf(d.out, "      %s\n", fmt.Sprintf(format, args...))
}

// output prints lines of a command's output, indented under its command.
func (d *demo) output(text string) {
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintf(d.out, "        %s\n", l)
	}
}

// cmdResult is what one ddbrewind process printed.
type cmdResult struct {
	stdout, stderr string
}

// ddbrewind runs ddbrewind COMMAND --endpoint-url ENDPOINT ARGS..., printing
// the command line and its stdout. stdin is not a terminal, as in a script
// or a batch job. A non-zero exit is an error; its stderr is printed.
func (d *demo) ddbrewind(ctx context.Context, command string, args ...string) (cmdResult, error) {
	argv := append([]string{command, "--endpoint-url", d.endpoint}, args...)
	fmt.Fprintf(d.out, "      $ ddbrewind %s\n", strings.Join(argv, " "))
	cmd := exec.CommandContext(ctx, d.bin, argv...)
	cmd.Env = d.env
	// Ctrl-C: let ddbrewind stop cleanly, as it would in a terminal.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cmdResult{stdout: stdout.String(), stderr: stderr.String()}
	if res.stdout != "" {
		d.output(res.stdout)
	}
	if err != nil {
		if res.stderr != "" {
			d.output(res.stderr)
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return res, fmt.Errorf("ddbrewind %s exited with code %d", command, ee.ExitCode())
		}
		return res, fmt.Errorf("ddbrewind %s: %w", command, err)
	}
	return res, nil
}

// summaryLine returns the copy's summary log line from its stderr.
func summaryLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "msg=summary") {
			return l
		}
	}
	return ""
}

// compare scans both tables and compares them.
func (d *demo) compare(ctx context.Context, want, got string) (tableDiff, error) {
	w, err := ddbtest.ScanAllContext(ctx, d.api, want)
	if err != nil {
		return tableDiff{}, err
	}
	g, err := ddbtest.ScanAllContext(ctx, d.api, got)
	if err != nil {
		return tableDiff{}, err
	}
	return compareItems(w, g), nil
}
