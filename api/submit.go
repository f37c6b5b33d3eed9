package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
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
		return commands.Result{}, s.submitError(err, itemID(it))
	}
	return rs[0], nil
}

// itemID names an item in an answer: "transfer t-1", "account alice".
func itemID(it commands.Item) string {
	switch {
	case it.Transfer != nil:
		return "transfer " + it.Transfer.ID
	case it.Account != nil:
		return "account " + it.Account.ID
	case it.Asset != nil:
		return "asset " + it.Asset.Code
	case it.Hold != nil:
		return "hold " + it.Hold.ID
	}
	return ""
}

// submitError turns a Submitter error into the answer: errNoAnswer when
// the request is stored and will be decided, else a 503 that says what is
// known of the request that ids names ("transfer t-1", "the batch").
// Retrying with the same id is safe in every case: an id is
// decided once.
func (s *Server) submitError(err error, ids string) error {
	what := "the request"
	if ids != "" {
		what = ids
	}
	switch {
	case errors.Is(err, commands.ErrNoAnswer):
		return errNoAnswer
	case errors.Is(err, commands.ErrCommandsFull):
		return problem(CodeUnavailable, "the ledger is at capacity; "+what+" was not stored; retry with the same id")
	case errors.Is(err, commands.ErrMaybeStored):
		// The command may be in the commands stream, to be decided, or
		// not: JetStream did not confirm in time. Saying "not stored"
		// would be a guess, and a wrong one when it is decided later.
		s.log.Warn("submit: not known whether stored", "id", ids, "err", err)
		return problem(CodeUnavailable, "not known whether "+what+" was stored (no confirmation in time): it may still be decided; "+
			"retry with the same id, which is never applied twice, to learn its outcome")
	}
	s.log.Error("submit", "id", ids, "err", err)
	return problem(CodeUnavailable, what+" was not stored; retry with the same id")
}

// resultProblem turns a rejected result into its problem.
func resultProblem(r commands.Result) error {
	if r.Outcome != commands.OutcomeRejected {
		return problem(CodeInternal, "unexpected outcome "+string(r.Outcome))
	}
	return problem(r.Code, r.Detail)
}

// writeAnswer says how submitWrite answers a write of one id: the body of
// its posting (201) from the processor's event, and of a replay (200,
// Idempotent-Replayed) read back from the read model.
type writeAnswer struct {
	id     string
	posted func(ev *domain.Event) (any, error)
	replay func(ctx context.Context) (any, error)
}

// submitWrite submits one item that posts under its own id (a reversal,
// a transaction) and answers: 201 with the posting, 200 with the
// original on a replay, the problem of a refusal, or 202 pending when
// the decision did not come in time (the Location set by the caller
// names where it will be read).
func (s *Server) submitWrite(c echo.Context, it commands.Item, w writeAnswer) error {
	release, err := s.admitted(c, 1)
	if err != nil {
		return err
	}
	defer release()
	pending := func() error {
		return respond(c, http.StatusAccepted, map[string]string{"id": w.id, "status": "pending"})
	}
	r, err := s.submitOne(c, it)
	if errors.Is(err, errNoAnswer) {
		return pending()
	}
	if err != nil {
		return err
	}
	switch r.Outcome {
	case commands.OutcomePosted:
		s.answered(c, r.Seq)
		v, err := w.posted(r.Event)
		if err != nil {
			return err
		}
		return respond(c, http.StatusCreated, v)
	case commands.OutcomeRejected:
		s.answered(c, r.Seq) // journaled: reads that follow see it
	case commands.OutcomeReplayed:
		noteSequence(c, r.Seq) // the original's
		ctx := c.Request().Context()
		if err := s.waitRead(ctx, r.Seq); err != nil {
			return pending()
		}
		v, err := w.replay(ctx)
		if err != nil {
			return s.readError(err, CodeTransferNotFound)
		}
		c.Response().Header().Set(HeaderReplayed, "true")
		return respond(c, http.StatusOK, v)
	}
	return resultProblem(r)
}
