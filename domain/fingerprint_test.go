package domain_test

import (
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// BodyFingerprint.Matches agrees with Decide: a request whose fingerprint
// matches the posted transfer is answered as a replay, any other as an
// idempotency conflict.
func TestBodyFingerprintAgreesWithDecide(t *testing.T) {
	now := time.Unix(0, 0)
	s := domain.NewState()
	seq := uint64(0)
	decide := func(c domain.Command) domain.Decision {
		seq++
		c.Ref = domain.CommandRef{Seq: seq}
		return s.Decide(c, now)
	}
	decide(domain.Command{Asset: &domain.Asset{Code: "USD", Scale: 2}})
	decide(domain.Command{Asset: &domain.Asset{Code: "EUR", Scale: 2}})
	for _, id := range []string{"a", "b", "c", "e"} {
		asset := "USD"
		if id == "e" {
			asset = "EUR"
		}
		decide(domain.Command{Account: &domain.Account{ID: id, Asset: asset}})
	}
	decide(domain.Command{Transfer: &domain.Transfer{ID: "fund", From: domain.World, To: "a", Amount: "100", Asset: "USD"}})
	orig := domain.Transfer{ID: "t1", From: "a", To: "b", Amount: "25.5", Reference: "r", Metadata: map[string]string{"k": "v", "j": "w"}}
	d := decide(domain.Command{Transfer: &orig})
	if d.Outcome != domain.Posted {
		t.Fatalf("posting: %+v (%v)", d, d.Err)
	}
	posted := d.Event.Transfer.Transfer
	for _, tc := range []struct {
		name   string
		edit   func(*domain.Transfer)
		replay bool // what Decide must answer, whatever the fingerprint says
	}{
		{"the same body", func(*domain.Transfer) {}, true},
		{"trailing zeros", func(r *domain.Transfer) { r.Amount = "25.50" }, true},
		{"the asset named", func(r *domain.Transfer) { r.Asset = "USD" }, true},
		{"another asset", func(r *domain.Transfer) { r.Asset = "EUR" }, false},
		{"another amount", func(r *domain.Transfer) { r.Amount = "25.51" }, false},
		{"an integral amount", func(r *domain.Transfer) { r.Amount = "25" }, false},
		{"another recipient", func(r *domain.Transfer) { r.To = "c" }, false},
		{"another reference", func(r *domain.Transfer) { r.Reference = "s" }, false},
		{"metadata dropped", func(r *domain.Transfer) { r.Metadata = nil }, false},
		{"metadata changed", func(r *domain.Transfer) { r.Metadata = map[string]string{"k": "v", "j": "x"} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := orig
			req.Metadata = map[string]string{"j": "w", "k": "v"}
			tc.edit(&req)
			matches := domain.FingerprintBody(req).Matches(posted)
			d := decide(domain.Command{Transfer: &req})
			switch {
			case (d.Outcome == domain.Replayed) != tc.replay:
				t.Fatalf("Decide answered %v (%v), want a replay: %v", d.Outcome, d.Err, tc.replay)
			case d.Outcome == domain.Replayed && !matches, d.Outcome != domain.Replayed && matches:
				t.Fatalf("Decide answered %v (%v), the fingerprint matches: %v", d.Outcome, d.Err, matches)
			case d.Outcome != domain.Replayed && (d.Err == nil || d.Err.Code() != domain.CodeIdempotencyConflict):
				t.Fatalf("Decide answered %v (%v), want a replay or an idempotency conflict", d.Outcome, d.Err)
			}
			t.Logf("%s: replay %v", tc.name, matches)
		})
	}
}
