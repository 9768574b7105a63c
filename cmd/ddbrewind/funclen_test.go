package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// maxFuncLines is the longest a function may be, counted from func to its
// closing brace.
const maxFuncLines = 80

// TestNoLongFunctions fails when a function (declared, or a function
// literal such as a command's action) outside tests is longer than
// maxFuncLines: split it into named steps. The JSON codec's two switches
// over every DynamoDB type and JSON token stay whole (one case a type).
func TestNoLongFunctions(t *testing.T) {
	allowed := map[string]string{
		"internal/ddbjson/decode.go:value":       "the strict JSON decoder: one case a DynamoDB type, read in one pass",
		"internal/ddbjson/encode.go:appendValue": "the encoder: one case a DynamoDB type, mirror of value",
	}
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	funcs := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "node_modules" || rel == "bin" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var name string
			switch fn := n.(type) {
			case *ast.FuncDecl:
				if fn.Body == nil {
					return true
				}
				name = fn.Name.Name
			case *ast.FuncLit:
				name = "func literal at line " + strconv.Itoa(fset.Position(fn.Pos()).Line)
			default:
				return true
			}
			funcs++
			lines := fset.Position(n.End()).Line - fset.Position(n.Pos()).Line + 1
			site := rel + ":" + name
			if _, ok := allowed[site]; lines > maxFuncLines && !ok {
				t.Errorf("%s is %d lines long: split it into named steps of at most %d lines", site, lines, maxFuncLines)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if funcs < 100 {
		t.Fatalf("found only %d functions under %s: the scan is broken", funcs, root)
	}
}
