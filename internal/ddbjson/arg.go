package ddbjson

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// filePrefix marks a flag value to be read from a file, as in the AWS CLI.
const filePrefix = "file://"

// ReadArg returns arg itself, or the content of PATH when arg is
// "file://PATH", like the AWS CLI: PATH is relative to the working directory,
// and a leading "~/" is the home directory. Errors are *Error naming the path.
func ReadArg(arg string) ([]byte, error) {
	path, ok := strings.CutPrefix(arg, filePrefix)
	if !ok {
		return []byte(arg), nil
	}
	if path == "" {
		return nil, &Error{Source: arg, Msg: "file:// needs a path, such as file://values.json"}
	}
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Source: path, Msg: "cannot read file: " + reason(err) + " (check the path after file://)", Err: err}
	}
	return data, nil
}

// reason is err without the path that *fs.PathError repeats.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// flagInput reads a flag value that may be file://PATH. It returns the data,
// the Error.Source to use and how to compute line numbers.
func flagInput(flag, arg string) ([]byte, string, lineMode, error) {
	if !strings.HasPrefix(arg, filePrefix) {
		return []byte(arg), flag, lineNone, nil
	}
	source := flag + " " + arg
	data, err := ReadArg(arg)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, "", 0, &Error{Source: source, Msg: e.Msg, Err: e.Err}
		}
		return nil, "", 0, err
	}
	return data, source, lineFromData, nil
}

// ParseValues parses --expression-attribute-values (inline JSON or
// file://PATH) in the AWS CLI's syntax, {":p":{"S":"tenant#42"}}: names
// start with ':' and values are typed values, as strict as ParseItem. An
// empty object is rejected, as DynamoDB rejects it. Errors are *Error whose
// Source is flag (followed by the file:// argument, with the line in it).
func ParseValues(flag, arg string) (map[string]types.AttributeValue, error) {
	data, source, mode, err := flagInput(flag, arg)
	if err != nil {
		return nil, err
	}
	const example = `{":p":{"S":"tenant#42"}}`
	values, f := parseDoc(data, example, func(name string) string {
		if len(name) < 2 || name[0] != ':' {
			return `placeholder must start with ':' and have a name, such as ":p"`
		}
		return ""
	})
	if f == nil && len(values) == 0 {
		f = &failure{msg: "no values in {} (give at least one, such as " + example + ", or leave out the flag)"}
	}
	if f != nil {
		return nil, f.toError("value", source, mode, 0, data)
	}
	return values, nil
}

// ParseNames parses --expression-attribute-names (inline JSON or
// file://PATH): {"#n":"name"}; names start with '#' and values are non-empty
// strings. Duplicates and an empty object are rejected. Errors are *Error as
// for ParseValues.
func ParseNames(flag, arg string) (map[string]string, error) {
	data, source, mode, err := flagInput(flag, arg)
	if err != nil {
		return nil, err
	}
	names, f := parseNames(data)
	if f != nil {
		return nil, f.toError("name", source, mode, 0, data)
	}
	return names, nil
}

func parseNames(data []byte) (map[string]string, *failure) {
	const example = `{"#n":"status"}`
	if f := checkText(data, example); f != nil {
		return nil, f
	}
	p := &parser{lexer{data: data}}
	if f := p.objectStart(example); f != nil {
		return nil, f
	}
	names := make(map[string]string)
	for p.more() {
		name, f := p.name()
		if f != nil {
			return nil, f
		}
		if len(name) < 2 || name[0] != '#' {
			return nil, p.fail(`placeholder must start with '#' and have a name, such as "#n"`).in(nameSeg(name))
		}
		if _, dup := names[name]; dup {
			return nil, p.fail("appears twice (keep one)").in(nameSeg(name))
		}
		tok := p.next()
		if tok.kind != tokString || tok.str == "" {
			got := tok.describe()
			if tok.kind == tokString {
				got = "an empty string"
			}
			return nil, p.fail(`must be a non-empty attribute name as a JSON string, such as %s, got %s`, example, got).in(nameSeg(name))
		}
		names[name] = tok.str
	}
	if f := p.closing('}'); f != nil {
		return nil, f
	}
	if f := p.end(); f != nil {
		return nil, f
	}
	if len(names) == 0 {
		return nil, &failure{msg: fmt.Sprintf("no names in {} (give at least one, such as %s, or leave out the flag)", example)}
	}
	return names, nil
}
