package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/journalio"
)

// GET /v1/journal/locate?seq=N (admin): the journal record that holds
// ledger sequence N, so that a consumer of the stream (the nats CLI, a
// JetStream consumer) can start at its position. A record carries a run
// of events, so a ledger sequence is not a stream position.

// locateTimeout bounds one Locate: a binary search of at most 64 direct
// gets, each a quick read of one record.
const locateTimeout = 10 * time.Second

// Locator finds the journal record holding a ledger sequence: nil, or a
// *journalio.SeqNotJournaledError for a sequence the journal does not
// hold (0 or past its end); any other error means the journal could not
// be read.
type Locator func(ctx context.Context, seq uint64) (journalio.Location, error)

func (s *Server) locate(c echo.Context) error {
	if s.cfg.Locate == nil {
		return problem(CodeUnavailable, "locating sequences is not configured on this server")
	}
	raw := strings.TrimSpace(c.QueryParam("seq"))
	seq, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || seq == 0 {
		return &domain.FieldError{Field: "seq", Reason: "must be a ledger sequence: an integer from 1"}
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), locateTimeout)
	defer cancel()
	loc, err := s.cfg.Locate(ctx, seq)
	var nj *journalio.SeqNotJournaledError
	if errors.As(err, &nj) {
		return problem(CodeSequenceNotFound, nj.Error())
	}
	if err != nil {
		return problem(CodeUnavailable, "locate: "+err.Error())
	}
	return respond(c, http.StatusOK, loc)
}
