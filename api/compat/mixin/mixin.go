// Package mixin serves Mixin Network's transfer API (seed 001) on the
// native ledger, so that the public SDK (github.com/fox-one/mixin-sdk-go)
// works against it unchanged but for its base URL: users with Ed25519
// sessions and encrypted PINs, POST /transfers with trace ids, and the
// reads a client makes after a transfer. See docs/compat/mixin.md.
//
// Every transfer is a native transfer between the accounts
// mixin:<user>:<asset code>, owned by mixin:<user> and opened on first
// use; the adapter translates and decides nothing about money. Its own
// state (users, PIN state, asset mapping) is in a Store.
package mixin

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/api/compat"
)

// System is the adapter's name, the prefix of its native accounts.
const System = "mixin"

// Scale is the scale of every native asset a Mixin asset maps to: Mixin
// amounts have at most 8 decimals.
const Scale = 8

// Request limits.
const (
	// maxBodyBytes bounds a request body: a transfer is a few hundred
	// bytes (a 200-character memo is at most 800 of them), and the body
	// is held in memory to check the token's sig.
	maxBodyBytes = 16 << 10
	// maxRequestIDLen bounds the X-Request-Id echoed (the SDK's is a
	// UUID); a longer one is replaced by a new UUID.
	maxRequestIDLen = 128
	// pinHashSlots bounds concurrent PIN hashes (19 MiB each).
	pinHashSlots = 4
)

// Options configure the adapter.
type Options struct {
	Store  Store
	Logger *slog.Logger
	// Now is the clock for tokens and the PIN lockout; time.Now when nil.
	Now func() time.Time
}

type handler struct {
	l        compat.Ledger
	store    Store
	log      *slog.Logger
	now      func() time.Time
	jtis     *jtiSet
	pinSlots chan struct{}
	openers  *compat.Openers // by native asset code, at most MaxAssets
}

// New returns the adapter's HTTP handler over l.
func New(l compat.Ledger, opts Options) http.Handler {
	h := &handler{l: l, store: opts.Store, log: opts.Logger, now: opts.Now, jtis: newJTISet(),
		pinSlots: make(chan struct{}, pinHashSlots), openers: compat.NewOpeners(l, MaxAssets)}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

// ServeHTTP echoes X-Request-Id (the SDK refuses an answer without it),
// reads the bounded body and routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > maxRequestIDLen {
		id = newUUID()
	}
	w.Header().Set("X-Request-Id", id)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, invalidField("The request body is larger than 16 KiB."))
			return
		}
		writeError(w, errBadBody)
		return
	}
	h.route(w, r, body)
}

// route dispatches on the method and the path's segments. Unknown paths
// and methods are Mixin's 404.
func (h *handler) route(w http.ResponseWriter, r *http.Request, body []byte) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case post && len(seg) == 2 && seg[0] == "admin" && seg[1] == "users":
		h.adminCreateUser(w, r, body)
		return
	case post && len(seg) == 2 && seg[0] == "admin" && seg[1] == "assets":
		h.adminPutAsset(w, r, body)
		return
	}
	var serve func(http.ResponseWriter, *http.Request, User, []byte)
	switch {
	case post && len(seg) == 1 && seg[0] == "transfers":
		serve = h.transfer
	case get && len(seg) == 3 && seg[0] == "transfers" && seg[1] == "trace":
		serve = func(w http.ResponseWriter, r *http.Request, u User, _ []byte) { h.readTrace(w, r, u, seg[2]) }
	case get && len(seg) == 2 && seg[0] == "snapshots":
		serve = func(w http.ResponseWriter, r *http.Request, u User, _ []byte) { h.readSnapshot(w, r, u, seg[1]) }
	case get && len(seg) == 2 && seg[0] == "assets":
		serve = func(w http.ResponseWriter, r *http.Request, u User, _ []byte) { h.readAsset(w, r, u, seg[1]) }
	case get && len(seg) == 1 && seg[0] == "assets":
		serve = func(w http.ResponseWriter, r *http.Request, u User, _ []byte) { h.readAssets(w, r, u) }
	case get && len(seg) == 1 && seg[0] == "me":
		serve = func(w http.ResponseWriter, _ *http.Request, u User, _ []byte) { writeData(w, meOf(u)) }
	default:
		writeError(w, errNotFound)
		return
	}
	u, e := h.authenticate(r.Context(), r, body)
	if e != nil {
		writeError(w, e)
		return
	}
	if secs, ok := h.l.Allow(api.Principal{Subject: ownerOf(u.ID)}); !ok {
		// The user's budget in the native rate limit (--rate-limit).
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, newError(CodeTooManyRequests, "Too many requests: retry in "+strconv.Itoa(secs)+"s."))
		return
	}
	serve(w, r, u, body)
}
