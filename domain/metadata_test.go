package domain_test

import (
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

func TestDecideMetadata(t *testing.T) {
	now := time.Unix(0, 0)
	s := domain.NewState()
	s.Decide(domain.Command{Ref: domain.CommandRef{Seq: 1}, Asset: &domain.Asset{Code: "USD", Scale: 2}}, now)
	s.Decide(domain.Command{Ref: domain.CommandRef{Seq: 2}, Account: &domain.Account{ID: "a", Asset: "USD", Owner: "alice"}}, now)
	seq := uint64(2)
	for _, tc := range []struct {
		name  string
		actor *domain.Actor
		u     domain.MetadataUpdate
		code  domain.Code // empty: updated
	}{
		{"owner", &domain.Actor{Subject: "alice"}, domain.MetadataUpdate{Account: "a", Metadata: map[string]string{"k": "v"}}, ""},
		{"owner clears", &domain.Actor{Subject: "alice"}, domain.MetadataUpdate{Account: "a"}, ""},
		{"admin", &domain.Actor{Subject: "ops", Admin: true}, domain.MetadataUpdate{Account: "a", Metadata: map[string]string{"k": "w"}}, ""},
		{"another user", &domain.Actor{Subject: "bob"}, domain.MetadataUpdate{Account: "a"}, domain.CodeForbidden},
		{"unknown account", &domain.Actor{Subject: "alice"}, domain.MetadataUpdate{Account: "zz"}, domain.CodeAccountNotFound},
		{"the issuer account", &domain.Actor{Subject: "ops", Admin: true}, domain.MetadataUpdate{Account: domain.World}, domain.CodeAccountNotFound},
		{"bad id", &domain.Actor{Subject: "alice"}, domain.MetadataUpdate{Account: "a b"}, domain.CodeValidationFailed},
		{"empty key", &domain.Actor{Subject: "alice"}, domain.MetadataUpdate{Account: "a", Metadata: map[string]string{"": "v"}}, domain.CodeValidationFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seq++
			u := tc.u
			before := s.Seq()
			d := s.Decide(domain.Command{Ref: domain.CommandRef{Seq: seq}, Actor: tc.actor, Metadata: &u}, now)
			if tc.code != "" {
				if d.Outcome != domain.Rejected || d.Err.Code() != tc.code || d.Event != nil || s.Seq() != before {
					t.Fatalf("%+v (%v), want rejected %s with no event", d, d.Err, tc.code)
				}
				return
			}
			if d.Outcome != domain.Updated || d.Event == nil || d.Event.Type != domain.EventAccountMetadataUpdated || s.Seq() != before+1 {
				t.Fatalf("%+v (%v), want updated", d, d.Err)
			}
			if d.Event.Metadata.Account != "a" || !d.Event.Involves("a") {
				t.Fatalf("event %+v", d.Event.Metadata)
			}
		})
	}
	// Opening the account again with its original body still finds it as it was.
	if d := s.Decide(domain.Command{Ref: domain.CommandRef{Seq: 99}, Account: &domain.Account{ID: "a", Asset: "USD", Owner: "alice"}}, now); d.Outcome != domain.Existed {
		t.Fatalf("reopening after metadata changes: %+v (%v)", d, d.Err)
	}
}
