// Package compat holds what the seed adapters share. Each adapter (one
// package per system under api/compat/) serves its system's own paths on
// its own listener and translates every request into native commands and
// reads through a Ledger (api.Core): one journal, one truth. An adapter
// translates; it never decides: balances, limits, ownership and
// idempotency are the processor's.
package compat

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Ledger is the native ledger as an adapter uses it. Writes return
// api.ErrUnavailable (not stored: retry) or api.ErrUndecided (stored or
// maybe stored, outcome not in time: retry with the same ids); reads
// return projections.ErrNotFound for what does not exist and
// api.ErrUndecided when the read model is behind.
type Ledger interface {
	Submit(ctx context.Context, items []commands.Item) ([]commands.Result, error)
	Seen(ctx context.Context, seq uint64) error
	Account(ctx context.Context, id, asset string) (projections.AccountView, error)
	Entries(ctx context.Context, account, asset, cursor string, limit int) (projections.Page[projections.EntryView], error)
	Transfer(ctx context.Context, id string) (projections.TransferView, error)
	Transfers(ctx context.Context, f projections.TransferFilter) (projections.Page[projections.TransferView], error)
	// Rates is the native rate table (at most projections.MaxRates),
	// for a system that shows exchange rates (Testbank).
	Rates(ctx context.Context) ([]projections.RateView, error)
	Authenticate(ctx context.Context, token string) (api.Principal, error)
	// Allow takes one request from the principal's rate-limit bucket, the
	// native API's for the same subject; false, with the seconds to wait,
	// when it is empty. A system without native tokens names its users
	// as principals with its own subjects ("mercury:alice").
	Allow(p api.Principal) (retryAfterSeconds int, ok bool)
}

var _ Ledger = (*api.Core)(nil)

// Options configure an adapter.
type Options struct {
	// Asset and Scale name the native asset of a single-currency system,
	// defined at first use (each adapter has its default).
	Asset string
	Scale int
}

// AccountID is the native account of a system's user: "<system>:<user>".
// It returns a FieldError naming field when the result is not a valid
// native id (the user part too long, or with characters ids refuse).
func AccountID(field, system, user string) (string, error) {
	id := system + ":" + user
	if user == "" {
		return "", &domain.FieldError{Field: field, Reason: "is required"}
	}
	if err := domain.ValidateID(field, id); err != nil {
		return "", &domain.FieldError{Field: field, Reason: fmt.Sprintf("%q cannot be a user of %s: as the native account %q it %s",
			user, system, id, reasonOf(err))}
	}
	return id, nil
}

// UserOf returns the system's user of a native account "<system>:<user>",
// and false for an account of another system or a native one.
func UserOf(system, account string) (string, bool) {
	return strings.CutPrefix(account, system+":")
}

func reasonOf(err error) string {
	var fe *domain.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return err.Error()
}

// TransferID derives a native transfer id from the system and the parts
// that make a request unique there (its user and client key, say): the
// same parts always give the same id, so a retry is the native replay,
// and different users' keys never collide. It is "<prefix>-" and 40
// base32 characters of their SHA-256 (200 bits), within the id length.
func TransferID(prefix string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		// Length-prefixed, so that ("ab","c") and ("a","bc") differ.
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	sum := h.Sum(nil)
	return prefix + "-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum)[:40])
}

// maxKnownAccounts bounds the accounts an Opener remembers as open; past
// it the memory starts again, and an account is only asked for again
// (opening an open account is answered "existed").
const maxKnownAccounts = 100_000

// Opener opens accounts on first use and defines the asset they are in,
// idempotently. An account it opens has no overdraft (a zero limit moves
// no value), so it opens them as the ledger itself, owned by the user.
type Opener struct {
	l     Ledger
	asset domain.Asset

	mu      sync.Mutex
	defined bool
	known   map[string]bool
}

// NewOpener returns an Opener for accounts in asset (defined on first
// use; an existing asset of another scale is an error then).
func NewOpener(l Ledger, asset domain.Asset) *Opener {
	return &Opener{l: l, asset: asset, known: map[string]bool{}}
}

// ErrConflict means an account or asset exists with another definition.
var ErrConflict = errors.New("exists with another definition")

// Open makes sure the accounts exist, each owned by its owner (ids and
// owners in pairs), and the asset before them. Errors are the Ledger's,
// or ErrConflict wrapped with what differs.
func (o *Opener) Open(ctx context.Context, idOwner ...string) error {
	if err := o.define(ctx); err != nil {
		return err
	}
	var items []commands.Item
	o.mu.Lock()
	for i := 0; i+1 < len(idOwner); i += 2 {
		if !o.known[idOwner[i]] {
			items = append(items, commands.Item{Account: &domain.Account{ID: idOwner[i], Asset: o.asset.Code, Owner: idOwner[i+1]}})
		}
	}
	o.mu.Unlock()
	if len(items) == 0 {
		return nil
	}
	rs, err := o.l.Submit(ctx, items)
	if err != nil {
		return err
	}
	for i, r := range rs {
		if r.Outcome == commands.OutcomeRejected {
			return fmt.Errorf("account %s: %w: %s", items[i].Account.ID, ErrConflict, r.Detail)
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.known) >= maxKnownAccounts {
		clear(o.known)
	}
	for _, it := range items {
		if it.Account != nil {
			o.known[it.Account.ID] = true
		}
	}
	return nil
}

// define defines the asset once, on its own: the items of one command
// are decided one by one, so accounts submitted with an asset refused
// (another scale) would still be opened, in the wrong asset.
func (o *Opener) define(ctx context.Context) error {
	o.mu.Lock()
	defined := o.defined
	o.mu.Unlock()
	if defined {
		return nil
	}
	a := o.asset
	rs, err := o.l.Submit(ctx, []commands.Item{{Asset: &a}})
	if err != nil {
		return err
	}
	if rs[0].Outcome == commands.OutcomeRejected {
		return fmt.Errorf("asset %s: %w: %s", a.Code, ErrConflict, rs[0].Detail)
	}
	o.mu.Lock()
	o.defined = true
	o.mu.Unlock()
	return nil
}

// Asset returns the asset the Opener opens accounts in.
func (o *Opener) Asset() domain.Asset { return o.asset }

// Openers keeps an Opener per asset, for an adapter whose accounts are in
// several assets. It is safe for concurrent use.
type Openers struct {
	l   Ledger
	max int // the Openers kept at most; past it the cache starts again

	mu sync.Mutex
	m  map[string]*Opener // by asset code
}

// NewOpeners returns Openers over l that keep at most max of them (one
// per asset code in use). Dropping them loses nothing but a cache: a new
// Opener asks the ledger again, which answers "existed".
func NewOpeners(l Ledger, max int) *Openers {
	return &Openers{l: l, max: max, m: map[string]*Opener{}}
}

// For returns the Opener of asset, made on first use. An asset is
// known by its code: an adapter derives the rest of it from the code.
func (o *Openers) For(asset domain.Asset) *Opener {
	o.mu.Lock()
	defer o.mu.Unlock()
	op := o.m[asset.Code]
	if op == nil {
		if len(o.m) >= o.max {
			clear(o.m)
		}
		op = NewOpener(o.l, asset)
		o.m[asset.Code] = op
	}
	return op
}
