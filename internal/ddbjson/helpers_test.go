package ddbjson

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Short constructors for test tables.

type item = map[string]types.AttributeValue

func vS(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func vN(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }
func vB(b ...byte) types.AttributeValue {
	return &types.AttributeValueMemberB{Value: append([]byte{}, b...)}
}
func vBool(b bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: b} }
func vNull() types.AttributeValue       { return &types.AttributeValueMemberNULL{Value: true} }
func vM(m item) types.AttributeValue    { return &types.AttributeValueMemberM{Value: m} }
func vSS(s ...string) types.AttributeValue {
	return &types.AttributeValueMemberSS{Value: append([]string{}, s...)}
}
func vNS(s ...string) types.AttributeValue {
	return &types.AttributeValueMemberNS{Value: append([]string{}, s...)}
}
func vBS(b ...[]byte) types.AttributeValue {
	return &types.AttributeValueMemberBS{Value: append([][]byte{}, b...)}
}
func vL(l ...types.AttributeValue) types.AttributeValue {
	return &types.AttributeValueMemberL{Value: append([]types.AttributeValue{}, l...)}
}

// parseCase is a valid typed-JSON input and what it parses to.
type parseCase struct {
	name string
	in   string
	want item
}

// parseCases are shared by the unit tests, the SDK cross-check and the fuzz
// seed corpus.
func parseCases() []parseCase {
	return []parseCase{
		{"S", `{"s":{"S":"hello"}}`, item{"s": vS("hello")}},
		{"S empty", `{"s":{"S":""}}`, item{"s": vS("")}},
		{"S escapes and unicode", `{"s":{"S":"\u00e9\u00E9 é \"q\" \\ \n\t\u0000 😀 \ud83d\ude00"}}`,
			item{"s": vS("éé é \"q\" \\ \n\t\x00 😀 😀")}},
		{"S escaped backslash before u is not a surrogate", `{"s":{"S":"\\ud800"}}`, item{"s": vS(`\ud800`)}},
		{"N integer", `{"n":{"N":"42"}}`, item{"n": vN("42")}},
		{"N kept exactly", `{"n":{"N":"001.500"}}`, item{"n": vN("001.500")}},
		{"N 38 digits", `{"n":{"N":"12345678901234567890123456789012345678"}}`,
			item{"n": vN("12345678901234567890123456789012345678")}},
		{"N 38 digits with zeros around", `{"n":{"N":"-000.12345678901234567890123456789012345678000e-5"}}`,
			item{"n": vN("-000.12345678901234567890123456789012345678000e-5")}},
		{"N largest", `{"n":{"N":"9.9999999999999999999999999999999999999E+125"}}`,
			item{"n": vN("9.9999999999999999999999999999999999999E+125")}},
		{"N smallest", `{"n":{"N":"-1E-130"}}`, item{"n": vN("-1E-130")}},
		{"N exponent forms", `{"a":{"N":"6.02e23"},"b":{"N":"1E+5"},"c":{"N":".5"},"d":{"N":"5."}}`,
			item{"a": vN("6.02e23"), "b": vN("1E+5"), "c": vN(".5"), "d": vN("5.")}},
		{"N zero with any exponent", `{"a":{"N":"0"},"b":{"N":"-0.000"},"c":{"N":"0E999999999999999999"}}`,
			item{"a": vN("0"), "b": vN("-0.000"), "c": vN("0E999999999999999999")}},
		{"B", `{"b":{"B":"AP8="}}`, item{"b": vB(0x00, 0xff)}},
		{"B empty", `{"b":{"B":""}}`, item{"b": vB()}},
		{"BOOL", `{"t":{"BOOL":true},"f":{"BOOL":false}}`, item{"t": vBool(true), "f": vBool(false)}},
		{"NULL", `{"x":{"NULL":true}}`, item{"x": vNull()}},
		{"L empty", `{"l":{"L":[]}}`, item{"l": vL()}},
		{"L mixed", `{"l":{"L":[{"S":"a"},{"N":"1"},{"NULL":true},{"L":[{"BOOL":false}]}]}}`,
			item{"l": vL(vS("a"), vN("1"), vNull(), vL(vBool(false)))}},
		{"M empty", `{"m":{"M":{}}}`, item{"m": vM(item{})}},
		{"M nested", `{"m":{"M":{"a":{"S":"x"},"b":{"M":{"c":{"N":"2"}}}}}}`,
			item{"m": vM(item{"a": vS("x"), "b": vM(item{"c": vN("2")})})}},
		{"B inside M inside L", `{"l":{"L":[{"M":{"bin":{"B":"AAH/"}}}]}}`,
			item{"l": vL(vM(item{"bin": vB(0x00, 0x01, 0xff)}))}},
		{"SS", `{"ss":{"SS":["b","a",""]}}`, item{"ss": vSS("b", "a", "")}},
		{"NS", `{"ns":{"NS":["1","1.5","-2E3"]}}`, item{"ns": vNS("1", "1.5", "-2E3")}},
		{"BS", `{"bs":{"BS":["AA==","/w==",""]}}`, item{"bs": vBS([]byte{0}, []byte{0xff}, []byte{})}},
		{"empty item", `{}`, item{}},
		{"white space everywhere", " \n\t{ \"a\" : { \"S\" : \"x\" } , \"b\":{\"NS\":[ \"1\" , \"2\" ]} }\r\n ",
			item{"a": vS("x"), "b": vNS("1", "2")}},
		{"names with dots, spaces and unicode", `{"a.b":{"S":"1"},"c d":{"S":"2"},"ü€😀":{"S":"3"}}`,
			item{"a.b": vS("1"), "c d": vS("2"), "ü€😀": vS("3")}},
		{"many types", `{"pk":{"S":"tenant#42"},"n":{"N":"1.5"},"b":{"B":"AQI="},"ok":{"BOOL":true},"z":{"NULL":true},"l":{"L":[]},"m":{"M":{}},"ss":{"SS":["a"]},"ns":{"NS":["1"]},"bs":{"BS":["AQ=="]}}`,
			item{"pk": vS("tenant#42"), "n": vN("1.5"), "b": vB(1, 2), "ok": vBool(true), "z": vNull(), "l": vL(), "m": vM(item{}),
				"ss": vSS("a"), "ns": vNS("1"), "bs": vBS([]byte{1})}},
	}
}

