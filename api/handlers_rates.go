package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

type rateRequest struct {
	Rate amountField `json:"rate"`
}

// setRate sets the rate of base in quote (PUT /v1/rates/{base}/{quote}):
// an admin's decision, which the processor makes (a non-admin is refused
// there, whatever its scopes), journaled as RateSet. It answers the rate
// as the processor recorded it.
func (s *Server) setRate(c echo.Context) error {
	var req rateRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if !req.Rate.set {
		return problem(domain.CodeValidationFailed, "rate is required")
	}
	r := domain.RateSet{Base: c.Param("base"), Quote: c.Param("quote"), Rate: req.Rate.text}
	if err := r.Validate(); err != nil {
		return err
	}
	release, err := s.admitted(c, 1)
	if err != nil {
		return err
	}
	defer release()
	res, err := s.submitOne(c, commands.Item{Actor: principalOf(c).actor(), Rate: &r})
	if errors.Is(err, errNoAnswer) {
		return respond(c, http.StatusAccepted, map[string]string{"base": r.Base, "quote": r.Quote, "status": "pending"})
	}
	if err != nil {
		return err
	}
	if res.Outcome != commands.OutcomeUpdated || res.Event == nil || res.Event.Rate == nil {
		return resultProblem(res)
	}
	s.answered(c, res.Seq)
	ev := res.Event
	return respond(c, http.StatusOK, projections.RateView{Base: ev.Rate.Base, Quote: ev.Rate.Quote, Rate: ev.Rate.Rate,
		Sequence: ev.Seq, SetAt: ev.Time})
}

// listRates answers the rate table (GET /v1/rates), by base and quote.
func (s *Server) listRates(c echo.Context) error {
	rates, err := s.read.Rates(c.Request().Context())
	if err != nil {
		return s.readError(err, CodeNotFound)
	}
	return respond(c, http.StatusOK, map[string]any{"data": rates})
}
