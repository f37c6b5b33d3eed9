package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

type legRequest struct {
	From      *string           `json:"from"`
	To        *string           `json:"to"`
	Amount    amountField       `json:"amount"`
	Asset     string            `json:"asset"`
	Reference string            `json:"reference"`
	Metadata  map[string]string `json:"metadata"`
}

type transactionRequest struct {
	ID        *string           `json:"id"`
	Legs      []legRequest      `json:"legs"`
	Reference string            `json:"reference"`
	Metadata  map[string]string `json:"metadata"`
}

// transaction checks the request's shape and resolves its id as a
// transfer's is: the body's, else the Idempotency-Key header, else a new
// random one.
func (req transactionRequest) transaction(header string) (domain.Transaction, error) {
	tx := domain.Transaction{Reference: req.Reference, Metadata: req.Metadata}
	if len(req.Legs) > domain.MaxLegs {
		return tx, &domain.FieldError{Field: "legs", Reason: "at most 64 legs"}
	}
	for i, l := range req.Legs {
		if l.From == nil || l.To == nil || !l.Amount.set {
			return tx, problem(domain.CodeValidationFailed, "every leg needs from, to and amount (leg "+strconv.Itoa(i)+")")
		}
		tx.Legs = append(tx.Legs, domain.Leg{From: *l.From, To: *l.To, Amount: l.Amount.text, Asset: l.Asset, Reference: l.Reference, Metadata: l.Metadata})
	}
	var err error
	if tx.ID, err = resolveID(req.ID, header); err != nil {
		return tx, err
	}
	return tx, tx.Validate()
}

// createTransaction posts a multi-leg transaction (POST /v1/transactions,
// ADR 0023): all legs or none, one journal event. It waits for the
// processor's decision as a transfer does.
func (s *Server) createTransaction(c echo.Context) error {
	var req transactionRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	tx, err := req.transaction(c.Request().Header.Get(HeaderIdempotencyKey))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/transactions/"+tx.ID)
	return s.submitWrite(c, commands.Item{Actor: principalOf(c).actor(), Transaction: &tx}, writeAnswer{id: tx.ID,
		posted: func(ev *domain.Event) (any, error) {
			if ev == nil || ev.Transaction == nil {
				return nil, problem(CodeInternal, "a posted transaction without its event")
			}
			return projections.PostedTransactionView(ev), nil
		},
		replay: func(ctx context.Context) (any, error) { return s.read.Transaction(ctx, tx.ID) }})
}

// getTransaction answers a transaction (GET /v1/transactions/{id}): an
// admin, or a token that owns an account of any leg, may read it.
func (s *Server) getTransaction(c echo.Context) error {
	id := c.Param("id")
	if err := domain.ValidateID("id", id); err != nil {
		return err
	}
	v, err := s.read.Transaction(c.Request().Context(), id)
	if err != nil {
		return s.readError(err, CodeTransferNotFound)
	}
	for _, l := range v.Legs {
		ok, err := s.involves(c, l.From, l.To, l.Asset)
		if err != nil {
			return err
		}
		if ok {
			return respond(c, http.StatusOK, v)
		}
	}
	return problem(CodeForbidden, "this token may read only transactions of accounts it owns")
}
