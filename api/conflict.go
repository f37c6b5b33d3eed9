package api

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Asynchronous idempotency conflicts. A transfer submitted with Prefer:
// respond-async is answered before the processor decides it, so a reuse
// of a posted id with another body cannot be refused by the processor's
// answer. The API refuses it itself when the read model already has the
// id posted with another body, and otherwise remembers the fingerprint of
// what each client submitted (pendingSet) so that the Location reports the
// conflict to that client once the id is decided with another body.

// postedBody is the body of a posted transfer as the read model shows it.
func postedBody(v projections.TransferView) domain.Transfer {
	t := domain.Transfer{From: v.From, To: v.To, Asset: v.Asset, Amount: v.Amount, Reference: v.Reference, Metadata: v.Metadata, Memo: v.Memo,
		ExchangeRate: v.ExchangeRate}
	if h := v.Hold; h != nil {
		// A hold's body is its request: the amount held, its expiry.
		t.Pending, t.Amount = true, h.Amount
		if h.ExpiresAt != nil {
			t.ExpiresAt = h.ExpiresAt.UTC().Format(time.RFC3339Nano)
		}
	}
	return t
}

// conflictProblem is the 409 of a reused id whose posted body differs.
func conflictProblem(id string, v projections.TransferView) error {
	return problem(domain.CodeIdempotencyConflict,
		"transfer "+id+" was posted at sequence "+strconv.FormatUint(v.Sequence, 10)+" with a different body")
}

// knownConflict returns the 409 for an asynchronous submission of t when
// the read model already has t's id posted with another body that the
// principal may read (anyone else learns nothing here; the processor
// decides for them). Any other case returns nil: the processor decides.
func (s *Server) knownConflict(c echo.Context, t domain.Transfer) error {
	v, err := s.read.Transfer(c.Request().Context(), t.ID)
	if err != nil || v.Status != projections.StatusPosted || domain.FingerprintBody(t).Matches(postedBody(v)) {
		if err != nil && !errors.Is(err, projections.ErrNotFound) && !errors.Is(err, context.Canceled) {
			s.log.Warn("conflict check", "id", t.ID, "err", err)
		}
		return nil
	}
	if ok, err := s.involves(c, v.From, v.To, v.Asset); err != nil || !ok {
		return nil
	}
	return conflictProblem(t.ID, v)
}
