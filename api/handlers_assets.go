package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

type assetRequest struct {
	Code  *string `json:"code"`
	Scale *int    `json:"scale"`
}

func (s *Server) createAsset(c echo.Context) error {
	var req assetRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Code == nil || req.Scale == nil {
		return problem(domain.CodeValidationFailed, "code and scale are required")
	}
	a := domain.Asset{Code: *req.Code, Scale: *req.Scale}
	if err := a.Validate(); err != nil {
		return err
	}
	r, err := s.submitOne(c, commands.Item{Actor: principalOf(c).actor(), Asset: &a})
	if errors.Is(err, errNoAnswer) {
		// There is no asset resource to point at; defining is idempotent,
		// so the client can simply retry.
		return problem(CodeUnavailable, "the outcome is not known yet; retrying is safe")
	}
	if err != nil {
		return err
	}
	switch r.Outcome {
	case commands.OutcomeCreated:
		s.answered(c, r.Seq)
		return respond(c, http.StatusCreated, a)
	case commands.OutcomeExisted:
		return respond(c, http.StatusOK, a)
	}
	return resultProblem(r)
}
