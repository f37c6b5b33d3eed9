package domain_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

func (h *harness) hold(id, action, amount string, actor *domain.Actor) domain.Decision {
	h.t.Helper()
	return h.do(domain.Command{Actor: actor, Hold: &domain.HoldAction{ID: id, Action: action, Amount: amount}})
}

func (h *harness) wantBalances(id, balance, held string) {
	h.t.Helper()
	if b, hd := h.s.HoldBalances(id); b != balance || hd != held {
		h.t.Fatalf("%s: balance %s held %s, want %s and %s", id, b, hd, balance, held)
	}
}

// holdFixture is fixture with alice (owner "alice") holding 10.00 USD.
func holdFixture(t *testing.T) *harness {
	h := newHarness(t)
	h.must(h.asset("USD", 2), domain.Created)
	h.must(h.asset("EUR", 2), domain.Created)
	h.must(h.open(domain.Account{ID: "alice", Asset: "USD", Owner: "alice"}), domain.Created)
	h.must(h.open(domain.Account{ID: "bob", Asset: "USD", Owner: "bob"}), domain.Created)
	h.must(h.open(domain.Account{ID: "eve", Asset: "EUR"}), domain.Created)
	h.must(h.transfer(domain.Transfer{ID: "seed", From: domain.World, To: "alice", Amount: "10"}), domain.Posted)
	return h
}

var holdAlice = &domain.Actor{Subject: "alice"}

func TestHoldDecisions(t *testing.T) {
	h := holdFixture(t)
	// A hold lowers the available balance, not the balance.
	d := h.must(h.transfer(domain.Transfer{ID: "h1", From: "alice", To: "bob", Amount: "6", Pending: true}), domain.Posted)
	if d.Event.Type != domain.EventTransferPending || d.Event.Hold.Amount != "6.00" || d.Event.Hold.Asset != "USD" {
		t.Fatalf("event %+v", d.Event)
	}
	h.wantBalances("alice", "10.00", "6.00")
	// A second hold, or a transfer, beyond the available 4.00 is refused.
	wantCode(t, h.transfer(domain.Transfer{ID: "h2", From: "alice", To: "bob", Amount: "5", Pending: true}), domain.CodeInsufficientFunds)
	d = h.transfer(domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "4.01"})
	wantCode(t, d, domain.CodeInsufficientFunds)
	if got := d.Err.Error(); got != "insufficient available balance: balance was 10.00 USD of which 6.00 USD is held, at least 10.01 USD is required" {
		t.Fatalf("detail %q", got)
	}
	h.must(h.transfer(domain.Transfer{ID: "h2", From: "alice", To: "bob", Amount: "4", Pending: true}), domain.Posted)
	h.wantBalances("alice", "10.00", "10.00")
	// The same hold again replays; another body under the id conflicts.
	h.must(h.transfer(domain.Transfer{ID: "h1", From: "alice", To: "bob", Amount: "6.00", Pending: true}), domain.Replayed)
	wantCode(t, h.transfer(domain.Transfer{ID: "h1", From: "alice", To: "bob", Amount: "6"}), domain.CodeIdempotencyConflict)
	// Only who may debit alice posts or voids her holds.
	wantCode(t, h.hold("h1", domain.HoldPost, "", &domain.Actor{Subject: "bob"}), domain.CodeForbidden)
	wantCode(t, h.hold("nope", domain.HoldPost, "", &domain.Actor{Subject: "bob"}), domain.CodeForbidden)
	wantCode(t, h.hold("nope", domain.HoldPost, "", nil), domain.CodeHoldNotFound)
	wantCode(t, h.hold("seed", domain.HoldVoid, "", nil), domain.CodeHoldNotFound)
	wantCode(t, h.hold("h1", domain.HoldPost, "6.01", holdAlice), domain.CodeHoldAmountExceeded)
	wantCode(t, h.hold("h1", domain.HoldVoid, "1", holdAlice), domain.CodeValidationFailed)
	wantCode(t, h.hold("h1", "settle", "", holdAlice), domain.CodeValidationFailed)
	// A partial post moves 2.50 and releases the rest.
	d = h.must(h.hold("h1", domain.HoldPost, "2.5", holdAlice), domain.Posted)
	p := d.Event.HoldPost
	if d.Event.Type != domain.EventHoldPosted || p.Amount != "2.50" || p.Held != "6.00" ||
		p.Entries != [2]domain.Entry{{Account: "alice", Type: domain.Debit, Amount: "2.50", Balance: "7.50"}, {Account: "bob", Type: domain.Credit, Amount: "2.50", Balance: "2.50"}} {
		t.Fatalf("posting %+v", p)
	}
	h.wantBalances("alice", "7.50", "4.00")
	h.wantBalances("bob", "2.50", "0.00")
	// The same post again replays it; any other action is hold_not_pending.
	if d2 := h.must(h.hold("h1", domain.HoldPost, "2.50", holdAlice), domain.Replayed); d2.ReplayOf != d.Event.Seq {
		t.Fatalf("replay of %d, want %d", d2.ReplayOf, d.Event.Seq)
	}
	wantCode(t, h.hold("h1", domain.HoldPost, "", holdAlice), domain.CodeHoldNotPending)
	wantCode(t, h.hold("h1", domain.HoldVoid, "", holdAlice), domain.CodeHoldNotPending)
	// A void releases the hold whole; repeating it replays.
	d = h.must(h.hold("h2", domain.HoldVoid, "", nil), domain.Updated)
	if v := d.Event.HoldVoid; v.Reason != domain.VoidRequested || v.Amount != "4.00" {
		t.Fatalf("void %+v", v)
	}
	h.wantBalances("alice", "7.50", "0.00")
	h.must(h.hold("h2", domain.HoldVoid, "", holdAlice), domain.Replayed)
	wantCode(t, h.hold("h2", domain.HoldPost, "", holdAlice), domain.CodeHoldNotPending)
	// Posting a whole hold of the issuer mints at post time.
	h.must(h.transfer(domain.Transfer{ID: "mint", From: domain.World, To: "bob", Amount: "3", Pending: true}), domain.Posted)
	wantCode(t, h.do(domain.Command{Actor: &domain.Actor{Subject: "bob"},
		Transfer: &domain.Transfer{ID: "m2", From: domain.World, To: "bob", Amount: "3", Pending: true}}), domain.CodeForbidden)
	h.wantBalances("bob", "2.50", "0.00")
	h.must(h.hold("mint", domain.HoldPost, "", nil), domain.Posted)
	h.wantBalances("bob", "5.50", "0.00")
	if h.s.PendingHolds() != 0 {
		t.Fatalf("%d holds pending", h.s.PendingHolds())
	}
}

