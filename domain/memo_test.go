package domain_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// TestMemo: a memo is a transfer of exactly zero, posted and journaled
// with both entries of zero, that leaves every balance as it was; a zero
// amount without the flag, or a memo of something, is refused unjournaled.
// The rest of a transfer's rules hold for it: ownership, known accounts,
// the asset, idempotency.
func TestMemo(t *testing.T) {
	h := fixture(t)
	memo := domain.Transfer{ID: "m1", From: "bob", To: "alice", Amount: "0", Memo: true, Reference: "free hat",
		Metadata: map[string]string{"item": "hat"}}
	d := h.must(h.transfer(memo), domain.Posted)
	p := d.Event.Transfer
	if !p.Memo || p.Amount != "0.00" || p.Entries[0] != (domain.Entry{Account: "bob", Type: domain.Debit, Amount: "0.00", Balance: "0.00"}) ||
		p.Entries[1] != (domain.Entry{Account: "alice", Type: domain.Credit, Amount: "0.00", Balance: "10.00"}) {
		t.Fatalf("posted memo %+v", p)
	}
	// Alice still holds exactly her 10.00: all of it may leave, no more.
	h.must(h.transfer(domain.Transfer{ID: "all", From: "alice", To: "bob", Amount: "10"}), domain.Posted)
	wantCode(t, h.transfer(domain.Transfer{ID: "more", From: "alice", To: "bob", Amount: "0.01"}), domain.CodeInsufficientFunds)
	h.must(h.transfer(memo), domain.Replayed)
	other := memo
	other.Memo, other.Amount = false, "0.01"
	wantCode(t, h.transfer(other), domain.CodeIdempotencyConflict)

	before := h.s.Seq()
	for name, tr := range map[string]domain.Transfer{
		"zero without memo":        {ID: "z1", From: "alice", To: "bob", Amount: "0"},
		"zero with decimals":       {ID: "z2", From: "alice", To: "bob", Amount: "0.00"},
		"memo of something":        {ID: "z3", From: "alice", To: "bob", Amount: "1", Memo: true},
		"memo of a tiny something": {ID: "z4", From: "alice", To: "bob", Amount: "0.01", Memo: true},
	} {
		if d := h.transfer(tr); d.Outcome != domain.Rejected || d.Err.Code() != domain.CodeInvalidAmount || d.Event != nil {
			t.Errorf("%s: %+v", name, d)
		}
	}
	if h.s.Seq() != before {
		t.Fatalf("refused memos moved the sequence from %d to %d", before, h.s.Seq())
	}

	// Ownership holds: a memo from another's account, or from the issuer,
	// is refused for a non-admin as any transfer is.
	carol := &domain.Actor{Subject: "carol"}
	for _, from := range []string{"alice", domain.World} {
		tr := domain.Transfer{ID: "m-" + from, From: from, To: "bob", Amount: "0", Memo: true}
		wantCode(t, h.do(domain.Command{Actor: carol, Transfer: &tr}), domain.CodeForbidden)
	}
	// An unknown account is a journaled rejection that keeps the flag.
	d = h.transfer(domain.Transfer{ID: "m2", From: "alice", To: "nobody", Amount: "0", Memo: true})
	if d.Outcome != domain.Rejected || d.Event == nil || !d.Event.Rejection.Memo {
		t.Fatalf("memo to nobody: %+v", d)
	}
}

// TestMemoEncoding: the flag is written after the metadata, as
// encoding/json orders Transfer's fields, and only when set, so the lines
// of every transfer without it are byte for byte what they were; the fast
// reader and encoding/json read it back alike.
func TestMemoEncoding(t *testing.T) {
	h := fixture(t)
	h.must(h.transfer(domain.Transfer{ID: "m1", From: "bob", To: "alice", Amount: "0", Memo: true, Metadata: map[string]string{"k": "v"}}), domain.Posted)
	h.must(h.transfer(domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "1"}), domain.Posted)
	h.transfer(domain.Transfer{ID: "m2", From: "alice", To: "nobody", Amount: "0", Memo: true})
	var prev domain.Hash
	for _, ev := range h.events[len(h.events)-3:] {
		line, hash, err := domain.AppendEvent(nil, ev, prev)
		if err != nil {
			t.Fatal(err)
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		std, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(line, std[:len(std)-1]) {
			t.Errorf("seq %d: canonical line\n%s\ndoes not begin as encoding/json's\n%s", ev.Seq, line, std)
		}
		if want := ev.Payloads() == 1 && (ev.Transfer != nil && ev.Transfer.Memo || ev.Rejection != nil && ev.Rejection.Memo); want != bytes.Contains(line, []byte(`"memo":true`)) {
			t.Errorf("seq %d: memo flag in %s", ev.Seq, line)
		}
		got, ok := domain.DecodeEventFast(line)
		if !ok {
			t.Fatalf("seq %d: the fast reader refused %s", ev.Seq, line)
		}
		slow, err := domain.DecodeEventJSON(line)
		if err != nil {
			t.Fatal(err)
		}
		if !sameMemo(got, slow) || !sameMemo(got, ev) {
			t.Errorf("seq %d: read back %+v / %+v, wrote %+v", ev.Seq, got, slow, ev)
		}
		prev = hash
	}
}

func sameMemo(a, b *domain.Event) bool {
	switch {
	case a.Transfer != nil && b.Transfer != nil:
		return a.Transfer.Memo == b.Transfer.Memo && a.Transfer.Amount == b.Transfer.Amount
	case a.Rejection != nil && b.Rejection != nil:
		return a.Rejection.Memo == b.Rejection.Memo && a.Rejection.Amount == b.Rejection.Amount
	}
	return false
}
