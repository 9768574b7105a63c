// Package ddbjson reads and writes DynamoDB items and keys in typed DynamoDB
// JSON, the syntax of the AWS CLI and of DynamoDB's own wire format:
//
//	{"pk":{"S":"tenant#42"},"n":{"N":"1.50"},"b":{"B":"AAH/"},"l":{"L":[{"NULL":true}]}}
//
// It provides:
//   - [ParseItem]: one strict typed-JSON object to map[string]types.AttributeValue;
//   - [ParseValues] and [ParseNames]: the --expression-attribute-values and
//     --expression-attribute-names flags, inline or as file://PATH ([ReadArg]);
//   - [KeysReader]: JSON Lines files of primary keys,
//     streamed with their line numbers;
//   - [MarshalItem] and [KeyString]: compact, deterministic typed JSON (names
//     sorted), for journals, reports, logs and key de-duplication.
//
// Values are exact: a number (N, NS) is kept as the string it was given and
// written back unchanged, binary (B, BS) is standard base64 decoded to its
// bytes, and strings are UTF-8. ParseItem(MarshalItem(x)) equals x for every x
// that MarshalItem accepts (except that nil L, M, B and BS values come back
// empty and non-nil, as ParseItem always returns them), and MarshalItem
// accepts exactly what ParseItem can produce.
//
// # Strictness
//
// Bad input is reported as an [*Error] saying what is wrong, where (flag or
// file:line, and the attribute path such as "a"[2]."b") and what to do;
// nothing is corrected. Rejected: input that is not exactly one JSON object
// (trailing data included); invalid UTF-8 and unpaired UTF-16 surrogate
// escapes such as "\ud800" (encoding/json would silently turn them into
// U+FFFD, changing the value); duplicate attribute names in one object; an
// attribute value that is not an object with exactly one type key; types other
// than S, N, B, BOOL, NULL, L, M, SS, NS and BS; a payload of the wrong JSON
// type (such as {"N":5}: numbers are JSON strings); numbers DynamoDB rejects
// (syntax -?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?, at most 38 significant
// digits, magnitude zero or within 1E-130 to
// 9.9999999999999999999999999999999999999E+125); base64 that is not standard,
// padded and canonical; NULL other than true; empty sets and sets with
// duplicate members (NS members are compared as numbers, so "1" and "1.0" are
// duplicates, as in DynamoDB); empty attribute names; nesting deeper than 64
// levels (a guard against pathological input; DynamoDB itself allows 32).
// Keys files additionally require 1 or 2 attributes per line, of type S, N or
// B, with non-empty S and B values of at most 2048 bytes.
//
// Not checked here (DynamoDB or the caller does): the table's key schema
// (attribute names and types), item and attribute name size limits, the
// 32-level nesting limit, and whether placeholders are used by an expression.
//
// # Why not attributevalue.UnmarshalMapJSON / MarshalMapJSON
//
// The SDK's feature/dynamodb/attributevalue (v1.21.21) keeps N strings exact
// and decodes B as bytes, but it decodes through map[string]interface{}, so:
// a value with two type keys such as {"S":"x","N":"1"} silently becomes one of
// them (the other is dropped, chosen by map iteration); a duplicate attribute
// name silently keeps the last value; {"S":null} yields a nil AttributeValue;
// and errors carry no location. None of these can be detected after the call.
// MarshalMapJSON writes names in map order (not deterministic) and emits
// invalid JSON ({"a":,...}) for a nil value. This package therefore has its
// own small strict decoder and encoder. The decoder first checks the syntax
// with [json.Valid] (whose errors, via [json.Unmarshal], locate the offending
// byte), then reads the validated bytes with a minimal lexer: the
// [json.Decoder] token stream was tried first and was 4 times slower, with 7
// times the allocations. Strings are unescaped exactly as encoding/json does;
// the tests and fuzz targets check that every input ParseItem accepts
// decodes to exactly what attributevalue.UnmarshalMapJSON returns. (STYLE.md
// suggests UnmarshalMapJSON plus checks afterwards; the problems above
// cannot be detected afterwards.)
package ddbjson
