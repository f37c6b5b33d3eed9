package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

func TestDecideTransaction(t *testing.T) {
	s, events, _ := reversalLedger(t) // cust 100 - 30 - 10 (fx) = 60.00, shop 30.00
	cust, admin := &domain.Actor{Subject: "cust"}, &domain.Actor{Subject: "ops", Admin: true}
	leg := func(from, to, amount string) domain.Leg { return domain.Leg{From: from, To: to, Amount: amount} }
	many := make([]domain.Leg, domain.MaxLegs+1)
	for i := range many {
		many[i] = leg("cust", "shop", "0.01")
	}
	seq := uint64(200)
	for _, tc := range []struct {
		name    string
		actor   *domain.Actor
		tx      domain.Transaction
		outcome domain.Outcome
		code    domain.Code
		journal bool   // a rejection is journaled
		detail  string // in the rejection's detail
	}{
		{"payment and fee", cust, domain.Transaction{ID: "x1", Reference: "order", Legs: []domain.Leg{leg("cust", "shop", "20"), leg("cust", "shop", "0.5")}}, domain.Posted, "", false, ""},
		{"retry", cust, domain.Transaction{ID: "x1", Reference: "order", Legs: []domain.Leg{leg("cust", "shop", "20.00"), leg("cust", "shop", "0.50")}}, domain.Replayed, "", false, ""},
		{"another body", cust, domain.Transaction{ID: "x1", Legs: []domain.Leg{leg("cust", "shop", "20"), leg("cust", "shop", "0.5")}}, domain.Rejected, domain.CodeIdempotencyConflict, false, ""},
		{"an id a transfer took", admin, domain.Transaction{ID: "pay", Legs: []domain.Leg{leg("cust", "shop", "1")}}, domain.Rejected, domain.CodeIdempotencyConflict, false, ""},
		{"a leg spends what an earlier one credited", admin, domain.Transaction{ID: "x2", Legs: []domain.Leg{leg("cust", "shop", "39.5"), leg("shop", "cust", "90")}}, domain.Posted, "", false, ""},
		{"a leg too much: nothing moves", admin, domain.Transaction{ID: "x3", Legs: []domain.Leg{leg("cust", "shop", "1"), leg("cust", "shop", "90")}}, domain.Rejected, domain.CodeInsufficientFunds, true, "leg 1"},
		{"a leg not the token's", cust, domain.Transaction{ID: "x4", Legs: []domain.Leg{leg("cust", "shop", "1"), leg("shop", "cust", "1")}}, domain.Rejected, domain.CodeForbidden, false, "leg 1"},
		{"a burn by a user", cust, domain.Transaction{ID: "x4", Legs: []domain.Leg{leg("cust", domain.World, "1")}}, domain.Rejected, domain.CodeForbidden, false, "leg 0"},
		{"an unknown account", admin, domain.Transaction{ID: "x4", Legs: []domain.Leg{leg("cust", "nobody", "1")}}, domain.Rejected, domain.CodeAccountNotFound, true, "leg 0"},
		{"across assets", admin, domain.Transaction{ID: "x4", Legs: []domain.Leg{leg("cust", "eur", "1")}}, domain.Rejected, domain.CodeAssetMismatch, true, "leg 0"},
		{"no legs", admin, domain.Transaction{ID: "x4"}, domain.Rejected, domain.CodeValidationFailed, false, "legs"},
		{"too many legs", admin, domain.Transaction{ID: "x4", Legs: many}, domain.Rejected, domain.CodeValidationFailed, false, "legs"},
		{"a malformed leg", admin, domain.Transaction{ID: "x4", Legs: []domain.Leg{leg("cust", "cust", "1")}}, domain.Rejected, domain.CodeSameAccount, false, "leg 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq++
			tx := tc.tx
			before := s.Seq()
			d := s.Decide(domain.Command{Ref: domain.CommandRef{Seq: seq}, Actor: tc.actor, Transaction: &tx}, time.Unix(int64(seq), 0))
			if d.Event != nil {
				*events = append(*events, d.Event)
			}
			if d.Outcome != tc.outcome || tc.code != "" && (d.Err == nil || d.Err.Code() != tc.code) || tc.detail != "" && !strings.Contains(d.Err.Error(), tc.detail) {
				t.Fatalf("%+v (%v), want %v %s %q", d, d.Err, tc.outcome, tc.code, tc.detail)
			}
			switch {
			case tc.outcome == domain.Posted:
				if d.Event.Type != domain.EventTransactionPosted || len(d.Event.Transaction.Legs) != len(tx.Legs) || s.Seq() != before+1 {
					t.Fatalf("posted %+v", d.Event)
				}
				if err := d.Event.ValidatePayload(); err != nil {
					t.Fatalf("payload: %v", err)
				}
			case tc.journal:
				if d.Event == nil || d.Event.Type != domain.EventTransactionRejected || d.Event.TransactionRejection.Code != tc.code || s.Seq() != before+1 {
					t.Fatalf("rejection not journaled: %+v", d.Event)
				}
				if err := d.Event.ValidatePayload(); err != nil {
					t.Fatalf("payload: %v", err)
				}
			case d.Event != nil || s.Seq() != before:
				t.Fatalf("left event %+v", d.Event)
			}
		})
	}
	// A replay of the journal decides every probe alike.
	rebuilt := domain.NewState()
	for _, ev := range *events {
		if err := rebuilt.Apply(ev); err != nil {
			t.Fatalf("Apply(%d): %v", ev.Seq, err)
		}
	}
	for i, tx := range []domain.Transaction{
		{ID: "x2", Legs: []domain.Leg{leg("cust", "shop", "39.5"), leg("shop", "cust", "90")}},
		{ID: "x9", Legs: []domain.Leg{leg("shop", "cust", "0.01")}},
		{ID: "x9", Legs: []domain.Leg{leg("cust", "shop", "90"), leg("cust", "shop", "0.01")}},
	} {
		c := domain.Command{Ref: domain.CommandRef{Seq: 1000 + uint64(i)}, Transaction: &tx}
		want := s.Decide(c, testEpoch)
		if got := rebuilt.Decide(c, testEpoch); !sameDecision(got, want) {
			t.Errorf("probe %d: replayed decided %+v (%v), the original %+v (%v)", i, got, got.Err, want, want.Err)
		}
	}
}
