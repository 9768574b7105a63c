package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/ddbtest"
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

// writeUnits returns the write capacity units a put of the item consumes:
// one per started KiB of itemSize.
func writeUnits(item map[string]types.AttributeValue) int64 {
	return int64(max(1, (itemSize(item)+1023)/1024))
}

// itemSize returns the item's size as dynalite counts it for consumed
// capacity (db/index.js itemSize, after DynamoDB's rules): attribute names
// and strings by their UTF-16 length, numbers by their significant digits,
// binary by its bytes, 1 for BOOL and NULL, 3 plus 1 an element for L and M.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += utf16Len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return utf16Len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += utf16Len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += numberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	case *types.AttributeValueMemberM:
		return 3 + len(v.Value) + itemSize(v.Value)
	default:
		return 0
	}
}

// utf16Len is the length of s in UTF-16 code units (JavaScript's length).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 && r <= utf8.MaxRune {
			n++
		}
	}
	return n
}

// numberSize is dynalite's size of a number: 1 + ceil(digits/2), plus 1
// when the digit count and the exponent are both even, plus 1 if negative.
func numberSize(s string) int {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, ok := new(big.Int).SetString(s[i+1:], 10)
		if !ok || !e.IsInt64() {
			return len(s)
		}
		exp = int(e.Int64())
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	point := len(intPart) + exp // the decimal point is after `point` digits
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
		point--
	}
	digits = strings.TrimRight(digits, "0")
	if digits == "" {
		return 1
	}
	e := point - 1 // big.js exponent: value = d.ddd × 10^e
	n := 1 + (len(digits)+1)/2
	if len(digits)%2 == 0 && e%2 == 0 {
		n++
	}
	if neg {
		n++
	}
	return n
}
