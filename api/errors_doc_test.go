package api_test

import (
	"testing"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/apidoc"
)

// errorsDoc is the code catalogue every problem's type links to, relative
// to this package.
const errorsDoc = "../docs/errors.md"

// TestErrorsDocumentEveryCode checks docs/errors.md against the code→status
// table: every code the API answers with (api.Codes, which holds every
// domain code) has its anchor, in a row that gives its status (as
// x-error-codes, which TestOpenAPIErrorCodes checks against the server);
// and the catalogue documents no code the API does not have.
func TestErrorsDocumentEveryCode(t *testing.T) {
	anchors := apidoc.ErrorAnchors(t, errorsDoc)
	statuses := apidoc.ErrorCodes(t, oaLoadDoc(t))
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
