package mixin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/projections"
)

// readTrace is GET /transfers/trace/{trace_id}: the caller's transfer with
// that trace.
func (h *handler) readTrace(w http.ResponseWriter, r *http.Request, u User, trace string) {
	trace = strings.ToLower(trace)
	if !isUUID(trace) {
		writeError(w, errNotFound)
		return
	}
	h.writeSnapshot(w, r, u, nativeID(snapshotID(u.ID, trace)))
}

// readSnapshot is GET /snapshots/{snapshot_id}, for either of its users.
func (h *handler) readSnapshot(w http.ResponseWriter, r *http.Request, u User, id string) {
	id = strings.ToLower(id)
	if !isUUID(id) {
		writeError(w, errNotFound)
		return
	}
	h.writeSnapshot(w, r, u, nativeID(id))
}

// writeSnapshot answers the native transfer id as u's snapshot; anything
// else (missing, rejected, another user's) is 404.
func (h *handler) writeSnapshot(w http.ResponseWriter, r *http.Request, u User, id string) {
	t, err := h.l.Transfer(r.Context(), id)
	if err != nil {
		if errors.Is(err, projections.ErrNotFound) {
			writeError(w, errNotFound)
			return
		}
		writeError(w, h.ledgerError(err))
		return
	}
	s, ok := snapshotOf(u.ID, t)
	if !ok {
		writeError(w, errNotFound)
		return
	}
	writeData(w, s)
}

// assetView is Mixin's asset with the caller's balance.
type assetView struct {
	Type           string         `json:"type"`
	AssetID        string         `json:"asset_id"`
	ChainID        string         `json:"chain_id"`
	Symbol         string         `json:"symbol"`
	Name           string         `json:"name"`
	Balance        string         `json:"balance"`
	DepositEntries []depositEntry `json:"deposit_entries"`
}

type depositEntry struct{}

// readAsset is GET /assets/{asset_id}.
func (h *handler) readAsset(w http.ResponseWriter, r *http.Request, u User, id string) {
	a, err := h.store.Asset(r.Context(), strings.ToLower(id))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			writeError(w, errNotFound)
			return
		}
		h.log.Warn("mixin asset lookup", "err", err)
		writeError(w, errUnavailable)
		return
	}
	v, e := h.assetOf(r.Context(), u, a)
	if e != nil {
		writeError(w, e)
		return
	}
	writeData(w, v)
}

// readAssets is GET /assets: every mapped asset (at most MaxAssets) with
// the caller's balance.
func (h *handler) readAssets(w http.ResponseWriter, r *http.Request, u User) {
	as, err := h.store.Assets(r.Context())
	if err != nil {
		h.log.Warn("mixin assets", "err", err)
		writeError(w, errUnavailable)
		return
	}
	out := make([]assetView, 0, len(as))
	for _, a := range as {
		v, e := h.assetOf(r.Context(), u, a)
		if e != nil {
			writeError(w, e)
			return
		}
		out = append(out, v)
	}
	writeData(w, out)
}

// assetOf reads u's balance of a; an account never used has 0.
func (h *handler) assetOf(ctx context.Context, u User, a Asset) (assetView, *Error) {
	v := assetView{Type: "asset", AssetID: a.AssetID, ChainID: a.AssetID, Symbol: a.Symbol, Name: a.Name,
		Balance: "0", DepositEntries: []depositEntry{}}
	id, err := compat.AccountID("asset_id", System, u.ID+":"+a.Code)
	if err != nil {
		return v, invalidField(err.Error())
	}
	acc, err := h.l.Account(ctx, id, a.Code)
	switch {
	case errors.Is(err, projections.ErrNotFound):
		return v, nil
	case err != nil:
		return v, h.ledgerError(err)
	}
	if d, err := decimal.NewFromString(acc.Balance); err == nil {
		v.Balance = d.String()
	}
	return v, nil
}

// me is GET /me: the user the token is for.
type me struct {
	Type      string    `json:"type"`
	UserID    string    `json:"user_id"`
	SessionID string    `json:"session_id"`
	FullName  string    `json:"full_name"`
	HasPin    bool      `json:"has_pin"`
	CreatedAt time.Time `json:"created_at"`
}

func meOf(u User) me {
	return me{Type: "user", UserID: u.ID, SessionID: u.SessionID, FullName: u.FullName, HasPin: true, CreatedAt: u.CreatedAt}
}
