package ddbjson

import (
	"errors"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestMarshalItem(t *testing.T) {
	tests := []struct {
		name string
		in   item
		want string
	}{
		{"nil item", nil, `{}`},
		{"empty item", item{}, `{}`},
		{"names sorted by bytes", item{"b": vS("2"), "a": vS("1"), "B": vS("0"), "é": vS("3"), "aa": vS("4")},
			`{"B":{"S":"0"},"a":{"S":"1"},"aa":{"S":"4"},"b":{"S":"2"},"é":{"S":"3"}}`},
		{"every type", item{"s": vS("x"), "n": vN("-1.50E+3"), "b": vB(0, 1, 0xff), "t": vBool(true), "f": vBool(false),
			"z": vNull(), "l": vL(vS("a"), vN("1")), "m": vM(item{"y": vS("2"), "x": vS("1")}),
			"ss": vSS("b", "a"), "ns": vNS("2", "1"), "bs": vBS([]byte{0xff}, []byte{0})},
			`{"b":{"B":"AAH/"},"bs":{"BS":["/w==","AA=="]},"f":{"BOOL":false},"l":{"L":[{"S":"a"},{"N":"1"}]},` +
				`"m":{"M":{"x":{"S":"1"},"y":{"S":"2"}}},"n":{"N":"-1.50E+3"},"ns":{"NS":["2","1"]},"s":{"S":"x"},` +
				`"ss":{"SS":["b","a"]},"t":{"BOOL":true},"z":{"NULL":true}}`},
		{"string escapes, one line, no HTML escaping", item{"s": vS("\"\\\n\r\t\x00\x1f\x7f<>&é😀\u2028\u2029")},
			`{"s":{"S":"\"\\\n\r\t\u0000\u001f` + "\x7f" + `<>&é😀\u2028\u2029"}}`},
		{"escaped name", item{"a\"b\n": vS("")}, `{"a\"b\n":{"S":""}}`},
		{"N written as given", item{"n": vN("000.100e-0")}, `{"n":{"N":"000.100e-0"}}`},
		{"nil and empty B", item{"a": &types.AttributeValueMemberB{}, "b": vB()}, `{"a":{"B":""},"b":{"B":""}}`},
		{"nil L and M", item{"l": &types.AttributeValueMemberL{}, "m": &types.AttributeValueMemberM{}}, `{"l":{"L":[]},"m":{"M":{}}}`},
		{"more than 8 names", item{"9": vN("9"), "8": vN("8"), "7": vN("7"), "6": vN("6"), "5": vN("5"),
			"4": vN("4"), "3": vN("3"), "2": vN("2"), "1": vN("1"), "0": vN("0")},
			`{"0":{"N":"0"},"1":{"N":"1"},"2":{"N":"2"},"3":{"N":"3"},"4":{"N":"4"},"5":{"N":"5"},"6":{"N":"6"},"7":{"N":"7"},"8":{"N":"8"},"9":{"N":"9"}}`},
	}
	// KeyString spells numbers canonically, the rest as MarshalItem.
	keyWant := map[string]string{
		"N written as given": `{"n":{"N":"0.1"}}`,
		"every type": `{"b":{"B":"AAH/"},"bs":{"BS":["/w==","AA=="]},"f":{"BOOL":false},"l":{"L":[{"S":"a"},{"N":"1"}]},` +
			`"m":{"M":{"x":{"S":"1"},"y":{"S":"2"}}},"n":{"N":"-1500"},"ns":{"NS":["1","2"]},"s":{"S":"x"},` +
			`"ss":{"SS":["b","a"]},"t":{"BOOL":true},"z":{"NULL":true}}`,
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalItem(tc.in)
			if err != nil {
				t.Fatalf("MarshalItem: %v", err)
			}
			if string(got) != tc.want {
				t.Errorf("MarshalItem\n got %s\nwant %s", got, tc.want)
			}
			wantKey := tc.want
			if k, ok := keyWant[tc.name]; ok {
				wantKey = k
			}
			if ks := KeyString(tc.in); ks != wantKey {
				t.Errorf("KeyString\n got %s\nwant %s", ks, wantKey)
			}
			// The SDK reads it back too.
			if _, err := attributevalue.UnmarshalMapJSON(got); err != nil {
				t.Errorf("attributevalue.UnmarshalMapJSON(%s): %v", got, err)
			}
		})
	}
}