func TestHoldExpiry(t *testing.T) {
	h := holdFixture(t)
	at := func(d time.Duration) string { return testEpoch.Add(d).Format(time.RFC3339Nano) }
	wantCode(t, h.transfer(domain.Transfer{ID: "past", From: "alice", To: "bob", Amount: "1", Pending: true, ExpiresAt: at(0)}), domain.CodeValidationFailed)
	wantCode(t, h.transfer(domain.Transfer{ID: "far", From: "alice", To: "bob", Amount: "1", Pending: true, ExpiresAt: at(91 * 24 * time.Hour)}), domain.CodeValidationFailed)
	wantCode(t, h.transfer(domain.Transfer{ID: "nohold", From: "alice", To: "bob", Amount: "1", ExpiresAt: at(time.Hour)}), domain.CodeValidationFailed)
	wantCode(t, h.transfer(domain.Transfer{ID: "memo", From: "alice", To: "bob", Amount: "0", Memo: true, Pending: true}), domain.CodeValidationFailed)
	wantCode(t, h.transfer(domain.Transfer{ID: "fx", From: "alice", To: "eve", Amount: "1", Pending: true, ExchangeRate: "0.9"}), domain.CodePendingConversion)
	// An expiry given with an offset is journaled in UTC.
	local := testEpoch.Add(time.Second).In(time.FixedZone("CET", 3600)).Format(time.RFC3339Nano)
	d := h.must(h.transfer(domain.Transfer{ID: "e1", From: "alice", To: "bob", Amount: "3", Pending: true, ExpiresAt: local}), domain.Posted)
	if d.Event.Hold.ExpiresAt != at(time.Second) {
		t.Fatalf("expires_at %q, want %q", d.Event.Hold.ExpiresAt, at(time.Second))
	}
	h.must(h.transfer(domain.Transfer{ID: "e0", From: "alice", To: "bob", Amount: "2", Pending: true, ExpiresAt: at(time.Second)}), domain.Posted)
	h.must(h.transfer(domain.Transfer{ID: "e2", From: "alice", To: "bob", Amount: "1", Pending: true, ExpiresAt: at(time.Hour)}), domain.Posted)
	if next, ok := h.s.NextExpiry(); !ok || !next.Equal(testEpoch.Add(time.Second)) {
		t.Fatalf("next expiry %v %v", next, ok)
	}
	if evs := h.s.ExpireHolds(testEpoch.Add(time.Second)); len(evs) != 0 {
		t.Fatalf("%d holds expired at their expiry, want none before it passes", len(evs))
	}
	last := h.s.LastCommand()
	evs := h.s.ExpireHolds(testEpoch.Add(time.Second + 1))
	if len(evs) != 2 || evs[0].HoldVoid.ID != "e0" || evs[1].HoldVoid.ID != "e1" || evs[0].HoldVoid.Reason != domain.VoidExpired ||
		evs[0].Command != last || evs[1].Seq != h.s.Seq() {
		t.Fatalf("expired %+v", evs)
	}
	h.events = append(h.events, evs...)
	h.wantBalances("alice", "10.00", "1.00")
	wantCode(t, h.hold("e1", domain.HoldPost, "", holdAlice), domain.CodeHoldExpired)
	wantCode(t, h.hold("e1", domain.HoldVoid, "", holdAlice), domain.CodeHoldExpired)
	// A post after expires_at but before the expiry event is refused too.
	d = h.s.Decide(domain.Command{Ref: domain.CommandRef{Seq: 1000}, Hold: &domain.HoldAction{ID: "e2", Action: domain.HoldPost}}, testEpoch.Add(2*time.Hour))
	wantCode(t, d, domain.CodeHoldExpired)
	checkReplay(t, h)
}

