package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

type accountRequest struct {
	ID             *string           `json:"id"`
	Asset          *string           `json:"asset"`
	OverdraftLimit amountField       `json:"overdraft_limit"`
	Owner          string            `json:"owner"`
	Metadata       map[string]string `json:"metadata"`
}

func (s *Server) createAccount(c echo.Context) error {
	var req accountRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.ID == nil || req.Asset == nil {
		return problem(domain.CodeValidationFailed, "id and asset are required")
	}
	a := domain.Account{ID: *req.ID, Asset: *req.Asset, Owner: req.Owner, Metadata: req.Metadata}
	if p := principalOf(c); !p.Admin() {
		// A user opens accounts for itself; the processor checks it too.
		if a.Owner != "" && a.Owner != p.Subject {
			return problem(CodeForbidden, "this token may open accounts only with itself as owner")
		}
		a.Owner = p.Subject
	}
	if req.OverdraftLimit.set {
		a.OverdraftLimit = req.OverdraftLimit.text
	}
	if err := a.Validate(); err != nil {
		return err
	}
	r, err := s.submitOne(c, commands.Item{Actor: principalOf(c).actor(), Account: &a})
	if errors.Is(err, errNoAnswer) {
		c.Response().Header().Set(echo.HeaderLocation, "/v1/accounts/"+a.ID)
		return respond(c, http.StatusAccepted, map[string]string{"id": a.ID, "status": "pending"})
	}
	if err != nil {
		return err
	}
	location := "/v1/accounts/" + a.ID
	status := http.StatusOK
	switch r.Outcome {
	case commands.OutcomeCreated:
		status = http.StatusCreated
		s.answered(c, r.Seq)
		if err := s.waitRead(c.Request().Context(), r.Seq); err != nil {
			// Opened, but the read model lags: say where it will be.
			c.Response().Header().Set(echo.HeaderLocation, location)
			return respond(c, http.StatusAccepted, map[string]string{"id": a.ID, "status": "created"})
		}
	case commands.OutcomeExisted:
		// Its opening is in the journal, at or before the journal's end
		// now, but maybe not yet in the read model (another server, or an
		// adapter, opened it a moment ago): wait for that, not for 404.
		if s.cfg.JournalSeq != nil {
			_ = s.waitRead(c.Request().Context(), s.cfg.JournalSeq())
		}
	default:
		return resultProblem(r)
	}
	v, err := s.read.Account(c.Request().Context(), a.ID, "")
	if err != nil {
		return s.readError(err, domain.CodeAccountNotFound)
	}
	if !canRead(c, v.Owner) {
		// An identical account of someone else's: the answer may say no more.
		return problem(CodeForbidden, "this account belongs to someone else")
	}
	c.Response().Header().Set(echo.HeaderLocation, location)
	return respond(c, status, v)
}

// defaultReadWait bounds how long a handler waits for the read model to
// apply a sequence the processor has just appended.
const defaultReadWait = 2 * time.Second

func (s *Server) waitRead(ctx context.Context, seq uint64) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadWait)
	defer cancel()
	return s.read.WaitSeq(ctx, seq)
}

func (s *Server) readError(err error, notFound domain.Code) error {
	switch {
	case errors.Is(err, projections.ErrNotFound):
		return problem(notFound, "not found")
	case errors.Is(err, projections.ErrBadCursor):
		return &domain.FieldError{Field: "cursor", Reason: "not a cursor this server issued"}
	case errors.Is(err, projections.ErrBadLimit):
		return &domain.FieldError{Field: "limit", Reason: "must be an integer from 1 to 100"}
	case errors.Is(err, projections.ErrBadAsOf):
		return &domain.FieldError{Field: "as_of", Reason: "must be an RFC 3339 time or a journal sequence"}
	}
	s.log.Error("read model", "err", err)
	return problem(CodeUnavailable, "the read model is unavailable")
}

// accountParams reads the account id path parameter and, for the issuer
// account, the asset query parameter that picks which one.
func accountParams(c echo.Context) (id, asset string, err error) {
	id, asset = c.Param("id"), c.QueryParam("asset")
	if err := domain.ValidateID("id", id); err != nil {
		return "", "", err
	}
	if id == domain.World && asset == "" {
		return "", "", &domain.FieldError{Field: "asset", Reason: "required for the issuer account \"world\", which exists once per asset"}
	}
	if id == domain.FX && asset == "" {
		return "", "", &domain.FieldError{Field: "asset", Reason: "required for the FX account \"fx\", which holds one position per asset"}
	}
	return id, asset, nil
}

