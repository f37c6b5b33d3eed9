package testbank

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/nats-ledger/ledger/projections"
)

// Paging limits.
const (
	defaultPageLimit = 20  // Testbank's default page[limit]
	maxPageLimit     = 100 // Testbank's maximum; more is a validation error
	// maxListed bounds the transactions a listing reads: page numbers and
	// a last page need a count, which the read model's cursor listing
	// does not keep, so a listing counts at most this many (the newest)
	// and pages through them (docs/compat/testbank.md).
	maxListed = 10_000
	// fetchLimit is the read model's page size while merging.
	fetchLimit = 100
)

// listQuery is GET /transactions's parameters, checked.
type listQuery struct {
	account, sender, recipient, reference string
	page, limit                           int
}

func parseListQuery(q url.Values) (listQuery, *Error) {
	lq := listQuery{account: q.Get("filter[account]"), sender: q.Get("filter[sender]"),
		recipient: q.Get("filter[recipient]"), reference: q.Get("filter[reference]"), page: 1, limit: defaultPageLimit}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"page[page]", &lq.page, maxListed}, {"page[limit]", &lq.limit, maxPageLimit}} {
		raw, ok := q[p.name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(raw[0])
		if err != nil || n < 1 || n > p.max {
			return lq, invalidParam(p.name, fmt.Sprintf("%s must be a whole number from 1 to %d.", p.name, p.max))
		}
		*p.dst = n
	}
	return lq, nil
}

// nativeFilter is a filter's account as the read model names it.
func nativeFilter(id string) string {
	if id == "" {
		return ""
	}
	if id == Root {
		return "world"
	}
	return nativeAccount(id)
}

// listTransactions is GET /transactions: the transactions touching the
// caller's accounts, filtered, newest first, a page of them with links
// to the first, previous, next and last pages.
func (h *handler) listTransactions(w http.ResponseWriter, r *http.Request, u User) {
	lq, e := parseListQuery(r.URL.Query())
	if e != nil {
		writeError(w, e)
		return
	}
	all, e := h.visible(r.Context(), u, lq)
	if e != nil {
		writeError(w, e)
		return
	}
	out := make([]resource, 0, lq.limit)
	for i := (lq.page - 1) * lq.limit; i < len(all) && len(out) < lq.limit; i++ {
		out = append(out, resourceOf(viewOfTransfer(all[i])))
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "meta": pageLinks(r.URL, lq, len(all))})
}

// pageLinks are Testbank's pagination URLs: first and last null when
// there is at most one page, prev null on the first page, next null on
// the last (and past it).
func pageLinks(u *url.URL, lq listQuery, total int) map[string]any {
	pages := (total + lq.limit - 1) / lq.limit
	link := func(p int) any {
		q := u.Query()
		q.Set("page[page]", strconv.Itoa(p))
		q.Set("page[limit]", strconv.Itoa(lq.limit))
		return u.Path + "?" + q.Encode()
	}
	m := map[string]any{"first": nil, "prev": nil, "next": nil, "last": nil}
	if pages > 1 {
		m["first"], m["last"] = link(1), link(pages)
	}
	if lq.page > 1 && pages > 0 {
		m["prev"] = link(min(lq.page-1, pages))
	}
	if lq.page < pages {
		m["next"] = link(lq.page + 1)
	}
	return m
}

// visible returns the transactions matching lq that touch one of u's
// accounts, newest first, at most maxListed: one read model listing per
// account of u's (at most MaxAccountsPerUser), merged by sequence.
func (h *handler) visible(ctx context.Context, u User, lq listQuery) ([]projections.TransferView, *Error) {
	accounts, err := h.store.Accounts(ctx, u.ID)
	if err != nil {
		h.log.Warn("testbank accounts", "err", err)
		return nil, errUnavailable
	}
	account := nativeFilter(lq.account)
	var streams []*stream
	for _, a := range accounts {
		f := projections.TransferFilter{Account: nativeAccount(a.ID), From: nativeFilter(lq.sender),
			To: nativeFilter(lq.recipient), Reference: lq.reference, Limit: fetchLimit}
		streams = append(streams, &stream{l: h.l, f: f})
	}
	seen := map[string]bool{}
	var out []projections.TransferView
	for len(out) < maxListed {
		best := -1
		for i, s := range streams {
			if err := s.fill(ctx); err != nil {
				return nil, h.ledgerError(err)
			}
			if len(s.buf) > 0 && (best < 0 || s.buf[0].Sequence > streams[best].buf[0].Sequence) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		t := streams[best].buf[0]
		streams[best].buf = streams[best].buf[1:]
		if seen[t.ID] || account != "" && t.From != account && t.To != account {
			continue // between two of u's accounts: met once per account
		}
		seen[t.ID] = true
		out = append(out, t)
	}
	return out, nil
}

// stream reads one account's listing page by page.
type stream struct {
	l interface {
		Transfers(context.Context, projections.TransferFilter) (projections.Page[projections.TransferView], error)
	}
	f    projections.TransferFilter
	buf  []projections.TransferView
	done bool
}

// fill reads the next page when the buffer is empty.
func (s *stream) fill(ctx context.Context) error {
	if len(s.buf) > 0 || s.done {
		return nil
	}
	p, err := s.l.Transfers(ctx, s.f)
	if err != nil {
		return err
	}
	s.buf = p.Data
	if p.NextCursor == nil {
		s.done = true
	} else {
		s.f.Cursor = *p.NextCursor
	}
	return nil
}

// readTransaction is GET /transactions/{id}: one that touches one of the
// caller's accounts; any other is RESOURCE_NOT_FOUND.
func (h *handler) readTransaction(w http.ResponseWriter, r *http.Request, u User, id string) {
	if len(id) != idLen {
		writeError(w, errNotFound)
		return
	}
	t, err := h.l.Transfer(r.Context(), transactionPrefix+id)
	switch {
	case errors.Is(err, projections.ErrNotFound):
		writeError(w, errNotFound)
		return
	case err != nil:
		writeError(w, h.ledgerError(err))
		return
	}
	if t.Status != projections.StatusPosted || !h.touches(r.Context(), u, t) {
		writeError(w, errNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": resourceOf(viewOfTransfer(t))})
}

// touches reports whether t moves money of one of u's accounts.
func (h *handler) touches(ctx context.Context, u User, t projections.TransferView) bool {
	for _, native := range []string{t.From, t.To} {
		id := testbankAccountID(native)
		if id == native || id == Root {
			continue
		}
		if a, e := h.lookup(ctx, id); e == nil && a != nil && a.Owner == u.ID {
			return true
		}
	}
	return false
}
