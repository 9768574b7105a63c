package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// badFixture is the one set of tables and files that every case of the
// bad-input corpus runs against. Nothing a case does may change it.
type badFixture struct {
	dyn, moto *ddbtest.Server
	dc, mc    *dynamodb.Client

	// On dynalite: from is a recovery-like table, to a main table whose
	// items differ from it (so any write shows), other a table with another
	// key schema (sk S instead of N), and cpMain the target of the setup
	// copy that wrote checkpoint and journal.
	from, to, other, cpMain string
	// On moto: table and table2 have point-in-time recovery; rec is a
	// recovery table of table restored by ddbrewind; state is the state
	// file of a finished run of table.
	table, table2, rec string

	dir                        string // the input files below live here
	checkpoint, journal, state string

	// the tables a case may not change, by emulator.
	dynTables, motoTables []string
}

// expand replaces {from}, {to}, {other}, {cpMain}, {table}, {table2} and
// {rec} in s with the fixture's table names.
func (f *badFixture) expand(s string) string {
	return strings.NewReplacer("{from}", f.from, "{to}", f.to, "{other}", f.other, "{cpMain}", f.cpMain,
		"{table}", f.table, "{table2}", f.table2, "{rec}", f.rec).Replace(s)
}

// path returns the path of an input file of the fixture.
func (f *badFixture) path(name string) string { return filepath.Join(f.dir, name) }

