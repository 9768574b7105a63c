package copier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/statefile"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// changes is a ChangeReader over a slice.
type changes []window.Change

func (c *changes) Next() (window.Change, error) {
	if len(*c) == 0 {
		return window.Change{}, io.EOF
	}
	ch := (*c)[0]
	*c = (*c)[1:]
	return ch, nil
}

// windowExports writes the changes of each export of es (in time order)
// as incremental exports of table to in a new in-memory S3, as AWS writes
// them (Keys, OldImage, NewImage records; one hour each, chained), and
// returns the options that read them (FromExport, Files).
func windowExports(t *testing.T, api API, to string, es ...[]window.Change) Options {
	t.Helper()
	s3 := ddbtest.NewMemS3()
	arn := tableArn(t, api, to)
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var urls []string
	for i, e := range es {
		var lines []string
		for _, ch := range e {
			line := `{"Metadata":{"WriteTimestampMicros":{"N":"1700000000000000"}}`
			for _, part := range []struct {
				name string
				item map[string]types.AttributeValue
			}{{"Keys", ch.Keys}, {"OldImage", ch.Old}, {"NewImage", ch.New}} {
				if part.item == nil {
					continue
				}
				data, err := ddbjson.MarshalItem(part.item)
				if err != nil {
					t.Fatal(err)
				}
				line += `,"` + part.name + `":` + string(data)
			}
			lines = append(lines, line+"}")
		}
		x := ddbtest.WriteExportLines(t, s3, "exports", "inc", [][]string{lines}, ddbtest.ExportOptions{
			ID: fmt.Sprintf("01700000000000-wind%04d", i), TableArn: arn, ExportType: "INCREMENTAL_EXPORT", ExportTime: t0.Add(time.Duration(i) * time.Hour)})
		urls = append(urls, x.URL)
	}
	return Options{FromExport: urls, Files: &statefile.Store{S3: s3}}
}

