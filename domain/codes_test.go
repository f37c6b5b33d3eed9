package domain_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// Every code the domain decides is declared in errors.go, so that one file
// holds the domain's part of the public error contract (api/problem.go
// holds the API's), and domain.Codes lists each of them.
func TestCodesDeclaredInErrorsFile(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var declared []domain.Code
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
					continue
				}
				for i, n := range vs.Names {
					if name != "errors.go" {
						t.Errorf("code %s is declared in %s, not errors.go", n.Name, name)
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok {
						t.Fatalf("code %s is not a string literal", n.Name)
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					declared = append(declared, domain.Code(v))
				}
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("no codes found: the test no longer reads the declarations")
	}
	slices.Sort(declared)
	listed := slices.Sorted(slices.Values(domain.Codes))
	if !slices.Equal(declared, listed) {
		t.Errorf("declared codes %v, domain.Codes %v", declared, listed)
	}
}
