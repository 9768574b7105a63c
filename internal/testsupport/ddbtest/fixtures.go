package ddbtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/ddbrewind/ddbrewind/internal/itemsize"
)

// maxNameLen is the longest name UniqueName returns.
const maxNameLen = 100

// UniqueName returns a valid DynamoDB table name (3 to 100 characters of
// [a-zA-Z0-9_.-]) made of prefix, t.Name() and a random suffix, so that
// tests sharing an endpoint, even from other processes, never collide.
// Invalid characters become '_' and long parts are cut.
func UniqueName(t testing.TB, prefix string) string {
	t.Helper()
	suffix := strings.ToLower(rand.Text()[:10]) // 50 random bits
	prefix = sanitizeName(prefix)
	name := sanitizeName(t.Name())
	if prefix != "" {
		prefix += "-"
	}
	if room := maxNameLen - len(suffix) - 1; len(prefix) > room {
		prefix = prefix[:room]
	}
	if room := maxNameLen - len(suffix) - 1 - len(prefix); len(name) > room {
		name = name[:room]
	}
	if name == "" {
		return prefix + suffix
	}
	return prefix + name + "-" + suffix
}

// sanitizeName replaces every character a table name cannot hold with '_'.
func sanitizeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			return r
		default:
			return '_'
		}
	}, s)
}

// TableSpec describes a test table's keys.
type TableSpec struct {
	// HashKey and HashType name the partition key and its type (S, N or B).
	HashKey  string
	HashType types.ScalarAttributeType
	// RangeKey and RangeType name the optional sort key; RangeKey ""
	// means none.
	RangeKey  string
	RangeType types.ScalarAttributeType
	// PITR enables point-in-time recovery (moto only: dynalite lacks it).
	PITR bool
}

// MixedSpec returns the TableSpec for MixedItems: hash key "pk" (S) and
// range key "sk" (N).
func MixedSpec() TableSpec {
	return TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "sk", RangeType: types.ScalarAttributeTypeN}
}

// CreateTable creates an on-demand (PAY_PER_REQUEST) table, waits until it
// is ACTIVE, enables point-in-time recovery when spec.PITR is set, and
// deletes the table when the test ends. It fails the test on any error
// (but not on a failed deletion on an emulator that has gone down).
func CreateTable(t testing.TB, c *dynamodb.Client, name string, spec TableSpec) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := createTable(ctx, c, name, spec); err != nil {
		t.Fatalf("ddbtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := deleteTable(ctx, c, name)
		var down *DownError
		switch {
		case errors.As(err, &down):
			// Its emulator is gone, and the table with it; the test
			// that met it has failed saying so.
			t.Logf("ddbtest: cleanup: table %s not deleted: %v", name, down)
		case err != nil:
			t.Errorf("ddbtest: cleanup: %v", err)
		}
	})
	if spec.PITR {
		_, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName: aws.String(name),
			PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{
				PointInTimeRecoveryEnabled: aws.Bool(true),
			},
		})
		if err != nil {
			t.Fatalf("ddbtest: enable point-in-time recovery on %s (dynalite has none; use moto): %v", name, err)
		}
	}
}

// createTable creates the table and waits until it is ACTIVE.
func createTable(ctx context.Context, c *dynamodb.Client, name string, spec TableSpec) error {
	if spec.HashKey == "" || spec.HashType == "" {
		return fmt.Errorf("create table %s: TableSpec needs HashKey and HashType", name)
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(spec.HashKey), AttributeType: spec.HashType},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(spec.HashKey), KeyType: types.KeyTypeHash},
		},
	}
	if spec.RangeKey != "" {
		if spec.RangeType == "" {
			return fmt.Errorf("create table %s: TableSpec.RangeKey %q needs a RangeType", name, spec.RangeKey)
		}
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			types.AttributeDefinition{AttributeName: aws.String(spec.RangeKey), AttributeType: spec.RangeType})
		in.KeySchema = append(in.KeySchema,
			types.KeySchemaElement{AttributeName: aws.String(spec.RangeKey), KeyType: types.KeyTypeRange})
	}
	if _, err := c.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 20 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 50*time.Second); err != nil {
		return fmt.Errorf("create table %s: wait until active: %w", name, err)
	}
	return nil
}

