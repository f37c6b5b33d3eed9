// Package corebanq serves CoreBanq's ledger API (seed 002) on the native
// ledger: a transfer between two ledgers answered with both entries, and
// the reads a client needs to see what it wrote. A CoreBanq ledger <uuid>
// is the native account "corebanq:<uuid>", opened by an operator in any
// asset (its currency) and owned by a token subject. The adapter
// translates; the processor decides ownership, balances, currencies and
// idempotency. See docs/compat/corebanq.md.
package corebanq

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/api/compat"
)

// system names the adapter: its accounts are "corebanq:<uuid>".
const system = "corebanq"

// maxTokenBytes bounds a bearer token, as the native API does: real JWTs
// are well under 4 KiB, and a longer header is refused before any work.
const maxTokenBytes = 8 << 10

// Handler is the CoreBanq API as an http.Handler.
type Handler struct {
	l          compat.Ledger
	log        *slog.Logger
	mux        *http.ServeMux
	currencies *currencies
}

// New returns the adapter over l. Every request is answered in CoreBanq's
// error shape, unknown paths and methods included.
func New(l compat.Ledger, log *slog.Logger) *Handler {
	h := &Handler{l: l, log: log, mux: http.NewServeMux(), currencies: &currencies{l: l, known: map[string]currency{}}}
	h.mux.HandleFunc("/v1/ledgers/{id}/transfer", only(http.MethodPost, h.transfer))
	h.mux.HandleFunc("/v1/ledgers/{id}", only(http.MethodGet, h.ledger))
	h.mux.HandleFunc("/v1/ledgers/{id}/balance", only(http.MethodGet, h.balance))
	h.mux.HandleFunc("/v1/ledgers/{id}/entries", only(http.MethodGet, h.entries))
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, codeRouteNotFound, "no route "+r.Method+" "+r.URL.Path)
	})
	return h
}

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// only answers 405 to any method but method.
func only(method string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, r.Method+" is not allowed here; use "+method)
			return
		}
		next(w, r)
	}
}

// principal authenticates the request's bearer token with the native
// authenticators and requires scope. It answers 401 or 403 itself and
// returns false then.
func (h *Handler) principal(w http.ResponseWriter, r *http.Request, scope string) (api.Principal, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="corebanq"`)
		writeError(w, http.StatusUnauthorized, codeUnauthorized, "a bearer token is required: Authorization: Bearer <token>")
		return api.Principal{}, false
	}
	p, err := api.Principal{}, error(api.ErrInvalidToken)
	if len(token) <= maxTokenBytes {
		p, err = h.l.Authenticate(r.Context(), token)
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="corebanq", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, codeUnauthorized, "invalid or expired token")
		return api.Principal{}, false
	}
	if !p.Has(scope) {
		writeError(w, http.StatusForbidden, codeForbidden, "this token lacks the "+scope+" scope")
		return api.Principal{}, false
	}
	if secs, ok := h.l.Allow(p); !ok {
		// The token's one budget, shared with the native API.
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, codeRateLimited, "too many requests for this token; retry after "+strconv.Itoa(secs)+"s")
		return api.Principal{}, false
	}
	return p, true
}

// ledgerID reads the path's ledger UUID, answering 400 when it is not one.
func ledgerID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, ok := parseUUID(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusBadRequest, codeInvalid, "the ledger id in the path must be a UUID")
	}
	return id, ok
}