// checkReplay applies the harness's events to a fresh state and through a
// snapshot, and wants the same state encoding each way.
func checkReplay(t *testing.T, h *harness) {
	t.Helper()
	want, err := h.s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	re := domain.NewState()
	for _, ev := range h.events {
		if err := ev.ValidatePayload(); err != nil {
			t.Fatalf("event %d %s: %v", ev.Seq, ev.Type, err)
		}
		line := encodeEvent(t, ev)
		back, err := domain.DecodeEvent(line)
		if err != nil {
			t.Fatalf("decode %s: %v", line, err)
		}
		if err := re.Apply(back); err != nil {
			t.Fatalf("replay event %d: %v", ev.Seq, err)
		}
	}
	got, _ := re.MarshalBinary()
	if !bytes.Equal(got, want) {
		t.Fatal("the journal replays to another state")
	}
	var snap domain.State
	if err := snap.UnmarshalBinary(want); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	again, _ := snap.MarshalBinary()
	if !bytes.Equal(again, want) {
		t.Fatal("the snapshot reads back to another state")
	}
}

func TestHoldAtomicRollback(t *testing.T) {
	h := holdFixture(t)
	ds := h.s.DecideAtomic([]domain.Command{
		{Ref: domain.CommandRef{Seq: 100}, Transfer: &domain.Transfer{ID: "a1", From: "alice", To: "bob", Amount: "4", Pending: true}},
		{Ref: domain.CommandRef{Seq: 100, Item: 1}, Transfer: &domain.Transfer{ID: "a2", From: "alice", To: "bob", Amount: "7"}},
	}, testEpoch.Add(time.Hour))
	wantCode(t, ds[1], domain.CodeInsufficientFunds)
	wantCode(t, ds[0], domain.CodeBatchAborted)
	h.wantBalances("alice", "10.00", "0.00")
	if h.s.PendingHolds() != 0 {
		t.Fatal("a rolled back hold is pending")
	}
	h.must(h.transfer(domain.Transfer{ID: "a1", From: "alice", To: "bob", Amount: "4"}), domain.Posted)
	checkReplay(t, h)
}
