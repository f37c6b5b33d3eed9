package api

import (
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// asHeld makes orig, a posted hold's posting as the read model shows it,
// the hold as it was requested (ADR 0022, ADR 0023): the amount held,
// pending and expires_at, which the hold's fingerprint covers. The
// processor checks it against that fingerprint and reverses at most what
// was posted of it. A transfer that was no hold (h nil) is left as it is.
func asHeld(orig *domain.Transfer, h *projections.HoldView) {
	if h == nil {
		return
	}
	orig.Amount, orig.Pending = h.Amount, true
	if h.ExpiresAt != nil {
		orig.ExpiresAt = h.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
}
