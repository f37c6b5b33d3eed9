package domain_test

import (
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

func lifecycleCmd(actor *domain.Actor, action, account, frozen, limit string) domain.Command {
	return domain.Command{Actor: actor, Lifecycle: &domain.LifecycleRequest{Action: action,
		AccountChange: domain.AccountChange{Account: account, Frozen: frozen, OverdraftLimit: limit}}}
}

var (
	adminActor = &domain.Actor{Subject: "ops", Admin: true}
	aliceActor = &domain.Actor{Subject: "alice-sub"}
)

// The lifecycle's decisions, one step after another on the fixture
// (alice 10.00, bob 0, od with a 50 limit, unl unlimited; alice owned by
// alice-sub), each with the outcome, code and event type it must give.
func TestDecideLifecycle(t *testing.T) {
	h := fixture(t)
	h.must(h.open(domain.Account{ID: "mine", Asset: "USD", Owner: "alice-sub"}), domain.Created)
	h.must(h.transfer(domain.Transfer{ID: "od-1", From: "od", To: "bob", Amount: "30"}), domain.Posted) // od at -30.00, bob 30.00
	type step struct {
		name  string
		cmd   domain.Command
		want  domain.Outcome
		code  domain.Code
		event domain.EventType
	}
	tr := func(id, from, to, amount string) domain.Command {
		return domain.Command{Transfer: &domain.Transfer{ID: id, From: from, To: to, Amount: amount}}
	}
	for _, s := range []step{
		// Limits: an admin's right, decided here whatever the API let through.
		{"owner raises its own limit", lifecycleCmd(aliceActor, domain.ActionLimit, "mine", "", "100"), domain.Rejected, domain.CodeForbidden, ""},
		{"non-admin on another's account", lifecycleCmd(aliceActor, domain.ActionLimit, "bob", "", "100"), domain.Rejected, domain.CodeForbidden, ""},
		{"admin raises a limit", lifecycleCmd(adminActor, domain.ActionLimit, "bob", "", "100"), domain.Updated, "", domain.EventAccountLimitChanged},
		{"the same limit again", lifecycleCmd(adminActor, domain.ActionLimit, "bob", "", "100.00"), domain.Existed, "", ""},
		{"a limit below what is drawn", lifecycleCmd(nil, domain.ActionLimit, "od", "", "29.99"), domain.Rejected, domain.CodeLimitInUse, ""},
		{"a limit exactly what is drawn", lifecycleCmd(nil, domain.ActionLimit, "od", "", "30"), domain.Updated, "", domain.EventAccountLimitChanged},
		{"then od cannot go further", tr("od-2", "od", "bob", "0.01"), domain.Rejected, domain.CodeInsufficientFunds, domain.EventTransferRejected},
		{"unlimited", lifecycleCmd(nil, domain.ActionLimit, "alice", "", domain.Unlimited), domain.Updated, "", domain.EventAccountLimitChanged},
		{"a limit beyond the asset's scale", lifecycleCmd(nil, domain.ActionLimit, "bob", "", "1.001"), domain.Rejected, domain.CodeValidationFailed, ""},
		{"a limit of the issuer", lifecycleCmd(nil, domain.ActionLimit, domain.World, "", "1"), domain.Rejected, domain.CodeValidationFailed, ""},
		{"a limit of an unknown account", lifecycleCmd(nil, domain.ActionLimit, "nobody", "", "1"), domain.Rejected, domain.CodeAccountNotFound, ""},
		// Freezing: an admin's right.
		{"owner freezes", lifecycleCmd(aliceActor, domain.ActionFreeze, "mine", domain.FrozenDebits, ""), domain.Rejected, domain.CodeForbidden, ""},
		{"freeze without a mode", lifecycleCmd(nil, domain.ActionFreeze, "bob", "", ""), domain.Rejected, domain.CodeValidationFailed, ""},
		{"freeze the FX account", lifecycleCmd(nil, domain.ActionFreeze, domain.FX, domain.FrozenAll, ""), domain.Rejected, domain.CodeValidationFailed, ""},
		{"freeze debits", lifecycleCmd(adminActor, domain.ActionFreeze, "bob", domain.FrozenDebits, ""), domain.Updated, "", domain.EventAccountFrozen},
		{"freeze debits again", lifecycleCmd(adminActor, domain.ActionFreeze, "bob", domain.FrozenDebits, ""), domain.Existed, "", ""},
		{"a debit of the frozen account", tr("f-1", "bob", "alice", "1"), domain.Rejected, domain.CodeAccountFrozen, domain.EventTransferRejected},
		{"a credit of it", tr("f-2", "alice", "bob", "1"), domain.Posted, "", domain.EventTransferPosted},
		{"a burn from it", tr("f-3", "bob", domain.World, "1"), domain.Rejected, domain.CodeAccountFrozen, domain.EventTransferRejected},
		{"freeze all", lifecycleCmd(nil, domain.ActionFreeze, "bob", domain.FrozenAll, ""), domain.Updated, "", domain.EventAccountFrozen},
		{"a credit of it now", tr("f-4", "alice", "bob", "1"), domain.Rejected, domain.CodeAccountFrozen, domain.EventTransferRejected},
		{"a mint into it", tr("f-5", domain.World, "bob", "1"), domain.Rejected, domain.CodeAccountFrozen, domain.EventTransferRejected},
		{"a conversion into it", tr("f-6", "eve", "bob", "1"), domain.Rejected, domain.CodeAccountFrozen, domain.EventTransferRejected},
		{"freeze an empty account", lifecycleCmd(nil, domain.ActionFreeze, "mine", domain.FrozenDebits, ""), domain.Updated, "", domain.EventAccountFrozen},
		{"its owner closes it frozen", lifecycleCmd(aliceActor, domain.ActionClose, "mine", "", ""), domain.Rejected, domain.CodeForbidden, ""},
		{"unfreeze it", lifecycleCmd(nil, domain.ActionUnfreeze, "mine", "", ""), domain.Updated, "", domain.EventAccountUnfrozen},
		{"its owner closes it at zero", lifecycleCmd(aliceActor, domain.ActionClose, "mine", "", ""), domain.Updated, "", domain.EventAccountClosed},
		{"owner unfreezes", lifecycleCmd(aliceActor, domain.ActionUnfreeze, "bob", "", ""), domain.Rejected, domain.CodeForbidden, ""},
		{"admin unfreezes", lifecycleCmd(adminActor, domain.ActionUnfreeze, "bob", "", ""), domain.Updated, "", domain.EventAccountUnfrozen},
		{"unfreeze an open account", lifecycleCmd(adminActor, domain.ActionUnfreeze, "bob", "", ""), domain.Existed, "", ""},
		{"a debit again", tr("f-7", "bob", "alice", "1"), domain.Posted, "", domain.EventTransferPosted},
		// Closing: at zero, by the owner or an admin; final.
		{"close with a balance", lifecycleCmd(nil, domain.ActionClose, "bob", "", ""), domain.Rejected, domain.CodeAccountNotEmpty, ""},
		{"close another's account", lifecycleCmd(aliceActor, domain.ActionClose, "bob", "", ""), domain.Rejected, domain.CodeForbidden, ""},
		{"close an unknown account as non-admin", lifecycleCmd(aliceActor, domain.ActionClose, "nobody", "", ""), domain.Rejected, domain.CodeForbidden, ""},
		{"close the issuer", lifecycleCmd(nil, domain.ActionClose, domain.World, "", ""), domain.Rejected, domain.CodeValidationFailed, ""},
		{"close again", lifecycleCmd(aliceActor, domain.ActionClose, "mine", "", ""), domain.Existed, "", ""},
		{"a credit of a closed account", tr("c-1", "alice", "mine", "1"), domain.Rejected, domain.CodeAccountClosed, domain.EventTransferRejected},
		{"a mint into it", tr("c-2", domain.World, "mine", "1"), domain.Rejected, domain.CodeAccountClosed, domain.EventTransferRejected},
		{"freeze a closed account", lifecycleCmd(nil, domain.ActionFreeze, "mine", domain.FrozenAll, ""), domain.Rejected, domain.CodeAccountClosed, ""},
		{"a limit of a closed account", lifecycleCmd(nil, domain.ActionLimit, "mine", "", "5"), domain.Rejected, domain.CodeAccountClosed, ""},
		{"unknown action", lifecycleCmd(nil, "reopen", "mine", "", ""), domain.Rejected, domain.CodeValidationFailed, ""},
	} {
		before := len(h.events)
		d := h.do(s.cmd)
		if d.Outcome != s.want || s.code != "" && (d.Err == nil || d.Err.Code() != s.code) {
			t.Fatalf("%s: outcome %d, err %v; want %d %s", s.name, d.Outcome, d.Err, s.want, s.code)
		}
		got := domain.EventType("")
		if len(h.events) > before {
			got = h.events[len(h.events)-1].Type
		}
		if got != s.event {
			t.Fatalf("%s: event %q, want %q", s.name, got, s.event)
		}
	}
	for id, want := range map[string][2]string{"bob": {domain.AccountOpen, ""}, "mine": {domain.AccountClosed, ""}, "alice": {domain.AccountOpen, ""}} {
		if st, fr, ok := h.s.AccountStatus(id); !ok || st != want[0] || fr != want[1] {
			t.Errorf("%s: status %s %q, want %v", id, st, fr, want)
		}
	}
	// The journal rebuilds the same state, and so does a snapshot of it.
	rebuilt := domain.NewState()
	for _, ev := range h.events {
		if err := rebuilt.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := h.s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	restored := domain.NewState()
	if err := restored.UnmarshalBinary(snap); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*domain.State{rebuilt, restored} {
		again, err := st.MarshalBinary()
		if err != nil || string(again) != string(snap) {
			t.Fatalf("a state rebuilt from the journal or its snapshot differs (err %v)", err)
		}
	}
}

// A snapshot taken before a freeze and a limit change encodes the state as
// it was when taken, whatever changes afterwards.
func TestImageKeepsLifecycleAsTaken(t *testing.T) {
	h := fixture(t)
	before, err := h.s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	im := h.s.Image()
	h.must(h.do(lifecycleCmd(nil, domain.ActionFreeze, "bob", domain.FrozenAll, "")), domain.Updated)
	h.must(h.do(lifecycleCmd(nil, domain.ActionLimit, "alice", "", "7")), domain.Updated)
	var got bytesBuffer
	if _, err := im.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(before) {
		t.Fatal("the image encodes changes made after it was taken")
	}
}

type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }
