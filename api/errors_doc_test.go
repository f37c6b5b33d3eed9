package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/domain"
)

// errorsDoc is the code catalogue every problem's type links to, relative
// to this package.
const errorsDoc = "../docs/errors.md"

// errorsDocRow matches a row of the catalogue: its anchor, its code and
// its status.
var errorsDocRow = regexp.MustCompile("(?m)^\\| <a id=\"([a-z_]+)\"></a>`([a-z_]+)` \\| ([0-9]{3}) \\|")

// errorsDocAnchors reads the catalogue's anchors with the status of their
// rows.
func errorsDocAnchors(t *testing.T) map[string]int {
	t.Helper()
	raw, err := os.ReadFile(errorsDoc)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]int{}
	for _, m := range errorsDocRow.FindAllStringSubmatch(string(raw), -1) {
		if m[1] != m[2] {
			t.Errorf("docs/errors.md: the row of %s has the anchor %s", m[2], m[1])
		}
		status, _ := strconv.Atoi(m[3])
		anchors[m[1]] = status
	}
	if n := strings.Count(string(raw), "<a id="); n != len(anchors) {
		t.Errorf("docs/errors.md has %d anchors, %d of them in rows of the table", n, len(anchors))
	}
	return anchors
}

// TestErrorsDocumentEveryCode checks docs/errors.md against the code→status
// table: every code the API answers with (api.Codes, which holds every
// domain code) has its anchor, in a row that gives its status (as
// x-error-codes, which TestOpenAPIErrorCodes checks against the server);
// and the catalogue documents no code the API does not have.
func TestErrorsDocumentEveryCode(t *testing.T) {
	anchors := errorsDocAnchors(t)
	statuses := oaErrorCodes(t, oaLoadDoc(t))
	codes := map[string]bool{}
	for _, c := range append(api.Codes(), domain.Codes...) {
		if codes[string(c)] {
			continue
		}
		codes[string(c)] = true
		status, ok := anchors[string(c)]
		switch {
		case !ok:
			t.Errorf("docs/errors.md has no anchor for the code %s", c)
		case status != statuses[c]:
			t.Errorf("docs/errors.md gives %s the status %d; the server answers %d", c, status, statuses[c])
		}
	}
	for a := range anchors {
		if !codes[a] {
			t.Errorf("docs/errors.md documents %s, which is not a code the API answers with", a)
		}
	}
}

// TestE2EProblemTypesResolve checks that the type of problems a running
// ledger answers links to an anchor of docs/errors.md in this repository,
// for answers of the transport, of validation, of the processor, and of
// an atomic batch's items (batch_aborted); and that every other link to
// the catalogue in the documentation resolves too.
func TestE2EProblemTypesResolve(t *testing.T) {
	t.Parallel()
	anchors := errorsDocAnchors(t)
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
		checkErrorsLink(t, anchors, typ, where)
	}

	// Links to the catalogue from the documentation and the OpenAPI
	// document (its description names the base, without an anchor).
	link := regexp.MustCompile(`errors\.md#([A-Za-z0-9_-]*)`)
	headings := errorsDocHeadings(t)
	files, _ := filepath.Glob("../docs/*.md")
	more, _ := filepath.Glob("../docs/*/*.md")
	for _, f := range append(append(files, more...), "../README.md", "openapi.json") {
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

// errorsDocHeadings returns the anchors GitHub gives docs/errors.md's
// headings: lower case, spaces as '-', punctuation dropped.
func errorsDocHeadings(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		title, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !strings.HasPrefix(line, "#") || !ok {
			continue
		}
		slug := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				return r
			}
			return -1
		}, strings.ToLower(title))
		out[slug] = true
	}
	return out
}

// checkErrorsLink checks that a problem's type is a link to this
// repository's docs/errors.md with an anchor that exists there.
func checkErrorsLink(t *testing.T, anchors map[string]int, typ, where string) {
	t.Helper()
	u, err := url.Parse(typ)
	if err != nil || u.Scheme != "https" || u.Host != "github.com" {
		t.Errorf("%s: type %q is not a link to the repository", where, typ)
		return
	}
	if !strings.HasPrefix(u.Path, "/nats-ledger/ledger/blob/") || !strings.HasSuffix(u.Path, "/docs/errors.md") {
		t.Errorf("%s: type %q does not link to docs/errors.md", where, typ)
	}
	if _, ok := anchors[u.Fragment]; !ok {
		t.Errorf("%s: type %q links to the anchor %q, which docs/errors.md does not have", where, typ, u.Fragment)
	}
}
