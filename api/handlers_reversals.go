package api

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

type reversalRequest struct {
	ID        *string           `json:"id"`
	Amount    amountField       `json:"amount"`
	Reference string            `json:"reference"`
	Metadata  map[string]string `json:"metadata"`
}

// reverseTransfer reverses all or part of a posted transfer (POST
// /v1/transfers/{id}/reverse, ADR 0023): a new transfer with its own id,
// from the original's recipient back to its sender. The original is read
// from the read model (which has applied every write this server
// answered) and sent with the command; the processor checks it against
// the posting's fingerprint, decides who may and how much remains, and
// refuses a reversal the recipient cannot pay as it refuses a transfer.
func (s *Server) reverseTransfer(c echo.Context) error {
	var req reversalRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	rv := domain.Reversal{Reference: req.Reference, Metadata: req.Metadata}
	if req.Amount.set {
		if rv.Amount = req.Amount.text; rv.Amount == "" {
			return &domain.AmountSyntaxError{Amount: rv.Amount, Reason: "must be a positive decimal string"}
		}
	}
	var err error
	if rv.ID, err = resolveID(req.ID, c.Request().Header.Get(HeaderIdempotencyKey)); err != nil {
		return err
	}
	rv.Original.ID = c.Param("id")
	if err := rv.Validate(); err != nil {
		return err
	}
	location := "/v1/transfers/" + rv.ID
	c.Response().Header().Set(echo.HeaderLocation, location)
	orig, err := s.read.Transfer(c.Request().Context(), rv.Original.ID)
	if err == nil && orig.Status != projections.StatusPosted {
		err = projections.ErrNotFound
	}
	if err != nil {
		return s.readError(err, CodeTransferNotFound)
	}
	rv.Original = domain.Transfer{ID: orig.ID, From: orig.From, To: orig.To, Amount: orig.Amount, Asset: orig.Asset,
		Reference: orig.Reference, Metadata: orig.Metadata, Memo: orig.Memo, ExchangeRate: orig.ExchangeRate, Reverses: orig.Reverses}
	asHeld(&rv.Original, orig.Hold)
	return s.submitWrite(c, commands.Item{Actor: principalOf(c).actor(), Reversal: &rv}, writeAnswer{id: rv.ID,
		posted: func(ev *domain.Event) (any, error) { return postedView(ev), nil },
		replay: func(ctx context.Context) (any, error) {
			v, err := s.read.Transfer(ctx, rv.ID)
			return asAnswered(v), err
		}})
}
