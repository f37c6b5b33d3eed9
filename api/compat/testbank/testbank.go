// Package testbank serves Testbank's JSON:API (seed 004) on the native
// ledger: accounts in several currencies, transactions between them (a
// conversion at the native rate table's rate when the currencies
// differ), ROOT as a mint or a burn for users an operator allows, and
// the reads a client makes. See docs/compat/testbank.md.
//
// A Testbank account is the native account testbank:<account id>, owned
// by testbank-user:<user id>, in the native asset named as its currency;
// every transaction is a native transfer "testbank-<transaction id>".
// The adapter translates and decides nothing about money. Its own state
// (users, hashed tokens, account names and visibility) is in a Store.
package testbank

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/api/compat"
)

// System is the adapter's name, the prefix of its native accounts.
const System = "testbank"

// Root is the account id that stands for the issuer: as sender, a mint;
// as recipient, a burn.
const Root = "ROOT"

// maxBodyBytes bounds a request body: a transaction document is a few
// hundred bytes.
const maxBodyBytes = 16 << 10

// Options configure the adapter.
type Options struct {
	Store  Store
	Logger *slog.Logger
	// Now is the clock for the records the adapter creates; time.Now
	// when nil.
	Now func() time.Time
	// BaseCurrency is the currency GET /currencies gives each rate from
	// (USD when empty).
	BaseCurrency string
}

type handler struct {
	l       compat.Ledger
	store   Store
	log     *slog.Logger
	now     func() time.Time
	base    string
	openers *compat.Openers // by currency, at most len(currencies)
}

// New returns the adapter's HTTP handler over l.
func New(l compat.Ledger, opts Options) http.Handler {
	h := &handler{l: l, store: opts.Store, log: opts.Logger, now: opts.Now, base: opts.BaseCurrency,
		openers: compat.NewOpeners(l, len(currencies))}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if _, ok := currencies[h.base]; !ok {
		h.base = "USD"
	}
	return h
}

// ServeHTTP negotiates the media type, reads the bounded body and routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !acceptsJSON(r.Header.Get("Accept")) {
		writeError(w, errNotAcceptable)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, invalid("", "The request body is larger than 16 KiB."))
			return
		}
		writeError(w, invalid("", "The request body could not be read."))
		return
	}
	h.route(w, r, body)
}

// acceptsJSON reports whether an Accept header admits JSON:API or JSON
// (no header, */* and application/* do).
func acceptsJSON(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		switch mt {
		case "*/*", "application/*", mediaType, "application/json":
			return true
		}
	}
	return false
}

// route dispatches on the method and the path's segments. Unknown paths
// are RESOURCE_NOT_FOUND.
func (h *handler) route(w http.ResponseWriter, r *http.Request, body []byte) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	m := r.Method
	if len(seg) == 1 && seg[0] == "" && m == http.MethodGet {
		h.ping(w, r)
		return
	}
	if len(seg) == 2 && seg[0] == "admin" && seg[1] == "users" && m == http.MethodPost {
		h.adminCreateUser(w, r, body)
		return
	}
	var serve func(http.ResponseWriter, *http.Request, User)
	switch {
	case len(seg) == 1 && seg[0] == "transactions" && m == http.MethodPost:
		serve = func(w http.ResponseWriter, r *http.Request, u User) { h.createTransaction(w, r, u, body) }
	case len(seg) == 1 && seg[0] == "transactions" && m == http.MethodGet:
		serve = h.listTransactions
	case len(seg) == 2 && seg[0] == "transactions" && m == http.MethodGet:
		serve = func(w http.ResponseWriter, r *http.Request, u User) { h.readTransaction(w, r, u, seg[1]) }
	case len(seg) == 2 && seg[0] == "transactions" && (m == http.MethodPatch || m == http.MethodDelete || m == http.MethodPut):
		w.Header().Set("Allow", "GET")
		writeError(w, errImmutable)
		return
	case len(seg) == 1 && seg[0] == "accounts" && m == http.MethodGet:
		serve = h.listAccounts
	case len(seg) == 1 && seg[0] == "accounts" && m == http.MethodPost:
		serve = func(w http.ResponseWriter, r *http.Request, u User) { h.createAccount(w, r, u, body) }
	case len(seg) == 2 && seg[0] == "accounts" && m == http.MethodGet:
		serve = func(w http.ResponseWriter, r *http.Request, u User) { h.readAccount(w, r, u, seg[1]) }
	case len(seg) == 1 && seg[0] == "currencies" && m == http.MethodGet:
		serve = func(w http.ResponseWriter, r *http.Request, _ User) { h.listCurrencies(w, r) }
	default:
		writeError(w, errNotFound)
		return
	}
	u, e := h.authenticate(r)
	if e != nil {
		writeError(w, e)
		return
	}
	if secs, ok := h.l.Allow(api.Principal{Subject: ownerOf(u.ID)}); !ok {
		// The user's budget in the native rate limit (--rate-limit).
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, newError(http.StatusTooManyRequests, CodeTooManyRequests, "Too many requests",
			"Too many requests: retry in "+strconv.Itoa(secs)+"s."))
		return
	}
	serve(w, r, u)
}

// ownerOf is the native owner (and actor subject) of a Testbank user:
// "testbank-user:<id>", a namespace of its own so that a user id and an
// account id never name one thing.
func ownerOf(userID string) string { return System + "-user:" + userID }

// nativeAccount is the native account of a Testbank account id.
func nativeAccount(id string) string { return System + ":" + id }
