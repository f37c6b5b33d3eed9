package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// statusTimeout bounds one Config.Status call: the endpoint is polled
// (every 50 ms by ledger bench), and a slow answer is worth less than a
// quick 503.
const statusTimeout = 2 * time.Second

// StatusView is the body of GET /v1/status: how far the journal and the
// read model have got, to measure how far the read model lags.
type StatusView struct {
	Journal   JournalStatus   `json:"journal"`
	ReadModel ReadModelStatus `json:"read_model"`
	Processor ProcessorStatus `json:"processor"`
}

// JournalStatus is the journal's end as the processor knows it.
type JournalStatus struct {
	Sequence uint64 `json:"sequence"` // the last ledger sequence appended
	Position uint64 `json:"position"` // the journal stream position of the last record
	// Hash is the hash of event Sequence: a head to record, or to check
	// a checkpoint or an export against. Absent while unknown.
	Hash string `json:"hash,omitempty"`
}

// ReadModelStatus is the read model's committed checkpoint.
type ReadModelStatus struct {
	Sequence uint64 `json:"sequence"` // the last ledger sequence applied
	Position uint64 `json:"position"` // the last journal position applied
	// Behind is the journal's sequence minus Sequence: the events
	// appended and not yet applied. The handler computes it.
	Behind uint64 `json:"behind"`
}

// ProcessorStatus says whether the processor has rebuilt its state and is
// deciding commands, and which instance holds the processor lease
// (ADR 0026).
type ProcessorStatus struct {
	Ready bool `json:"ready"`
	// Role is this node's processor's: active, starting (it holds the
	// lease and rebuilds), standby or stopped.
	Role string `json:"role,omitempty"`
	// Instance is this node's processor's name in the lease.
	Instance string `json:"instance,omitempty"`
	// LeaseHolder is the instance holding the lease, as last seen.
	LeaseHolder string `json:"lease_holder,omitempty"`
}

func (s *Server) status(c echo.Context) error {
	if s.cfg.Status == nil {
		return problem(CodeUnavailable, "status is not configured on this server")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), statusTimeout)
	defer cancel()
	v, err := s.cfg.Status(ctx)
	if err != nil {
		return problem(CodeUnavailable, "status: "+err.Error())
	}
	// The read model applies only what the journal stored, so the journal
	// holds at least as much. The figures are read one after the other,
	// and the projector may apply a record before the processor has its
	// acknowledgement (or while it rebuilds its state at start-up): the
	// journal's figures are raised to the read model's rather than
	// reporting a read model ahead of the journal.
	if v.ReadModel.Sequence > v.Journal.Sequence {
		v.Journal.Hash = "" // the hash is of the processor's sequence, not of the read model's
	}
	v.Journal.Sequence = max(v.Journal.Sequence, v.ReadModel.Sequence)
	v.Journal.Position = max(v.Journal.Position, v.ReadModel.Position)
	v.ReadModel.Behind = v.Journal.Sequence - v.ReadModel.Sequence
	return respond(c, http.StatusOK, v)
}
