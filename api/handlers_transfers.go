package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// Headers of the transfer endpoints.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderReplayed is "true" on an answer that repeats the outcome of an
	// earlier request with the same id and body.
	HeaderReplayed = "Idempotent-Replayed"
)

type transferRequest struct {
	ID        *string           `json:"id"`
	From      *string           `json:"from"`
	To        *string           `json:"to"`
	Amount    amountField       `json:"amount"`
	Asset     string            `json:"asset"`
	Reference string            `json:"reference"`
	Metadata  map[string]string `json:"metadata"`
	Memo      bool              `json:"memo"`
	// ExchangeRate converts between accounts of different assets (ADR
	// 0019): a string or a number, read exactly like an amount.
	ExchangeRate amountField `json:"exchange_rate"`
	// Pending holds the amount until it is posted or voided (ADR 0022);
	// ExpiresAt (RFC 3339) voids it then.
	Pending   bool   `json:"pending"`
	ExpiresAt string `json:"expires_at"`
}

// transfer checks the request's shape and resolves its id: the body's id,
// else the Idempotency-Key header, else a new random one.
func (req transferRequest) transfer(header string) (domain.Transfer, error) {
	if req.From == nil || req.To == nil || !req.Amount.set {
		return domain.Transfer{}, problem(domain.CodeValidationFailed, "from, to and amount are required")
	}
	t := domain.Transfer{From: *req.From, To: *req.To, Amount: req.Amount.text,
		Asset: req.Asset, Reference: req.Reference, Metadata: req.Metadata, Memo: req.Memo,
		Pending: req.Pending, ExpiresAt: req.ExpiresAt}
	if req.ExchangeRate.set {
		if t.ExchangeRate = req.ExchangeRate.text; t.ExchangeRate == "" {
			return t, &domain.FieldError{Field: "exchange_rate", Reason: "must be a positive decimal string"}
		}
	}
	var err error
	if t.ID, err = resolveID(req.ID, header); err != nil {
		return t, err
	}
	return t, t.Validate()
}

// resolveID is a write's id: the body's id, else the Idempotency-Key
// header, else a new random one; a body id and a header that differ are
// refused.
func resolveID(body *string, header string) (string, error) {
	switch {
	case body != nil && header != "" && *body != header:
		return "", &domain.FieldError{Field: "id", Reason: "differs from the Idempotency-Key header"}
	case body != nil:
		return *body, nil
	case header != "":
		return header, nil
	}
	return newID(), nil
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Server) createTransfer(c echo.Context) error {
	var req transferRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	t, err := req.transfer(c.Request().Header.Get(HeaderIdempotencyKey))
	if err != nil {
		return err
	}
	location := "/v1/transfers/" + t.ID
	// Every answer from here on names the transfer, refusals too: the
	// client learns where its outcome is read whatever it is told now.
	c.Response().Header().Set(echo.HeaderLocation, location)
	async := preferAsync(c.Request().Header.Values("Prefer"))
	if async {
		// A conflict the read model already shows is answered now: an
		// asynchronous answer could not carry the processor's refusal.
		if err := s.knownConflict(c, t); err != nil {
			return err
		}
	}
	release, err := s.admitted(c, 1)
	if err != nil {
		return err
	}
	defer release()
	if async {
		ctx, cancel := contextWithTimeout(c, publishTimeout)
		defer cancel()
		if _, err := s.submit.Submit(ctx, []commands.Item{{Actor: principalOf(c).actor(), Transfer: &t}}, false); err != nil {
			if err := s.submitError(err, "transfer "+t.ID); !errors.Is(err, errNoAnswer) {
				return err
			}
		}
		return s.accepted(c, t, location)
	}
	r, err := s.submitOne(c, commands.Item{Actor: principalOf(c).actor(), Transfer: &t})
	if errors.Is(err, errNoAnswer) {
		return s.accepted(c, t, location)
	}
	if err != nil {
		return err
	}
	switch r.Outcome {
	case commands.OutcomePosted, commands.OutcomeRejected:
		// The answer is the processor's decision; reads that follow it
		// wait for the read model to apply it (consistency.go).
		s.answered(c, r.Seq)
	}
	switch r.Outcome {
	case commands.OutcomePosted:
		return respondTransfer(c, http.StatusCreated, postedView(r.Event))
	case commands.OutcomeReplayed:
		noteSequence(c, r.Seq) // the original's
		if err := s.waitRead(c.Request().Context(), r.Seq); err != nil {
			return s.accepted(c, t, location)
		}
		v, err := s.read.Transfer(c.Request().Context(), t.ID)
		if err != nil {
			return s.readError(err, CodeTransferNotFound)
		}
		c.Response().Header().Set(HeaderReplayed, "true")
		return respond(c, http.StatusOK, asAnswered(v))
	}
	return resultProblem(r)
}

// asAnswered is a posted transfer, read from the read model, as its
// posting answered it: a replay is the original outcome, member for
// member, so what happened to the transfer since (its reversals, what
// remains to reverse) is left to GET /v1/transfers/{id}.
func asAnswered(v projections.TransferView) projections.TransferView {
	v.Reversals, v.Reversible = nil, ""
	return v
}

