package journalfmt_test

import (
	"bufio"
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbrewind/ddbrewind/internal/journalfmt"
	"github.com/ddbrewind/ddbrewind/internal/usage"
)

type item = map[string]types.AttributeValue

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

func key(pk, sk string) item { return item{"pk": s(pk), "sk": n(sk)} }

func with(pk, sk string, attrs item) item {
	it := key(pk, sk)
	for k, v := range attrs {
		it[k] = v
	}
	return it
}

// rich is the item of every DynamoDB type in testdata/journal-v1.jsonl.
func rich(pk, sk string) item {
	return with(pk, sk, item{
		"b":    &types.AttributeValueMemberB{Value: []byte{0, 1, 0xff}},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"x", "y"}},
		"ns":   &types.AttributeValueMemberNS{Value: []string{"1", "2.50"}},
		"bs":   &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"l":    &types.AttributeValueMemberL{Value: []types.AttributeValue{s("é😀"), n("-1E+3"), &types.AttributeValueMemberNULL{Value: true}}},
		"m":    &types.AttributeValueMemberM{Value: item{"in": &types.AttributeValueMemberBOOL{Value: false}, "q": s("say \"hi\"\n")}},
		"flag": &types.AttributeValueMemberBOOL{Value: true},
	})
}

// todays is what testdata/journal-v1.jsonl holds, line by line after the
// header (see testdata/README.md).
func todays() []journalfmt.Line {
	// Keys are written in KeyString's form: numbers canonical ("7.5").
	return []journalfmt.Line{
		{Key: key("a", "1"), Before: nil, After: rich("a", "1"), AfterKnown: true},
		{Key: key("a", "7.5"), Before: with("a", "7.50", item{"v": n("1")}), After: with("a", "7.50", item{"v": n("2")}), AfterKnown: true},
		{Key: key("b", "-3"), Before: rich("b", "-3"), After: nil, AfterKnown: true},
		{Key: key("c", "10"), Before: nil, After: key("c", "10"), AfterKnown: true},
		{Key: key("c", "10"), Amend: true, NotWritten: true},
		{Key: key("a", "7.5"), Before: with("a", "7.50", item{"v": n("2")}), After: with("a", "7.50", item{"v": n("3")}), AfterKnown: true},
		{Key: key("a", "7.5"), Amend: true, Before: with("a", "7.50", item{"v": n("9"), "by": s("someone else")})},
		{Key: key("b", "-3"), Amend: true},
	}
}

// TestReadsTodaysJournal parses a journal written by the copier before the
// format moved here: the header and every line read as they were written.
func TestReadsTodaysJournal(t *testing.T) {
	const path = "testdata/journal-v1.jsonl"
	h, err := journalfmt.ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 12, 7, 16, 45, 12, 345678901, time.UTC)
	want := journalfmt.Header{Journal: "ddbrewind", Version: 1, Table: "orders", Keys: []string{"pk", "sk"}, Created: created}
	if !reflect.DeepEqual(*h, want) {
		t.Errorf("header = %+v, want %+v", *h, want)
	}
	lines := readLines(t, path)[1:]
	wantLines := todays()
	if len(lines) != len(wantLines) {
		t.Fatalf("%d lines after the header, want %d", len(lines), len(wantLines))
	}
	for i, data := range lines {
		l, err := journalfmt.ParseLine(data)
		if err != nil {
			t.Fatalf("line %d: %v", i+2, err)
		}
		if !reflect.DeepEqual(*l, wantLines[i]) {
			t.Errorf("line %d = %+v\nwant %+v", i+2, *l, wantLines[i])
		}
	}
}

// TestEncodesAsToday writes the same journal again with this package and
// gets the bytes the copier wrote before the format moved here.
func TestEncodesAsToday(t *testing.T) {
	const path = "testdata/journal-v1.jsonl"
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 12, 7, 17, 45, 12, 345678901, time.FixedZone("CET", 3600))
	buf := journalfmt.EncodeHeader("orders", []string{"pk", "sk"}, created)
	for _, l := range todays() {
		var err error
		switch {
		case l.Amend && l.NotWritten:
			buf = append(buf, journalfmt.NotWritten(l.Key)...)
		case l.Amend:
			var line []byte
			line, err = journalfmt.Overwrote(l.Key, l.Before)
			buf = append(buf, line...)
		default:
			buf, err = journalfmt.AppendRecord(buf, l.Key, l.Before, l.After)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(buf, old) {
		t.Errorf("encoded\n%s\nwant (written by the copier before the move)\n%s", buf, old)
	}
}

// TestParseHeader refuses what is not a journal of this version, with the
// usage errors the user reads.
func TestParseHeader(t *testing.T) {
	tests := []struct {
		line string
		want string
	}{
		{``, "--journal j.jsonl is not a ddbrewind journal (its first line must be the journal header)"},
		{`{"key":{"pk":{"S":"a"}},"before":null}`, "--journal j.jsonl is not a ddbrewind journal (its first line must be the journal header)"},
		{`{"journal":"other","version":1}`, "--journal j.jsonl is not a ddbrewind journal (its first line must be the journal header)"},
		{`{"journal":"ddbrewind","version":2,"table":"t","keys":["pk"]}`, "--journal j.jsonl has version 2; this ddbrewind reads version 1"},
	}
	for _, tt := range tests {
		_, err := journalfmt.ParseHeader([]byte(tt.line), "j.jsonl")
		if err == nil || !usage.Is(err) || err.Error() != tt.want {
			t.Errorf("ParseHeader(%s) = %v, want the usage error %q", tt.line, err, tt.want)
		}
	}
}

// TestParseLine reads the forms of a line: an old record without after
// (undone without a condition), and the malformed lines it refuses.
func TestParseLine(t *testing.T) {
	const amendErr = "not a journal amendment: it needs amend, and written false or before"
	tests := []struct {
		name string
		line string
		want *journalfmt.Line
		err  string
	}{
		{name: "a record written before records had after", line: `{"key":{"pk":{"S":"a"}},"before":{"pk":{"S":"a"},"v":{"N":"1"}}}`,
			want: &journalfmt.Line{Key: item{"pk": s("a")}, Before: item{"pk": s("a"), "v": n("1")}}},
		{name: "a record of an absent item", line: `{"key":{"pk":{"S":"a"}},"before":null,"after":{"pk":{"S":"a"}}}`,
			want: &journalfmt.Line{Key: item{"pk": s("a")}, After: item{"pk": s("a")}, AfterKnown: true}},
		{name: "not JSON", line: `{"key":`, err: "not a journal record: "},
		{name: "amendment with a key", line: `{"key":{"pk":{"S":"a"}},"amend":{"pk":{"S":"a"}},"written":false}`, err: amendErr},
		{name: "amendment saying nothing", line: `{"amend":{"pk":{"S":"a"}}}`, err: amendErr},
		{name: "amendment saying both", line: `{"amend":{"pk":{"S":"a"}},"written":false,"before":null}`, err: amendErr},
		{name: "amendment written true", line: `{"amend":{"pk":{"S":"a"}},"written":true}`, err: amendErr},
		{name: "no key", line: `{"before":null}`, err: "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := journalfmt.ParseLine([]byte(tt.line))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseLine = %+v, %v; want an error saying %q", l, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(l, tt.want) {
				t.Errorf("ParseLine = %+v, want %+v", l, tt.want)
			}
		})
	}
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