// deleteTable deletes the table, retrying while it is busy (being created
// or updated). A table that is already gone is not an error.
func deleteTable(ctx context.Context, c *dynamodb.Client, name string) error {
	for {
		_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var notFound *types.ResourceNotFoundException
		var inUse *types.ResourceInUseException
		switch {
		case err == nil || errors.As(err, &notFound):
			return nil
		case errors.As(err, &inUse):
			select {
			case <-ctx.Done():
				return fmt.Errorf("delete table %s: %w", name, err)
			case <-time.After(50 * time.Millisecond):
			}
		default:
			return fmt.Errorf("delete table %s: %w", name, err)
		}
	}
}

// PutItems writes items with BatchWriteItem, 25 a call from a few
// goroutines, retrying UnprocessedItems with backoff until every item is
// written. It fails the test on any error or after two minutes.
func PutItems(t testing.TB, c *dynamodb.Client, table string, items []map[string]types.AttributeValue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := putItems(ctx, c, table, items); err != nil {
		t.Fatalf("ddbtest: %v", err)
	}
}

// putItems does PutItems' work.
func putItems(ctx context.Context, c *dynamodb.Client, table string, items []map[string]types.AttributeValue) error {
	const batchSize, workers = 25, 4
	g, ctx := errgroup.WithContext(ctx)
	batches := make(chan []types.WriteRequest, workers)
	g.Go(func() error {
		defer close(batches)
		for start := 0; start < len(items); start += batchSize {
			end := min(start+batchSize, len(items))
			batch := make([]types.WriteRequest, 0, end-start)
			for _, it := range items[start:end] {
				batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			}
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			for batch := range batches {
				if err := writeBatch(ctx, c, table, batch); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("put %d items into %s: %w", len(items), table, err)
	}
	return nil
}

// writeBatch writes one batch, retrying its UnprocessedItems.
func writeBatch(ctx context.Context, c *dynamodb.Client, table string, batch []types.WriteRequest) error {
	delay := 10 * time.Millisecond
	for attempt := 1; len(batch) > 0; attempt++ {
		out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: batch},
		})
		if err != nil {
			return fmt.Errorf("BatchWriteItem attempt %d: %w", attempt, err)
		}
		batch = out.UnprocessedItems[table]
		if len(batch) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("BatchWriteItem: %d items still unprocessed after %d attempts: %w", len(batch), attempt, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
	return nil
}

// ScanAll reads the whole table with a consistent, paginated Scan and
// returns its items keyed by KeyOf of the table's key attributes. It fails
// the test on any error.
func ScanAll(t testing.TB, c *dynamodb.Client, table string) map[string]map[string]types.AttributeValue {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	items, err := scanAll(ctx, c, table)
	if err != nil {
		t.Fatalf("ddbtest: %v", err)
	}
	return items
}

// scanAll does ScanAll's work.
func scanAll(ctx context.Context, c *dynamodb.Client, table string) (map[string]map[string]types.AttributeValue, error) {
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", table, err)
	}
	var keys []string
	for _, k := range desc.Table.KeySchema {
		if k.KeyType == types.KeyTypeHash {
			keys = append([]string{aws.ToString(k.AttributeName)}, keys...)
		} else {
			keys = append(keys, aws.ToString(k.AttributeName))
		}
	}
	items := make(map[string]map[string]types.AttributeValue)
	p := dynamodb.NewScanPaginator(c, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for page := 1; p.HasMorePages(); page++ {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s page %d: %w", table, page, err)
		}
		for _, it := range out.Items {
			k := KeyOf(it, keys...)
			if _, dup := items[k]; dup {
				return nil, fmt.Errorf("scan %s page %d: key %s returned twice", table, page, k)
			}
			items[k] = it
		}
	}
	return items, nil
}

// LargeItemSize is the approximate size in bytes, attribute names
// included, of the large items MixedItems makes: under DynamoDB's 400 KB
// item limit with room to spare.
const LargeItemSize = 390_000

// ItemOption changes what MixedItems makes.
type ItemOption func(*itemOptions)

// itemOptions holds MixedItems' settings.
type itemOptions struct {
	largeEvery int
}

// WithLargeEvery makes every k-th item (the items at index k-1, 2k-1, …)
// about LargeItemSize bytes, with an extra binary attribute "payload".
// k <= 0 makes no large items. The default is 1000.
func WithLargeEvery(k int) ItemOption {
	return func(o *itemOptions) { o.largeEvery = k }
}

// MixedItems returns n items for a table shaped like MixedSpec (hash key
// "pk" S, range key "sk" N), all keys distinct, the same for the same seed.
// Together they use every attribute type: S (empty, unicode with emoji, CJK
// and combining marks), N (38 significant digits, the extremes of
// DynamoDB's range), B (with 0x00 and 0xff, and empty), BOOL, NULL, L,
// M nested three levels with a B inside, SS, NS and BS; item 0 has all of
// them. Attribute names include reserved words (name, status, data, year,
// size). See WithLargeEvery for large items.
//
// Numbers are written in the canonical form DynamoDB (and dynalite)
// returns: no exponent, no leading or trailing zeros. So
// 1.2345678901234567890123456789012345678E+100 appears as its 101 digits,
// and every item reads back byte for byte equal from any emulator.
func MixedItems(n int, seed int64, opts ...ItemOption) []map[string]types.AttributeValue {
	o := itemOptions{largeEvery: 1000}
	for _, opt := range opts {
		opt(&o)
	}
	rng := mrand.New(mrand.NewPCG(uint64(seed), 0x6464627265776e64))
	items := make([]map[string]types.AttributeValue, n)
	for i := range items {
		items[i] = mixedItem(rng, i)
		if o.largeEvery > 0 && (i+1)%o.largeEvery == 0 {
			padItem(rng, items[i], LargeItemSize)
		}
	}
	return items
}

// trickyNumbers returns canonical numbers at the edges of what DynamoDB
// holds.
func trickyNumbers() []string {
	return []string{
		"12345678901234567890123456789012345678" + strings.Repeat("0", 63),  // 1.2345678901234567890123456789012345678E+100
		"-0.000000000000000000000000000000000000001",                        // -1E-39
		"99999999999999999999999999999999999999",                            // 38 nines
		"0." + strings.Repeat("0", 129) + "1",                               // 1E-130, the smallest magnitude
		"-99999999999999999999999999999999999999" + strings.Repeat("0", 88), // -9.9999999999999999999999999999999999999E+125, the largest magnitude
		"0.12345678901234567890123456789012345678",
		"0",
		"-1",
		"3.14159265358979323846264338327950288",
	}
}

// textPiece returns piece i mod 16 of the strings random text is made of.
func textPiece(i int) string {
	return [...]string{
		"plain", "ascii text", "日本語", "中文字符", "한국어", "😀", "👩‍👩‍👧", "🎉🚀",
		"e\u0301", "\u00e9", "a\u0308\u0304", "Ω≈ç√", "\"quoted\"", "back\\slash", "tab\tnew\nline", "<&>",
	}[i%16]
}

// mixedItem builds item i.
func mixedItem(rng *mrand.Rand, i int) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{
		"pk":    &types.AttributeValueMemberS{Value: mixedPK(i)},
		"sk":    &types.AttributeValueMemberN{Value: mixedSK(i)},
		"empty": &types.AttributeValueMemberS{Value: ""},
		"name":  &types.AttributeValueMemberS{Value: randText(rng)},
	}
	// Each optional attribute is in item 0 and in about 4 of 5 others.
	maybe := func(name string, v func() types.AttributeValue) {
		if i == 0 || rng.IntN(5) != 0 {
			it[name] = v()
		}
	}
	maybe("status", func() types.AttributeValue {
		return &types.AttributeValueMemberS{Value: [...]string{"active", "", "ärchived ✓"}[rng.IntN(3)]}
	})
	maybe("year", func() types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.Itoa(1900 + rng.IntN(200))}
	})
	maybe("size", func() types.AttributeValue {
		if tricky := trickyNumbers(); i < len(tricky) {
			return &types.AttributeValueMemberN{Value: tricky[i]}
		}
		return &types.AttributeValueMemberN{Value: randNumber(rng)}
	})
	maybe("data", func() types.AttributeValue {
		if i%13 == 5 {
			return &types.AttributeValueMemberB{Value: []byte{}}
		}
		return &types.AttributeValueMemberB{Value: randBytes(rng, 1+rng.IntN(64))}
	})
	maybe("flag", func() types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: rng.IntN(2) == 0} })
	maybe("nothing", func() types.AttributeValue { return &types.AttributeValueMemberNULL{Value: true} })
	maybe("list", func() types.AttributeValue {
		return &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberS{Value: randText(rng)},
			&types.AttributeValueMemberN{Value: randNumber(rng)},
			&types.AttributeValueMemberB{Value: randBytes(rng, 1+rng.IntN(8))},
			&types.AttributeValueMemberBOOL{Value: false},
			&types.AttributeValueMemberNULL{Value: true},
			&types.AttributeValueMemberS{Value: ""},
			&types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}}},
			&types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": &types.AttributeValueMemberS{Value: "v"}}},
			&types.AttributeValueMemberSS{Value: randStringSet(rng)},
		}}
	})
	maybe("nested", func() types.AttributeValue {
		return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"level1": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"level2": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
					"level3": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
						"blob": &types.AttributeValueMemberB{Value: randBytes(rng, 1+rng.IntN(16))},
						"n":    &types.AttributeValueMemberN{Value: randNumber(rng)},
						"s":    &types.AttributeValueMemberS{Value: randText(rng)},
					}},
					"ns": &types.AttributeValueMemberNS{Value: randNumberSet(rng)},
				}},
				"status": &types.AttributeValueMemberS{Value: ""},
			}},
			"empty map": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
			"🔑 ключ":    &types.AttributeValueMemberBOOL{Value: true},
		}}
	})
	maybe("tags", func() types.AttributeValue { return &types.AttributeValueMemberSS{Value: randStringSet(rng)} })
	maybe("scores", func() types.AttributeValue { return &types.AttributeValueMemberNS{Value: randNumberSet(rng)} })
	maybe("blobs", func() types.AttributeValue { return &types.AttributeValueMemberBS{Value: randBytesSet(rng)} })
	maybe("text", func() types.AttributeValue { return &types.AttributeValueMemberS{Value: randText(rng)} })
	return it
}

