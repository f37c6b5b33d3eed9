package e2e_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/internal/ledgertest/apidoc"
)

// errorsDoc is the code catalogue every problem's type links to, relative
// to this package.
const errorsDoc = "../../docs/errors.md"

// TestE2EProblemTypesResolve checks that the type of problems a running
// ledger answers links to an anchor of docs/errors.md in this repository,
// for answers of the transport, of validation, of the processor, and of
// an atomic batch's items (batch_aborted); and that every other link to
// the catalogue in the documentation resolves too.
func TestE2EProblemTypesResolve(t *testing.T) {
	t.Parallel()
	anchors := apidoc.ErrorAnchors(t, errorsDoc)
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	types := map[string]string{} // type -> where it was answered
	note := func(p e2eProblem, where string) {
		if p.Type == "" {
			t.Errorf("%s: a problem without a type", where)
		}
		types[p.Type] = where
	}
	for _, r := range []e2eResp{
		l.do(t, http.MethodGet, "/v1/nope", nil),
		l.do(t, http.MethodPost, "/v1/transfers", `{"from":"alice"}`),
		l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "alice", "to": "bob", "amount": "5.00"}),
		l.do(t, http.MethodGet, "/v1/accounts/ghost", nil),
		l.do(t, http.MethodGet, "/v1/transfers", nil, "Authorization", ""),
	} {
		var p e2eProblem
		if r.Status < 400 || e2eMediaType(r) != "application/problem+json" || json.Unmarshal(r.Body, &p) != nil {
			t.Fatalf("not a problem: %s", r)
		}
		note(p, r.Method+" "+r.Path)
	}
	r := l.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"atomic": true, "transfers": []any{
		map[string]any{"from": "world", "to": "alice", "amount": "1.00"},
		map[string]any{"from": "alice", "to": "bob", "amount": "5.00"},
	}})
	for i, item := range e2eJSON[e2eBatchResponse](t, r, http.StatusOK).Results {
		if item.Problem == nil {
			t.Fatalf("atomic batch item %d: no problem: %s", i, r)
		}
		note(*item.Problem, "atomic batch item "+strconv.Itoa(i))
	}
	aborted := false
	for typ := range types {
		aborted = aborted || strings.HasSuffix(typ, "#batch_aborted")
	}
	if !aborted {
		t.Errorf("no batch_aborted among the answers: %v", types)
	}
	for typ, where := range types {
		apidoc.CheckErrorsLink(t, anchors, typ, where)
	}

	// Links to the catalogue from the documentation and the OpenAPI
	// document (its description names the base, without an anchor).
	link := regexp.MustCompile(`errors\.md#([A-Za-z0-9_-]*)`)
	headings := apidoc.Headings(t, errorsDoc)
	files, _ := filepath.Glob("../../docs/*.md")
	more, _ := filepath.Glob("../../docs/*/*.md")
	if len(files) == 0 || len(more) == 0 {
		t.Fatalf("no documentation found from here: %d, %d files", len(files), len(more))
	}
	for _, f := range append(append(files, more...), "../../README.md", openAPIFile) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(raw), -1) {
			if _, ok := anchors[m[1]]; !ok && !headings[m[1]] && m[1] != "" {
				t.Errorf("%s links to errors.md#%s, which is no anchor", f, m[1])
			}
		}
	}
}
