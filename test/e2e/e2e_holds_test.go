package e2e_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra"
	"github.com/nats-ledger/ledger/node"
)

// e2eHold is a transfer view with its hold (ADR 0022).
type e2eHold struct {
	e2eTransfer
	Hold *struct {
		Amount          string     `json:"amount"`
		PostedAmount    string     `json:"posted_amount"`
		ExpiresAt       *time.Time `json:"expires_at"`
		Sequence        uint64     `json:"sequence"`
		SettledSequence uint64     `json:"settled_sequence"`
		SettledHash     string     `json:"settled_hash"`
	} `json:"hold"`
	Hash string `json:"hash"`
}

// e2ePending is an account's balances with its holds.
type e2ePending struct {
	Balance        string `json:"balance"`
	PendingDebits  string `json:"pending_debits"`
	PendingCredits string `json:"pending_credits"`
	Available      string `json:"available"`
}

func (l *e2eLedger) pendingOf(t *testing.T, id string) e2ePending {
	t.Helper()
	l.settle(t)
	return e2eJSON[e2ePending](t, l.do(t, http.MethodGet, "/v1/accounts/"+id, nil), http.StatusOK)
}

func (l *e2eLedger) wantPending(t *testing.T, id, balance, debits, credits, available string) {
	t.Helper()
	want := e2ePending{Balance: balance, PendingDebits: debits, PendingCredits: credits, Available: available}
	if got := l.pendingOf(t, id); got != want {
		t.Fatalf("%s: %+v, want %+v", id, got, want)
	}
}

func hold(id, from, to, amount string) map[string]any {
	return map[string]any{"id": id, "from": from, "to": to, "amount": amount, "pending": true}
}

// holdAnswerHash reports whether a settlement's answer carries, as its
// hold's settled_hash, the journal hash of the event of type typ it
// wrote, at the sequence its Ledger-Sequence header names, and as its
// hash the journal hash of the event at its sequence.
func holdAnswerHash(t *testing.T, l *e2eLedger, r e2eResp, v e2eHold, typ domain.EventType) bool {
	t.Helper()
	seq, err := strconv.ParseUint(r.Header.Get("Ledger-Sequence"), 10, 64)
	if err != nil || seq == 0 || v.Sequence == 0 || v.Hold == nil {
		t.Fatalf("Ledger-Sequence: %q; answer %+v", r.Header.Get("Ledger-Sequence"), v)
	}
	j := l.journal(t)
	ev := j[seq-1]
	return ev.Type == typ && ev.Hash == v.Hold.SettledHash && v.Hold.SettledSequence == seq && len(v.Hash) == 64 &&
		j[v.Sequence-1].Hash == v.Hash
}

