package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// Every code the API adds to the domain's is declared in problem.go,
// beside the one table that maps codes to statuses (domain/errors.go
// holds the domain's).
func TestAPICodesDeclaredInProblemFile(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			gd, ok := n.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				return true
			}
			for _, spec := range gd.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if !strings.HasPrefix(id.Name, "Code") {
						continue
					}
					found++
					if name != "problem.go" {
						t.Errorf("code %s is declared in %s, not problem.go", id.Name, name)
					}
				}
			}
			return false
		})
	}
	if found == 0 {
		t.Fatal("no codes found: the test no longer reads the declarations")
	}
}
