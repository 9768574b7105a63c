package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ddbrewind/ddbrewind/restore"
)

// TestReviewOutFmtBytes: sizes in list are binary units with one decimal,
// never a value that rounds up to 1024 of a unit ("1024.0 KiB" is 1.0 MiB).
func TestReviewOutFmtBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1, "1 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{1024*1024 - 1, "1.0 MiB"}, {1024 * 1024, "1.0 MiB"}, {1024*1024 - 52, "1023.9 KiB"},
		{1288490189, "1.2 GiB"}, {1<<40 - 1, "1.0 TiB"}, {1 << 50, "1.0 PiB"}, {1<<62 + 1<<61, "6.0 EiB"},
	} {
		if got := fmtBytes(tc.n); got != tc.want {
			t.Errorf("fmtBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

// TestReviewOutListTable: list's table has a column per field in order,
// times in RFC 3339 UTC, counts with thousands separators, "-" for a time
// that is not known and for the counts of a young table that reports
// none yet (with the line that says why), and in wide the source and the
// creation time.
func TestReviewOutListTable(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	paris := time.FixedZone("CET", 3600)
	tables := []restore.RecoveryTable{
		{Name: "orders-rewind-a", SourceTable: "orders", RestorePoint: time.Date(2026, 12, 1, 9, 30, 0, 0, paris), CreatedAt: now.Add(-30 * time.Hour),
			Status: "ACTIVE", ItemCount: 1843221, SizeBytes: 1288490189},
		{Name: "orders-rewind-b", SourceTable: "orders", RestorePoint: now.Add(-time.Hour), CreatedAt: now.Add(-time.Minute), Status: "CREATING"},
		{Name: "old-empty", SourceTable: "x", Status: "ACTIVE", CreatedAt: now.Add(-7 * time.Hour)},
		{Name: "young-sized", SourceTable: "x", Status: "ACTIVE", CreatedAt: now.Add(-time.Hour), SizeBytes: 100},
	}
	for _, tc := range []struct {
		wide bool
		want string
	}{
		{false, `NAME             RESTORE POINT         STATUS    ITEMS      SIZE
orders-rewind-a  2026-12-01T08:30:00Z  ACTIVE    1,843,221  1.2 GiB
orders-rewind-b  2026-12-07T11:00:00Z  CREATING  -          -
old-empty        -                     ACTIVE    0          0 B
young-sized      -                     ACTIVE    0          100 B
-: not counted yet: DynamoDB updates a table's item count and size about every 6 hours
`},
		{true, `NAME             SOURCE  RESTORE POINT         CREATED               STATUS    ITEMS      SIZE
orders-rewind-a  orders  2026-12-01T08:30:00Z  2026-12-06T06:00:00Z  ACTIVE    1,843,221  1.2 GiB
orders-rewind-b  orders  2026-12-07T11:00:00Z  2026-12-07T11:59:00Z  CREATING  -          -
old-empty        x       -                     2026-12-07T05:00:00Z  ACTIVE    0          0 B
young-sized      x       -                     2026-12-07T11:00:00Z  ACTIVE    0          100 B
-: not counted yet: DynamoDB updates a table's item count and size about every 6 hours
`},
	} {
		var out strings.Builder
		env := &Env{Out: &out, Now: func() time.Time { return now }}
		if err := printRecoveryTables(env, tables, tc.wide); err != nil {
			t.Fatal(err)
		}
		if out.String() != tc.want {
			t.Errorf("wide %v:\n%s\nwant\n%s", tc.wide, out.String(), tc.want)
		}
	}
}

// TestReviewOutListJSONFields: list --output json is an array of objects
// with the fields PRODUCT.md names (name, source table, restore point,
// created, status, item count, size) under stable names, times in RFC 3339
// UTC, sorted by name.
func TestReviewOutListJSONFields(t *testing.T) {
	t.Parallel()
	srv, c, table := motoTable(t, true)
	recB := restored(t, srv, c, table, "zz")
	recA := restored(t, srv, c, table, "aa")
	r := ddb(t, "list", "--endpoint-url", srv.Endpoint, "--source", table, "-o", "json")
	var got []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || len(got) != 2 {
		t.Fatalf("exit %d, %v:\n%s", r.code, err, r.stdout)
	}
	if got[0]["name"] != recA || got[1]["name"] != recB {
		t.Errorf("order %v, %v; want %s then %s (by name)", got[0]["name"], got[1]["name"], recA, recB)
	}
	want := []string{"arn", "created_at", "deletion_protection", "item_count", "name", "restore_point", "restored", "size_bytes", "source_table", "status"}
	for _, rt := range got {
		if keys := slices.Sorted(maps.Keys(rt)); !slices.Equal(keys, want) {
			t.Errorf("fields %q, want %q", keys, want)
		}
		for _, f := range []string{"restore_point", "created_at"} {
			s, _ := rt[f].(string)
			if ts, err := time.Parse(time.RFC3339, s); err != nil || !strings.HasSuffix(s, "Z") || ts.IsZero() {
				t.Errorf("%s %q: want an RFC 3339 UTC time", f, s)
			}
		}
		if rt["source_table"] != table || rt["status"] != "ACTIVE" || rt["item_count"] != 20.0 {
			t.Errorf("listed %v", rt)
		}
		if _, ok := rt["size_bytes"].(float64); !ok {
			t.Errorf("size_bytes %v: want a number", rt["size_bytes"])
		}
	}

	// Backups: [] when there is none; as a table, the columns in order.
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--backups", "--table", table, "-o", "json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("list --backups -o json of a table without backups: exit %d %q, want []", r.code, r.stdout)
	}
	arn, created := createBackup(t, c, table, "nightly")
	r = ddb(t, "list", "--endpoint-url", srv.Endpoint, "--backups", "--table", table)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "NAME CREATED SIZE TYPE STATUS ARN" {
		t.Fatalf("list --backups: exit %d\n%s", r.code, r.stdout)
	}
	f := strings.Fields(lines[1])
	if len(f) != 7 || f[0] != "nightly" || f[1] != created.UTC().Format(time.RFC3339) || f[3] != "B" && f[3] != "KiB" || f[4] != "USER" || f[5] != "AVAILABLE" || f[6] != arn {
		t.Errorf("list --backups row %q", lines[1])
	}
}