// copyArgs is a copy from the recovery table into the main table on
// dynalite, with --yes, followed by extra.
func (f *badFixture) copyArgs(extra ...string) []string {
	return append([]string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", f.to, "--yes"}, extra...)
}

func (f *badFixture) diffArgs(extra ...string) []string {
	return append([]string{"diff", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", f.to}, extra...)
}

func (f *badFixture) restoreArgs(extra ...string) []string {
	return append([]string{"restore", "--endpoint-url", f.moto.Endpoint}, extra...)
}

// runArgs is a run of table on moto with --yes and a state file in the
// case's own directory (which must stay empty), followed by extra.
func (f *badFixture) runArgs(tmp string, extra ...string) []string {
	return append([]string{"run", "--endpoint-url", f.moto.Endpoint, "--table", f.table, "--state", filepath.Join(tmp, "state.json"), "--yes"}, extra...)
}

func (f *badFixture) undoArgs(extra ...string) []string {
	return append([]string{"undo", "--endpoint-url", f.dyn.Endpoint}, extra...)
}

func (f *badFixture) cleanupArgs(extra ...string) []string {
	return append([]string{"cleanup", "--endpoint-url", f.moto.Endpoint}, extra...)
}

// newBadFixture creates the tables (dynalite and moto) and the input files.
func newBadFixture(t *testing.T) *badFixture {
	t.Helper()
	f := &badFixture{dyn: pool.Get(t, ddbtest.Dynalite), moto: pool.Get(t, ddbtest.Moto), dir: t.TempDir()}
	f.dc, f.mc = f.dyn.Client(t), f.moto.Client(t)

	// dynalite
	f.from, f.to = ddbtest.UniqueName(t, "rec"), ddbtest.UniqueName(t, "main")
	f.other, f.cpMain = ddbtest.UniqueName(t, "otherkeys"), ddbtest.UniqueName(t, "cpmain")
	for _, n := range []string{f.from, f.to, f.cpMain} {
		ddbtest.CreateTable(t, f.dc, n, mixedSpec)
	}
	ddbtest.CreateTable(t, f.dc, f.other, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeS})
	ddbtest.PutItems(t, f.dc, f.from, tenantItems(60, 3, "good", "app"))
	ddbtest.PutItems(t, f.dc, f.to, tenantItems(30, 3, "bad", "badjob"))
	f.checkpoint, f.journal = f.path("copy.checkpoint"), f.path("copy.journal")
	if r := ddb(t, "copy", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", f.cpMain, "--yes",
		"--segments", "2", "--checkpoint", f.checkpoint, "--journal", f.journal); r.code != 0 {
		t.Fatalf("setup copy: exit %d", r.code)
	}

	// moto
	f.table, f.table2 = ddbtest.UniqueName(t, "orders"), ddbtest.UniqueName(t, "orders2")
	for _, n := range []string{f.table, f.table2} {
		ddbtest.CreateTable(t, f.mc, n, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeN, PITR: true})
		ddbtest.PutItems(t, f.mc, n, tenantItems(20, 2, "good", "app"))
	}
	f.rec = ddbtest.UniqueName(t, "recovery")
	deleteAfter(t, f.mc, f.rec)
	if r := ddb(t, "restore", "--endpoint-url", f.moto.Endpoint, "--table", f.table, "--latest", "--recovery-table", f.rec); r.code != 0 {
		t.Fatalf("setup restore: exit %d", r.code)
	}
	f.state = f.path("run-state.json")
	if r := ddb(t, "run", "--endpoint-url", f.moto.Endpoint, "--table", f.table, "--latest", "--state", f.state, "--yes"); r.code != 0 {
		t.Fatalf("setup run: exit %d", r.code)
	}

	files := map[string]string{
		"values-bad.json":      "{\n  \":p\": {\"S\" \"x\"}\n}\n",
		"values-typed.json":    "{\n  \":p\": {\"S\": \"tenant#1\"},\n  \":q\": {\"S\": 5}\n}\n",
		"names-bad.json":       "{\n  \"#s\": \"status\",\n",
		"names-typed.json":     "{\"#s\": [\"status\"]}\n",
		"keys-ok.jsonl":        `{"pk":{"S":"tenant#0"},"sk":{"N":"0"}}` + "\n",
		"keys-broken.jsonl":    `{"pk":{"S":"tenant#0"},"sk":{"N":"0"}}` + "\n\n" + `{"pk":{"S":"tenant#0"},"sk":{"N":"3"}}` + "\n" + `{"pk":{"S":"tenant#0"} "sk":{"N":"6"}}` + "\n",
		"keys-wrongattr.jsonl": `{"pk":{"S":"tenant#0"},"sk":{"N":"0"}}` + "\n" + `{"id":{"S":"tenant#0"},"sk":{"N":"3"}}` + "\n",
		"keys-wrongtype.jsonl": `{"pk":{"S":"tenant#0"},"sk":{"S":"0"}}` + "\n",
		"keys-badtype.jsonl":   `{"pk":{"S":"tenant#0"},"sk":{"N":"0"}}` + "\n" + `{"pk":{"Q":"tenant#0"},"sk":{"N":"3"}}` + "\n",
		"keys-empty.jsonl":     "",
		"keys-blank.jsonl":     "\n\n",
	}
	for name, content := range files {
		if err := os.WriteFile(f.path(name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	f.dynTables = []string{f.from, f.to, f.other, f.cpMain}
	f.motoTables = []string{f.table, f.table2, f.rec}
	return f
}

// snapshot scans the tables of one emulator.
func (f *badFixture) snapshot(t *testing.T, kind ddbtest.Kind) map[string]map[string]map[string]types.AttributeValue {
	t.Helper()
	c, tables := f.dc, f.dynTables
	if kind == ddbtest.Moto {
		c, tables = f.mc, f.motoTables
	}
	snap := map[string]map[string]map[string]types.AttributeValue{}
	for _, n := range tables {
		snap[n] = ddbtest.ScanAll(t, c, n)
	}
	return snap
}

// assertUnchanged fails when a table of the emulator differs from its
// snapshot before, or when a recovery table of table or table2 appeared.
func (f *badFixture) assertUnchanged(t *testing.T, kind ddbtest.Kind, before map[string]map[string]map[string]types.AttributeValue) {
	t.Helper()
	c, tables := f.dc, f.dynTables
	if kind == ddbtest.Moto {
		c, tables = f.mc, f.motoTables
		for _, src := range []string{f.table, f.table2} {
			if made := tablesWithPrefix(t, c, src+"-rewind-"); len(made) > 0 {
				t.Errorf("bad input restored a table: %v", made)
				for _, n := range made {
					deleteAfter(t, c, n)
				}
			}
		}
	}
	for _, n := range tables {
		if !tableExists(t, c, n) {
			t.Errorf("table %s was deleted", n)
			continue
		}
		if d := ddbtest.DiffItemSets(before[n], ddbtest.ScanAll(t, c, n)); len(d) > 0 {
			t.Errorf("table %s changed:\n%s", n, strings.Join(d, "\n"))
		}
	}
}

// badCase is one bad input: the command line, the emulator whose tables it
// involves, and what the one-line error must say.
type badCase struct {
	name string
	on   ddbtest.Kind
	// args builds the arguments (after the program name); tmp is a fresh
	// directory of the case that must stay empty (state files of run).
	args func(f *badFixture, tmp string) []string
	// want are substrings of the error line: what is wrong and, ideally,
	// what to do ({to} and the like stand for the fixture's tables).
	want []string
	// bug, when set, skips the case: the tool does not follow the
	// contract yet (see the message). DDBREWIND_TEST_BUGS=1 runs it.
	bug string
}

func badInputCorpus() []badCase {
	const (
		dyn  = ddbtest.Dynalite
		moto = ddbtest.Moto
	)
	kce := func(values string) []string {
		return []string{"--key-condition-expression", "pk = :p", "--expression-attribute-values", values}
	}
	filterNames := func(names string) []string {
		return []string{"--filter-expression", "#s = :s", "--expression-attribute-names", names, "--expression-attribute-values", `{":s":{"S":"archived"}}`}
	}
	return []badCase{
		// Malformed and mistyped JSON in the placeholder flags.
		{"values malformed inline", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce(`{":p":{"S":"tenant#1"}`)...)
		}, []string{"--expression-attribute-values", "incomplete JSON"}, ""},
		{"values malformed file", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce("file://" + f.path("values-bad.json"))...)
		}, []string{"values-bad.json:2", "invalid JSON"}, ""},
		{"values number not quoted inline", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce(`{":p":{"N":5}}`)...)
		}, []string{`value ":p"`, "N needs a JSON string", "quote it"}, ""},
		{"values mistyped file", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce("file://" + f.path("values-typed.json"))...)
		}, []string{"values-typed.json:3", `value ":q"`, "S needs a JSON string"}, ""},
		{"values untyped", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce(`{":p":"tenant#1"}`)...)
		}, []string{`value ":p"`, "expected an object with one type key"}, ""},
		{"values not an object", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce(`[{":p":{"S":"tenant#1"}}]`)...)
		}, []string{"--expression-attribute-values", "expected a JSON object", "got an array"}, ""},
		{"values two type keys", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce(`{":p":{"S":"tenant#1","N":"1"}}`)...)
		}, []string{`value ":p"`, "more than one type key"}, ""},
		{"values empty object", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce(`{}`)...)
		}, []string{"--expression-attribute-values", "no values in {}"}, ""},
		{"values file missing", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce("file://" + f.path("nope.json"))...)
		}, []string{"nope.json", "cannot read file"}, ""},
		{"unknown attribute type", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce(`{":p":{"Q":"tenant#1"}}`)...)
		}, []string{`value ":p"`, `unknown type "Q"`, "use one of S, N"}, ""},
		{"value placeholder without colon", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(kce(`{"p":{"S":"tenant#1"}}`)...)
		}, []string{`value "p"`, "must start with ':'"}, ""},
		{"names malformed inline", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(filterNames(`{"#s":"status"`)...)
		}, []string{"--expression-attribute-names", "incomplete JSON"}, ""},
		{"names malformed file", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(filterNames("file://" + f.path("names-bad.json"))...)
		}, []string{"--expression-attribute-names file://", "names-bad.json", "incomplete JSON"}, ""},
		{"names mistyped inline", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(filterNames(`{"#s":5}`)...)
		}, []string{`name "#s"`, "must be a non-empty attribute name", "got the number 5"}, ""},
		{"names mistyped file", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(filterNames("file://" + f.path("names-typed.json"))...)
		}, []string{"names-typed.json:1", `name "#s"`, "got an array"}, ""},
		{"name placeholder without hash", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(filterNames(`{"s":"status"}`)...)
		}, []string{`name "s"`, "must start with '#'"}, ""},
		{"undefined name placeholder", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--filter-expression", "#s = :s", "--expression-attribute-values", `{":s":{"S":"archived"}}`)
		}, []string{"#s is not defined", "--expression-attribute-names"}, ""},
		{"unused value placeholder", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--filter-expression", "lastWriter = :s", "--expression-attribute-values", `{":s":{"S":"x"},":t":{"S":"y"}}`)
		}, []string{":t but no expression uses it"}, ""},
		{"diff values malformed", dyn, func(f *badFixture, _ string) []string {
			return f.diffArgs(kce(`{":p":{"S":"tenant#1"}`)...)
		}, []string{"--expression-attribute-values", "incomplete JSON"}, ""},
		{"run unknown attribute type", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, append([]string{"--latest"}, kce(`{":p":{"Q":"tenant#1"}}`)...)...)
		}, []string{`unknown type "Q"`}, ""},

		// Unknown commands and flags.
		{"unknown command", dyn, func(f *badFixture, _ string) []string {
			return []string{"rewindify", "--endpoint-url", f.dyn.Endpoint}
		}, []string{`unknown command "rewindify"`, "use one of restore, export, copy"}, ""},
		{"unknown flag before the command", dyn, func(f *badFixture, _ string) []string {
			return append([]string{"--frobnicate"}, f.copyArgs()...)
		}, []string{"frobnicate", "not defined", "--help"}, ""},
		{"unknown flag before the command names the right help", dyn, func(f *badFixture, _ string) []string {
			return append([]string{"--frobnicate"}, f.copyArgs()...)
		}, []string{"--frobnicate", "(see ddbrewind --help)"}, ""},
		{"unknown flag after the command", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--frobnicate")
		}, []string{"frobnicate", "not defined", "ddbrewind copy --help"}, ""},
		{"unknown flag of restore", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--latest", "--frobnicate")
		}, []string{"frobnicate", "ddbrewind restore --help"}, ""},

		// Stray arguments and mistyped flags (nothing after a stray argument
		// is read, so the command must not run with half its flags).
		{"copy stray argument", dyn, func(f *badFixture, _ string) []string {
			return []string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "stray", "--to", f.to, "--yes"}
		}, []string{`copy: unexpected argument "stray"`, "ddbrewind copy --help"}, ""},
		{"diff stray argument", dyn, func(f *badFixture, _ string) []string {
			return []string{"diff", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "stray", "--to", f.to}
		}, []string{`diff: unexpected argument "stray"`}, ""},
		{"list stray argument", moto, func(f *badFixture, _ string) []string {
			return []string{"list", "extra", "--endpoint-url", f.moto.Endpoint, "--output", "json"}
		}, []string{`list: unexpected argument "extra"`}, ""},
		{"cleanup value after a boolean flag", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--recovery-table", f.rec, "--yes", "--wait", "false")
		}, []string{`unexpected argument "false"`, "--wait takes no value: write --wait=false"}, ""},
		{"copy short flag typo", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("-j")
		}, []string{"not defined: -j;", "did you mean --journal?"}, ""},
		{"copy command typo", dyn, func(f *badFixture, _ string) []string {
			return append([]string{"cpy"}, f.copyArgs()[1:]...)
		}, []string{`unknown command "cpy": did you mean copy?`}, ""},
		{"run --ago in weeks", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--ago", "1w")
		}, []string{`invalid value "1w" for flag --ago`, "2d or 1d12h"}, ""},

		// Conflicting flags.
		{"restore --at with --latest", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--latest", "--at", "2026-01-01T00:00:00Z")
		}, []string{"exactly one of --at TIME, --ago DURATION, --latest, --backup ARN or --backup-before TIME"}, ""},
		{"run --ago with --latest", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--ago", "1h")
		}, []string{"exactly one of --at TIME, --ago DURATION, --latest, --backup ARN or --backup-before TIME"}, ""},
		{"restore --at with --backup", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--at", "2026-01-01T00:00:00Z", "--backup", "arn:aws:dynamodb:us-east-1:123456789012:table/"+f.table+"/backup/01767225600000-abcdef12")
		}, []string{"exactly one of", "(got 2)"}, ""},
		{"run --backup-before with --latest", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--backup-before", "2026-01-01T00:00:00Z")
		}, []string{"exactly one of", "(got 2)"}, ""},
		{"restore --backup not an ARN", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--backup", "nightly")
		}, []string{`--backup "nightly" is not a backup ARN`, "arn:aws:backup:REGION:ACCOUNT:recovery-point:ID"}, ""},
		{"run --backup of another table", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--backup", "arn:aws:dynamodb:us-east-1:123456789012:table/"+f.table2+"/backup/01767225600000-abcdef12")
		}, []string{"is a backup of table {table2}, not of {table}"}, ""},
		{"restore recovery point without --backup-role-arn", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--backup", "arn:aws:backup:us-east-1:123456789012:recovery-point:abc")
		}, []string{"pass --backup-role-arn ARN"}, ""},
		{"run --backup-before with no backup", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--backup-before", "2026-01-01T00:00:00Z")
		}, []string{"--backup-before 2026-01-01T00:00:00Z", "has no available backup"}, ""},
		{"--only-missing with --if-main", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--only-missing", "--if-main", "attribute_exists(pk)")
		}, []string{"--only-missing", "--if-main", "use one of them"}, ""},
		{"copy from a table with --accept-conflicts", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--accept-conflicts")
		}, []string{"--accept-conflicts applies to a rewind from incremental exports", "--from reads a table"}, ""},
		{"--keys-file with --key-condition-expression", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs(append([]string{"--keys-file", f.path("keys-ok.jsonl")}, kce(`{":p":{"S":"tenant#1"}}`)...)...)
		}, []string{"--keys-file", "cannot be combined with --key-condition-expression"}, ""},
		{"cleanup --recovery-table with --source", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--recovery-table", f.rec, "--source", f.table, "--yes")
		}, []string{"--recovery-table", "--source", "not both"}, ""},

		// Keys files.
		{"keys file broken line", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--keys-file", f.path("keys-broken.jsonl"))
		}, []string{"keys-broken.jsonl:4", "invalid JSON"}, ""},
		{"keys file unknown type", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--keys-file", f.path("keys-badtype.jsonl"))
		}, []string{"keys-badtype.jsonl:2", `unknown type "Q"`}, ""},
		{"keys file wrong key attribute", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--keys-file", f.path("keys-wrongattr.jsonl"))
		}, []string{"keys-wrongattr.jsonl:2", `lacks attribute "pk"`, "pk + sk"}, ""},
		{"keys file wrong key type", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--keys-file", f.path("keys-wrongtype.jsonl"))
		}, []string{"keys-wrongtype.jsonl:1", `"sk" has type S, the table says N`}, ""},
		{"keys file empty", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--keys-file", f.path("keys-empty.jsonl"))
		}, []string{"keys-empty.jsonl", "holds no keys"}, ""},
		{"keys file only blank lines", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--keys-file", f.path("keys-blank.jsonl"))
		}, []string{"keys-blank.jsonl", "holds no keys"}, ""},
		{"keys file missing", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--keys-file", f.path("nope.jsonl"))
		}, []string{"--keys-file", "nope.jsonl"}, ""},
		{"diff keys file broken line", dyn, func(f *badFixture, _ string) []string {
			return f.diffArgs("--keys-file", f.path("keys-broken.jsonl"))
		}, []string{"keys-broken.jsonl:4"}, ""},

		// Expressions DynamoDB rejects.
		{"filter expression rejected", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--filter-expression", "lastWriter === :s", "--expression-attribute-values", `{":s":{"S":"x"}}`)
		}, []string{"DynamoDB rejects the selection", "ValidationException", "--filter-expression"}, ""},
		{"key condition rejected", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--key-condition-expression", "lastWriter = :s", "--expression-attribute-values", `{":s":{"S":"x"}}`)
		}, []string{"DynamoDB rejects the selection", "ValidationException", "--key-condition-expression"}, ""},
		{"--if-main rejected", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--if-main", "lastWriter = = :s", "--expression-attribute-values", `{":s":{"S":"x"}}`)
		}, []string{"DynamoDB rejects --if-main", "ValidationException"}, ""},
		{"diff filter expression rejected", dyn, func(f *badFixture, _ string) []string {
			return f.diffArgs("--filter-expression", "lastWriter === :s", "--expression-attribute-values", `{":s":{"S":"x"}}`)
		}, []string{"DynamoDB rejects the selection", "ValidationException"}, ""},
		{"run filter expression rejected", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--filter-expression", "lastWriter === :s", "--expression-attribute-values", `{":s":{"S":"x"}}`)
		}, []string{"DynamoDB rejects the selection"}, ""},

		// Invalid table names.
		{"restore --table too short", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", "a", "--latest")
		}, []string{`--table "a" is not a valid table name`, "3 to 255 characters"}, ""},
		{"restore --table with spaces", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", "my orders", "--latest")
		}, []string{`--table "my orders" is not a valid table name`}, ""},
		{"restore --recovery-table with spaces", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--latest", "--recovery-table", "my recovery")
		}, []string{`--recovery-table "my recovery" is not a valid table name`}, ""},
		{"run --table too short", moto, func(f *badFixture, tmp string) []string {
			return []string{"run", "--endpoint-url", f.moto.Endpoint, "--table", "a", "--latest", "--state", filepath.Join(tmp, "state.json"), "--yes"}
		}, []string{`--table "a" is not a valid table name`}, ""},
		{"cleanup --recovery-table with spaces", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--recovery-table", "my recovery", "--yes")
		}, []string{`--recovery-table "my recovery" is not a valid table name`}, ""},
		{"copy --from too short", dyn, func(f *badFixture, _ string) []string {
			return []string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", "a", "--to", f.to, "--yes"}
		}, []string{`--from "a" is not a valid table name`}, ""},
		{"copy --to with spaces", dyn, func(f *badFixture, _ string) []string {
			return []string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", "my main", "--yes"}
		}, []string{`--to "my main" is not a valid table name`}, ""},
		{"diff --from with spaces", dyn, func(f *badFixture, _ string) []string {
			return []string{"diff", "--endpoint-url", f.dyn.Endpoint, "--from", "my recovery", "--to", f.to}
		}, []string{`--from "my recovery" is not a valid table name`}, ""},

		// Missing tables.
		{"copy --from not found", dyn, func(f *badFixture, _ string) []string {
			return []string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", "no-such-table", "--to", f.to, "--yes"}
		}, []string{"--from no-such-table: table not found", "--endpoint-url"}, ""},
		{"copy --to not found", dyn, func(f *badFixture, _ string) []string {
			return []string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", "no-such-table", "--yes"}
		}, []string{"--to no-such-table: table not found"}, ""},
		{"diff --to not found", dyn, func(f *badFixture, _ string) []string {
			return []string{"diff", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", "no-such-table"}
		}, []string{"--to no-such-table: table not found"}, ""},
		{"restore --table not found", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", "no-such-table", "--latest")
		}, []string{"restore no-such-table: table not found", "--table"}, ""},
		{"run --table not found", moto, func(f *badFixture, tmp string) []string {
			return []string{"run", "--endpoint-url", f.moto.Endpoint, "--table", "no-such-table", "--latest", "--state", filepath.Join(tmp, "state.json"), "--yes"}
		}, []string{"no-such-table: table not found"}, ""},
		{"cleanup --recovery-table not found", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--recovery-table", "no-such-table", "--yes")
		}, []string{"cleanup no-such-table: table not found", "ddbrewind list"}, ""},

		// Wrong key schema.
		{"copy key schemas differ", dyn, func(f *badFixture, _ string) []string {
			return []string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", f.other, "--yes"}
		}, []string{"copy {from} → {other}", "key schemas differ", "RANGE sk (N)", "RANGE sk (S)"}, ""},
		{"diff key schemas differ", dyn, func(f *badFixture, _ string) []string {
			return []string{"diff", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", f.other}
		}, []string{"key schemas differ"}, ""},

		// State of another copy, journal or run.
		{"checkpoint of another copy", dyn, func(f *badFixture, _ string) []string {
			return []string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", f.cpMain, "--yes", "--segments", "3", "--checkpoint", f.checkpoint}
		}, []string{"copy.checkpoint was made for another copy", "segments=2", "segments=3", "another --checkpoint"}, ""},
		{"journal of another table", dyn, func(f *badFixture, _ string) []string {
			return f.undoArgs("--journal", f.journal, "--table", f.to, "--yes")
		}, []string{"copy.journal records table {cpMain}, not {to}", "undo it with --table {cpMain}"}, ""},
		{"state file of another table", moto, func(f *badFixture, _ string) []string {
			return []string{"run", "--endpoint-url", f.moto.Endpoint, "--table", f.table2, "--latest", "--state", f.state, "--yes"}
		}, []string{"run-state.json is for table {table}, not {table2}", "pass another --state"}, ""},
		{"state file of another selection", moto, func(f *badFixture, _ string) []string {
			return []string{"run", "--endpoint-url", f.moto.Endpoint, "--table", f.table, "--latest", "--state", f.state, "--yes", "--only-missing"}
		}, []string{"run-state.json records a rewind", "another selection or write mode", "another --state"}, ""},
		{"state file of another restore point", moto, func(f *badFixture, _ string) []string {
			return []string{"run", "--endpoint-url", f.moto.Endpoint, "--table", f.table, "--at", "2020-01-01T00:00:00Z", "--state", f.state, "--yes"}
		}, []string{"run-state.json", "started with --latest", "not --at 2020-01-01T00:00:00Z", "another --state"}, ""},

		// State paths that would replace each other (each is saved whole).
		{"copy --journal is --report", dyn, func(f *badFixture, tmp string) []string {
			return f.copyArgs("--journal", filepath.Join(tmp, "j"), "--report", filepath.Join(tmp, "j"))
		}, []string{"--journal and --report both name", "give each its own path"}, ""},
		{"copy --checkpoint is --journal, spelled differently", dyn, func(f *badFixture, tmp string) []string {
			return f.copyArgs("--checkpoint", filepath.Join(tmp, "x"), "--journal", tmp+"/sub/../x")
		}, []string{"--checkpoint", "--journal", "name the same file"}, ""},
		{"copy --checkpoint is --report", dyn, func(f *badFixture, tmp string) []string {
			return f.copyArgs("--checkpoint", filepath.Join(tmp, "c"), "--report", filepath.Join(tmp, "c"))
		}, []string{"--checkpoint and --report both name"}, ""},
		{"undo --journal is --report", dyn, func(f *badFixture, tmp string) []string {
			return f.undoArgs("--journal", filepath.Join(tmp, "j"), "--table", f.cpMain, "--yes", "--report", filepath.Join(tmp, "j"))
		}, []string{"--journal and --report both name"}, ""},
		{"run --journal is --state", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--journal", filepath.Join(tmp, "state.json"))
		}, []string{"--state and --journal both name"}, ""},
		{"run --report is --checkpoint", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--checkpoint", filepath.Join(tmp, "c"), "--report", filepath.Join(tmp, "c"))
		}, []string{"--checkpoint and --report both name"}, ""},
		{"run --journal is the default checkpoint", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--journal", filepath.Join(tmp, "state.json.checkpoint"))
		}, []string{"--checkpoint (default) and --journal both name"}, ""},

		// A file to write in a directory that does not exist: refused before
		// the copy (not after it, when the report or the first checkpoint is
		// saved) and before run's restore (not hours later, at the journal).
		{"copy --report in a missing directory", dyn, func(f *badFixture, tmp string) []string {
			return f.copyArgs("--report", filepath.Join(tmp, "missing", "r.json"))
		}, []string{"--report", "missing/r.json", "does not exist", "create it"}, ""},
		{"copy --checkpoint in a missing directory", dyn, func(f *badFixture, tmp string) []string {
			return f.copyArgs("--checkpoint", filepath.Join(tmp, "missing", "c.json"))
		}, []string{"--checkpoint", "does not exist"}, ""},
		{"copy --journal is a directory", dyn, func(f *badFixture, tmp string) []string {
			return f.copyArgs("--journal", tmp)
		}, []string{"--journal", "is a directory"}, ""},
		{"undo --report in a missing directory", dyn, func(f *badFixture, tmp string) []string {
			return f.undoArgs("--journal", f.journal, "--table", f.cpMain, "--yes", "--report", filepath.Join(tmp, "missing", "r.json"))
		}, []string{"--report", "does not exist"}, ""},
		{"run --journal in a missing directory", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--journal", filepath.Join(tmp, "missing", "j.jsonl"))
		}, []string{"--journal", "does not exist"}, ""},
		{"run --state in a missing directory", moto, func(f *badFixture, tmp string) []string {
			return []string{"run", "--endpoint-url", f.moto.Endpoint, "--table", f.table, "--latest", "--yes", "--state", filepath.Join(tmp, "missing", "state.json")}
		}, []string{"--state", "does not exist"}, ""},

		// Bad durations and numbers.
		{"restore --ago xyz", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--ago", "xyz")
		}, []string{`invalid value "xyz"`, "ago", "ddbrewind restore --help"}, ""},
		{"run --ago xyz", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--ago", "xyz")
		}, []string{`invalid value "xyz"`, "ago"}, ""},
		{"cleanup --older-than xyz", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--older-than", "xyz", "--yes")
		}, []string{`invalid value "xyz"`, "older-than"}, ""},
		{"copy --segments abc", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--segments", "abc")
		}, []string{`invalid value "abc"`, "segments"}, ""},
		{"copy --segments -1", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--segments", "-1")
		}, []string{"--segments -1", "use 1 to 1000000"}, ""},
		{"copy --writers 0", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--writers", "0")
		}, []string{"--writers 0", "at least 1"}, ""},
		{"copy --writers -1", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--writers", "-1")
		}, []string{"--writers -1", "at least 1"}, ""},
		{"copy --max-wcu -5", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--max-wcu", "-5")
		}, []string{"--max-wcu -5", "must be positive"}, ""},
		{"copy --page-size -1", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--page-size", "-1")
		}, []string{"--page-size -1", "at least 1"}, ""},
		{"copy --worker-count 0", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--worker-count", "0")
		}, []string{"--worker-count 0"}, ""},
		{"copy split across workers without --segments", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--worker-count", "2", "--worker-index", "1")
		}, []string{"--worker-count 2 needs --segments"}, ""},
		{"copy --max-retry-time -1s", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--max-retry-time", "-1s")
		}, []string{"--max-retry-time"}, ""},
		{"diff --segments -1", dyn, func(f *badFixture, _ string) []string {
			return f.diffArgs("--segments", "-1")
		}, []string{"--segments -1"}, ""},
		{"diff --show -1", dyn, func(f *badFixture, _ string) []string {
			return f.diffArgs("--show", "-1")
		}, []string{"--show must be 0 or more"}, ""},
		{"diff --writers 0", dyn, func(f *badFixture, _ string) []string {
			return f.diffArgs("--writers", "0")
		}, []string{"--writers 0"}, ""},
		{"undo --writers 0", dyn, func(f *badFixture, _ string) []string {
			return f.undoArgs("--journal", f.journal, "--table", f.cpMain, "--yes", "--writers", "0")
		}, []string{"--writers 0"}, ""},
		{"undo --writers -1", dyn, func(f *badFixture, _ string) []string {
			return f.undoArgs("--journal", f.journal, "--table", f.cpMain, "--yes", "--writers", "-1")
		}, []string{"--writers -1"}, ""},
		{"undo --max-wcu -5", dyn, func(f *badFixture, _ string) []string {
			return f.undoArgs("--journal", f.journal, "--table", f.cpMain, "--yes", "--max-wcu", "-5")
		}, []string{"--max-wcu -5"}, ""},
		{"run --segments -1", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--segments", "-1")
		}, []string{"--segments -1"}, ""},
		{"run --writers 0", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--writers", "0")
		}, []string{"--writers 0"}, ""},

		// Zero given on purpose: unset, 0 stands for the default (the
		// table's size, no cap, retry forever, 12 h, all tables), so a 0
		// or a negative duration must be refused, not silently replaced.
		{"copy --segments 0", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--segments", "0")
		}, []string{"--segments 0", "use 1 to 1000000", "or omit it"}, ""},
		{"copy --max-wcu 0", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--max-wcu", "0")
		}, []string{"--max-wcu 0", "must be positive", "omit it for no cap"}, ""},
		{"copy --max-retry-time 0", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--max-retry-time", "0")
		}, []string{"--max-retry-time 0s", "must be positive", "omit it to retry forever"}, ""},
		{"diff --segments 0", dyn, func(f *badFixture, _ string) []string {
			return f.diffArgs("--segments", "0")
		}, []string{"--segments 0", "use 1 to 1000000"}, ""},
		{"show --segments 0", dyn, func(f *badFixture, _ string) []string {
			return []string{"show", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--segments", "0"}
		}, []string{"--segments 0", "use 1 to 1000000"}, ""},
		{"undo --max-wcu 0", dyn, func(f *badFixture, _ string) []string {
			return f.undoArgs("--journal", f.journal, "--table", f.cpMain, "--yes", "--max-wcu", "0")
		}, []string{"--max-wcu 0", "must be positive"}, ""},
		{"run --segments 0", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--segments", "0")
		}, []string{"--segments 0", "use 1 to 1000000"}, ""},
		{"run --timeout 0", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--timeout", "0")
		}, []string{"--timeout 0s", "must be positive"}, ""},
		{"restore --timeout 0", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--latest", "--timeout", "0")
		}, []string{"--timeout 0s", "must be positive"}, ""},
		{"restore --timeout -1s", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--latest", "--timeout", "-1s")
		}, []string{"--timeout -1s", "must be positive"}, ""},
		{"restore --ago 0s", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--ago", "0s")
		}, []string{"--ago 0s", "must be positive", "--ago 90m"}, ""},
		{"cleanup --older-than 0s", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--older-than", "0s", "--dry-run")
		}, []string{"--older-than 0s", "must be positive"}, ""},
		{"cleanup --older-than -1h", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--older-than", "-1h", "--dry-run")
		}, []string{"--older-than -1h0m0s", "must be positive"}, ""},
		{"cleanup --timeout 0", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--recovery-table", f.rec, "--yes", "--timeout", "0")
		}, []string{"--timeout 0s", "must be positive"}, ""},

		// Output and log formats.
		{"copy --log-format xml", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--log-format", "xml")
		}, []string{`--log-format "xml"`, "use text or json"}, ""},
		{"--log-format xml before the command", dyn, func(f *badFixture, _ string) []string {
			return append([]string{"--log-format", "xml"}, f.copyArgs()...)
		}, []string{`--log-format "xml"`, "use text or json"}, ""},
		{"copy --log-level loud", dyn, func(f *badFixture, _ string) []string {
			return f.copyArgs("--log-level", "loud")
		}, []string{`--log-level "loud"`, "use debug, info, warn or error"}, ""},
		{"restore --log-format xml", moto, func(f *badFixture, _ string) []string {
			return f.restoreArgs("--table", f.table, "--latest", "--log-format", "xml")
		}, []string{`--log-format "xml"`}, ""},
		{"run --log-format xml", moto, func(f *badFixture, tmp string) []string {
			return f.runArgs(tmp, "--latest", "--log-format", "xml")
		}, []string{`--log-format "xml"`}, ""},
		{"undo --log-format xml", dyn, func(f *badFixture, _ string) []string {
			return f.undoArgs("--journal", f.journal, "--table", f.cpMain, "--yes", "--log-format", "xml")
		}, []string{`--log-format "xml"`}, ""},
		{"cleanup --log-format xml", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--recovery-table", f.rec, "--yes", "--log-format", "xml")
		}, []string{`--log-format "xml"`}, ""},
		{"list --log-format xml", moto, func(f *badFixture, _ string) []string {
			return []string{"list", "--endpoint-url", f.moto.Endpoint, "--log-format", "xml"}
		}, []string{`--log-format "xml"`}, ""},
		{"list --output yaml", moto, func(f *badFixture, _ string) []string {
			return []string{"list", "--endpoint-url", f.moto.Endpoint, "--output", "yaml"}
		}, []string{`--output "yaml"`, "use table, wide or json"}, ""},
		{"diff --output yaml", dyn, func(f *badFixture, _ string) []string {
			return f.diffArgs("--output", "yaml")
		}, []string{`--output "yaml"`, "use text or json"}, ""},

		// Destructive commands off a terminal without --yes.
		{"copy without --yes", dyn, func(f *badFixture, _ string) []string {
			return []string{"copy", "--endpoint-url", f.dyn.Endpoint, "--from", f.from, "--to", f.to}
		}, []string{"refusing to overwrite items of main table {to}", "stdin is not a terminal", "add --yes"}, ""},
		{"cleanup without --yes", moto, func(f *badFixture, _ string) []string {
			return f.cleanupArgs("--recovery-table", f.rec)
		}, []string{"refusing to delete 1 recovery table: {rec}", "add --yes"}, ""},
		{"undo without --yes", dyn, func(f *badFixture, _ string) []string {
			return f.undoArgs("--journal", f.journal, "--table", f.cpMain)
		}, []string{"refusing to put back", "add --yes"}, ""},
		{"run without --yes", moto, func(f *badFixture, tmp string) []string {
			return []string{"run", "--endpoint-url", f.moto.Endpoint, "--table", f.table, "--latest", "--state", filepath.Join(tmp, "state.json")}
		}, []string{"refusing to rewind {table}", "add --yes"}, ""},
	}
}