// TestE2EHolds places, reads, posts in part, voids and expires holds over
// HTTP: a hold lowers the available balance only; two holds together
// cannot exceed the funds; only the owner (or an admin) settles a hold;
// every action is idempotent; an expiry is journaled after expires_at;
// entries show posted amounts only; the audit passes.
func TestE2EHolds(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	alice := l.as(l.tokenFor(t, "alice", time.Hour, userScopes...))
	bob := l.as(l.tokenFor(t, "bob", time.Hour, userScopes...))
	e2eJSON[e2eAccount](t, alice.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "alice", "asset": "USD", "owner": "alice"}), http.StatusCreated)
	e2eJSON[e2eAccount](t, bob.do(t, http.MethodPost, "/v1/accounts", map[string]any{"id": "bob", "asset": "USD", "owner": "bob"}), http.StatusCreated)
	l.mint(t, "alice", "100.00")

	// A hold: 201, pending, no entries; alice's available falls, her
	// balance does not; bob sees it as pending credit.
	h1 := e2eJSON[e2eHold](t, alice.do(t, http.MethodPost, "/v1/transfers", hold("h1", "alice", "bob", "60")), http.StatusCreated)
	if h1.Status != "pending" || h1.Amount != "60.00" || len(h1.Entries) != 0 || h1.Hold == nil || h1.Hold.Amount != "60.00" {
		t.Fatalf("h1: %+v", h1)
	}
	l.wantPending(t, "alice", "100.00", "60.00", "0.00", "40.00")
	l.wantPending(t, "bob", "0.00", "0.00", "60.00", "0.00")
	bal := e2eJSON[e2ePending](t, alice.do(t, http.MethodGet, "/v1/accounts/alice/balance", nil), http.StatusOK)
	if bal.Balance != "100.00" || bal.Available != "40.00" {
		t.Fatalf("alice's balance: %+v", bal)
	}
	// Two holds together cannot exceed what alice may spend, nor can a
	// transfer beside a hold.
	p := e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", hold("h2", "alice", "bob", "40.01")), http.StatusUnprocessableEntity, "insufficient_funds", "")
	if !strings.Contains(p.Detail, "60.00 USD is held") {
		t.Fatalf("detail: %s", p.Detail)
	}
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "alice", "to": "bob", "amount": "41"}), http.StatusUnprocessableEntity, "insufficient_funds", "")
	// A retry of the hold replays it; the same id without pending conflicts.
	r := alice.do(t, http.MethodPost, "/v1/transfers", hold("h1", "alice", "bob", "60.00"))
	if got := e2eJSON[e2eHold](t, r, http.StatusOK); got.Status != "pending" || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replayed hold: %s", r)
	}
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", map[string]any{"id": "h1", "from": "alice", "to": "bob", "amount": "60"}), http.StatusConflict, "idempotency_conflict", "")

	// Only who may debit alice settles her hold; more than held is refused.
	e2eCheckProblem(t, bob.do(t, http.MethodPost, "/v1/transfers/h1/post", nil), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, bob.do(t, http.MethodPost, "/v1/transfers/h1/void", nil), http.StatusForbidden, "forbidden", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers/h1/post", map[string]any{"amount": "60.01"}), http.StatusUnprocessableEntity, "hold_amount_exceeded", "")
	e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers/nope/post", nil), http.StatusNotFound, "hold_not_found", "")

	// A partial post moves 25.00 and releases the rest.
	r = alice.do(t, http.MethodPost, "/v1/transfers/h1/post", map[string]any{"amount": 25})
	posted := e2eJSON[e2eHold](t, r, http.StatusOK)
	if !holdAnswerHash(t, l, r, posted, domain.EventHoldPosted) {
		t.Fatalf("post's hash %q is not its HoldPosted event's", posted.Hash)
	}
	want := []e2eEntry{{Account: "alice", Type: "debit", Amount: "25.00", Balance: "75.00"}, {Account: "bob", Type: "credit", Amount: "25.00", Balance: "25.00"}}
	if posted.Status != "posted" || posted.Amount != "25.00" || posted.Hold == nil || posted.Hold.Amount != "60.00" || posted.Hold.PostedAmount != "25.00" ||
		len(posted.Entries) != 2 || posted.Entries[0] != want[0] || posted.Entries[1] != want[1] {
		t.Fatalf("posted h1: %+v", posted)
	}
	l.wantPending(t, "alice", "75.00", "0.00", "0.00", "75.00")
	l.wantPending(t, "bob", "25.00", "0.00", "0.00", "25.00")
	// The same post again answers the first; anything else is refused.
	r = alice.do(t, http.MethodPost, "/v1/transfers/h1/post", map[string]any{"amount": "25.00"})
	if got := e2eJSON[e2eHold](t, r, http.StatusOK); got.Status != "posted" || got.Sequence != posted.Sequence || got.Hash != posted.Hash || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeated post: %s", r)
	}
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers/h1/post", nil), http.StatusConflict, "hold_not_pending", "")
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers/h1/void", nil), http.StatusConflict, "hold_not_pending", "")

	// A void releases a hold whole, idempotently.
	e2eJSON[e2eHold](t, alice.do(t, http.MethodPost, "/v1/transfers", hold("h3", "alice", "bob", "10")), http.StatusCreated)
	l.wantPending(t, "alice", "75.00", "10.00", "0.00", "65.00")
	r = alice.do(t, http.MethodPost, "/v1/transfers/h3/void", nil)
	if v := e2eJSON[e2eHold](t, r, http.StatusOK); v.Status != "voided" || len(v.Entries) != 0 || !holdAnswerHash(t, l, r, v, domain.EventHoldVoided) {
		t.Fatalf("voided h3: %+v", v)
	}
	r = alice.do(t, http.MethodPost, "/v1/transfers/h3/void", nil)
	if e2eJSON[e2eHold](t, r, http.StatusOK).Status != "voided" || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeated void: %s", r)
	}
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers/h3/post", nil), http.StatusConflict, "hold_not_pending", "")
	l.wantPending(t, "alice", "75.00", "0.00", "0.00", "75.00")

	// A hold that expires: the processor voids it through the journal
	// once its clock is past expires_at, with no request to prompt it.
	expires := time.Now().Add(1500 * time.Millisecond).UTC()
	h4 := hold("h4", "alice", "bob", "5")
	h4["expires_at"] = expires.Format(time.RFC3339Nano)
	if got := e2eJSON[e2eHold](t, alice.do(t, http.MethodPost, "/v1/transfers", h4), http.StatusCreated); got.Hold.ExpiresAt == nil || !got.Hold.ExpiresAt.Equal(expires) {
		t.Fatalf("h4: %+v", got)
	}
	e2eEventually(t, e2eReadyWait, "h4 to expire", func() (bool, string) {
		r := alice.do(t, http.MethodGet, "/v1/transfers/h4", nil)
		return e2eJSON[e2eHold](t, r, http.StatusOK).Status == "expired", r.String()
	})
	l.wantPending(t, "alice", "75.00", "0.00", "0.00", "75.00")
	e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers/h4/post", nil), http.StatusConflict, "hold_expired", "")
	// A past or too distant expiry is refused.
	h5 := hold("h5", "alice", "bob", "1")
	// (The processor decides it against its clock, so the problem names
	// the field in its detail.)
	h5["expires_at"] = time.Now().Add(-time.Minute).Format(time.RFC3339)
	p = e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", h5), http.StatusBadRequest, "validation_failed", "")
	if p.Detail != "expires_at: must be in the future" {
		t.Fatalf("past expiry: %s", p.Detail)
	}
	h5["expires_at"] = time.Now().Add(91 * 24 * time.Hour).Format(time.RFC3339)
	p = e2eCheckProblem(t, alice.do(t, http.MethodPost, "/v1/transfers", h5), http.StatusBadRequest, "validation_failed", "")
	if p.Detail != "expires_at: at most 90 days ahead" {
		t.Fatalf("distant expiry: %s", p.Detail)
	}

	// Entries show posted amounts only: the mint and the 25.00 posted.
	entries := e2ePageOf[e2eAccountEntry](t, alice.do(t, http.MethodGet, "/v1/accounts/alice/entries", nil))
	if len(entries.Data) != 2 || entries.Data[0].TransferID != "h1" || entries.Data[0].Amount != "25.00" {
		t.Fatalf("alice's entries: %+v", entries.Data)
	}
	l.checkZeroSum(t, "USD", "alice", "bob")

	// A batch item may be a hold; it answers 201 pending like a single one.
	batch := e2eJSON[struct {
		Results []struct {
			Status   int      `json:"status"`
			Transfer *e2eHold `json:"transfer"`
		} `json:"results"`
	}](t, alice.do(t, http.MethodPost, "/v1/transfers/batch", map[string]any{"transfers": []any{hold("b1", "alice", "bob", "1")}}), http.StatusOK)
	if r := batch.Results; len(r) != 1 || r[0].Status != http.StatusCreated || r[0].Transfer.Status != "pending" || r[0].Transfer.Hold == nil {
		t.Fatalf("batch: %+v", batch.Results)
	}
	e2eJSON[e2eHold](t, alice.do(t, http.MethodPost, "/v1/transfers/b1/void", nil), http.StatusOK)

	// The hold events flow to an event stream filtered by alice's account
	// as any event does, in journal order.
	j := l.journal(t)
	stream := alice.openEvents(t, e2eStreamClient(), l.base, "?from=1&account=alice&type=TransferPending,HoldPosted,HoldVoided")
	n := 0
	for _, ev := range j {
		if ev.Hold != nil || ev.HoldPost != nil || ev.HoldVoid != nil {
			checkEvent(t, stream.next(t), ev)
			n++
		}
	}
	if n != 8 {
		t.Fatalf("%d hold events streamed", n)
	}

	// The journal: the holds, the posting, the voids and the expiry after
	// expires_at.
	var pending, postedEvs, voided, expired int
	for _, ev := range j {
		switch ev.Type {
		case domain.EventTransferPending:
			pending++
		case domain.EventHoldPosted:
			postedEvs++
		case domain.EventHoldVoided:
			if ev.HoldVoid.Reason == domain.VoidExpired {
				expired++
				if ev.HoldVoid.ID != "h4" || !ev.Time.After(expires) {
					t.Fatalf("expiry %+v at %s", ev.HoldVoid, ev.Time)
				}
			} else {
				voided++
			}
		}
	}
	if pending != 4 || postedEvs != 1 || voided != 2 || expired != 1 {
		t.Fatalf("journal: %d holds, %d posted, %d voided, %d expired", pending, postedEvs, voided, expired)
	}
	res, err := audit.Run(context.Background(), &audit.JetStreamSource{JS: l.node.JS, Names: l.node.Names}, audit.Options{})
	if err != nil || !res.Report.OK {
		t.Fatalf("audit: %v %v", err, res.Report.Findings)
	}
}

