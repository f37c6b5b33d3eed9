package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

type metadataRequest struct {
	Metadata *map[string]string `json:"metadata"`
}

// updateMetadata replaces an account's metadata (PATCH /v1/accounts/{id}):
// its owner's or an admin's right, decided by the processor. It answers the
// account as the read model shows it once the change is applied.
func (s *Server) updateMetadata(c echo.Context) error {
	var req metadataRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Metadata == nil {
		return problem(domain.CodeValidationFailed, "metadata is required (an empty object clears it)")
	}
	u := domain.MetadataUpdate{Account: c.Param("id"), Metadata: *req.Metadata}
	if err := u.Validate(); err != nil {
		return err
	}
	release, err := s.admitted(c, 1)
	if err != nil {
		return err
	}
	defer release()
	r, err := s.submitOne(c, commands.Item{Actor: principalOf(c).actor(), Metadata: &u})
	location := "/v1/accounts/" + u.Account
	c.Response().Header().Set(echo.HeaderLocation, location)
	if errors.Is(err, errNoAnswer) {
		return respond(c, http.StatusAccepted, map[string]string{"id": u.Account, "status": "pending"})
	}
	if err != nil {
		return err
	}
	if r.Outcome != commands.OutcomeUpdated {
		return resultProblem(r)
	}
	s.answered(c, r.Seq)
	if err := s.waitRead(c.Request().Context(), r.Seq); err != nil {
		return respond(c, http.StatusAccepted, map[string]string{"id": u.Account, "status": "updated"})
	}
	v, err := s.read.Account(c.Request().Context(), u.Account, "")
	if err != nil {
		return s.readError(err, domain.CodeAccountNotFound)
	}
	return respond(c, http.StatusOK, v)
}
