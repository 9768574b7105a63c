package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
	"github.com/ddbrewind/ddbrewind/internal/itemsize"
)

// itemKey is an item's primary key (pk S, sk N as sent by the emulator).
type itemKey struct{ pk, sk string }

func (k itemKey) String() string { return fmt.Sprintf("pk=%q sk=%s", k.pk, k.sk) }

func (k itemKey) av() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: k.pk},
		"sk": &types.AttributeValueMemberN{Value: k.sk},
	}
}

// digest is the SHA-256 (first 16 bytes) of an item's canonical text form
// (ddbtest.FormatValue: S and N as exact strings, B as exact bytes, sets
// sorted, map keys sorted): equal digests mean exactly equal items.
type digest [16]byte

func digestOf(item map[string]types.AttributeValue) digest {
	s := sha256.Sum256([]byte(ddbtest.FormatValue(&types.AttributeValueMemberM{Value: item})))
	return digest(s[:16])
}

// tableDigest is a table's contents reduced to one digest per key.
type tableDigest struct {
	items map[itemKey]digest
	wcu   int64 // write capacity units to write every item once
}

// scanDigest reads the whole table (consistent, 4 parallel segments) and
// returns its digests. keep, if not nil, selects the items to hold.
func scanDigest(ctx context.Context, c *dynamodb.Client, table string, keep func(itemKey) bool) (*tableDigest, error) {
	const segments = 4
	td := &tableDigest{items: make(map[itemKey]digest)}
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	for seg := range segments {
		g.Go(func() error {
			p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{
				TableName:      aws.String(table),
				ConsistentRead: aws.Bool(true),
				Segment:        aws.Int32(int32(seg)),
				TotalSegments:  aws.Int32(segments),
			})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return fmt.Errorf("scan %s segment %d: %w", table, seg, err)
				}
				for _, it := range page.Items {
					k, err := keyOf(it)
					if err != nil {
						return fmt.Errorf("scan %s: %w", table, err)
					}
					if keep != nil && !keep(k) {
						continue
					}
					d, wcu := digestOf(it), writeUnits(it)
					mu.Lock()
					_, dup := td.items[k]
					td.items[k] = d
					td.wcu += wcu
					mu.Unlock()
					if dup {
						return fmt.Errorf("scan %s: key %s returned twice", table, k)
					}
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return td, nil
}

func keyOf(it map[string]types.AttributeValue) (itemKey, error) {
	pk, ok1 := it["pk"].(*types.AttributeValueMemberS)
	sk, ok2 := it["sk"].(*types.AttributeValueMemberN)
	if !ok1 || !ok2 {
		return itemKey{}, fmt.Errorf("item without pk (S) and sk (N): %s", ddbtest.KeyOf(it, "pk", "sk"))
	}
	return itemKey{pk.Value, sk.Value}, nil
}

// verifyCopy scans target and checks that it holds exactly the items of
// want, each equal to the source item byte for byte. On a difference it
// names the first keys and shows the first differing item attribute by
// attribute (read again from source and target).
func verifyCopy(ctx context.Context, c *dynamodb.Client, source, target string, want *tableDigest) error {
	got, err := scanDigest(ctx, c, target, nil)
	if err != nil {
		return fmt.Errorf("verify %s: %w", target, err)
	}
	var missing, extra, differ []itemKey
	for k, d := range want.items {
		g, ok := got.items[k]
		switch {
		case !ok:
			missing = append(missing, k)
		case g != d:
			differ = append(differ, k)
		}
	}
	for k := range got.items {
		if _, ok := want.items[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra)+len(differ) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "verify %s against %s: %d items expected, %d found: %d missing, %d unexpected, %d different",
		target, source, len(want.items), len(got.items), len(missing), len(extra), len(differ))
	for _, l := range []struct {
		what string
		keys []itemKey
	}{{"missing", missing}, {"unexpected", extra}, {"different", differ}} {
		if len(l.keys) == 0 {
			continue
		}
		slices.SortFunc(l.keys, func(a, b itemKey) int { return strings.Compare(a.String(), b.String()) })
		fmt.Fprintf(&b, "\n  %s:", l.what)
		for _, k := range l.keys[:min(3, len(l.keys))] {
			fmt.Fprintf(&b, " {%s}", k)
		}
	}
	if len(differ) > 0 {
		k := differ[0]
		src, err1 := getItem(ctx, c, source, k)
		dst, err2 := getItem(ctx, c, target, k)
		if err1 == nil && err2 == nil {
			for _, line := range ddbtest.DiffItem(src, dst) {
				fmt.Fprintf(&b, "\n    %s", line)
			}
		}
	}
	return fmt.Errorf("%s", b.String())
}

func getItem(ctx context.Context, c *dynamodb.Client, table string, k itemKey) (map[string]types.AttributeValue, error) {
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: k.av(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// writeUnits returns the write capacity units dynalite reports for a put
// of the item.
func writeUnits(item map[string]types.AttributeValue) int64 {
	return itemsize.WriteUnits(itemsize.Dynalite(item))
}
