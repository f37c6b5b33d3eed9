// Package mercury serves MercuryCore's Economy service API (seed 003) on
// the native ledger, so that the Mercury site changes only its base URL:
// POST /transact and GET /transactions/{id}. A Mercury user is the native
// account "mercury:<user>" in the asset MERCURY (micro-units, scale 6 by
// default). The original is an internal service without authentication:
// a transaction acts as its sender, and the processor's owner rule is what
// lets it debit the sender's account and nothing else.
package mercury

import (
	"log/slog"
	"net/http"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/domain"
)

// System is the system's name: its accounts are "mercury:<user>" and its
// transfer ids "mercury-<Id>".
const System = "mercury"

// Defaults of the native asset: Mercury amounts are micro-units.
const (
	DefaultAsset = "MERCURY"
	DefaultScale = 6
)

// Adapter is the Mercury API over a compat.Ledger.
type Adapter struct {
	l     compat.Ledger
	open  *compat.Opener
	asset domain.Asset
	log   *slog.Logger
}

// New returns the adapter; zero fields of opts take the defaults.
func New(l compat.Ledger, opts compat.Options, log *slog.Logger) *Adapter {
	a := domain.Asset{Code: opts.Asset, Scale: opts.Scale}
	if a.Code == "" {
		a.Code, a.Scale = DefaultAsset, DefaultScale
	}
	return &Adapter{l: l, open: compat.NewOpener(l, a), asset: a, log: log}
}

// Handler serves the system's paths at the root. Unknown paths and
// methods get net/http's own 404 and 405 in text, as the original's
// ServeMux answered them.
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /transact", a.transact)
	mux.HandleFunc("GET /transactions/{id}", a.transactions)
	return mux
}
