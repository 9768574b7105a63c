package copier

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/itemeq"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/window"
)

// raceOp is one acknowledged write of a concurrent writer.
type raceOp struct {
	kind string // modify, add, remove, delete
	id   string
}

// keeps reports whether the item cur (nil: absent) still shows op.
func (op raceOp) keeps(cur map[string]types.AttributeValue) bool {
	switch op.kind {
	case "modify":
		v, ok := cur["v"].(*types.AttributeValueMemberS)
		return ok && v.Value == op.id
	case "add":
		v, ok := cur["extra"].(*types.AttributeValueMemberS)
		return ok && v.Value == op.id
	case "remove":
		_, has := cur["v"]
		return cur != nil && !has
	default:
		return cur == nil
	}
}

// TestRewindRaceWithWriters rewinds a window of 600 keys on dynalite while
// writers keep writing the same keys (modify, add an attribute, remove an
// attribute, delete), each key written by one writer in turn. Every
// acknowledged write is either still in the table (the last one of its
// key) or superseded by its own writer's next write, or its key is listed
// (a conflict, or clobbered: overwritten by the rewind and journaled); none
// is lost. ddbrewind's writes go through a proxy that delays them, so the
// writers hit the gap between the rewind's read and its writes. Undo then
// never puts back over the writers' writes: its own conflicts are listed.
func TestRewindRaceWithWriters(t *testing.T) {
	t.Parallel()
	srv := pool.Get(t, ddbtest.Dynalite)
	direct := srv.Client(t)
	proxy := ddbtest.NewFaultProxy(t, srv.Endpoint, ddbtest.FaultConfig{Seed: 7, Ops: []string{"PutItem", "DeleteItem"}, Latency: 4 * time.Millisecond})
	api := srv.Client(t, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(proxy.URL()) })
	table := ddbtest.UniqueName(t, "race")
	ddbtest.CreateTable(t, direct, table, ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS})

	const n, writers = 600, 6
	key := func(i int) string { return fmt.Sprintf("r%04d", i) }
	var chs changes
	var end []map[string]types.AttributeValue
	for i := range n {
		k := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(i)}}
		chs = append(chs, window.Change{Keys: k, Old: confItem(key(i), "start"), New: confItem(key(i), "end")})
		end = append(end, confItem(key(i), "end"))
	}
	ddbtest.PutItems(t, direct, table, end)
	w, err := window.Build(nil, &chs)
	if err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(t.TempDir(), "journal.jsonl")
	p, err := prepareWindowRewind(context.Background(), api, Options{To: table, From: "export", Journal: journal, Writers: 4}, w)
	if err != nil {
		t.Fatal(err)
	}

	// The writers: writer g owns the keys i with i % writers == g and
	// writes them in turn, a random operation each, until the rewind ends.
	// Every write is sent with a context of its own, so that none is cut
	// off unacknowledged: the writers stop between writes.
	ctx := context.Background()
	var stopped atomic.Bool
	acked := make([]map[int][]raceOp, writers)
	var wg sync.WaitGroup
	for g := range writers {
		acked[g] = map[int][]raceOp{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for seq := 0; !stopped.Load(); seq++ {
				i := g + writers*rng.IntN(n/writers)
				k := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(i)}}
				op := raceOp{kind: []string{"modify", "add", "remove", "delete"}[rng.IntN(4)], id: fmt.Sprintf("w%d-%d", g, seq)}
				var err error
				switch op.kind {
				case "modify":
					it := confItem(key(i), op.id)
					_, err = direct.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
				case "add":
					_, err = direct.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: k,
						UpdateExpression: aws.String("SET extra = :x"), ExpressionAttributeValues: map[string]types.AttributeValue{":x": &types.AttributeValueMemberS{Value: op.id}}})
				case "remove":
					_, err = direct.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: k,
						UpdateExpression: aws.String("REMOVE v"), ConditionExpression: aws.String("attribute_exists(pk)")})
					var ccf *types.ConditionalCheckFailedException
					if errors.As(err, &ccf) {
						continue // absent: nothing written
					}
				case "delete":
					_, err = direct.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: k})
				}
				if err == nil {
					acked[g][i] = append(acked[g][i], op)
				}
			}
		}()
	}
	sum, runErr := p.Run(context.Background(), api)
	stopped.Store(true)
	wg.Wait()
	var ce *ConflictError
	if runErr != nil && !errors.As(runErr, &ce) {
		t.Fatal(runErr)
	}

	listed := map[string]bool{}
	for _, k := range append(append([]string(nil), sum.Conflicts...), sum.Clobbered...) {
		listed[k] = true
	}
	now := map[string]map[string]types.AttributeValue{}
	for _, it := range ddbtest.ScanAll(t, direct, table) {
		now[ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	var acknowledged, kept, superseded, listedN, lost int
	var lostKeys []string
	for g := range writers {
		for i, ops := range acked[g] {
			ks := ddbjson.KeyString(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(i)}})
			acknowledged += len(ops)
			superseded += len(ops) - 1
			last := ops[len(ops)-1]
			switch {
			case last.keeps(now[ks]):
				kept++
			case listed[ks]:
				listedN++
			default:
				lost++
				lostKeys = append(lostKeys, ks+" "+last.kind)
			}
		}
	}
	t.Logf("race: %d acknowledged concurrent writes on %d keys: %d superseded by their own writer's next write; of the last writes, %d kept in the table, %d listed (conflicts %d, clobbered %d), %d lost",
		acknowledged, kept+listedN+lost, superseded, kept, listedN, sum.Counts.Conflicts, sum.Counts.Clobbered, lost)
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost without being listed: %v", lost, lostKeys[:min(len(lostKeys), 10)])
	}
	if acknowledged == 0 {
		t.Fatalf("no concurrent write was acknowledged during the rewind")
	}
	// Keys no writer touched are rewound.
	touched := map[int]bool{}
	for g := range writers {
		for i := range acked[g] {
			touched[i] = true
		}
	}
	for i := range n {
		ks := ddbjson.KeyString(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(i)}})
		if !touched[i] && !itemeq.Items(now[ks], confItem(key(i), "start")) {
			t.Errorf("%s, not written concurrently, is not rewound: %v", ks, now[ks])
		}
	}

	// Undo: the writers' last writes stay; where ddbrewind's write is
	// still there, the window's end is put back.
	u, err := PrepareUndo(context.Background(), api, UndoOptions{Options{To: table, Journal: journal}})
	if err != nil {
		t.Fatal(err)
	}
	usum, err := u.Run(context.Background(), api)
	var uce *ConflictError
	if err != nil && !errors.As(err, &uce) {
		t.Fatal(err)
	}
	after := map[string]map[string]types.AttributeValue{}
	for _, it := range ddbtest.ScanAll(t, direct, table) {
		after[ddbjson.KeyString(keyOf(it, memKey))] = it
	}
	undoLost := 0
	for g := range writers {
		for i, ops := range acked[g] {
			ks := ddbjson.KeyString(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(i)}})
			if last := ops[len(ops)-1]; last.keeps(now[ks]) && !last.keeps(after[ks]) {
				undoLost++
			}
		}
	}
	t.Logf("undo: %d written, %d deleted, %d undo conflicts; %d kept writes overwritten by undo", usum.Counts.Written, usum.Counts.Deleted, usum.Counts.Conflicts, undoLost)
	if undoLost > 0 {
		t.Errorf("undo overwrote %d writes made after the rewind", undoLost)
	}
	for i := range n {
		ks := ddbjson.KeyString(map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: key(i)}})
		if !touched[i] && !itemeq.Items(after[ks], confItem(key(i), "end")) {
			t.Errorf("%s, not written concurrently, is not undone: %v", ks, after[ks])
		}
	}
}
