package usage_test

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

// TestNoAliasesOfTheUsageError fails when a package outside internal/usage
// declares its own name for the usage error: a type alias or type of
// usage.Error, or a function that only wraps usage.Errorf. Every package
// returns usage.Errorf / &usage.Error{…} itself, so that a reader (and the
// exit-code switch) meets one name for exit code 2, not one per package.
func TestNoAliasesOfTheUsageError(t *testing.T) {
	allowed := map[string]bool{}
	root := ddbtest.RepoRoot(t)
	skip := []string{"internal/usage", "node_modules"}
	var found []string
	files := 0
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
		files++
		for _, decl := range f.Decls {
			for _, name := range usageAliases(decl) {
				found = append(found, rel+":"+name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("found no Go file under %s: the scan is broken", root)
	}
	for _, site := range found {
		if !allowed[site] {
			t.Errorf("%s is another name for the usage error: return usage.Errorf(…) or &usage.Error{…} directly", site)
		}
	}
}

// usageAliases returns the names decl declares for the usage error: types
// defined as usage.Error, and functions whose body is only
// `return usage.Errorf(…)`.
func usageAliases(decl ast.Decl) []string {
	var names []string
	switch d := decl.(type) {
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			ts, ok := spec.(*ast.TypeSpec)
			if ok && isUsageSelector(ts.Type, "Error") {
				names = append(names, ts.Name.Name)
			}
		}
	case *ast.FuncDecl:
		if d.Body == nil || len(d.Body.List) != 1 {
			return nil
		}
		ret, ok := d.Body.List[0].(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			return nil
		}
		if call, ok := ret.Results[0].(*ast.CallExpr); ok && isUsageSelector(call.Fun, "Errorf") {
			names = append(names, d.Name.Name)
		}
	}
	return names
}

// isUsageSelector reports whether e is usage.name.
func isUsageSelector(e ast.Expr, name string) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "usage"
}
