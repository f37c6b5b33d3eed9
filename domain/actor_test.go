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
	if d := decide(admin, domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}}); d.Outcome != domain.Created {
		t.Fatalf("asset: %+v", d)
	}
	steps := []struct {
		name  string
		actor *domain.Actor
		cmd   domain.Command
		want  domain.Outcome
	}{
		{"alice opens her own", alice, domain.Command{Account: &domain.Account{ID: "a", Asset: "USD", Owner: "alice"}}, domain.Created},
		{"alice opens one for bob", alice, domain.Command{Account: &domain.Account{ID: "x", Asset: "USD", Owner: "bob"}}, domain.Rejected},
		{"alice opens one for nobody", alice, domain.Command{Account: &domain.Account{ID: "y", Asset: "USD"}}, domain.Rejected},
		{"bob opens his own", bob, domain.Command{Account: &domain.Account{ID: "b", Asset: "USD", Owner: "bob"}}, domain.Created},
		{"admin opens an unowned one", admin, domain.Command{Account: &domain.Account{ID: "house", Asset: "USD"}}, domain.Created},
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

// TestCreditIsAnAdminRight checks the rule that keeps a non-admin from
// creating money: it may open its own accounts without credit only (no
// overdraft limit, or a zero one), and may neither mint nor burn; an admin
// and the ledger itself may do all of it. A refusal is forbidden, is not
// journaled, and holds for an account that already exists identically.
func TestCreditIsAnAdminRight(t *testing.T) {
	s := domain.NewState()
	now := time.Unix(0, 0)
	n := uint64(0)
	decide := func(actor *domain.Actor, c domain.Command) domain.Decision {
		n++
		c.Ref, c.Actor = domain.CommandRef{Seq: n}, actor
		return s.Decide(c, now)
	}
	admin := &domain.Actor{Subject: "ops", Admin: true}
	carol := &domain.Actor{Subject: "carol"}
	open := func(id, limit string) domain.Command {
		return domain.Command{Account: &domain.Account{ID: id, Asset: "USD", Owner: "carol", OverdraftLimit: limit}}
	}
	pay := func(id, from, to, amount string) domain.Command {
		return domain.Command{Transfer: &domain.Transfer{ID: id, From: from, To: to, Amount: amount}}
	}
	if d := decide(admin, domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}}); d.Outcome != domain.Created {
		t.Fatalf("asset: %+v", d)
	}
	for _, st := range []struct {
		name  string
		actor *domain.Actor
		cmd   domain.Command
		want  domain.Outcome
		code  domain.Code // of a rejection
	}{
		{"a user opens an unlimited account", carol, open("c-unl", domain.Unlimited), domain.Rejected, domain.CodeForbidden},
		{"a user opens an account with a limit", carol, open("c-od", "1000000.00"), domain.Rejected, domain.CodeForbidden},
		{"a user opens an account with the smallest limit", carol, open("c-od", "0.01"), domain.Rejected, domain.CodeForbidden},
		{"a user opens an account with a limit of more digits", carol, open("c-od", "0.001"), domain.Rejected, domain.CodeForbidden},
		{"a user opens an account with no limit", carol, open("c-1", ""), domain.Created, ""},
		{"a user opens an account with a zero limit", carol, open("c-2", "0"), domain.Created, ""},
		{"a user opens an account with a zero limit at scale", carol, open("c-3", "0.00"), domain.Created, ""},
		{"an admin opens a user's account with a limit", admin, open("c-4", "50.00"), domain.Created, ""},
		{"an admin opens a user's unlimited account", admin, open("c-5", domain.Unlimited), domain.Created, ""},
		{"the ledger opens an account with a limit", nil, open("c-6", "5"), domain.Created, ""},
		{"a user repeats the admin's opening of its account", carol, open("c-4", "50.00"), domain.Rejected, domain.CodeForbidden},
		{"a user asks for a limit on an account opened without", carol, open("c-1", "10"), domain.Rejected, domain.CodeForbidden},
		{"a user repeats its own opening", carol, open("c-1", ""), domain.Existed, ""},
		{"a user mints", carol, pay("m-1", domain.World, "c-1", "1"), domain.Rejected, domain.CodeForbidden},
		{"an admin mints", admin, pay("m-2", domain.World, "c-1", "10"), domain.Posted, ""},
		{"a user burns from its own account", carol, pay("b-1", "c-1", domain.World, "1"), domain.Rejected, domain.CodeForbidden},
		{"a user spends its credit granted by an admin", carol, pay("t-1", "c-4", "c-1", "50.00"), domain.Posted, ""},
		{"a user spends beyond its credit", carol, pay("t-2", "c-4", "c-1", "0.01"), domain.Rejected, domain.CodeInsufficientFunds},
		{"a user spends beyond its balance", carol, pay("t-3", "c-1", "c-2", "60.01"), domain.Rejected, domain.CodeInsufficientFunds},
		{"an admin burns", admin, pay("b-2", "c-1", domain.World, "1"), domain.Posted, ""},
		{"the ledger burns", nil, pay("b-3", "c-1", domain.World, "1"), domain.Posted, ""},
	} {
		seq := s.Seq()
		d := decide(st.actor, st.cmd)
		if d.Outcome != st.want {
			t.Fatalf("%s: outcome %d (%v), want %d", st.name, d.Outcome, d.Err, st.want)
		}
		if d.Outcome != domain.Rejected {
			continue
		}
		if d.Err.Code() != st.code {
			t.Fatalf("%s: code %s (%v), want %s", st.name, d.Err.Code(), d.Err, st.code)
		}
		if st.code == domain.CodeForbidden && (d.Event != nil || s.Seq() != seq) {
			t.Fatalf("%s: a forbidden command was journaled", st.name)
		}
	}
}
