package copier

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// readsOf is the fake that records, by table, the BatchGetItem calls that
// were not strongly consistent.
type readsOf struct {
	*memAPI
	mu           sync.Mutex
	inconsistent map[string]int
}

func (r *readsOf) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	r.mu.Lock()
	for table, ka := range in.RequestItems {
		if !aws.ToBool(ka.ConsistentRead) {
			r.inconsistent[table]++
		}
	}
	r.mu.Unlock()
	return r.memAPI.BatchGetItem(ctx, in, optFns...)
}

// TestMainTableReadsAreConsistent: every read of the main table's current
// items — the journal's before-images, --only-missing's check, a rewind's
// read before its conditional writes — is strongly consistent: an
// eventually consistent read may miss a write made a moment before, and
// journal a version that is already gone (undo would put it back) or
// take a present item for a missing one.
func TestMainTableReadsAreConsistent(t *testing.T) {
	src, main := confTables(30, 10, 10, 5)
	k := func(pk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
	}
	tests := []struct {
		name string
		run  func(t *testing.T, api API, journal string) error
	}{
		{"overwrite with a journal", func(t *testing.T, api API, journal string) error {
			_, err := runCopy(t, api, Options{From: "rec", To: "main", Journal: journal, DeleteExtra: true})
			return err
		}},
		{"only-missing", func(t *testing.T, api API, journal string) error {
			_, err := runCopy(t, api, Options{From: "rec", To: "main", Journal: journal, OnlyMissing: true})
			return err
		}},
		{"if-main", func(t *testing.T, api API, journal string) error {
			_, err := runCopy(t, api, Options{From: "rec", To: "main", Journal: journal, IfMain: "attribute_exists(pk)", DeleteExtra: true})
			return err
		}},
		{"incremental rewind", func(t *testing.T, api API, journal string) error {
			var chs []window.Change
			for i := range 10 {
				pk := fmt.Sprintf("k%03d", i)
				chs = append(chs, window.Change{Keys: k(pk), Old: confItem(pk, "start"), New: confItem(pk, "good")})
			}
			_, err := runRewind(t, api, Options{To: "main", From: "export", Journal: journal}, chs)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemAPI()
			m.create("rec")
			m.create("main")
			api := &readsOf{memAPI: m, inconsistent: map[string]int{}}
			for _, it := range src {
				m.tables["rec"][ddbjson.KeyString(keyOf(it, memKey))] = it
			}
			for _, it := range main {
				m.tables["main"][ddbjson.KeyString(keyOf(it, memKey))] = it
			}
			if err := tt.run(t, api, filepath.Join(t.TempDir(), "journal.jsonl")); err != nil {
				t.Fatal(err)
			}
			if n := api.inconsistent["main"]; n > 0 {
				t.Errorf("%d eventually consistent reads of the main table", n)
			}
		})
	}
}
