package api

import (
	"errors"
	"net/http"

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
	header := c.Request().Header.Get(HeaderIdempotencyKey)
	switch {
	case req.ID != nil && header != "" && *req.ID != header:
		return &domain.FieldError{Field: "id", Reason: "differs from the Idempotency-Key header"}
	case req.ID != nil:
		rv.ID = *req.ID
	case header != "":
		rv.ID = header
	default:
		rv.ID = newID()
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
	release, err := s.admitted(c, 1)
	if err != nil {
		return err
	}
	defer release()
	r, err := s.submitOne(c, commands.Item{Actor: principalOf(c).actor(), Reversal: &rv})
	if errors.Is(err, errNoAnswer) {
		return respond(c, http.StatusAccepted, map[string]string{"id": rv.ID, "status": "pending"})
	}
	if err != nil {
		return err
	}
	switch r.Outcome {
	case commands.OutcomePosted, commands.OutcomeRejected:
		s.answered(c, r.Seq)
	}
	switch r.Outcome {
	case commands.OutcomePosted:
		return respond(c, http.StatusCreated, postedView(r.Event))
	case commands.OutcomeReplayed:
		noteSequence(c, r.Seq) // the original's
		if err := s.waitRead(c.Request().Context(), r.Seq); err != nil {
			return respond(c, http.StatusAccepted, map[string]string{"id": rv.ID, "status": "pending"})
		}
		v, err := s.read.Transfer(c.Request().Context(), rv.ID)
		if err != nil {
			return s.readError(err, CodeTransferNotFound)
		}
		c.Response().Header().Set(HeaderReplayed, "true")
		return respond(c, http.StatusOK, v)
	}
	return resultProblem(r)
}
