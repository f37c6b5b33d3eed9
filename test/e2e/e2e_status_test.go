package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/internal/ledgertest/apidoc"
)

// e2eStatus is the body of GET /v1/status.
type e2eStatus struct {
	Journal struct {
		Sequence uint64 `json:"sequence"`
		Position uint64 `json:"position"`
	} `json:"journal"`
	ReadModel struct {
		Sequence uint64 `json:"sequence"`
		Position uint64 `json:"position"`
		Behind   uint64 `json:"behind"`
	} `json:"read_model"`
	Processor struct {
		Ready       bool   `json:"ready"`
		Role        string `json:"role"`
		Instance    string `json:"instance"`
		LeaseHolder string `json:"lease_holder"`
	} `json:"processor"`
}

// status reads GET /v1/status, checks it against the document's schema and
// its internal consistency, and returns it.
func (l *e2eLedger) status(t *testing.T, doc map[string]any) e2eStatus {
	t.Helper()
	r := l.do(t, http.MethodGet, "/v1/status", nil)
	s := e2eJSON[e2eStatus](t, r, http.StatusOK)
	var body any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatal(err)
	}
	if errs := apidoc.Validate(doc, map[string]any{"$ref": "#/components/schemas/LedgerStatus"}, body, "body"); len(errs) > 0 {
		t.Errorf("%s does not match LedgerStatus:\n%s", r, strings.Join(errs, "\n"))
	}
	if s.ReadModel.Sequence > s.Journal.Sequence || s.ReadModel.Position > s.Journal.Position {
		t.Errorf("%s: the read model is ahead of the journal", r)
	}
	if s.ReadModel.Behind != s.Journal.Sequence-s.ReadModel.Sequence {
		t.Errorf("%s: behind is not journal.sequence - read_model.sequence", r)
	}
	return s
}

// TestE2EStatus posts transfers and checks that GET /v1/status reports a
// journal at least as far as the last answer, a read model no further than
// the journal, and, once the read model has caught up (settle), no lag.
func TestE2EStatus(t *testing.T) {
	doc := oaLoadDoc(t)
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	last := l.mint(t, "alice", "100.00").Sequence
	for i := range 5 {
		tr := l.post(t, map[string]any{"id": fmt.Sprintf("st-%d", i), "from": "alice", "to": "bob", "amount": "1.00"})
		if tr.Sequence <= last {
			t.Fatalf("transfer %s at sequence %d, after %d", tr.ID, tr.Sequence, last)
		}
		last = tr.Sequence
		if s := l.status(t, doc); s.Journal.Sequence < last {
			t.Errorf("after a 201 at sequence %d the journal is at %d", last, s.Journal.Sequence)
		}
	}
	l.settle(t)
	s := l.status(t, doc)
	if s.Journal.Sequence != last || s.ReadModel.Sequence != last || s.ReadModel.Behind != 0 {
		t.Errorf("caught up after sequence %d: status %+v", last, s)
	}
	if s.Journal.Position == 0 || s.ReadModel.Position != s.Journal.Position {
		t.Errorf("caught up: journal position %d, read model position %d", s.Journal.Position, s.ReadModel.Position)
	}
	if !s.Processor.Ready {
		t.Error("processor not ready")
	}
	// The only processor holds the lease (ADR 0026).
	if s.Processor.Role != "active" || s.Processor.Instance == "" || s.Processor.LeaseHolder != s.Processor.Instance {
		t.Errorf("processor %+v: want active, holding the lease under its own name", s.Processor)
	}

	// Admin only.
	user := l.tokenFor(t, "alice", time.Hour, userScopes...)
	e2eCheckProblem(t, l.as(user).do(t, http.MethodGet, "/v1/status", nil), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, l.do(t, http.MethodGet, "/v1/status", nil, "Authorization", ""), http.StatusUnauthorized, "unauthorized", "")
}
