package copier

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// TestKeysNotInTheSourceStayWithoutDeleteExtra: the keys of a keys file
// that the recovery table lacks are deleted from the main table only with
// --delete-extra; without it they are reported and left alone, whatever
// the write mode.
func TestKeysNotInTheSourceStayWithoutDeleteExtra(t *testing.T) {
	src, main := confTables(10, 5, 5, 3)
	keys := filepath.Join(t.TempDir(), "keys.jsonl")
	var lines []string
	for _, pk := range []string{"k000", "k007", "x00", "x02"} {
		lines = append(lines, `{"pk":{"S":"`+pk+`"}}`)
	}
	if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		opts    Options
		deleted int64
	}{
		{"overwrite", Options{}, 0},
		{"only-missing", Options{OnlyMissing: true}, 0},
		{"if-main", Options{IfMain: "attribute_exists(pk)"}, 0},
		{"overwrite, --delete-extra", Options{DeleteExtra: true}, 2},
		{"if-main, --delete-extra", Options{IfMain: "attribute_exists(pk)", DeleteExtra: true}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			be := memBackend()
			from, to := be.create(t, "rec"), be.create(t, "main")
			be.put(t, from, src)
			be.put(t, to, main)
			o := tt.opts
			o.From, o.To, o.Selection.KeysFile = from, to, keys
			sum, err := runCopy(t, be.api, o)
			if err != nil {
				t.Fatal(err)
			}
			got := be.scan(t, to)
			for _, pk := range []string{"x00", "x02"} {
				_, ok := got[`{"pk":{"S":"`+pk+`"}}`]
				if ok != (tt.deleted == 0) {
					t.Errorf("%s in main after the copy: %v, want %v", pk, ok, tt.deleted == 0)
				}
			}
			if c := sum.Counts; c.Deleted != tt.deleted || c.NotInRecovery != 2 {
				t.Errorf("deleted %d not in recovery %d, want %d 2", c.Deleted, c.NotInRecovery, tt.deleted)
			}
		})
	}
}

// TestRewindAgainKeepsWhatIsRewound: the same rewind run again (no
// checkpoint) finds every key in its start state: nothing is written, and
// every key counts as skipped (already rewound).
func TestRewindAgainKeepsWhatIsRewound(t *testing.T) {
	be := memBackend()
	to := be.create(t, "main")
	var chs []window.Change
	var end []map[string]types.AttributeValue
	for i := range 30 {
		pk := fmt.Sprintf("k%03d", i)
		key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
		chs = append(chs, window.Change{Keys: key, Old: confItem(pk, "start"), New: confItem(pk, "end")})
		end = append(end, confItem(pk, "end"))
	}
	be.put(t, to, end)
	for i, want := range []struct{ written, skipped int64 }{{30, 0}, {0, 30}} {
		sum, err := runRewind(t, be.api, Options{To: to, From: "export"}, chs)
		if err != nil {
			t.Fatal(err)
		}
		if c := sum.Counts; c.Written != want.written || c.Skipped != want.skipped || c.Conflicts != 0 {
			t.Errorf("run %d: written %d skipped %d conflicts %d, want %d %d 0", i+1, c.Written, c.Skipped, c.Conflicts, want.written, want.skipped)
		}
	}
}

// throttledPuts is the fake whose PutItem of the keys in stuck is
// throttled, call after call.
type throttledPuts struct {
	*memAPI
	stuck map[string]bool // by KeyString
}

func (p *throttledPuts) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if p.stuck[ddbjson.KeyString(keyOf(in.Item, memKey))] {
		return nil, throttled
	}
	return p.memAPI.PutItem(ctx, in, optFns...)
}

// TestRewindGivesUpExactlyItsStuckKeys: a rewind whose conditional writes
// of some keys are throttled until --max-retry-time gives up exactly those
// keys — counted as failed, listed in the report (exit 3) — and writes the
// others. On the fake clock of a synctest bubble.
func TestRewindGivesUpExactlyItsStuckKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newMemAPI()
		m.create("main")
		api := &throttledPuts{memAPI: m, stuck: map[string]bool{}}
		var chs []window.Change
		var want []string
		for i := range 30 {
			pk := fmt.Sprintf("k%03d", i)
			key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
			chs = append(chs, window.Change{Keys: key, Old: confItem(pk, "start"), New: confItem(pk, "end")})
			m.tables["main"][ddbjson.KeyString(key)] = confItem(pk, "end")
			if i%7 == 3 {
				api.stuck[ddbjson.KeyString(key)] = true
				want = append(want, ddbjson.KeyString(key))
			}
		}
		sum, err := runRewind(t, api, Options{To: "main", From: "export", MaxRetryTime: 5 * time.Second}, chs)
		var inc *IncompleteError
		if !errors.As(err, &inc) {
			t.Fatalf("rewind: %v, want *IncompleteError", err)
		}
		got := slices.Sorted(slices.Values(sum.Unwritten))
		if c := sum.Counts; c.Failed != int64(len(want)) || c.Written != int64(30-len(want)) || !slices.Equal(got, want) {
			t.Errorf("failed %d written %d unwritten %v; want %d, %d, %v", c.Failed, c.Written, got, len(want), 30-len(want), want)
		}
	})
}
