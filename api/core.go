package api

import (
	"context"
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Core is the native ledger without HTTP, for the seed adapters
// (api/compat): the same submitter and read model as the native handlers,
// the same admission (writes wait while the read model is too far
// behind) and the same read-your-writes mark (a read waits until the read
// model has applied every outcome this server answered). An adapter
// translates its system's requests into these calls; it decides nothing.
type Core struct{ s *Server }

// Errors of Core's writes. Each means nothing is known to have moved, and
// a retry with the same ids is safe: an id is decided once.
var (
	// ErrUnavailable: the request was not stored (the ledger is at
	// capacity, or the commands stream refused it).
	ErrUnavailable = errors.New("the ledger is unavailable; the request was not stored")
	// ErrUndecided: the request was stored, or may have been (JetStream
	// did not confirm in time), and its outcome did not arrive in time.
	ErrUndecided = errors.New("the request was stored but not decided in time")
)

// NewWithCore is New, also returning the Core that shares the server's
// state, so that the adapters' writes and the native API's reads see one
// another.
func NewWithCore(cfg Config, submit Submitter, read ReadModel) (*echo.Echo, *Core) {
	e, s := newServer(cfg, submit, read)
	return e, &Core{s: s}
}

// InFlight returns the command items admitted and not yet answered (by
// their outcome, or 202): what admission counts against MaxReadLag.
func (c *Core) InFlight() int64 { return c.s.inflight.Load() }

// Submit decides items in order, as one command message, and waits for
// their results up to the sync timeout. Outcomes that were journaled
// (posted, rejected, created) advance the read-your-writes mark. It
// returns ErrUnavailable or ErrUndecided (wrapped), or ctx's error.
func (c *Core) Submit(ctx context.Context, items []commands.Item) ([]commands.Result, error) {
	s := c.s
	release, err := s.admit(ctx, s.cfg.SyncTimeout, len(items))
	if err != nil {
		return nil, ErrUnavailable
	}
	defer release()
	wait, cancel := context.WithTimeout(ctx, s.cfg.SyncTimeout)
	defer cancel()
	rs, err := s.submit.Submit(wait, items, true)
	switch {
	case err == nil:
	case errors.Is(err, commands.ErrNoAnswer), errors.Is(err, commands.ErrMaybeStored):
		return nil, ErrUndecided
	default:
		s.log.Warn("compat submit", "err", err)
		return nil, ErrUnavailable
	}
	for _, r := range rs {
		if r.Event != nil {
			s.acked.advance(r.Seq)
		}
	}
	return rs, nil
}

// Seen waits (at most the read wait) until the read model has applied
// sequence seq, for a read that must show an outcome just answered, such
// as a replay's original. It returns ErrUndecided when the read model is
// behind.
func (c *Core) Seen(ctx context.Context, seq uint64) error {
	if err := c.s.waitRead(ctx, seq); err != nil {
		return ErrUndecided
	}
	return nil
}

// Account reads an account once the read model has applied every outcome
// answered so far. It returns projections.ErrNotFound for a missing
// account, ErrUndecided when the read model is behind.
func (c *Core) Account(ctx context.Context, id, asset string) (projections.AccountView, error) {
	if err := c.caughtUp(ctx); err != nil {
		return projections.AccountView{}, err
	}
	return c.s.read.Account(ctx, id, asset)
}

// Entries reads a page of an account's entries, newest first, as the
// native GET /v1/accounts/{id}/entries does.
func (c *Core) Entries(ctx context.Context, account, asset, cursor string, limit int) (projections.Page[projections.EntryView], error) {
	if err := c.caughtUp(ctx); err != nil {
		return projections.Page[projections.EntryView]{}, err
	}
	return c.s.read.Entries(ctx, account, asset, cursor, limit)
}

// Transfer reads one transfer, as GET /v1/transfers/{id} does.
func (c *Core) Transfer(ctx context.Context, id string) (projections.TransferView, error) {
	if err := c.caughtUp(ctx); err != nil {
		return projections.TransferView{}, err
	}
	return c.s.read.Transfer(ctx, id)
}

// Transfers lists transfers, as GET /v1/transfers does.
func (c *Core) Transfers(ctx context.Context, f projections.TransferFilter) (projections.Page[projections.TransferView], error) {
	if err := c.caughtUp(ctx); err != nil {
		return projections.Page[projections.TransferView]{}, err
	}
	return c.s.read.Transfers(ctx, f)
}

// Rates reads the rate table, as GET /v1/rates does: what an adapter
// shows as its currencies' exchange rates (ADR 0019).
func (c *Core) Rates(ctx context.Context) ([]projections.RateView, error) {
	if err := c.caughtUp(ctx); err != nil {
		return nil, err
	}
	return c.s.read.Rates(ctx)
}

// Authenticate checks a bearer token with the native API's
// authenticators. It returns ErrInvalidToken for a token it does not
// accept.
func (c *Core) Authenticate(ctx context.Context, token string) (Principal, error) {
	if c.s.cfg.Auth == nil || token == "" {
		return Principal{}, ErrInvalidToken
	}
	return c.s.cfg.Auth.Authenticate(ctx, token)
}

// caughtUp waits until the read model has applied every outcome answered
// so far.
func (c *Core) caughtUp(ctx context.Context) error {
	s := c.s
	if seq := s.acked.load(); seq > 0 && seq > s.read.Applied().Seq {
		return c.Seen(ctx, seq)
	}
	return nil
}

// Allow takes one request from p's rate-limit bucket, the same bucket the
// native API takes from for that subject (--rate-limit; admins are not
// limited). When the bucket is empty it returns false and how long to wait
// (whole seconds, for a Retry-After header); nothing is taken then.
func (c *Core) Allow(p Principal) (retryAfterSeconds int, ok bool) {
	if d := c.s.limits.reserve(p); d > 0 {
		return retryAfterSecondsOf(d), false
	}
	return 0, true
}

// Actor is the principal as the processor sees it: who a command acts for.
func (p Principal) Actor() *domain.Actor { return p.actor() }
