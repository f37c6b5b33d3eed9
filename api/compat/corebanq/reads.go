package corebanq

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Page sizes of GET /v1/ledgers/{id}/entries: the native read model's.
const (
	defaultPageLimit = 20
	maxPageLimit     = projections.MaxPageLimit
)

// LedgerView is GET /v1/ledgers/{id}: the fields of CoreBanq's ledger
// object the native account has. Amounts are integers of minor units.
type LedgerView struct {
	ID               string       `json:"id"`
	CurrencyCode     string       `json:"currency_code"`
	BalanceCurrent   json.Number  `json:"balance_current"`
	BalanceAvailable json.Number  `json:"balance_available"`
	OverdraftEnabled bool         `json:"overdraft_enabled"`
	OverdraftLimit   *json.Number `json:"overdraft_limit"` // null: unlimited
	LastActivityDate *string      `json:"last_activity_date"`
	OpeningDate      string       `json:"opening_date"`
	CreatedAt        string       `json:"created_at"`
}

// BalanceView is GET /v1/ledgers/{id}/balance.
type BalanceView struct {
	LedgerID         string      `json:"ledger_id"`
	BalanceCurrent   json.Number `json:"balance_current"`
	BalanceAvailable json.Number `json:"balance_available"`
	CurrencyCode     string      `json:"currency_code"`
	LastActivityDate *string     `json:"last_activity_date"`
}

// EntriesPage is GET /v1/ledgers/{id}/entries: newest first; NextCursor,
// when not null, is the cursor of the next page.
type EntriesPage struct {
	Data       []Entry `json:"data"`
	HasMore    bool    `json:"has_more"`
	NextCursor *string `json:"next_cursor"`
}

// readable authenticates a read and returns the ledger's account when the
// token's subject owns it (or the token is an admin's), answering 401,
// 403, 404 or 503 itself otherwise.
func (h *Handler) readable(w http.ResponseWriter, r *http.Request) (string, projections.AccountView, bool) {
	p, ok := h.principal(w, r, api.ScopeAccountsRead)
	if !ok {
		return "", projections.AccountView{}, false
	}
	id, ok := ledgerID(w, r)
	if !ok {
		return "", projections.AccountView{}, false
	}
	v, err := h.l.Account(r.Context(), accountOf(id), "")
	switch {
	case errors.Is(err, projections.ErrNotFound):
		writeError(w, http.StatusNotFound, codeLedgerNotFound, "ledger "+id+" not found")
		return "", v, false
	case err != nil:
		h.readFailed(w, err)
		return "", v, false
	}
	if !p.Admin() && (v.Owner == "" || v.Owner != p.Subject) {
		writeError(w, http.StatusForbidden, codeForbidden, "this token may read only ledgers it owns")
		return "", v, false
	}
	return id, v, true
}

// readFailed answers a read the ledger could not serve: 503, with the
// cause logged unless it is the read model being behind.
func (h *Handler) readFailed(w http.ResponseWriter, err error) {
	if !errors.Is(err, api.ErrUndecided) {
		h.log.Warn("corebanq read", "err", err)
	}
	unavailable(w)
}

// lastActivity is the time of the ledger's newest entry, nil when none.
func (h *Handler) lastActivity(r *http.Request, account string) (*string, error) {
	page, err := h.l.Entries(r.Context(), account, "", "", 1)
	if err != nil || len(page.Data) == 0 {
		return nil, err
	}
	at := timestamp(page.Data[0].PostedAt)
	return &at, nil
}

// current reads a ledger the caller may see with its balance in minor
// units and its last activity, for GET /v1/ledgers/{id} and its balance;
// it has answered the request when ok is false.
func (h *Handler) current(w http.ResponseWriter, r *http.Request) (id string, v projections.AccountView, balance json.Number, last *string, ok bool) {
	id, v, ok = h.readable(w, r)
	if !ok {
		return
	}
	if balance, ok = toMinor(v.Balance, scaleOf(v)); !ok {
		h.readFailed(w, errors.New("balance "+v.Balance+" is not at its own scale"))
		return
	}
	last, err := h.lastActivity(r, v.ID)
	if err != nil {
		h.readFailed(w, err)
		return id, v, balance, nil, false
	}
	return id, v, balance, last, true
}

// ledger is GET /v1/ledgers/{id}.
func (h *Handler) ledger(w http.ResponseWriter, r *http.Request) {
	id, v, balance, last, ok := h.current(w, r)
	if !ok {
		return
	}
	out := LedgerView{ID: id, CurrencyCode: v.Asset, BalanceCurrent: balance, BalanceAvailable: balance,
		LastActivityDate: last, OpeningDate: timestamp(v.CreatedAt), CreatedAt: timestamp(v.CreatedAt)}
	if v.OverdraftLimit == domain.Unlimited {
		out.OverdraftEnabled = true
	} else if limit, ok := toMinor(v.OverdraftLimit, scaleOf(v)); ok {
		out.OverdraftEnabled = limit != "0"
		out.OverdraftLimit = &limit
	}
	writeJSON(w, http.StatusOK, out)
}

// balance is GET /v1/ledgers/{id}/balance.
func (h *Handler) balance(w http.ResponseWriter, r *http.Request) {
	id, v, balance, last, ok := h.current(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, BalanceView{LedgerID: id, BalanceCurrent: balance, BalanceAvailable: balance,
		CurrencyCode: v.Asset, LastActivityDate: last})
}

// entries is GET /v1/ledgers/{id}/entries?limit=&cursor=: the ledger's
// entries, newest first, each with the balance after it.
func (h *Handler) entries(w http.ResponseWriter, r *http.Request) {
	_, v, ok := h.readable(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	for _, name := range []string{"limit", "cursor"} {
		// Taking the first of several values would answer a question
		// the client did not ask, as the native API refuses too.
		if n := len(q[name]); n > 1 {
			writeError(w, http.StatusBadRequest, codeInvalid, name+" is given "+strconv.Itoa(n)+" times; give it once")
			return
		}
	}
	limit := defaultPageLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageLimit {
			writeError(w, http.StatusBadRequest, codeInvalid, "limit must be an integer from 1 to "+strconv.Itoa(maxPageLimit))
			return
		}
		limit = n
	}
	// The account's posted transfers are its entries, one each (a
	// transfer never has the same account on both sides), and carry the
	// description and metadata an entry shows.
	page, err := h.l.Transfers(r.Context(), projections.TransferFilter{Account: v.ID, Limit: limit, Cursor: q.Get("cursor")})
	switch {
	case errors.Is(err, projections.ErrBadCursor):
		writeError(w, http.StatusBadRequest, codeInvalid, "cursor is not one this API returned")
		return
	case err != nil:
		h.readFailed(w, err)
		return
	}
	scale := scaleOf(v)
	out := EntriesPage{Data: make([]Entry, 0, len(page.Data)), HasMore: page.NextCursor != nil, NextCursor: page.NextCursor}
	for _, t := range page.Data {
		post, ok := postingOfView(t)
		side := 0
		if t.To == v.ID {
			side = 1
		}
		var e Entry
		if ok {
			e, ok = post.entry(side, scale)
		}
		if !ok {
			h.readFailed(w, errors.New("transfer "+t.ID+" cannot be shown as an entry"))
			return
		}
		out.Data = append(out.Data, e)
	}
	writeJSON(w, http.StatusOK, out)
}
