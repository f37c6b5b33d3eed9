package api

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
)

// errNoAnswer is returned by submitOne when the outcome is not known in
// time; callers answer 202 where a Location exists.
var errNoAnswer = errors.New("outcome not known in time")

// submitOne sends one item and waits for its result up to SyncTimeout.
func (s *Server) submitOne(c echo.Context, it commands.Item) (commands.Result, error) {
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.SyncTimeout)
	defer cancel()
	rs, err := s.submit.Submit(ctx, []commands.Item{it}, true)
	if err != nil {
		return commands.Result{}, s.submitError(err)
	}
	return rs[0], nil
}

func (s *Server) submitError(err error) error {
	switch {
	case s.cfg.IsNoAnswer != nil && s.cfg.IsNoAnswer(err):
		return errNoAnswer
	case s.cfg.IsFull != nil && s.cfg.IsFull(err):
		return problem(CodeUnavailable, "the ledger is at capacity; retry with the same id")
	}
	s.log.Error("submit", "err", err)
	return problem(CodeUnavailable, "the request could not be stored; retry with the same id")
}

// resultProblem turns a rejected result into its problem.
func resultProblem(r commands.Result) error {
	if r.Outcome != commands.OutcomeRejected {
		return problem(CodeInternal, "unexpected outcome "+string(r.Outcome))
	}
	return problem(r.Code, r.Detail)
}