// errorCase is an input ParseItem must reject, and the exact message (or,
// when exact is false, substrings of it).
type errorCase struct {
	name  string
	in    string
	want  []string
	exact bool
}

func parseErrorCases() []errorCase {
	const typeHint = "(use one of S, N, B, BOOL, NULL, L, M, SS, NS, BS)"
	return []errorCase{
		{"empty", ``, []string{`empty input (expected a JSON object such as {"pk":{"S":"a"}})`}, true},
		{"white space only", " \n ", []string{"empty input"}, false},
		{"array", `[]`, []string{`expected a JSON object such as {"pk":{"S":"a"}}, got an array`}, true},
		{"string", `"x"`, []string{`got a string`}, false},
		{"null", `null`, []string{`got null`}, false},
		{"number", `42`, []string{`got the number 42`}, false},
		{"invalid JSON", `{"a":}`, []string{`invalid JSON at column 6: invalid character '}' looking for beginning of value`}, false},
		{"invalid JSON on line 3", "{\n\"a\":\n}", []string{`invalid JSON at line 3, column 1: invalid character '}'`}, false},
		{"missing comma", `{"a":{"S":"x"} "b":{"S":"y"}}`, []string{`invalid JSON at column 16: invalid character '"' after object key:value pair`}, false},
		{"truncated", `{"a":{"S":"x"}`, []string{`incomplete JSON: the input ends too early`}, false},
		{"trailing object", `{"a":{"S":"x"}} {}`, []string{`unexpected data after the JSON object at column 17`}, false},
		{"trailing garbage", `{"a":{"S":"x"}}x`, []string{`unexpected data after the JSON object at column 16`}, false},
		{"invalid UTF-8", "{\"a\":{\"S\":\"\xff\"}}", []string{`invalid UTF-8 at column 12`}, false},
		{"unpaired high surrogate", `{"a":{"S":"x\ud800y"}}`, []string{`unpaired UTF-16 surrogate escape \ud800 in a string at column 13`}, false},
		{"unpaired low surrogate", `{"a":{"S":"\udc00"}}`, []string{`unpaired UTF-16 surrogate escape \udc00`}, false},
		{"reversed surrogates", `{"a":{"S":"\udc00\ud800"}}`, []string{`unpaired UTF-16 surrogate escape \udc00`}, false},
		{"surrogate in a name", `{"\ud800":{"S":"x"}}`, []string{`unpaired UTF-16 surrogate`}, false},
		{"duplicate name", `{"a":{"S":"x"},"a":{"S":"y"}}`, []string{`attribute "a": appears twice in the same object (keep one)`}, true},
		{"duplicate name in M", `{"m":{"M":{"a":{"S":"x"},"a":{"S":"x"}}}}`, []string{`attribute "m"."a": appears twice`}, false},
		{"empty name", `{"":{"S":"x"}}`, []string{`attribute "": empty attribute name`}, false},
		{"value not an object", `{"a":"x"}`, []string{`attribute "a": expected an object with one type key such as {"S":"text"}, got a string`}, true},
		{"value null", `{"a":null}`, []string{`attribute "a": is null (write {"NULL":true} for a null value)`}, true},
		{"value array", `{"a":[]}`, []string{`attribute "a": expected an object with one type key`, `got an array`}, false},
		{"no type", `{"a":{}}`, []string{`attribute "a": has no type (write exactly one type key`}, false},
		{"two types", `{"a":{"S":"x","N":"1"}}`, []string{`attribute "a": has more than one type key ("S" and "N"); write exactly one`}, true},
		{"same type twice", `{"a":{"S":"x","S":"y"}}`, []string{`has more than one type key ("S" and "S")`}, false},
		{"unknown type", `{"pk":{"X":"1"}}`, []string{`attribute "pk": unknown type "X" ` + typeHint}, true},
		{"lower-case type", `{"pk":{"s":"1"}}`, []string{`attribute "pk": unknown type "s" ` + typeHint}, true},
		{"unknown type with extra key", `{"pk":{"S":"1","X":"2"}}`, []string{`has more than one type key ("S" and "X")`}, false},
		{"S number", `{"a":{"S":1}}`, []string{`attribute "a": S needs a JSON string such as {"S":"text"}, got the number 1 (quote it)`}, true},
		{"S null", `{"a":{"S":null}}`, []string{`S needs a JSON string`, `got null`}, false},
		{"N unquoted", `{"n":{"N":5}}`, []string{`attribute "n": N needs a JSON string such as {"N":"1.5"}, got the number 5 (quote it)`}, true},
		{"N empty", `{"n":{"N":""}}`, []string{`attribute "n": invalid number ""`}, false},
		{"N letters", `{"n":{"N":"abc"}}`, []string{`invalid number "abc" (write a decimal such as 42`}, false},
		{"N plus sign", `{"n":{"N":"+1"}}`, []string{`invalid number "+1"`}, false},
		{"N space", `{"n":{"N":" 1"}}`, []string{`invalid number " 1"`}, false},
		{"N hex", `{"n":{"N":"0x10"}}`, []string{`invalid number "0x10"`}, false},
		{"N NaN", `{"n":{"N":"NaN"}}`, []string{`invalid number "NaN"`}, false},
		{"N Infinity", `{"n":{"N":"-Infinity"}}`, []string{`invalid number "-Infinity"`}, false},
		{"N thousands separator", `{"n":{"N":"1,000"}}`, []string{`invalid number "1,000"`}, false},
		{"N two dots", `{"n":{"N":"1.2.3"}}`, []string{`invalid number "1.2.3"`}, false},
		{"N dot only", `{"n":{"N":"."}}`, []string{`invalid number "."`}, false},
		{"N bare exponent", `{"n":{"N":"1e"}}`, []string{`invalid number "1e"`}, false},
		{"N exponent without mantissa", `{"n":{"N":"e5"}}`, []string{`invalid number "e5"`}, false},
		{"N 39 digits", `{"n":{"N":"123456789012345678901234567890123456789"}}`,
			[]string{`attribute "n": number "123456789012345678901234567890123456789" has 39 significant digits (DynamoDB keeps at most 38)`}, true},
		{"N 39 digits across the point", `{"n":{"N":"1234567890123456789.01234567890123456789"}}`, []string{`has 39 significant digits`}, false},
		{"N too large", `{"n":{"N":"1E126"}}`, []string{`attribute "n": number "1E126" is too large`}, false},
		{"N too large by digits", `{"n":{"N":"10E125"}}`, []string{`number "10E125" is too large`}, false},
		{"N too small", `{"n":{"N":"1E-131"}}`, []string{`number "1E-131" is too small (DynamoDB numbers are zero or at least 1E-130`}, false},
		{"N too small by digits", `{"n":{"N":"-0.1E-130"}}`, []string{`is too small`}, false},
		{"N huge exponent", `{"n":{"N":"1E99999999999999999999999"}}`, []string{`is too large`}, false},
		{"N long value is cut in the message", `{"n":{"N":"1111111111222222222233333333334444444444555555555566666666667"}}`,
			[]string{`number "111111111122222222223333333333444444444455555555"... has 61 significant digits`}, false},
		{"B not base64", `{"b":{"B":"!!"}}`, []string{`attribute "b": B value is not valid base64 (illegal base64 data at input byte 0; use standard base64`}, false},
		{"B unpadded", `{"b":{"B":"AA"}}`, []string{`B value is not valid base64`}, false},
		{"B URL alphabet", `{"b":{"B":"-_8="}}`, []string{`B value is not valid base64`}, false},
		{"B non-zero padding bits", `{"b":{"B":"AB=="}}`, []string{`B value is not valid base64 (non-zero padding bits at input byte 1`}, false},
		{"B non-zero padding bits, one =", `{"b":{"B":"AAB="}}`, []string{`non-zero padding bits at input byte 2`}, false},
		{"B line break", `{"b":{"B":"AA\nAA=="}}`, []string{`B value is not valid base64 (it contains a line break`}, false},
		{"B number", `{"b":{"B":1}}`, []string{`B needs a JSON string`}, false},
		{"BOOL string", `{"x":{"BOOL":"true"}}`, []string{`attribute "x": BOOL needs true or false, such as {"BOOL":true}, got a string (write true without quotes)`}, true},
		{"BOOL null", `{"x":{"BOOL":null}}`, []string{`BOOL needs true or false`, `got null`}, false},
		{"NULL false", `{"x":{"NULL":false}}`, []string{`attribute "x": NULL must be true (write {"NULL":true}, or omit the attribute)`}, true},
		{"NULL string", `{"x":{"NULL":"true"}}`, []string{`NULL needs true`}, false},
		{"L not an array", `{"l":{"L":{}}}`, []string{`attribute "l": L needs an array of typed values`, `got an object`}, false},
		{"L bad element", `{"l":{"L":[{"S":"a"},{"X":1}]}}`, []string{`attribute "l"[1]: unknown type "X"`}, false},
		{"L plain element", `{"l":{"L":["a"]}}`, []string{`attribute "l"[0]: expected an object with one type key`}, false},
		{"M not an object", `{"m":{"M":[]}}`, []string{`attribute "m": M needs an object of attributes`, `got an array`}, false},
		{"nested path", `{"a":{"L":[{"M":{"b":{"L":[{"N":"1"},{"N":"x"}]}}}]}}`, []string{`attribute "a"[0]."b"[1]: invalid number "x"`}, false},
		{"SS empty", `{"s":{"SS":[]}}`, []string{`attribute "s": SS must not be empty (DynamoDB has no empty sets`}, false},
		{"NS empty", `{"s":{"NS":[]}}`, []string{`NS must not be empty`}, false},
		{"BS empty", `{"s":{"BS":[]}}`, []string{`BS must not be empty`}, false},
		{"SS duplicate", `{"s":{"SS":["a","b","a"]}}`, []string{`attribute "s": SS members 0 and 2 are equal (set members must be unique)`}, true},
		{"NS duplicate number", `{"s":{"NS":["1","2","1.0"]}}`, []string{`attribute "s": NS members 0 and 2 are the same number`}, false},
		{"NS duplicate number, exponent", `{"s":{"NS":["-100","-1E2"]}}`, []string{`NS members 0 and 1 are the same number`}, false},
		{"NS duplicate zero", `{"s":{"NS":["0","-0.0"]}}`, []string{`NS members 0 and 1 are the same number`}, false},
		{"BS duplicate", `{"s":{"BS":["AA==","AQ==","AA=="]}}`, []string{`BS members 0 and 2 are equal`}, false},
		{"SS member not a string", `{"s":{"SS":["a",1]}}`, []string{`attribute "s": SS member 1 must be a JSON string`, `got the number 1`}, false},
		{"NS member invalid", `{"s":{"NS":["1","x"]}}`, []string{`attribute "s": NS member 1: invalid number "x"`}, false},
		{"NS member unquoted", `{"s":{"NS":[1]}}`, []string{`NS member 0 must be a JSON string`}, false},
		{"BS member invalid", `{"s":{"BS":["AA==","%"]}}`, []string{`attribute "s": BS member 1: value is not valid base64`}, false},
		{"SS not an array", `{"s":{"SS":"a"}}`, []string{`SS needs an array of strings such as {"SS":["a","b"]}, got a string`}, false},
		{"too deep", `{"a":` + deepL(65) + `}`, []string{`is nested more than 64 levels deep`}, false},
	}
}

// deepL returns n nested L values around a NULL.
func deepL(n int) string {
	s := `{"NULL":true}`
	for range n {
		s = `{"L":[` + s + `]}`
	}
	return s
}
