package domain_test

import (
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

func TestActorAuthorization(t *testing.T) {
	s := domain.NewState()
	now := time.Unix(0, 0)
	n := uint64(0)
	decide := func(actor *domain.Actor, c domain.Command) domain.Decision {
		n++
		c.Ref, c.Actor = domain.CommandRef{Seq: n}, actor
		return s.Decide(c, now)
	}
	admin := &domain.Actor{Subject: "ops", Admin: true}
	alice := &domain.Actor{Subject: "alice"}
	bob := &domain.Actor{Subject: "bob"}
	if d := decide(admin, domain.Command{DefineAsset: &domain.Asset{Code: "USD", Scale: 2}}); d.Outcome != domain.Created {
		t.Fatalf("asset: %+v", d)
	}
	steps := []struct {
		name  string
		actor *domain.Actor
		cmd   domain.Command
		want  domain.Outcome
	}{
		{"alice opens her own", alice, domain.Command{OpenAccount: &domain.Account{ID: "a", Asset: "USD", Owner: "alice"}}, domain.Created},
		{"alice opens one for bob", alice, domain.Command{OpenAccount: &domain.Account{ID: "x", Asset: "USD", Owner: "bob"}}, domain.Rejected},
		{"alice opens one for nobody", alice, domain.Command{OpenAccount: &domain.Account{ID: "y", Asset: "USD"}}, domain.Rejected},
		{"bob opens his own", bob, domain.Command{OpenAccount: &domain.Account{ID: "b", Asset: "USD", Owner: "bob"}}, domain.Created},
		{"admin opens an unowned one", admin, domain.Command{OpenAccount: &domain.Account{ID: "house", Asset: "USD"}}, domain.Created},
		{"alice cannot mint", alice, domain.Command{Transfer: &domain.Transfer{ID: "m0", From: domain.World, To: "a", Amount: "1"}}, domain.Rejected},
		{"admin mints", admin, domain.Command{Transfer: &domain.Transfer{ID: "m1", From: domain.World, To: "a", Amount: "10"}}, domain.Posted},
		{"the ledger itself mints", nil, domain.Command{Transfer: &domain.Transfer{ID: "m2", From: domain.World, To: "b", Amount: "10"}}, domain.Posted},
		{"alice pays from hers", alice, domain.Command{Transfer: &domain.Transfer{ID: "t1", From: "a", To: "b", Amount: "1"}}, domain.Posted},
		{"alice pays from bob's", alice, domain.Command{Transfer: &domain.Transfer{ID: "t2", From: "b", To: "a", Amount: "1"}}, domain.Rejected},
		{"alice replays bob's id", alice, domain.Command{Transfer: &domain.Transfer{ID: "t1", From: "a", To: "b", Amount: "1"}}, domain.Replayed},
		{"bob replays alice's transfer", bob, domain.Command{Transfer: &domain.Transfer{ID: "t1", From: "a", To: "b", Amount: "1"}}, domain.Rejected},
		{"alice pays from the house", alice, domain.Command{Transfer: &domain.Transfer{ID: "t3", From: "house", To: "a", Amount: "1"}}, domain.Rejected},
		{"alice from an unknown account", alice, domain.Command{Transfer: &domain.Transfer{ID: "t4", From: "ghost", To: "a", Amount: "1"}}, domain.Rejected},
	}
	for _, st := range steps {
		seq := s.Seq()
		d := decide(st.actor, st.cmd)
		if d.Outcome != st.want {
			t.Fatalf("%s: outcome %d (%v), want %d", st.name, d.Outcome, d.Err, st.want)
		}
		if d.Outcome == domain.Rejected {
			if d.Err.Code() != domain.CodeForbidden {
				t.Fatalf("%s: code %s, want forbidden", st.name, d.Err.Code())
			}
			// A refusal on authority is not journaled and changes nothing.
			if d.Event != nil || s.Seq() != seq {
				t.Fatalf("%s: a forbidden command was journaled", st.name)
			}
		}
	}
}
