package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Signed checkpoints (ADR 0017): the ledger signs its head, and anyone
// who keeps a checkpoint can later prove that a journal passes through it
// (ledger audit --checkpoint).

// CheckpointView is one signed checkpoint.
type CheckpointView struct {
	Seq       uint64    `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	Signature string    `json:"signature"`
	PublicKey string    `json:"public_key"`
	// Checkpoint is SEQ:HASH:SIGNATURE, as ledger audit --checkpoint
	// takes it.
	Checkpoint string `json:"checkpoint"`
	Position   uint64 `json:"position"`
}

// Checkpointer signs the journal's head and keeps the checkpoints.
type Checkpointer interface {
	// Create signs the journal's head now and stores the checkpoint. It
	// returns ErrNothingToSign while the journal is empty or the
	// processor has not rebuilt its state.
	Create(ctx context.Context) (CheckpointView, error)
	// Latest returns the newest checkpoint, or ErrNoCheckpoint.
	Latest(ctx context.Context) (CheckpointView, error)
	// List returns up to limit checkpoints stored after position after,
	// oldest first, and whether more follow.
	List(ctx context.Context, after uint64, limit int) ([]CheckpointView, bool, error)
}

// Errors of a Checkpointer.
var (
	ErrNothingToSign = errors.New("the journal has no head to sign yet")
	ErrNoCheckpoint  = errors.New("no checkpoint was taken yet")
)

func (s *Server) checkpointer() (Checkpointer, error) {
	if s.cfg.Checkpoints == nil {
		return nil, problem(CodeUnavailable, "checkpoints are not configured on this server")
	}
	return s.cfg.Checkpoints, nil
}

func checkpointFail(err error) error {
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		return problem(CodeCheckpointNotFound, "no checkpoint was taken yet")
	case errors.Is(err, ErrNothingToSign):
		return problem(CodeUnavailable, err.Error())
	}
	return problem(CodeUnavailable, "checkpoints: "+err.Error())
}

func (s *Server) createCheckpoint(c echo.Context) error {
	cps, err := s.checkpointer()
	if err != nil {
		return err
	}
	cp, err := cps.Create(c.Request().Context())
	if err != nil {
		return checkpointFail(err)
	}
	return respond(c, http.StatusCreated, cp)
}

func (s *Server) latestCheckpoint(c echo.Context) error {
	cps, err := s.checkpointer()
	if err != nil {
		return err
	}
	cp, err := cps.Latest(c.Request().Context())
	if err != nil {
		return checkpointFail(err)
	}
	return respond(c, http.StatusOK, cp)
}

func (s *Server) listCheckpoints(c echo.Context) error {
	after, limit, err := positionQuery(c)
	if err != nil {
		return err
	}
	cps, err := s.checkpointer()
	if err != nil {
		return err
	}
	list, more, err := cps.List(c.Request().Context(), after, limit)
	if err != nil {
		return checkpointFail(err)
	}
	return respond(c, http.StatusOK, newPositionPage(list, more, func(v CheckpointView) uint64 { return v.Position }))
}