// accepted answers 202: the transfer is stored and will be decided; its
// outcome is at the Location.
func (s *Server) accepted(c echo.Context, t domain.Transfer, location string) error {
	s.pending.add(t.ID, principalOf(c), domain.FingerprintBody(t))
	c.Response().Header().Set(echo.HeaderLocation, location)
	return respond(c, http.StatusAccepted, map[string]string{"id": t.ID, "status": "pending"})
}

func preferAsync(values []string) bool {
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "respond-async") {
				return true
			}
		}
	}
	return false
}

// transferAnswer is a transfer as a write's answer shows it: the read
// model's view, hash included (the hash of the event at its sequence).
// For a transfer just posted it is built from the processor's reply,
// which carries the event's stored line, hash included; a replay is
// answered from the read model, which keeps each row's hash.
type transferAnswer struct {
	projections.TransferView
}

// postedView is the answer for a transfer the processor just posted or
// converted: the read model's shape, with the event's hash.
func postedView(ev *domain.Event) transferAnswer {
	return transferAnswer{TransferView: projections.PostedView(ev)}
}

func (s *Server) getTransfer(c echo.Context) error {
	id := c.Param("id")
	if err := domain.ValidateID("id", id); err != nil {
		return err
	}
	ctx := c.Request().Context()
	v, err := s.read.Transfer(ctx, id)
	visible, own := s.pending.lookup(id, principalOf(c))
	if errors.Is(err, projections.ErrNotFound) && visible {
		return respond(c, http.StatusOK, map[string]string{"id": id, "status": "pending"})
	}
	if errors.Is(err, projections.ErrNotFound) {
		// Not found means never accepted only once everything stored
		// before this server started is decided and readable.
		reread, rerr := s.restored(ctx)
		if rerr != nil {
			return rerr
		}
		if reread {
			v, err = s.read.Transfer(ctx, id)
		}
	}
	if err != nil {
		return s.readError(err, CodeTransferNotFound)
	}
	if ok, err := s.involves(c, v.From, v.To, v.Asset); err != nil || !ok {
		if err != nil {
			return err
		}
		return problem(CodeForbidden, "this token may read only transfers of accounts it owns")
	}
	if own != nil && v.Status == projections.StatusPosted && !own.Matches(postedBody(v)) {
		// This client's body was not the one posted under the id.
		return conflictProblem(id, v)
	}
	return respond(c, http.StatusOK, v)
}

// involves reports whether the principal may read a transfer between from
// and to: an admin always, anyone else when they own either side.
func (s *Server) involves(c echo.Context, from, to, asset string) (bool, error) {
	if principalOf(c).Admin() {
		return true, nil
	}
	for _, id := range []string{from, to} {
		if id == domain.World || domain.ValidateID("account", id) != nil {
			continue
		}
		v, err := s.read.Account(c.Request().Context(), id, asset)
		if errors.Is(err, projections.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, s.readError(err, CodeTransferNotFound)
		}
		if canRead(c, v.Owner) {
			return true, nil
		}
	}
	return false, nil
}

func (s *Server) listTransfers(c echo.Context) error {
	q := c.QueryParams()
	f := projections.TransferFilter{
		Account: q.Get("account"), From: q.Get("from"), To: q.Get("to"),
		Asset: q.Get("asset"), Reference: q.Get("reference"), Cursor: q.Get("cursor"),
		Status: q.Get("status"),
	}
	switch f.Status {
	case "", projections.StatusPosted, projections.StatusRejected, projections.StatusAll:
	default:
		return &domain.FieldError{Field: "status", Reason: "must be posted, rejected or all"}
	}
	for _, p := range []struct{ name, v string }{{"account", f.Account}, {"from", f.From}, {"to", f.To}} {
		if p.v != "" {
			if err := domain.ValidateID(p.name, p.v); err != nil {
				return err
			}
		}
	}
	if utf8.RuneCountInString(f.Reference) > domain.MaxReferenceLen {
		return &domain.FieldError{Field: "reference", Reason: "too long"}
	}
	var err error
	if f.Since, err = timeParam(q.Get("since"), "since"); err != nil {
		return err
	}
	if f.Until, err = timeParam(q.Get("until"), "until"); err != nil {
		return err
	}
	if f.Limit, err = pageLimit(c); err != nil {
		return err
	}
	if !principalOf(c).Admin() {
		// A user lists the transfers of an account it owns.
		own := f.Account
		if own == "" {
			own = f.From
		}
		if own == "" {
			own = f.To
		}
		if own == "" {
			return problem(CodeForbidden, "this token must filter by an account it owns (account, from or to)")
		}
		v, err := s.read.Account(c.Request().Context(), own, f.Asset)
		if err != nil && !errors.Is(err, projections.ErrNotFound) {
			return s.readError(err, CodeTransferNotFound)
		}
		if err != nil || !canRead(c, v.Owner) {
			return problem(CodeForbidden, "this token may list only transfers of accounts it owns")
		}
	}
	page, err := s.read.Transfers(c.Request().Context(), f)
	if err != nil {
		return s.readError(err, CodeTransferNotFound)
	}
	return respond(c, http.StatusOK, page)
}

func timeParam(raw, field string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, &domain.FieldError{Field: field, Reason: "must be an RFC 3339 time"}
	}
	return t, nil
}
