package ddbjson

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"file and line", &Error{Source: "keys.jsonl", Line: 7, Msg: "bad"}, "keys.jsonl:7: bad"},
		{"flag", &Error{Source: "--expression-attribute-values", Msg: "bad"}, "--expression-attribute-values: bad"},
		{"line only", &Error{Line: 3, Msg: "bad"}, "line 3: bad"},
		{"message only", &Error{Msg: "bad"}, "bad"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

// writeFile writes content to name in a new temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadArg(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	if err := os.WriteFile(filepath.Join(home, "v.json"), []byte("from home"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "values.json", "{\"a\":1}\n")
	missing := filepath.Join(t.TempDir(), "nope.json")
	tests := []struct {
		name    string
		arg     string
		want    string
		wantErr string
		wantIs  error
	}{
		{"inline", `{":p":{"S":"x"}}`, `{":p":{"S":"x"}}`, "", nil},
		{"empty inline", "", "", "", nil},
		{"other scheme is inline", "fileb://x", "fileb://x", "", nil},
		{"file", "file://" + file, "{\"a\":1}\n", "", nil},
		{"home directory", "file://~/v.json", "from home", "", nil},
		{"missing file names the path", "file://" + missing, "",
			missing + ": cannot read file: no such file or directory (check the path after file://)", fs.ErrNotExist},
		{"no path", "file://", "", "file://: file:// needs a path, such as file://values.json", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadArg(tc.arg)
			if tc.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want *Error %s", err, tc.wantErr)
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("ReadArg(%q) = %q, %v; want %q", tc.arg, got, err, tc.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	const flag = "--expression-attribute-values"
	good := writeFile(t, "values.json", "{\n  \":p\": {\"S\": \"tenant#42\"},\n  \":n\": {\"N\": \"7\"}\n}\n")
	bad := writeFile(t, "bad.json", "{\n  \":p\": {\"S\": \"tenant#42\"},\n  \":n\": {\"X\": \"7\"}\n}\n")
	badSyntax := writeFile(t, "syntax.json", "{\n  \":p\": {\"S\": \"tenant#42\"}\n  \":n\": {\"N\": \"7\"}\n}\n")
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name    string
		arg     string
		want    item
		wantErr string
	}{
		{"inline", `{":p":{"S":"tenant#42"},":bad":{"BOOL":true}}`, item{":p": vS("tenant#42"), ":bad": vBool(true)}, ""},
		{"file", "file://" + good, item{":p": vS("tenant#42"), ":n": vN("7")}, ""},
		{"name without colon", `{"p":{"S":"x"}}`, nil,
			flag + `: value "p": placeholder must start with ':' and have a name, such as ":p"`},
		{"colon only", `{":":{"S":"x"}}`, nil, flag + `: value ":": placeholder must start with ':'`},
		{"plain JSON value", `{":p":"x"}`, nil, flag + `: value ":p": expected an object with one type key such as {"S":"text"}, got a string`},
		{"unknown type", `{":p":{"X":"x"}}`, nil, flag + `: value ":p": unknown type "X" (use one of S, N, B, BOOL, NULL, L, M, SS, NS, BS)`},
		{"nested", `{":p":{"L":[{"N":"1"},{"N":"x"}]}}`, nil, flag + `: value ":p"[1]: invalid number "x"`},
		{"duplicate", `{":p":{"S":"x"},":p":{"S":"y"}}`, nil, flag + `: value ":p": appears twice in the same object (keep one)`},
		{"empty object", `{}`, nil, flag + `: no values in {} (give at least one, such as {":p":{"S":"tenant#42"}}, or leave out the flag)`},
		{"empty", ``, nil, flag + `: empty input (expected a JSON object such as {":p":{"S":"tenant#42"}})`},
		{"array", `[]`, nil, flag + `: expected a JSON object such as {":p":{"S":"tenant#42"}}, got an array`},
		{"shell ate the quotes", `{:p:{S:x}}`, nil, flag + `: invalid JSON at column 2: invalid character ':' looking for beginning of object key string`},
		{"multi-line inline", "{\n\":p\":{\"S\":\"x\"},\n}", nil, flag + `: invalid JSON at line 3, column 1: invalid character '}'`},
		{"error on line 3 of a file", "file://" + bad, nil, flag + " file://" + bad + `:3: value ":n": unknown type "X"`},
		{"syntax error on line 3 of a file", "file://" + badSyntax, nil,
			flag + " file://" + badSyntax + `:3: invalid JSON at column 3: invalid character '"' after object key:value pair`},
		{"missing file", "file://" + missing, nil,
			flag + " file://" + missing + ": cannot read file: no such file or directory (check the path after file://)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseValues(flag, tc.arg)
			if tc.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v (%T), want *Error", err, err)
				}
				if !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Errorf("err\n got %v\nwant %s...", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseValues = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestParseNames(t *testing.T) {
	const flag = "--expression-attribute-names"
	good := writeFile(t, "names.json", "{\"#n\": \"name\",\n \"#s\": \"status\"}")
	bad := writeFile(t, "bad.json", "{\"#n\": \"name\",\n \"#s\": 1}")
	tests := []struct {
		name    string
		arg     string
		want    map[string]string
		wantErr string
	}{
		{"inline", `{"#n":"name","#d":"a.b"}`, map[string]string{"#n": "name", "#d": "a.b"}, ""},
		{"file", "file://" + good, map[string]string{"#n": "name", "#s": "status"}, ""},
		{"no hash", `{"n":"name"}`, nil, flag + `: name "n": placeholder must start with '#' and have a name, such as "#n"`},
		{"hash only", `{"#":"name"}`, nil, flag + `: name "#": placeholder must start with '#'`},
		{"empty name", `{"#n":""}`, nil,
			flag + `: name "#n": must be a non-empty attribute name as a JSON string, such as {"#n":"status"}, got an empty string`},
		{"typed value", `{"#n":{"S":"name"}}`, nil, flag + `: name "#n": must be a non-empty attribute name as a JSON string, such as {"#n":"status"}, got an object`},
		{"null", `{"#n":null}`, nil, flag + `: name "#n": must be a non-empty attribute name`},
		{"duplicate", `{"#n":"a","#n":"b"}`, nil, flag + `: name "#n": appears twice (keep one)`},
		{"empty object", `{}`, nil, flag + `: no names in {} (give at least one, such as {"#n":"status"}, or leave out the flag)`},
		{"trailing data", `{"#n":"a"}}`, nil, flag + `: unexpected data after the JSON object at column 11`},
		{"not an object", `["#n"]`, nil, flag + `: expected a JSON object such as {"#n":"status"}, got an array`},
		{"error on line 2 of a file", "file://" + bad, nil, flag + " file://" + bad + `:2: name "#s": must be a non-empty attribute name`},
		{"invalid UTF-8", "{\"#n\":\"\xff\"}", nil, flag + `: invalid UTF-8 at column 8`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseNames(flag, tc.arg)
			if tc.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v (%T), want *Error", err, err)
				}
				if !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Errorf("err\n got %v\nwant %s...", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseNames = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}