// mixedPK returns item i's partition key: 97 values shared by many items,
// every tenth one with non-ASCII characters.
func mixedPK(i int) string {
	if i%10 == 3 {
		return fmt.Sprintf("pk-ünï-日本-😀-%02d", i%97)
	}
	return fmt.Sprintf("pk-%02d", i%97)
}

// mixedSK returns item i's sort key, distinct for every i, in canonical
// form: small integers, negative fractions, huge integers and tiny numbers.
func mixedSK(i int) string {
	switch i % 4 {
	case 0:
		return strconv.Itoa(i)
	case 1:
		return "-" + strconv.Itoa(i) + ".5"
	case 2:
		return strconv.Itoa(i) + strings.Repeat("0", 30)
	default: // i is odd, so the digits do not end in 0
		return formatDecimal(false, strconv.Itoa(i), -40)
	}
}

// formatDecimal returns ±digits×10^scale in DynamoDB's canonical form.
// digits must be decimal digits.
func formatDecimal(neg bool, digits string, scale int) string {
	digits = strings.TrimLeft(digits, "0")
	for strings.HasSuffix(digits, "0") {
		digits = digits[:len(digits)-1]
		scale++
	}
	if digits == "" {
		return "0"
	}
	var s string
	switch point := len(digits) + scale; {
	case scale >= 0:
		s = digits + strings.Repeat("0", scale)
	case point > 0:
		s = digits[:point] + "." + digits[point:]
	default:
		s = "0." + strings.Repeat("0", -point) + digits
	}
	if neg {
		s = "-" + s
	}
	return s
}