func TestMarshalItemErrors(t *testing.T) {
	self := item{}
	self["m"] = vM(self)
	tests := []struct {
		name string
		in   item
		want string
	}{
		{"nil value", item{"a": nil}, `attribute "a": is nil (the item was built incorrectly)`},
		{"typed nil", item{"a": (*types.AttributeValueMemberS)(nil)}, `attribute "a": is a nil *types.AttributeValueMemberS (the item was built incorrectly)`},
		{"unknown union member", item{"a": &types.UnknownUnionMember{Tag: "X"}},
			`attribute "a": unknown type "X" (use one of S, N, B, BOOL, NULL, L, M, SS, NS, BS)`},
		{"invalid N", item{"n": vN("1,5")}, `attribute "n": invalid number "1,5" (write a decimal such as 42, -1.5 or 6.02E23: digits, optional leading '-', '.', exponent; no spaces or '+' sign)`},
		{"N too large", item{"n": vN("1e126")}, `attribute "n": number "1e126" is too large (DynamoDB numbers are at most 9.9999999999999999999999999999999999999E+125 in magnitude)`},
		{"NULL false", item{"z": &types.AttributeValueMemberNULL{}}, `attribute "z": NULL must be true (DynamoDB rejects NULL false)`},
		{"S invalid UTF-8", item{"s": vS("a\xffb")}, `attribute "s": S value is not valid UTF-8 (DynamoDB strings are UTF-8)`},
		{"name invalid UTF-8", item{"a\xff": vS("")}, `attribute "a\xff": name is not valid UTF-8`},
		{"empty name", item{"": vS("x")}, `empty attribute name (DynamoDB names are at least 1 character)`},
		{"empty SS", item{"s": &types.AttributeValueMemberSS{}}, `attribute "s": SS is empty (DynamoDB has no empty sets)`},
		{"SS invalid UTF-8", item{"s": vSS("a", "\xff")}, `attribute "s": SS member 1 is not valid UTF-8 (DynamoDB strings are UTF-8)`},
		{"duplicate SS", item{"s": vSS("a", "a")}, `attribute "s": SS members 0 and 1 are equal (set members must be unique)`},
		{"duplicate NS", item{"s": vNS("1", "1.0")}, `attribute "s": NS members 0 and 1 are the same number (set members must be unique)`},
		{"invalid NS member", item{"s": vNS("1", "x")}, `attribute "s": NS member 1: invalid number "x" (write a decimal such as 42, -1.5 or 6.02E23: digits, optional leading '-', '.', exponent; no spaces or '+' sign)`},
		{"empty BS", item{"s": &types.AttributeValueMemberBS{}}, `attribute "s": BS is empty (DynamoDB has no empty sets)`},
		{"duplicate BS", item{"s": vBS([]byte{1}, []byte{1})}, `attribute "s": BS members 0 and 1 are equal (set members must be unique)`},
		{"nested path", item{"a": vL(vS("ok"), vM(item{"b": vL(nil)}))}, `attribute "a"[1]."b"[0]: is nil (the item was built incorrectly)`},
		{"item containing itself", self, `attribute "m"."m"."m"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalItem(tc.in)
			if err == nil {
				t.Fatalf("MarshalItem = %s, want an error", got)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is %T, want *Error", err, err)
			}
			if tc.name == "item containing itself" {
				checkMessage(t, err.Error(), []string{tc.want, "is nested more than 64 levels deep"}, false)
				return
			}
			checkMessage(t, err.Error(), []string{tc.want}, true)
		})
	}
}

// trickyItem has everything that is easy to get subtly wrong.
func trickyItem() item {
	return item{
		"pk":     vS("tenant#42"),
		"n38":    vN("12345678901234567890123456789012345678"),
		"nneg38": vN("-0.00000000000000000000000000000000000012345678901234567890123456789012345678"),
		"nexp":   vN("-9.9999999999999999999999999999999999999E+125"),
		"ntiny":  vN("1e-130"),
		"nzero":  vN("-0.000"),
		"bin":    vB(0x00, 0xff, 0x00, 0x80, 0x7f, 0xfe),
		"uni":    vS("ünïcödé € 😀 \u2028 \x00 \"\\ <b>&amp;"),
		"empty":  vS(""),
		"emptyB": vB(),
		"nested": vL(
			vM(item{"b": vB(0x00, 0xff), "deeper": vL(vM(item{"bs": vBS([]byte{0}, []byte{0xff}, []byte{})}))}),
			vNull(), vBool(false), vL(), vM(item{}),
		),
		"ss":         vSS("b", "a", "ü", ""),
		"ns":         vNS("1", "1.5", "-2E-3", "12345678901234567890123456789012345678"),
		"bs":         vBS([]byte{0}, []byte{0, 0}, []byte{0xff, 0xfe}),
		"name \"q\"": vS("x"),
		"😀":          vN("0"),
	}
}

func TestRoundTrip(t *testing.T) {
	x := trickyItem()
	data, err := MarshalItem(x)
	if err != nil {
		t.Fatalf("MarshalItem: %v", err)
	}
	got, err := ParseItem(data)
	if err != nil {
		t.Fatalf("ParseItem(%s): %v", data, err)
	}
	if !reflect.DeepEqual(got, x) {
		t.Fatalf("ParseItem(MarshalItem(x)) != x\n got %#v\nwant %#v", got, x)
	}
	again, err := MarshalItem(got)
	if err != nil {
		t.Fatalf("MarshalItem again: %v", err)
	}
	if string(again) != string(data) {
		t.Errorf("MarshalItem is not deterministic:\n%s\n%s", data, again)
	}
	sdk, err := attributevalue.UnmarshalMapJSON(data)
	if err != nil || !reflect.DeepEqual(sdk, x) {
		t.Errorf("attributevalue.UnmarshalMapJSON(MarshalItem(x)) = %#v, %v; want x", sdk, err)
	}
}

// TestRoundTripParseCases checks MarshalItem(ParseItem(in)) parses back to
// the same item for every valid input.
func TestRoundTripParseCases(t *testing.T) {
	for _, tc := range parseCases() {
		t.Run(tc.name, func(t *testing.T) {
			data, err := MarshalItem(tc.want)
			if err != nil {
				t.Fatalf("MarshalItem: %v", err)
			}
			got, err := ParseItem(data)
			if err != nil {
				t.Fatalf("ParseItem(%s): %v", data, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("round trip of %s\n got %#v\nwant %#v", data, got, tc.want)
			}
		})
	}
}

func TestKeyString(t *testing.T) {
	tests := []struct {
		name string
		key  item
		want string
	}{
		{"partition key", item{"pk": vS("tenant#42")}, `{"pk":{"S":"tenant#42"}}`},
		{"partition and sort key", item{"sk": vN("7"), "pk": vS("a")}, `{"pk":{"S":"a"},"sk":{"N":"7"}}`},
		{"binary key", item{"id": vB(0, 0xff)}, `{"id":{"B":"AP8="}}`},
		{"newline stays on one line", item{"pk": vS("a\nb")}, `{"pk":{"S":"a\nb"}}`},
		{"long key", item{"pk": vS(string(make([]byte, 300)))}, `{"pk":{"S":"` + repeat(`\u0000`, 300) + `"}}`},
		// Keys MarshalItem rejects still get a deterministic string.
		{"nil value", item{"pk": nil}, `{"pk":null}`},
		{"typed nil", item{"pk": (*types.AttributeValueMemberS)(nil)}, `{"pk":null}`},
		{"unknown member", item{"pk": &types.UnknownUnionMember{Tag: "X"}}, `{"pk":null}`},
		{"invalid UTF-8", item{"pk": vS("a\xffb")}, `{"pk":{"S":"a\ufffdb"}}`},
		{"invalid number as is", item{"pk": vN("1,5")}, `{"pk":{"N":"1,5"}}`},
		// Numbers in their canonical spelling, as DynamoDB stores them.
		{"7.0 is 7", item{"pk": vN("7.0")}, `{"pk":{"N":"7"}}`},
		{"007 is 7", item{"pk": vN("007")}, `{"pk":{"N":"7"}}`},
		{"7E0 is 7", item{"pk": vN("7E0")}, `{"pk":{"N":"7"}}`},
		{"-0 is 0", item{"pk": vS("a"), "sk": vN("-0.0")}, `{"pk":{"S":"a"},"sk":{"N":"0"}}`},
		{"exponent", item{"pk": vN("-1.25e-3")}, `{"pk":{"N":"-0.00125"}}`},
		{"38 digits", item{"pk": vN("12345678901234567890123456789012345678.000")}, `{"pk":{"N":"12345678901234567890123456789012345678"}}`},
		// The slow path (not a usual key) canonicalizes too, NS sorted.
		{"more than 4 names", item{"a": vN("1.0"), "b": vN("2"), "c": vN("3"), "d": vN("4"), "e": vNS("10", "9.0")},
			`{"a":{"N":"1"},"b":{"N":"2"},"c":{"N":"3"},"d":{"N":"4"},"e":{"NS":["10","9"]}}`},
		{"nested", item{"m": vM(item{"n": vN("0.50")}), "l": vL(vN("5e1"))}, `{"l":{"L":[{"N":"50"}]},"m":{"M":{"n":{"N":"0.5"}}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := KeyString(tc.key); got != tc.want {
				t.Errorf("KeyString\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestKeyStringEqualKeys checks that equal keys built in different orders
// give the same string, many times over (map iteration order is random).
func TestKeyStringEqualKeys(t *testing.T) {
	want := KeyString(item{"pk": vS("a"), "sk": vN("1"), "x": vB(1), "y": vS("y"), "z": vS("z")})
	for range 100 {
		k := item{}
		k["z"], k["y"], k["x"], k["sk"], k["pk"] = vS("z"), vS("y"), vB(1), vN("1"), vS("a")
		if got := KeyString(k); got != want {
			t.Fatalf("KeyString = %s, want %s", got, want)
		}
	}
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// TestMarshalItemKeysFirst: the key attributes come first, hash then range,
// the rest in byte order; the bytes parse back to the same item (issue 22
// row 18: show printed the key mid-line).
func TestMarshalItemKeysFirst(t *testing.T) {
	item := map[string]types.AttributeValue{
		"amount": &types.AttributeValueMemberN{Value: "7"},
		"sk":     &types.AttributeValueMemberS{Value: "order#1"},
		"pk":     &types.AttributeValueMemberS{Value: "customer#1"},
		"Zed":    &types.AttributeValueMemberBOOL{Value: true},
	}
	data, err := MarshalItemKeysFirst(item, []string{"pk", "sk"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"pk":{"S":"customer#1"},"sk":{"S":"order#1"},"Zed":{"BOOL":true},"amount":{"N":"7"}}`
	if string(data) != want {
		t.Errorf("got  %s\nwant %s", data, want)
	}
	back, err := ParseItem(data)
	if err != nil || KeyString(back) != KeyString(item) {
		t.Errorf("round trip: %v %s", err, KeyString(back))
	}
}
