package commands

import (
	"context"
	"sync/atomic"
)

// Elector chooses the one active processor among the instances of a
// ledger (ADR 0026). Only the active one consumes commands and appends to
// the journal; the others stand by. The election is for liveness only:
// what keeps a second writer out of the journal is the fenced append
// (Journal.Append, ErrFenced), which holds whatever the election says.
type Elector interface {
	// Campaign blocks until this instance holds the lease, or ctx ends
	// (then it returns ctx's error). The context it returns ends when the
	// lease is lost: not renewed in time, taken by another instance, or
	// ctx ended. release gives the lease up, so that a standby need not
	// wait for it to expire; it is safe to call more than once. Any other
	// error is transient: the caller campaigns again.
	Campaign(ctx context.Context) (held context.Context, release func(), err error)
}

// Role is what a processor is doing, for the status endpoint and metrics.
type Role int32

// The roles of a processor.
const (
	// RoleStandby: it is waiting for the lease (another instance holds
	// it, or it has just stepped down).
	RoleStandby Role = iota
	// RoleStarting: it holds the lease and is rebuilding its state.
	RoleStarting
	// RoleActive: it holds the lease and decides commands.
	RoleActive
	// RoleStopped: Run has returned.
	RoleStopped
)

func (r Role) String() string {
	switch r {
	case RoleStandby:
		return "standby"
	case RoleStarting:
		return "starting"
	case RoleActive:
		return "active"
	default:
		return "stopped"
	}
}

// Role reports what the processor is doing.
func (p *Processor) Role() Role { return Role(p.role.Load()) }

// Terms counts the leases this processor has been elected to (a step
// down and a new election make two).
func (p *Processor) Terms() uint64 { return p.terms.Load() }

// alwaysElected is the Elector when Config.Elector is nil: one processor,
// always active, as a single node runs.
type alwaysElected struct{}

func (alwaysElected) Campaign(ctx context.Context) (context.Context, func(), error) {
	return ctx, func() {}, nil
}

// roleState is the processor's role and term count.
type roleState struct {
	role  atomic.Int32
	terms atomic.Uint64
}

func (s *roleState) set(r Role) { s.role.Store(int32(r)) }
