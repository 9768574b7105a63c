package copier

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// halfGets is the fake whose BatchGetItem reads only the first half of
// each table's keys (rounded up) and returns the rest as UnprocessedKeys,
// with the request's projection and consistency, call after call.
type halfGets struct{ *memAPI }

func (h halfGets) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	send, rest := map[string]types.KeysAndAttributes{}, map[string]types.KeysAndAttributes{}
	for table, ka := range in.RequestItems {
		n := (len(ka.Keys) + 1) / 2
		s, r := ka, ka
		s.Keys, r.Keys = ka.Keys[:n], ka.Keys[n:]
		send[table] = s
		if len(r.Keys) > 0 {
			rest[table] = r
		}
	}
	out, err := h.memAPI.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: send}, optFns...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = rest
	return out, nil
}

// TestUnprocessedKeysAreNeverTakenForMissing: a keys-file copy with
// --delete-extra whose BatchGetItem calls leave part of their keys
// unprocessed, call after call, reads every key in the end: a key found
// by a later call is copied — never taken for a key the recovery table
// lacks, which --delete-extra would delete from the main table — and only
// the keys it really lacks are deleted and reported. On the fake and on
// dynalite through the fault proxy.
func TestUnprocessedKeysAreNeverTakenForMissing(t *testing.T) {
	backends := []struct {
		name string
		get  func(t *testing.T) (backend, API)
	}{
		{"fake", func(*testing.T) (backend, API) {
			be := memBackend()
			return be, halfGets{be.api.(*memAPI)}
		}},
		{"dynalite", func(t *testing.T) (backend, API) {
			be := dynaliteBackend(t)
			srv := pool.Get(t, ddbtest.Dynalite)
			proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Seed: 3, Ops: []string{"BatchGetItem"}, Partial: 1})
			return be, srv.Client(t, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(proxy.URL()) })
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			be, api := b.get(t)
			// The recovery table holds k000-k119; the main table k000-k039
			// equal, k040-k059 changed, and extras x00-x14.
			src, main := confTables(120, 40, 20, 15)
			from, to := be.create(t, "rec"), be.create(t, "main")
			be.put(t, from, src)
			be.put(t, to, main)
			// The keys file: every key of both tables, x00-x14 last.
			var lines []string
			for i := range 120 {
				lines = append(lines, fmt.Sprintf(`{"pk":{"S":"k%03d"}}`, i))
			}
			for i := range 15 {
				lines = append(lines, fmt.Sprintf(`{"pk":{"S":"x%02d"}}`, i))
			}
			keys := filepath.Join(t.TempDir(), "keys.jsonl")
			if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			sum, err := runCopy(t, api, Options{From: from, To: to, DeleteExtra: true, Selection: Selection{KeysFile: keys}})
			if err != nil {
				t.Fatal(err)
			}
			assertItems(t, "after the copy", confByKey(src), be.scan(t, to))
			c := sum.Counts
			if c.Written != 120 || c.Deleted != 15 || c.NotInRecovery != 15 || c.Failed != 0 || len(sum.NotInRecovery) != 15 {
				t.Errorf("written %d deleted %d not in recovery %d (%d listed) failed %d; want 120 15 15 (15) 0",
					c.Written, c.Deleted, c.NotInRecovery, len(sum.NotInRecovery), c.Failed)
			}
			for _, k := range sum.NotInRecovery {
				if !strings.Contains(k, `"x`) {
					t.Errorf("%s reported not in the recovery table", k)
				}
			}
			if c.Throttles == 0 {
				t.Errorf("no throttle counted: no key was left unprocessed")
			}
		})
	}
}
