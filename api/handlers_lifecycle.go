package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// An account's lifecycle (ADR 0024): PUT /v1/accounts/{id}/limit and
// POST /v1/accounts/{id}/freeze, /unfreeze and /close. Who may is the
// processor's decision (a non-admin's limit change or freeze is refused
// there, whatever its scopes); each answers the account as the read model
// shows it once the change is applied.

// lifecycleRoutes adds the lifecycle's routes and the listings to v1:
// write guards the changes (accounts:write), read the listings
// (accounts:read).
func (s *Server) lifecycleRoutes(v1 routeGroup, write, read []echo.MiddlewareFunc) {
	v1.GET("/accounts", s.listAccounts, read...)
	v1.GET("/assets", s.listAssets, read...)
	v1.PUT("/accounts/:id/limit", s.setLimit, write...)
	v1.POST("/accounts/:id/freeze", s.freeze, write...)
	v1.POST("/accounts/:id/unfreeze", s.unfreeze, write...)
	v1.POST("/accounts/:id/close", s.closeAccount, write...)
}

type limitRequest struct {
	OverdraftLimit amountField `json:"overdraft_limit"`
}

type freezeRequest struct {
	Frozen *string `json:"frozen"`
}

// setLimit changes an account's overdraft limit.
func (s *Server) setLimit(c echo.Context) error {
	var req limitRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if !req.OverdraftLimit.set {
		return problem(domain.CodeValidationFailed, "overdraft_limit is required: a decimal string or \"unlimited\"")
	}
	return s.lifecycle(c, domain.ActionLimit, domain.AccountChange{OverdraftLimit: req.OverdraftLimit.text})
}

// freeze freezes an account: "debits" or "all".
func (s *Server) freeze(c echo.Context) error {
	var req freezeRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Frozen == nil {
		return problem(domain.CodeValidationFailed, "frozen is required: \"debits\" or \"all\"")
	}
	return s.lifecycle(c, domain.ActionFreeze, domain.AccountChange{Frozen: *req.Frozen})
}

// unfreeze opens a frozen account again. It takes no body.
func (s *Server) unfreeze(c echo.Context) error {
	return s.lifecycle(c, domain.ActionUnfreeze, domain.AccountChange{})
}

// closeAccount closes an account at zero, for good. It takes no body.
func (s *Server) closeAccount(c echo.Context) error {
	return s.lifecycle(c, domain.ActionClose, domain.AccountChange{})
}

// lifecycle submits one lifecycle action on the path's account and
// answers the account.
func (s *Server) lifecycle(c echo.Context, action string, change domain.AccountChange) error {
	change.Account = c.Param("id")
	req := domain.LifecycleRequest{Action: action, AccountChange: change}
	if err := req.Validate(); err != nil {
		return err
	}
	release, err := s.admitted(c, 1)
	if err != nil {
		return err
	}
	defer release()
	r, err := s.submitOne(c, commands.Item{Actor: principalOf(c).actor(), Lifecycle: &req})
	c.Response().Header().Set(echo.HeaderLocation, "/v1/accounts/"+req.Account)
	if errors.Is(err, errNoAnswer) {
		return respond(c, http.StatusAccepted, map[string]string{"id": req.Account, "status": "pending"})
	}
	if err != nil {
		return err
	}
	wait := r.Seq
	switch r.Outcome {
	case commands.OutcomeUpdated:
		s.answered(c, r.Seq)
	case commands.OutcomeExisted:
		// Nothing changed: what the account is now may have been decided
		// by another server a moment ago; wait for the journal's end.
		wait = 0
		if s.cfg.JournalSeq != nil {
			wait = s.cfg.JournalSeq()
		}
	default:
		return resultProblem(r)
	}
	if err := s.waitRead(c.Request().Context(), wait); err != nil {
		return respond(c, http.StatusAccepted, map[string]string{"id": req.Account, "status": "updated"})
	}
	v, err := s.read.Account(c.Request().Context(), req.Account, "")
	if err != nil {
		return s.readError(err, domain.CodeAccountNotFound)
	}
	return respond(c, http.StatusOK, v)
}