// randNumber returns a random canonical number within DynamoDB's range
// (magnitudes 1E-130 to under 1E+126, at most 38 significant digits).
func randNumber(rng *mrand.Rand) string {
	if rng.IntN(8) == 0 {
		tricky := trickyNumbers()
		return tricky[rng.IntN(len(tricky))]
	}
	n := 1 + rng.IntN(38)
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	digits := []byte(b.String())
	digits[0] = byte('1' + rng.IntN(9))
	// The most significant digit sits at 10^(n-1+scale), which must be in
	// [-130, 125].
	lo, hi := -130-(n-1), 125-(n-1)
	scale := -n + rng.IntN(n+6) // mostly ordinary magnitudes
	if rng.IntN(10) == 0 {
		scale = lo + rng.IntN(hi-lo+1)
	}
	return formatDecimal(rng.IntN(3) == 0, string(digits), max(lo, min(hi, scale)))
}

// randText returns 1 to 4 random pieces of text.
func randText(rng *mrand.Rand) string {
	var b strings.Builder
	for range 1 + rng.IntN(4) {
		b.WriteString(textPiece(rng.IntN(16)))
	}
	return b.String()
}

// randBytes returns n random bytes; with n >= 2 the first is 0x00 and the
// last 0xff.
func randBytes(rng *mrand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	if n >= 2 {
		b[0], b[n-1] = 0x00, 0xff
	}
	return b
}

