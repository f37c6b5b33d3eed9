package api

import (
	"bufio"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// Two-phase transfers (ADR 0022): POST /v1/transfers/{id}/post and
// /void settle a pending transfer. Who may is the processor's decision
// (whoever may debit the hold's source account); a repeat of the same
// action answers the first, as a replay.

type holdPostRequest struct {
	Amount amountField `json:"amount"`
}

func (s *Server) postHold(c echo.Context) error {
	var req holdPostRequest
	if err := decodeOptionalBody(c, &req); err != nil {
		return err
	}
	a := domain.HoldAction{ID: c.Param("id"), Action: domain.HoldPost}
	if req.Amount.set {
		if a.Amount = req.Amount.text; a.Amount == "" {
			return &domain.AmountSyntaxError{Amount: "", Reason: "empty"}
		}
	}
	return s.settleHold(c, a)
}

func (s *Server) voidHold(c echo.Context) error {
	var req struct{}
	if err := decodeOptionalBody(c, &req); err != nil {
		return err
	}
	return s.settleHold(c, domain.HoldAction{ID: c.Param("id"), Action: domain.HoldVoid})
}

// decodeOptionalBody is decodeBody for a body that may be absent: an
// empty body (declared or, when chunked, read) leaves v as it is.
func decodeOptionalBody(c echo.Context, v any) error {
	r := c.Request()
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	br := bufio.NewReader(r.Body)
	if _, err := br.Peek(1); err == io.EOF {
		return nil
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	return decodeBody(c, v)
}

// settleHold submits a post or void and answers the hold's transfer as
// the read model shows it once the outcome is applied: 200, the hold's
// settled_hash the journal hash of the HoldPosted or HoldVoided event it
// wrote, with Idempotent-Replayed on a repeat.
func (s *Server) settleHold(c echo.Context, a domain.HoldAction) error {
	if err := a.Validate(); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/transfers/"+a.ID)
	release, err := s.admitted(c, 1)
	if err != nil {
		return err
	}
	defer release()
	r, err := s.submitOne(c, commands.Item{Actor: principalOf(c).actor(), Hold: &a})
	if errors.Is(err, errNoAnswer) {
		return respond(c, http.StatusAccepted, map[string]string{"id": a.ID, "status": "pending"})
	}
	if err != nil {
		return err
	}
	switch r.Outcome {
	case commands.OutcomePosted, commands.OutcomeUpdated:
		s.answered(c, r.Seq)
	case commands.OutcomeReplayed:
		noteSequence(c, r.Seq) // the original's
		c.Response().Header().Set(HeaderReplayed, "true")
	default:
		return resultProblem(r)
	}
	ctx := c.Request().Context()
	if err := s.waitRead(ctx, r.Seq); err != nil {
		return respond(c, http.StatusAccepted, map[string]string{"id": a.ID, "status": "decided"})
	}
	v, err := s.read.Transfer(ctx, a.ID)
	if err != nil {
		return s.readError(err, domain.CodeHoldNotFound)
	}
	return respond(c, http.StatusOK, v)
}
