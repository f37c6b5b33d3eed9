package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/node"
)

// TestE2EReverseHoldPosting reverses a posted hold as any posting (ADR
// 0022, ADR 0023): a hotel holds 30.00 with an expiry, posts 20.00 of it
// and gives back 15.00 and then the rest; the reversals are of what was
// posted, never of what was held; the posted hold lists them with what
// remains, also after a restart; a pending or voided hold is not a
// posting to reverse; the audit passes.
func TestE2EReverseHoldPosting(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	guest := l.as(l.tokenFor(t, "guest", time.Hour, userScopes...))
	hotel := l.as(l.tokenFor(t, "hotel", time.Hour, userScopes...))
	for _, a := range []struct {
		who *e2eLedger
		id  string
	}{{guest, "guest"}, {hotel, "hotel"}} {
		e2eJSON[e2eAccount](t, a.who.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": a.id, "asset": "USD", "owner": a.id}), http.StatusCreated)
	}
	l.mint(t, "guest", "100.00")
	room := hold("room", "guest", "hotel", "30.00")
	room["expires_at"] = time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339Nano)
	room["reference"] = "room 12"
	room["metadata"] = map[string]string{"night": "1"}
	e2eJSON[e2eHold](t, guest.do(t, http.MethodPost, "/v1/transfers", room), http.StatusCreated)
	e2eJSON[e2eHold](t, guest.do(t, http.MethodPost, "/v1/transfers", hold("open", "guest", "hotel", "5.00")), http.StatusCreated)
	e2eJSON[e2eHold](t, guest.do(t, http.MethodPost, "/v1/transfers", hold("gone", "guest", "hotel", "5.00")), http.StatusCreated)
	e2eJSON[e2eHold](t, guest.do(t, http.MethodPost, "/v1/transfers/gone/void", nil), http.StatusOK)
	e2eJSON[e2eHold](t, guest.do(t, http.MethodPost, "/v1/transfers/room/post", map[string]any{"amount": "20.00"}), http.StatusOK)

	// A pending or a voided hold moved nothing: no posting to reverse.
	e2eCheckProblem(t, hotel.do(t, http.MethodPost, "/v1/transfers/open/reverse", map[string]any{"id": "x1"}), http.StatusNotFound, "transfer_not_found", "")
	e2eCheckProblem(t, hotel.do(t, http.MethodPost, "/v1/transfers/gone/reverse", map[string]any{"id": "x2"}), http.StatusNotFound, "transfer_not_found", "")
	// The posting is reversed by its recipient, at most what was posted.
	e2eCheckProblem(t, hotel.do(t, http.MethodPost, "/v1/transfers/room/reverse", map[string]any{"id": "x3", "amount": "20.01"}),
		http.StatusUnprocessableEntity, "reversal_exceeds_transfer", "")
	r1 := e2eJSON[e2eReversed](t, hotel.do(t, http.MethodPost, "/v1/transfers/room/reverse", map[string]any{"id": "refund-1", "amount": "15.00"}), http.StatusCreated)
	if r1.Reverses != "room" || r1.From != "hotel" || r1.To != "guest" || r1.Amount != "15.00" || r1.Entries[1].Balance != "95.00" {
		t.Fatalf("refund-1: %+v", r1)
	}
	l.settle(t)
	got := e2eJSON[e2eReversed](t, guest.do(t, http.MethodGet, "/v1/transfers/room", nil), http.StatusOK)
	if got.Status != "posted" || got.Amount != "20.00" || got.Reversible != "5.00" || len(got.Reversals) != 1 || got.Reversals[0].ID != "refund-1" {
		t.Fatalf("room after refund-1: %+v", got)
	}

	// After a restart the processor still knows what remains.
	dir := l.dataDir
	l.stop()
	l = e2eStartWith(t, node.Config{DataDir: dir})
	hotel = l.as(l.tokenFor(t, "hotel", time.Hour, userScopes...))
	e2eCheckProblem(t, hotel.do(t, http.MethodPost, "/v1/transfers/room/reverse", map[string]any{"id": "x4", "amount": "5.01"}),
		http.StatusUnprocessableEntity, "reversal_exceeds_transfer", "")
	r2 := e2eJSON[e2eReversed](t, hotel.do(t, http.MethodPost, "/v1/transfers/room/reverse", map[string]any{"id": "refund-2"}), http.StatusCreated)
	if r2.Amount != "5.00" {
		t.Fatalf("refund-2: %+v", r2)
	}
	if g, h := l.account(t, "guest", ""), l.account(t, "hotel", ""); g.Balance != "100.00" || h.Balance != "0.00" {
		t.Fatalf("balances: guest %s, hotel %s", g.Balance, h.Balance)
	}
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: l.node.JS, Names: l.node.Names}, audit.Options{})
	if err != nil || !res.Report.OK {
		t.Fatalf("audit: %v %v", err, res.Report.Findings)
	}
}
