package webhook_test

import (
	"go/build"
	"path/filepath"
	"strings"
	"testing"
)

// module is the ledger's module path; root is its directory from here.
const (
	module = "github.com/nats-ledger/ledger"
	root   = "../.."
)

// moduleImports returns the packages of the ledger's module that the
// package in dir (relative to root) imports, directly or not, and every
// package outside the module that it imports directly. Test files are not
// followed: the layering is about what is built into the program.
func moduleImports(t *testing.T, dir string) (inModule map[string]bool, direct []string) {
	t.Helper()
	inModule = map[string]bool{}
	var walk func(dir string, top bool)
	walk = func(dir string, top bool) {
		p, err := build.ImportDir(filepath.Join(root, dir), 0)
		if err != nil {
			t.Fatalf("read package %s: %v", dir, err)
		}
		for _, imp := range p.Imports {
			if top {
				direct = append(direct, imp)
			}
			rel, ok := strings.CutPrefix(imp, module+"/")
			if !ok || inModule[imp] {
				continue
			}
			inModule[imp] = true
			walk(rel, false)
		}
	}
	walk(dir, true)
	return inModule, direct
}

// The webhook service implements the API's port without importing the
// API: the model and the port live in the leaf package webhook.
func TestWebhookServiceDoesNotImportTheAPI(t *testing.T) {
	deps, _ := moduleImports(t, "infra/webhook")
	for p := range deps {
		if p == module+"/api" || strings.HasPrefix(p, module+"/api/") {
			t.Errorf("infra/webhook imports %s", p)
		}
	}
	if !deps[module+"/webhook"] {
		t.Errorf("infra/webhook does not import the webhook model (%s/webhook)", module)
	}
}

// The webhook model is a leaf: the standard library and domain only, so
// both the API and infra/webhook can import it.
func TestWebhookModelIsALeaf(t *testing.T) {
	deps, direct := moduleImports(t, "webhook")
	for p := range deps {
		if p != module+"/domain" {
			t.Errorf("webhook imports %s", p)
		}
	}
	for _, p := range direct {
		if first, _, _ := strings.Cut(p, "/"); strings.Contains(first, ".") && p != module+"/domain" {
			t.Errorf("webhook imports %s, outside the standard library", p)
		}
	}
}
