package ddbjson_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ddbrewind/ddbrewind/internal/testsupport/ddbtest"
)

// TestKeyStringIsTheOnlyKeyEncoder fails when a product package turns
// DynamoDB values into strings other than through KeyString: every call of
// an item encoder (MarshalItem, the SDK's attributevalue marshalers)
// outside this package must be listed here with the reason it does not
// make a key identity. A key string built another way would keep a
// number's spelling ("7.0"), and the same key would then be two keys —
// which once deleted items that the recovery table held.
func TestKeyStringIsTheOnlyKeyEncoder(t *testing.T) {
	allowed := map[string]string{
		"internal/journalfmt/journalfmt.go:image:MarshalItem":        "a before- or after-image: a whole item, written as DynamoDB returned it or as ddbrewind wrote it",
		"copier/show.go:handle:MarshalItemKeysFirst":                 "show prints whole items, exactly as DynamoDB returned them, key attributes first",
		"cmd/ddbrewind/closing.go:selectionPlaceholders:MarshalItem": "a copy's --expression-attribute-values printed back in its check command: values, not a key identity",
		"internal/csvout/csvout.go:cell:MarshalItem":                 "a CSV cell holding one value as typed JSON",
		"copier/source_table.go:read:MarshalItem":                    "a checkpoint position: DynamoDB's LastEvaluatedKey, read back as a key, never compared",
		"internal/window/window.go:encode:MarshalItem":               "an incremental window's images kept compact in memory, decoded before any use; keys are identified by KeyString",
	}
	encoders := []string{"MarshalItem", "MarshalItemKeysFirst", "MarshalMap", "MarshalMapJSON", "MarshalList", "MarshalListJSON", "Marshal"}
	root := ddbtest.RepoRoot(t)
	// Test helpers keep an independent form on purpose (ddbtest compares
	// with its own code); the benchmark and demo check results the same way.
	skip := []string{"internal/ddbjson", "internal/testsupport/ddbtest", "tools/bench", "tools/demo", "node_modules"}
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if slices.Contains(skip, rel) || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, ok := sel.X.(*ast.Ident)
				if !ok || !slices.Contains(encoders, sel.Sel.Name) {
					return true
				}
				if pkg.Name == "ddbjson" || pkg.Name == "attributevalue" {
					found = append(found, rel+":"+fn.Name.Name+":"+sel.Sel.Name)
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatalf("found no encoder call at all under %s: the scan is broken", root)
	}
	for _, site := range found {
		if _, ok := allowed[site]; !ok {
			t.Errorf("%s encodes DynamoDB values: use ddbjson.KeyString for a key (numbers compare as numbers), or add the call site to this test's list with the reason it is not a key identity", site)
		}
	}
}
