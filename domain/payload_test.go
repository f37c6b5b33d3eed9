package domain_test

import (
	"errors"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// TestValidatePayload: every event a decision leaves passes its payload's
// rules; each rule the audit relies on refuses a payload that breaks it.
func TestValidatePayload(t *testing.T) {
	h := fixture(t)
	h.must(h.transfer(domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "1"}), domain.Posted)
	h.transfer(domain.Transfer{ID: "t2", From: "alice", To: "nobody", Amount: "1"})
	update := &domain.Event{Seq: 12, Type: domain.EventAccountMetadataUpdated, Metadata: &domain.MetadataUpdate{Account: "bob", Metadata: map[string]string{"k": "v"}}}
	for _, ev := range append(h.events, update) {
		if err := ev.ValidatePayload(); err != nil {
			t.Fatalf("seq %d %s: %v", ev.Seq, ev.Type, err)
		}
	}
	posted := func(mod func(p *domain.PostedTransfer)) *domain.Event {
		p := *h.events[9].Transfer
		mod(&p)
		return &domain.Event{Seq: 1, Type: domain.EventTransferPosted, Transfer: &p}
	}
	rejected := func(mod func(r *domain.RejectedTransfer)) *domain.Event {
		r := *h.events[10].Rejection
		mod(&r)
		return &domain.Event{Seq: 1, Type: domain.EventTransferRejected, Rejection: &r}
	}
	for name, ev := range map[string]*domain.Event{
		"posted without asset":        posted(func(p *domain.PostedTransfer) { p.Asset = "" }),
		"debit of another account":    posted(func(p *domain.PostedTransfer) { p.Entries[0].Account = "od" }),
		"credit of another amount":    posted(func(p *domain.PostedTransfer) { p.Entries[1].Amount = "2.00" }),
		"entries swapped":             posted(func(p *domain.PostedTransfer) { p.Entries[0], p.Entries[1] = p.Entries[1], p.Entries[0] }),
		"entry without balance":       posted(func(p *domain.PostedTransfer) { p.Entries[1].Balance = "" }),
		"posted zero without memo":    posted(func(p *domain.PostedTransfer) { p.Amount, p.Entries[0].Amount, p.Entries[1].Amount = "0", "0", "0" }),
		"rejection with unknown code": rejected(func(r *domain.RejectedTransfer) { r.Code = "no_such_code" }),
		"rejection without detail":    rejected(func(r *domain.RejectedTransfer) { r.Detail = "" }),
		"metadata of no account":      {Seq: 1, Type: domain.EventAccountMetadataUpdated, Metadata: &domain.MetadataUpdate{}},
		"asset of scale 40":           {Seq: 1, Type: domain.EventAssetDefined, Asset: &domain.Asset{Code: "X", Scale: 40}},
	} {
		if err := ev.ValidatePayload(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := (&domain.Event{Type: domain.EventTransferPosted}).ValidatePayload(); !errors.Is(err, domain.ErrMissingPayload) {
		t.Errorf("no payload: %v", err)
	}
	if err := (&domain.Event{Type: "Nope"}).ValidatePayload(); !errors.Is(err, domain.ErrUnknownEvent) {
		t.Errorf("unknown type: %v", err)
	}
}
