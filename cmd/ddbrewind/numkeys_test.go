package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/ddbjson"
	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestKeysFileNumberSpellingsRoundTrip is a property test: random keys (S,
// B, and N in every spelling DynamoDB accepts: leading and trailing zeros,
// exponents with and without sign, 38 digits, negative, tiny and huge),
// each listed in a keys file as some other spelling, some twice in two
// spellings (in one 100-key chunk and across chunks), go through copy
// --delete-extra --journal and undo on dynalite. The copy must make the
// slice exactly the recovery table's (no item of the recovery table
// deleted), the journal must hold each key in its canonical form with its
// true before-image, and undo must put the main table back exactly.
func TestKeysFileNumberSpellingsRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec ddbtest.TableSpec
		seed uint64
	}{
		{"N hash, B range", ddbtest.TableSpec{HashKey: "id", HashType: types.ScalarAttributeTypeN, RangeKey: "bin", RangeType: types.ScalarAttributeTypeB}, 1},
		{"S hash, N range", ddbtest.TableSpec{HashKey: "pk", HashType: types.ScalarAttributeTypeS, RangeKey: "num", RangeType: types.ScalarAttributeTypeN}, 2},
		{"N hash only", ddbtest.TableSpec{HashKey: "n", HashType: types.ScalarAttributeTypeN}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(tt.seed, 99))
			names := []string{tt.spec.HashKey}
			typesOf := map[string]types.ScalarAttributeType{tt.spec.HashKey: tt.spec.HashType}
			if tt.spec.RangeKey != "" {
				names = append(names, tt.spec.RangeKey)
				typesOf[tt.spec.RangeKey] = tt.spec.RangeType
			}
			// Distinct keys, in canonical form (as DynamoDB returns them).
			var keys []map[string]types.AttributeValue
			seen := map[string]bool{}
			for len(keys) < 400 {
				k := map[string]types.AttributeValue{}
				for _, n := range names {
					k[n] = randomKeyValue(rng, typesOf[n])
				}
				if ks := ddbjson.KeyString(k); !seen[ks] {
					seen[ks] = true
					keys = append(keys, k)
				}
			}
			item := func(k map[string]types.AttributeValue, v string) map[string]types.AttributeValue {
				it := map[string]types.AttributeValue{"v": &types.AttributeValueMemberS{Value: v},
					"n": &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"}}
				if _, clash := k["n"]; clash {
					delete(it, "n")
				}
				for n, val := range k {
					it[n] = val
				}
				return it
			}
			// Keys 0-299 are in the recovery table; of those, one in three
			// is missing from main, one in three changed. Keys 300-349 exist
			// only in main (extras), 350-399 nowhere; all of 0-399 are in
			// the keys file. Main also holds 50 items outside the slice.
			var rec, main []map[string]types.AttributeValue
			for i, k := range keys[:300] {
				rec = append(rec, item(k, fmt.Sprintf("good %d", i)))
				switch i % 3 {
				case 1:
					main = append(main, item(k, fmt.Sprintf("broken %d", i)))
				case 2:
					main = append(main, item(k, fmt.Sprintf("good %d", i)))
				}
			}
			for i, k := range keys[300:350] {
				main = append(main, item(k, fmt.Sprintf("extra %d", i)))
			}
			var outside []map[string]types.AttributeValue
			for len(outside) < 50 {
				k := map[string]types.AttributeValue{}
				for _, n := range names {
					k[n] = randomKeyValue(rng, typesOf[n])
				}
				if ks := ddbjson.KeyString(k); !seen[ks] {
					seen[ks] = true
					outside = append(outside, item(k, "outside"))
				}
			}
			main = append(main, outside...)

			srv, c, from, to := copyPair(t, tt.spec, rec)
			ddbtest.PutItems(t, c, to, main)
			before := ddbtest.ScanAll(t, c, to)
			recState := ddbtest.ScanAll(t, c, from)

			// The keys file: every key respelled, in random order, some
			// listed again in another spelling nearby (same chunk) or far
			// away (another chunk).
			var lines []string
			for _, i := range rng.Perm(len(keys)) {
				lines = append(lines, keyLine(rng, keys[i], names))
				if rng.IntN(6) == 0 {
					lines = append(lines, keyLine(rng, keys[i], names)) // same chunk
				}
			}
			for range 40 {
				k := keys[rng.IntN(len(keys))]
				pos := rng.IntN(len(lines))
				lines = append(lines[:pos], append([]string{keyLine(rng, k, names)}, lines[pos:]...)...)
			}
			dir := t.TempDir()
			keysPath, journal := filepath.Join(dir, "keys.jsonl"), filepath.Join(dir, "journal.jsonl")
			if err := os.WriteFile(keysPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := ddb(t, "copy", "--endpoint-url", srv.Endpoint, "--from", from, "--to", to, "--yes",
				"--keys-file", keysPath, "--delete-extra", "--journal", journal, "--writers", "8")
			if r.code != 0 {
				t.Fatalf("copy: exit %d", r.code)
			}

			// The slice is exactly the recovery table's; the rest untouched.
			want := map[string]map[string]types.AttributeValue{}
			for k, it := range before {
				want[k] = it
			}
			for _, k := range keys {
				kk := ddbtest.KeyOf(k, names...)
				if it, ok := recState[kk]; ok {
					want[kk] = it
				} else {
					delete(want, kk)
				}
			}
			if d := ddbtest.DiffItemSets(want, ddbtest.ScanAll(t, c, to)); len(d) > 0 {
				t.Fatalf("after the copy the main table is not the recovery slice:\n%s", strings.Join(d, "\n"))
			}
			if got := summaryCount(t, r.stderr, "not_in_recovery"); got != 100 {
				t.Errorf("not_in_recovery=%d, want 100 (keys 300-399, each once)", got)
			}

			// The journal: canonical keys, and each key's first record is
			// its version before the copy.
			firstBefore := readJournal(t, journal)
			for _, k := range keys {
				ks := ddbjson.KeyString(k)
				rec, ok := firstBefore[ks]
				if !ok {
					continue // unchanged keys need no record only if not written; checked by undo below
				}
				old, existed := before[ddbtest.KeyOf(k, names...)]
				switch {
				case !existed && rec != nil:
					t.Errorf("journal: %s recorded as existing before the copy; it did not", ks)
				case existed && rec == nil:
					t.Errorf("journal: %s recorded as absent before the copy; it existed (before-image lost)", ks)
				case existed && len(ddbtest.DiffItemSets(map[string]map[string]types.AttributeValue{ks: old}, map[string]map[string]types.AttributeValue{ks: rec})) > 0:
					t.Errorf("journal: %s has a wrong before-image", ks)
				}
			}

			r = ddb(t, "undo", "--endpoint-url", srv.Endpoint, "--journal", journal, "--table", to, "--yes")
			if r.code != 0 {
				t.Fatalf("undo: exit %d", r.code)
			}
			if d := ddbtest.DiffItemSets(before, ddbtest.ScanAll(t, c, to)); len(d) > 0 {
				t.Fatalf("after undo the main table differs from before the copy:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

// readJournal returns each key's first before-image (nil when absent),
// failing on a key that is not in canonical form.
func readJournal(t *testing.T, path string) map[string]map[string]types.AttributeValue {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	first := map[string]map[string]types.AttributeValue{}
	for n := 0; sc.Scan(); n++ {
		if n == 0 {
			continue // header
		}
		var rec struct {
			Key    json.RawMessage `json:"key"`
			Before json.RawMessage `json:"before"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("journal line %d: %v", n+1, err)
		}
		key, err := ddbjson.ParseItem(rec.Key)
		if err != nil {
			t.Fatalf("journal line %d: key: %v", n+1, err)
		}
		ks := ddbjson.KeyString(key)
		if ks != string(rec.Key) {
			t.Errorf("journal line %d: key %s is not canonical (%s)", n+1, rec.Key, ks)
		}
		if _, ok := first[ks]; ok {
			continue
		}
		var before map[string]types.AttributeValue
		if string(rec.Before) != "null" {
			if before, err = ddbjson.ParseItem(rec.Before); err != nil {
				t.Fatalf("journal line %d: before: %v", n+1, err)
			}
		}
		first[ks] = before
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return first
}

// randomKeyValue returns a random key value of type typ, numbers in
// canonical form (as DynamoDB returns them).
func randomKeyValue(rng *rand.Rand, typ types.ScalarAttributeType) types.AttributeValue {
	switch typ {
	case types.ScalarAttributeTypeN:
		return &types.AttributeValueMemberN{Value: ddbjson.CanonicalNumber(randomNumber(rng))}
	case types.ScalarAttributeTypeB:
		b := make([]byte, 1+rng.IntN(20))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return &types.AttributeValueMemberB{Value: b}
	}
	return &types.AttributeValueMemberS{Value: fmt.Sprintf("k#%d·é", rng.IntN(1_000_000))}
}

// randomNumber returns a random valid DynamoDB number: small and big
// integers, fractions, 38 significant digits, tiny and huge magnitudes.
func randomNumber(rng *rand.Rand) string {
	digits := func(n int) string {
		var b strings.Builder
		b.WriteByte(byte('1' + rng.IntN(9)))
		for range n - 1 {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		return b.String()
	}
	sign := ""
	if rng.IntN(3) == 0 {
		sign = "-"
	}
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprint(rng.IntN(1000))
	case 1:
		return sign + digits(38)
	case 2:
		return sign + digits(1+rng.IntN(10)) + "." + digits(1+rng.IntN(10))
	case 3:
		return sign + digits(1+rng.IntN(38)) + "E" + fmt.Sprint(rng.IntN(80))
	case 4:
		return sign + "0." + digits(1+rng.IntN(30)) + "E-" + fmt.Sprint(rng.IntN(90))
	}
	return sign + digits(1+rng.IntN(5))
}

// keyLine writes k as a keys-file line, each number in a random other
// spelling of the same value.
func keyLine(rng *rand.Rand, k map[string]types.AttributeValue, names []string) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		var v string
		switch t := k[n].(type) {
		case *types.AttributeValueMemberN:
			v = fmt.Sprintf(`{"N":%q}`, respellNumber(rng, t.Value))
		case *types.AttributeValueMemberB:
			v = fmt.Sprintf(`{"B":%q}`, base64.StdEncoding.EncodeToString(t.Value))
		case *types.AttributeValueMemberS:
			s, _ := json.Marshal(t.Value)
			v = `{"S":` + string(s) + `}`
		}
		parts = append(parts, fmt.Sprintf("%q:%s", n, v))
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return "{" + strings.Join(parts, ",") + "}"
}

// respellNumber writes the canonical number c another way DynamoDB
// accepts: leading zeros, trailing zeros, a bare trailing point, an
// exponent (e or E, with or without sign, with leading zeros).
func respellNumber(rng *rand.Rand, c string) string {
	sign := ""
	if strings.HasPrefix(c, "-") {
		sign, c = "-", c[1:]
	}
	intPart, frac, _ := strings.Cut(c, ".")
	// As digits d and exponent e: value = d × 10^e.
	d, e := strings.TrimLeft(intPart+frac, "0"), -len(frac)
	if d == "" {
		d = "0"
	}
	switch rng.IntN(6) {
	case 0: // leading and trailing zeros
		if frac == "" {
			return sign + "00" + intPart + ".000"
		}
		return sign + "00" + intPart + "." + frac + "00"
	case 1: // scientific, one digit before the point
		m := d[:1]
		if len(d) > 1 {
			m += "." + d[1:]
		}
		return sign + m + "E" + fmt.Sprint(e+len(d)-1)
	case 2: // all digits, exponent with explicit sign and leading zeros
		if e >= 0 {
			return sign + d + "e+0" + fmt.Sprint(e)
		}
		return sign + d + "e-0" + fmt.Sprint(-e)
	case 3: // a leading point
		return sign + "." + d + "E" + fmt.Sprint(e+len(d))
	case 4: // trailing point, or trailing zeros in the fraction
		if frac == "" {
			return sign + intPart + "."
		}
		return sign + c + "0"
	}
	return sign + c // as it is
}
