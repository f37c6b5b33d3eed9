package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// TestIDsMadeOfDots checks that requests may not use an id a URL path
// would rewrite ("." and ".." are dot segments; any id of dots alone is
// refused with them), for every kind of id, with a detail that names the
// rule; and that a journal holding such an id, written before the rule,
// still applies and snapshots.
func TestIDsMadeOfDots(t *testing.T) {
	for _, id := range []string{".", "..", "...", strings.Repeat(".", 64)} {
		checks := map[string]error{
			"id":   domain.ValidateID("id", id),
			"from": domain.Transfer{ID: "t", From: id, To: "b", Amount: "1"}.Validate(),
			"to":   domain.Transfer{ID: "t", From: "a", To: id, Amount: "1"}.Validate(),
		}
		checks["transfer id"] = domain.Transfer{ID: id, From: "a", To: "b", Amount: "1"}.Validate()
		checks["account id"] = domain.Account{ID: id, Asset: "USD"}.Validate()
		for what, err := range checks {
			var fe *domain.FieldError
			if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "only of dots") {
				t.Errorf("%s %q: %v, want a field error naming the rule", what, id, err)
			}
		}
	}
	for _, id := range []string{"a.", ".a", "a..b", "v1.2", "..:"} {
		if err := domain.ValidateID("id", id); err != nil {
			t.Errorf("ValidateID(%q) = %v: only ids of dots alone are refused", id, err)
		}
	}

	// Deciding: refused before anything is journaled.
	s := domain.NewState()
	now := time.Unix(0, 0)
	if d := s.Decide(domain.Command{Ref: domain.CommandRef{Seq: 1}, Asset: &domain.Asset{Code: "USD", Scale: 2}}, now); d.Outcome != domain.Created {
		t.Fatalf("asset: %+v", d)
	}
	d := s.Decide(domain.Command{Ref: domain.CommandRef{Seq: 2}, Account: &domain.Account{ID: "..", Asset: "USD"}}, now)
	if d.Outcome != domain.Rejected || d.Err.Code() != domain.CodeValidationFailed || d.Event != nil {
		t.Fatalf("opening %q: %+v", "..", d)
	}

	// A journal from before the rule: the account ".." and a transfer of
	// id "." stay valid, apply, and survive a snapshot.
	seq := s.Seq()
	opened := &domain.Event{Seq: seq + 1, Type: domain.EventAccountOpened, Version: domain.SchemaVersion, Time: now,
		Account: &domain.Account{ID: "..", Asset: "USD", OverdraftLimit: "0.00"}}
	posted := &domain.Event{Seq: seq + 2, Type: domain.EventTransferPosted, Version: domain.SchemaVersion, Time: now,
		Transfer: &domain.PostedTransfer{Transfer: domain.Transfer{ID: ".", From: domain.World, To: "..", Amount: "1.00", Asset: "USD"}}}
	for _, ev := range []*domain.Event{opened, posted} {
		if err := s.Apply(ev); err != nil {
			t.Fatalf("apply %s: %v", ev.Type, err)
		}
	}
	if err := opened.Account.ValidateJournaled(); err != nil {
		t.Errorf("journaled account: %v", err)
	}
	if err := posted.Transfer.ValidateJournaled(); err != nil {
		t.Errorf("journaled transfer: %v", err)
	}
	snap, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back := domain.NewState()
	if err := back.UnmarshalBinary(snap); err != nil {
		t.Fatalf("a snapshot holding the account %q: %v", "..", err)
	}
}
