package testbank

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

type accountAttributes struct {
	Name       string `json:"name"`
	Visibility string `json:"visibility"`
}

// createAccount is POST /accounts: attributes name and visibility
// (UNLISTED by default), relationship currency. The native account is
// opened first, then the record kept: a failure between leaves an
// unused native account with nothing in it, never a record without one.
func (h *handler) createAccount(w http.ResponseWriter, r *http.Request, u User, body []byte) {
	doc, e := decodeDocument(body, "accounts")
	if e != nil {
		writeError(w, e)
		return
	}
	a, e := accountOfDocument(doc)
	if e != nil {
		writeError(w, e)
		return
	}
	a.ID, a.Owner, a.CreatedAt = newID(), u.ID, h.now().UTC()
	ctx := r.Context()
	if e := h.open(ctx, a.Currency, nativeAccount(a.ID), ownerOf(u.ID)); e != nil {
		writeError(w, e)
		return
	}
	switch err := h.store.CreateAccount(ctx, a); {
	case errors.Is(err, ErrFull):
		writeError(w, invalid("", fmt.Sprintf("A user has at most %d accounts.", MaxAccountsPerUser)))
		return
	case err != nil:
		h.log.Warn("testbank create account", "err", err)
		writeError(w, errUnavailable)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": h.accountResource(a, "0.00", a.CreatedAt)})
}

// accountOfDocument checks an account document's members.
func accountOfDocument(doc *inbound) (Account, *Error) {
	name, ok, e := doc.stringAttr("name")
	switch {
	case e != nil:
		return Account{}, e
	case !ok || name == "":
		return Account{}, invalid("/data/attributes/name", "name is required.")
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameLen,
		domain.ValidateMetadata(map[string]string{"name": name}) != nil:
		return Account{}, invalid("/data/attributes/name", "name: at most 100 characters of text.")
	}
	vis, ok, e := doc.stringAttr("visibility")
	if e != nil {
		return Account{}, e
	}
	if !ok {
		vis = VisibilityUnlisted
	}
	switch vis {
	case VisibilityPublic, VisibilityUnlisted, VisibilityPrivate:
	default:
		return Account{}, invalid("/data/attributes/visibility", "visibility must be PUBLIC, UNLISTED or PRIVATE.")
	}
	cur, e := doc.relID("currency", "currencies")
	if e != nil {
		return Account{}, e
	}
	if _, ok := currencies[cur]; !ok {
		return Account{}, invalid("/data/relationships/currency/data/id", fmt.Sprintf("currency %q is not one of USD, GBP, EUR.", cur))
	}
	return Account{Name: name, Visibility: vis, Currency: cur}, nil
}

// accountResource is a in Testbank's shape, with its balance (at the
// currency's scale) and the time it last changed.
func (h *handler) accountResource(a Account, balance string, updated time.Time) resource {
	return resource{Type: "accounts", ID: a.ID,
		Attributes:    accountAttributes{Name: a.Name, Visibility: a.Visibility},
		Relationships: map[string]relationship{"currency": rel("currencies", a.Currency)},
		Meta: map[string]any{"balanceTotal": balance, "createdAt": isoTime(a.CreatedAt),
			"updatedAt": isoTime(updated)}}
}

// listAccounts is GET /accounts: the caller's accounts, oldest first.
func (h *handler) listAccounts(w http.ResponseWriter, r *http.Request, u User) {
	as, err := h.store.Accounts(r.Context(), u.ID)
	if err != nil {
		h.log.Warn("testbank accounts", "err", err)
		writeError(w, errUnavailable)
		return
	}
	out := make([]resource, 0, len(as))
	for _, a := range as {
		res, e := h.accountWithBalance(r.Context(), a)
		if e != nil {
			writeError(w, e)
			return
		}
		out = append(out, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

// readAccount is GET /accounts/{id}: one of the caller's accounts;
// anyone else's is RESOURCE_NOT_FOUND (its balance is its owner's).
func (h *handler) readAccount(w http.ResponseWriter, r *http.Request, u User, id string) {
	a, err := h.store.Account(r.Context(), id)
	switch {
	case errors.Is(err, ErrNotFound) || err == nil && a.Owner != u.ID:
		writeError(w, errNotFound)
		return
	case err != nil:
		h.log.Warn("testbank account", "err", err)
		writeError(w, errUnavailable)
		return
	}
	res, e := h.accountWithBalance(r.Context(), a)
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": res})
}

// accountWithBalance reads a's balance and last change from the ledger.
func (h *handler) accountWithBalance(ctx context.Context, a Account) (resource, *Error) {
	balance, updated := zeroOf(a.Currency), a.CreatedAt
	v, err := h.l.Account(ctx, nativeAccount(a.ID), a.Currency)
	switch {
	case errors.Is(err, projections.ErrNotFound):
	case err != nil:
		return resource{}, h.ledgerError(err)
	default:
		balance = v.Balance
		page, err := h.l.Entries(ctx, nativeAccount(a.ID), a.Currency, "", 1)
		if err != nil {
			return resource{}, h.ledgerError(err)
		}
		if len(page.Data) > 0 {
			updated = page.Data[0].PostedAt
		}
	}
	return h.accountResource(a, balance, updated), nil
}

func zeroOf(code string) string {
	return domain.Amount{}.Format(currencies[code].Scale)
}

// open opens native accounts (ids and owners in pairs) in a currency's
// asset, defining it on first use.
func (h *handler) open(ctx context.Context, cur string, idOwner ...string) *Error {
	err := h.openers.For(assetOf(cur)).Open(ctx, idOwner...)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, compat.ErrConflict):
		h.log.Warn("testbank accounts", "err", err)
		return invalid("/data/relationships/currency", fmt.Sprintf("The native asset %s is not usable for Testbank: %v.", cur, err))
	}
	return h.ledgerError(err)
}