// TestBadInputCorpus runs every bad input a user can give: each must exit 2
// with one line on stderr naming what is wrong, print nothing on stdout,
// and change no table.
func TestBadInputCorpus(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	for _, tc := range badInputCorpus() {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bug != "" && os.Getenv("DDBREWIND_TEST_BUGS") == "" {
				if os.Getenv("CI") == "true" {
					t.Fatalf("known bug still listed, never skipped in CI: %s (fix it, or run with DDBREWIND_TEST_BUGS=1)", tc.bug)
				}
				t.Skip("BUG: " + tc.bug + " (DDBREWIND_TEST_BUGS=1 runs it)")
			}
			before := f.snapshot(t, tc.on)
			tmp := t.TempDir()
			r := runRecovering(t, tc.args(f, tmp)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2", r.code)
			}
			var lines []string
			for _, l := range strings.Split(r.stderr, "\n") {
				if strings.TrimSpace(l) != "" {
					lines = append(lines, l)
				}
			}
			if len(lines) != 1 {
				t.Errorf("stderr has %d non-empty lines, want exactly one (the error)", len(lines))
			}
			if len(lines) > 0 {
				last := lines[len(lines)-1]
				if !strings.HasPrefix(last, "ddbrewind: ") {
					t.Errorf("error line %q does not start with \"ddbrewind: \"", last)
				}
				for _, w := range tc.want {
					if w = f.expand(w); !strings.Contains(last, w) {
						t.Errorf("error line does not say %q", w)
					}
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("a refused command left files: %v", left)
			}
			f.assertUnchanged(t, tc.on, before)
		})
	}
}

// runRecovering is ddb, but a panic of the CLI fails the test instead of
// crashing the test binary.
func runRecovering(t *testing.T, args ...string) (r result) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("ddbrewind %s panicked: %v", strings.Join(args, " "), p)
			r = result{code: -1, stderr: fmt.Sprintf("panic: %v\n", p)}
		}
	}()
	return ddb(t, args...)
}
