package domain_test

import (
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// reversalLedger is a ledger with USD accounts "shop" (owned by shop,
// the recipient of the transfers to reverse) and "cust" (owned by cust),
// and the posted transfers it returns, as the API reads them.
func reversalLedger(t *testing.T) (*domain.State, *[]*domain.Event, map[string]domain.Transfer) {
	t.Helper()
	s := domain.NewState()
	var events []*domain.Event
	seq := uint64(0)
	do := func(c domain.Command) domain.Decision {
		seq++
		c.Ref = domain.CommandRef{Seq: seq}
		d := s.Decide(c, time.Unix(int64(seq), 0))
		if d.Event != nil {
			events = append(events, d.Event)
		}
		return d
	}
	do(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	do(domain.Command{Asset: &domain.Asset{Code: "EUR", Scale: 2}})
	for _, a := range []domain.Account{
		{ID: "shop", Asset: "USD", Owner: "shop"}, {ID: "cust", Asset: "USD", Owner: "cust"},
		{ID: "eur", Asset: "EUR", Owner: "cust"},
	} {
		do(domain.Command{Account: &a})
	}
	posted := map[string]domain.Transfer{}
	for _, tr := range []domain.Transfer{
		{ID: "mint", From: domain.World, To: "cust", Amount: "100"},
		{ID: "pay", From: "cust", To: "shop", Amount: "30", Reference: "order 7", Metadata: map[string]string{"k": "v"}},
		{ID: "memo", From: "cust", To: "shop", Amount: "0", Memo: true},
		{ID: "fx", From: "cust", To: "eur", Amount: "10", ExchangeRate: "0.9"},
	} {
		d := do(domain.Command{Transfer: &tr})
		if d.Outcome != domain.Posted {
			t.Fatalf("%s: %+v %v", tr.ID, d, d.Err)
		}
		switch {
		case d.Event.Transfer != nil:
			posted[tr.ID] = d.Event.Transfer.Transfer
		default:
			posted[tr.ID] = d.Event.Conversion.Transfer
		}
	}
	return s, &events, posted
}

func TestDecideReversal(t *testing.T) {
	s, events, posted := reversalLedger(t)
	shop, cust, admin := &domain.Actor{Subject: "shop"}, &domain.Actor{Subject: "cust"}, &domain.Actor{Subject: "ops", Admin: true}
	forged := posted["pay"]
	forged.Amount = "300.00"
	seq := uint64(100)
	for _, tc := range []struct {
		name    string
		actor   *domain.Actor
		rv      domain.Reversal
		outcome domain.Outcome
		code    domain.Code // of a rejection
		journal bool        // the rejection is journaled
		left    string      // what remains after a posting
	}{
		{"the sender may not", cust, domain.Reversal{ID: "r0", Amount: "5", Original: posted["pay"]}, domain.Rejected, domain.CodeForbidden, false, ""},
		{"a stranger may not", &domain.Actor{Subject: "eve"}, domain.Reversal{ID: "r0", Original: posted["pay"]}, domain.Rejected, domain.CodeForbidden, false, ""},
		{"a forged original", admin, domain.Reversal{ID: "r0", Original: forged}, domain.Rejected, domain.CodeTransferNotFound, false, ""},
		{"an unknown original", admin, domain.Reversal{ID: "r0", Original: domain.Transfer{ID: "nope", From: "cust", To: "shop", Amount: "1.00", Asset: "USD"}}, domain.Rejected, domain.CodeTransferNotFound, false, ""},
		{"partial, by the recipient", shop, domain.Reversal{ID: "r1", Amount: "10", Reference: "refund", Original: posted["pay"]}, domain.Posted, "", false, "20.00"},
		{"retry", shop, domain.Reversal{ID: "r1", Amount: "10.0", Reference: "refund", Original: posted["pay"]}, domain.Replayed, "", false, ""},
		{"retry without the amount", shop, domain.Reversal{ID: "r1", Reference: "refund", Original: posted["pay"]}, domain.Replayed, "", false, ""},
		{"retry with another amount", shop, domain.Reversal{ID: "r1", Amount: "11", Reference: "refund", Original: posted["pay"]}, domain.Rejected, domain.CodeIdempotencyConflict, false, ""},
		{"retry with another reference", shop, domain.Reversal{ID: "r1", Amount: "10", Original: posted["pay"]}, domain.Rejected, domain.CodeIdempotencyConflict, false, ""},
		{"an id a transfer took", shop, domain.Reversal{ID: "mint", Amount: "1", Original: posted["pay"]}, domain.Rejected, domain.CodeIdempotencyConflict, false, ""},
		{"more than remains", shop, domain.Reversal{ID: "r2", Amount: "20.01", Original: posted["pay"]}, domain.Rejected, domain.CodeReversalExceedsTransfer, false, ""},
		{"the recipient cannot pay", admin, domain.Reversal{ID: "r2", Original: posted["mint"]}, domain.Rejected, domain.CodeInsufficientFunds, true, ""},
		{"the rest, by an admin", admin, domain.Reversal{ID: "r3", Original: posted["pay"]}, domain.Posted, "", false, "0.00"},
		{"nothing remains", admin, domain.Reversal{ID: "r4", Original: posted["pay"]}, domain.Rejected, domain.CodeReversalExceedsTransfer, false, ""},
		{"a reversal is not reversible", admin, domain.Reversal{ID: "r5", Original: domain.Transfer{ID: "r1", From: "shop", To: "cust", Amount: "10.00", Asset: "USD", Reference: "refund", Reverses: "pay"}}, domain.Rejected, domain.CodeTransferNotReversible, false, ""},
		{"a memo is not reversible", admin, domain.Reversal{ID: "r5", Original: posted["memo"]}, domain.Rejected, domain.CodeTransferNotReversible, false, ""},
		{"a conversion is not reversible", admin, domain.Reversal{ID: "r5", Original: posted["fx"]}, domain.Rejected, domain.CodeTransferNotReversible, false, ""},
		{"a mint, by its recipient", cust, domain.Reversal{ID: "r5", Amount: "1", Original: posted["mint"]}, domain.Rejected, domain.CodeForbidden, false, ""},
		{"a mint, by an admin", admin, domain.Reversal{ID: "r5", Amount: "1", Original: posted["mint"]}, domain.Posted, "", false, "99.00"},
		{"a zero amount", admin, domain.Reversal{ID: "r6", Amount: "0", Original: posted["mint"]}, domain.Rejected, domain.CodeInvalidAmount, false, ""},
		{"too many places", admin, domain.Reversal{ID: "r6", Amount: "0.001", Original: posted["mint"]}, domain.Rejected, domain.CodeInvalidAmount, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq++
			rv := tc.rv
			before := s.Seq()
			d := s.Decide(domain.Command{Ref: domain.CommandRef{Seq: seq}, Actor: tc.actor, Reversal: &rv}, time.Unix(int64(seq), 0))
			if d.Event != nil {
				*events = append(*events, d.Event)
			}
			if d.Outcome != tc.outcome || tc.code != "" && (d.Err == nil || d.Err.Code() != tc.code) {
				t.Fatalf("%+v (%v), want %v %s", d, d.Err, tc.outcome, tc.code)
			}
			switch {
			case tc.outcome == domain.Posted:
				p := d.Event.Transfer
				o := rv.Original
				if d.Event.Type != domain.EventTransferPosted || p.Reverses != o.ID || p.From != o.To || p.To != o.From ||
					p.Reversal == nil || p.Reversal.Remaining != tc.left || p.Reversal.OriginalAmount != o.Amount {
					t.Fatalf("posted %+v %+v", p, p.Reversal)
				}
				if err := d.Event.ValidatePayload(); err != nil {
					t.Fatalf("payload: %v", err)
				}
			case tc.journal:
				if d.Event == nil || d.Event.Rejection.Reverses != rv.Original.ID || s.Seq() != before+1 {
					t.Fatalf("rejection not journaled with its original: %+v", d.Event)
				}
			case d.Event != nil || s.Seq() != before:
				t.Fatalf("%s left event %+v", tc.name, d.Event)
			}
		})
	}
	// A replay of the journal, and a snapshot, decide every probe alike.
	rebuilt := domain.NewState()
	for _, ev := range *events {
		if err := rebuilt.Apply(ev); err != nil {
			t.Fatalf("Apply(%d): %v", ev.Seq, err)
		}
	}
	snap, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var loaded domain.State
	if err := loaded.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	for i, rv := range []domain.Reversal{
		{ID: "r1", Original: posted["pay"], Reference: "refund"},
		{ID: "r3", Original: posted["pay"]},
		{ID: "r9", Amount: "0.01", Original: posted["pay"]},
		{ID: "r9", Amount: "99", Original: posted["mint"]},
		{ID: "r9", Amount: "99.01", Original: posted["mint"]},
	} {
		c := domain.Command{Ref: domain.CommandRef{Seq: 1000 + uint64(i)}, Reversal: &rv}
		want := s.Decide(c, testEpoch)
		for name, st := range map[string]*domain.State{"replayed": rebuilt, "snapshot": &loaded} {
			if got := st.Decide(c, testEpoch); !sameDecision(got, want) {
				t.Errorf("probe %d: %s decided %+v (%v), the original %+v (%v)", i, name, got, got.Err, want, want.Err)
			}
		}
	}
}

// TestReversalFields: a transfer request cannot name an original itself.
func TestTransferCannotClaimReverses(t *testing.T) {
	tr := domain.Transfer{ID: "x", From: "a", To: "b", Amount: "1", Reverses: "y"}
	if err := tr.Validate(); err == nil {
		t.Fatal("a transfer request with reverses was accepted")
	}
}