// logText is what a syncBuffer (e2e_webhooks_retry_test.go) holds.
func (b *syncBuffer) logText() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestE2EHoldsSurviveRestart restarts a node holding funds, once
// rebuilding from the journal alone and once from a snapshot: the hold
// still counts against the limit, and posts afterwards.
func TestE2EHoldsSurviveRestart(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		snapshotEvery uint64
		restored      string // what the processor logs at the restart
	}{
		{"journal", 0, "processor state rebuilt"},
		{"snapshot", 1, "state restored from a snapshot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l := e2eStartWith(t, node.Config{SnapshotEvery: c.snapshotEvery})
			l.defineAsset(t, "USD", 2)
			l.openAccount(t, "alice", "USD")
			l.openAccount(t, "bob", "USD")
			l.mint(t, "alice", "50.00")
			e2eJSON[e2eHold](t, l.do(t, http.MethodPost, "/v1/transfers", hold("r1", "alice", "bob", "30")), http.StatusCreated)
			l.wantPending(t, "alice", "50.00", "30.00", "0.00", "20.00")
			if c.snapshotEvery > 0 {
				// The snapshot that holds r1 is written before the stop.
				head := len(l.journal(t))
				store, err := infra.EnsureSnapshotStore(context.Background(), l.node.JS, l.node.Names, 1)
				if err != nil {
					t.Fatal(err)
				}
				e2eEventually(t, e2eReadyWait, "a snapshot of the hold", func() (bool, string) {
					list, err := store.List(context.Background())
					return err == nil && len(list) > 0 && list[0].Seq >= uint64(head), ""
				})
			}
			dir := l.dataDir
			l.stop()
			logs := &syncBuffer{}
			l = e2eStartWith(t, node.Config{DataDir: dir, SnapshotEvery: c.snapshotEvery, Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if !strings.Contains(logs.logText(), c.restored) {
				t.Fatalf("the restart did not log %q:\n%s", c.restored, logs.logText())
			}
			l.wantPending(t, "alice", "50.00", "30.00", "0.00", "20.00")
			e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/transfers", map[string]any{"from": "alice", "to": "bob", "amount": "20.01"}),
				http.StatusUnprocessableEntity, "insufficient_funds", "")
			if got := e2eJSON[e2eHold](t, l.do(t, http.MethodPost, "/v1/transfers/r1/post", nil), http.StatusOK); got.Status != "posted" || got.Amount != "30.00" {
				t.Fatalf("r1 after the restart: %+v", got)
			}
			l.wantPending(t, "alice", "20.00", "0.00", "0.00", "20.00")
		})
	}
}