// randStringSet returns 1 to 5 distinct non-empty strings.
func randStringSet(rng *mrand.Rand) []string {
	return randSet(rng, func() string { return randText(rng) })
}

// randNumberSet returns 1 to 5 distinct canonical numbers.
func randNumberSet(rng *mrand.Rand) []string {
	return randSet(rng, func() string { return randNumber(rng) })
}

// randBytesSet returns 1 to 5 distinct non-empty byte strings.
func randBytesSet(rng *mrand.Rand) [][]byte {
	set := randSet(rng, func() string { return string(randBytes(rng, 1+rng.IntN(12))) })
	out := make([][]byte, len(set))
	for i, s := range set {
		out[i] = []byte(s)
	}
	return out
}

// randSet returns 1 to 5 distinct values from gen, in generation order.
func randSet(rng *mrand.Rand, gen func() string) []string {
	want := 1 + rng.IntN(5)
	seen := make(map[string]bool, want)
	var out []string
	for tries := 0; len(out) < want && tries < 50; tries++ {
		if v := gen(); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// padItem adds a binary attribute "payload" that brings the item to about
// size bytes by ItemSize's count.
func padItem(rng *mrand.Rand, it map[string]types.AttributeValue, size int) {
	const name = "payload"
	n := size - ItemSize(it) - len(name)
	if n > 0 {
		it[name] = &types.AttributeValueMemberB{Value: randBytes(rng, n)}
	}
}

// ItemSize returns the item's size as DynamoDB counts it against the 400 KB
// limit (strings in UTF-8 bytes, which is never less than dynalite's UTF-16
// count).
func ItemSize(item map[string]types.AttributeValue) int { return itemsize.Item(item) }
