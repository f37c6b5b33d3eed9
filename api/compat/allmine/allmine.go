// Package allmine serves Allmine's credit-transfer API (seed 000) for its
// existing clients: POST /api/v1/messages/credit-transfer with the
// sender named by the bearer token. An Allmine user is the native account
// "allmine:<userId>" in one native asset (ALLMINE, scale 2, by default),
// and every credit transfer is a native transfer with the token's
// principal as its actor: the processor decides ownership, balances and
// idempotency; this package only translates (docs/compat/allmine.md).
package allmine

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/domain"
)

// System is the adapter's name: the --compat name and the account prefix.
const System = "allmine"

// The native asset of Allmine's single currency, unless Options say
// otherwise: two decimal places, as a money amount has.
const (
	DefaultAsset = "ALLMINE"
	DefaultScale = 2
)

// creditTransferPath is the one route Allmine's clients use.
const creditTransferPath = "/api/v1/messages/credit-transfer"

// Handler is the Allmine adapter, an http.Handler for its own listener.
type Handler struct {
	l      compat.Ledger
	opener *compat.Opener
	asset  domain.Asset
	log    *slog.Logger
}

// New returns the adapter over l. Zero Options mean ALLMINE at scale 2;
// an Options.Asset given is taken with its Scale as given (0 included).
// The asset is defined on first use; an existing asset of another scale
// is reported then, in the log and as 503, since no request can be served.
func New(l compat.Ledger, opts compat.Options, log *slog.Logger) (*Handler, error) {
	asset := domain.Asset{Code: DefaultAsset, Scale: DefaultScale}
	if opts.Asset != "" {
		asset = domain.Asset{Code: opts.Asset, Scale: opts.Scale}
	}
	if err := asset.Validate(); err != nil {
		return nil, fmt.Errorf("allmine asset: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{l: l, opener: compat.NewOpener(l, asset), asset: asset, log: log}, nil
}

// ServeHTTP routes the one path; anything else is Allmine's 404 (or 405
// for another method on the path), in its envelope.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != creditTransferPath {
		writeError(w, errNotFound("no route "+r.Method+" "+truncate(r.URL.Path, maxEchoedPathBytes)))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, &apiError{status: http.StatusMethodNotAllowed, detail: r.Method + " is not allowed here; use POST"})
		return
	}
	h.creditTransfer(w, r)
}

// maxEchoedPathBytes bounds how much of an unknown path an error repeats.
const maxEchoedPathBytes = 128

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