// runIncrementalRewind is the conformance suite of the incremental
// window (TestConformance, on the fake and on dynalite): the keys an export
// window changed are put back as they were at the window's start, items
// created in it deleted (--delete-extra), items written again after the
// window left alone as conflicts (exit 3) unless --overwrite-conflicts; a
// journal undoes it; keys the window did not change are never read or
// written.
func runIncrementalRewind(t *testing.T, be backend) {
	key := func(i int) string { return fmt.Sprintf("k%03d", i) }
	k := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	at := func(v string, is ...int) (out []map[string]types.AttributeValue) {
		for _, i := range is {
			out = append(out, confItem(key(i), v))
		}
		return out
	}
	span := func(from, to int) (is []int) {
		for i := from; i < to; i++ {
			is = append(is, i)
		}
		return is
	}
	byKey := func(items ...[]map[string]types.AttributeValue) map[string]map[string]types.AttributeValue {
		m := map[string]map[string]types.AttributeValue{}
		for _, list := range items {
			for _, it := range list {
				m[ddbjson.KeyString(keyOf(it, memKey))] = it
			}
		}
		return m
	}
	// The window's start: k000-k039. Export 1 changes k000-k009, creates
	// k040-k044, deletes k030-k034; export 2 changes k000-k004 again,
	// creates k045 and deletes k040 (created in the window: no net change).
	start := at("start", span(0, 40)...)
	var e1, e2 changes
	for i := range 10 {
		e1 = append(e1, window.Change{Keys: k(key(i)), Old: confItem(key(i), "start"), New: confItem(key(i), "mid")})
	}
	for i := 40; i < 45; i++ {
		e1 = append(e1, window.Change{Keys: k(key(i)), New: confItem(key(i), "created")})
	}
	for i := 30; i < 35; i++ {
		e1 = append(e1, window.Change{Keys: k(key(i)), Old: confItem(key(i), "start")})
	}
	for i := range 5 {
		e2 = append(e2, window.Change{Keys: k(key(i)), Old: confItem(key(i), "mid"), New: confItem(key(i), "end")})
	}
	e2 = append(e2, window.Change{Keys: k(key(45)), New: confItem(key(45), "created")}, window.Change{Keys: k(key(40)), Old: confItem(key(40), "created")})
	// Now: the window's end, then writes after it: k001 changed, k041
	// changed, k031 created again.
	now := byKey(at("end", span(0, 5)...), at("mid", span(5, 10)...), at("start", span(10, 30)...), at("start", span(35, 40)...),
		at("created", 41, 42, 43, 44, 45), at("later", 1, 41, 31))
	nowItems := make([]map[string]types.AttributeValue, 0, len(now))
	for _, it := range now {
		nowItems = append(nowItems, it)
	}

	// The keys the window changed: k000-k009, k030-k034, k040-k045.
	const changedKeys = 21
	tests := []struct {
		name        string
		deleteExtra bool
		overwrite   bool
		want        map[string]map[string]types.AttributeValue
		conflicts   int64
		written     int64
		deleted     int64
	}{
		{"conflicts left alone, extras deleted", true, false, func() map[string]map[string]types.AttributeValue {
			m := byKey(start, at("later", 1, 41, 31))
			return m
		}(), 3, 13, 4},
		{"extras kept without --delete-extra", false, false, func() map[string]map[string]types.AttributeValue {
			return byKey(start, at("created", 42, 43, 44, 45), at("later", 1, 41, 31))
		}(), 2, 13, 0},
		{"--overwrite-conflicts", true, true, byKey(start), 0, 15, 5},
	}
	t.Run("selection", func(t *testing.T) {
		keysPath := filepath.Join(t.TempDir(), "keys.jsonl")
		if err := os.WriteFile(keysPath, []byte(`{"pk":{"S":"k000"}}`+"\n"+`{"pk":{"S":"k030"}}`+"\n"+`{"pk":{"S":"k042"}}`+"\n"+`{"pk":{"S":"k020"}}`+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, sc := range []struct {
			name string
			sel  Selection
			want map[string]map[string]types.AttributeValue
		}{
			{"key condition", Selection{KeyCondition: "pk = :p", Values: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "k005"}}},
				func() map[string]map[string]types.AttributeValue {
					m := byKey(nowItems)
					m[ddbjson.KeyString(k(key(5)))] = confItem(key(5), "start")
					return m
				}()},
			{"keys file", Selection{KeysFile: keysPath}, func() map[string]map[string]types.AttributeValue {
				m := byKey(nowItems)
				m[ddbjson.KeyString(k(key(0)))] = confItem(key(0), "start")
				m[ddbjson.KeyString(k(key(30)))] = confItem(key(30), "start")
				delete(m, ddbjson.KeyString(k(key(42))))
				return m
			}()},
		} {
			t.Run(sc.name, func(t *testing.T) {
				to := be.create(t, "main")
				be.put(t, to, nowItems)
				o := windowExports(t, be.api, to, e1, e2)
				o.To, o.DeleteExtra, o.Selection = to, true, sc.sel
				p, err := Prepare(context.Background(), be.api, o)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := p.Run(context.Background(), be.api); err != nil {
					t.Fatal(err)
				}
				assertItems(t, "after a selected rewind", sc.want, be.scan(t, to))
			})
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			to := be.create(t, "main")
			be.put(t, to, nowItems)
			journal := filepath.Join(t.TempDir(), "journal.jsonl")
			o := windowExports(t, be.api, to, e1, e2)
			o.To, o.DeleteExtra, o.Journal, o.Writers, o.OverwriteConflicts = to, tt.deleteExtra, journal, 3, tt.overwrite
			p, err := Prepare(context.Background(), be.api, o)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := p.Run(context.Background(), be.api)
			var ce *ConflictError
			switch {
			case tt.conflicts > 0 && (!errors.As(err, &ce) || ce.Conflicts != tt.conflicts || len(sum.Conflicts) != int(tt.conflicts)):
				t.Fatalf("Run: %v (%d listed), want %d conflicts", err, len(sum.Conflicts), tt.conflicts)
			case tt.conflicts == 0 && err != nil:
				t.Fatal(err)
			}
			assertItems(t, "after the rewind", tt.want, be.scan(t, to))
			if c := sum.Counts; c.Written != tt.written || c.Deleted != tt.deleted || c.Read != changedKeys {
				t.Errorf("written %d deleted %d read %d; want %d %d %d", c.Written, c.Deleted, c.Read, tt.written, tt.deleted, changedKeys)
			}
			u, err := PrepareUndo(context.Background(), be.api, UndoOptions{Options{To: to, Journal: journal}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := u.Run(context.Background(), be.api); err != nil {
				t.Fatal(err)
			}
			assertItems(t, "after undo", now, be.scan(t, to))
		})
	}
}