// readableAccount reads the account named by the path and checks that the
// request's principal may see it.
func (s *Server) readableAccount(c echo.Context) (projections.AccountView, error) {
	id, asset, err := accountParams(c)
	if err != nil {
		return projections.AccountView{}, err
	}
	v, err := s.read.Account(c.Request().Context(), id, asset)
	if err != nil {
		return v, s.readError(err, domain.CodeAccountNotFound)
	}
	if !canRead(c, v.Owner) {
		return v, problem(CodeForbidden, "this token may read only accounts it owns")
	}
	return v, nil
}

func (s *Server) getAccount(c echo.Context) error {
	v, err := s.readableAccount(c)
	if err != nil {
		return err
	}
	return respond(c, http.StatusOK, v)
}

func (s *Server) listEntries(c echo.Context) error {
	id, asset, err := accountParams(c)
	if err != nil {
		return err
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	if _, err := s.readableAccount(c); err != nil {
		return err
	}
	page, err := s.read.Entries(c.Request().Context(), id, asset, c.QueryParam("cursor"), limit)
	if err != nil {
		return s.readError(err, domain.CodeAccountNotFound)
	}
	return respond(c, http.StatusOK, page)
}

func (s *Server) getBalance(c echo.Context) error {
	id, asset, err := accountParams(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	raw := c.QueryParam("as_of")
	var asOf projections.AsOf
	start := false
	switch seq, err := strconv.ParseUint(raw, 10, 64); {
	case raw == "":
		// Now: filled in below, once the account is known to be readable.
	case err == nil && seq == 0:
		start = true // before the first event: answered below
	case err == nil:
		asOf.Seq = seq
	default:
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return &domain.FieldError{Field: "as_of", Reason: "must be an RFC 3339 time or a journal sequence"}
		}
		asOf.Time = t
	}
	acc, err := s.readableAccount(c)
	if err != nil {
		return err
	}
	if start {
		// Before the first event no account held anything: zero, at the
		// asset's scale (the current balance is written at it).
		return respond(c, http.StatusOK, projections.BalanceView{Account: acc.ID, Asset: acc.Asset,
			Balance: zeroAtScaleOf(acc.Balance), AsOf: projections.AsOfView{Sequence: 0}})
	}
	if raw == "" {
		// Now: the balance as of the read model's latest sequence.
		cp, err := s.read.Checkpoint(ctx)
		if err != nil {
			return s.readError(err, domain.CodeAccountNotFound)
		}
		asOf.Seq = cp.Seq
	}
	v, err := s.read.BalanceAsOf(ctx, id, asset, asOf)
	if err != nil {
		return s.readError(err, domain.CodeAccountNotFound)
	}
	return respond(c, http.StatusOK, v)
}

// zeroAtScaleOf is zero written with as many decimals as balance.
func zeroAtScaleOf(balance string) string {
	if dot := strings.IndexByte(balance, '.'); dot >= 0 {
		return "0." + strings.Repeat("0", len(balance)-dot-1)
	}
	return "0"
}

// Page size bounds for every list.
const (
	pageLimitDefault = 20
	pageLimitMax     = 100
)

func pageLimit(c echo.Context) (int, error) {
	raw := c.QueryParam("limit")
	if raw == "" {
		return pageLimitDefault, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > pageLimitMax {
		return 0, &domain.FieldError{Field: "limit", Reason: "must be an integer from 1 to 100"}
	}
	return n, nil
}

// positionPage is a page of a list kept in the order of a number (a
// stream position or a ledger sequence): next_cursor is the number of
// the page's last item when more follow, null on the last page.
type positionPage[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// positionQuery reads a page request over such a list: the cursor (the
// number after which the page starts; zero for the first page) and the
// page size.
func positionQuery(c echo.Context) (after uint64, limit int, err error) {
	if raw := c.QueryParam("cursor"); raw != "" {
		if after, err = strconv.ParseUint(raw, 10, 64); err != nil {
			return 0, 0, &domain.FieldError{Field: "cursor", Reason: "not a cursor this server issued"}
		}
	}
	limit, err = pageLimit(c)
	return after, limit, err
}

// newPositionPage makes the page of items, given each item's number.
func newPositionPage[T any](items []T, more bool, position func(T) uint64) positionPage[T] {
	page := positionPage[T]{Data: items}
	if page.Data == nil {
		page.Data = []T{}
	}
	if more && len(items) > 0 {
		next := strconv.FormatUint(position(items[len(items)-1]), 10)
		page.NextCursor = &next
	}
	return page
}
