package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
)

// Codes the API adds to the domain's (domain.Codes, all declared in
// domain/errors.go) for transport errors and the webhook port's errors:
// every API-only code is declared here, beside the one table below.
const (
	CodeTransferNotFound                 = domain.CodeTransferNotFound
	CodeNotFound             domain.Code = "not_found"
	CodeMethodNotAllowed     domain.Code = "method_not_allowed"
	CodePayloadTooLarge      domain.Code = "payload_too_large"
	CodeHeadersTooLarge      domain.Code = "headers_too_large"
	CodeUnsupportedMediaType domain.Code = "unsupported_media_type"
	CodeUnavailable          domain.Code = "unavailable"
	CodeNotReady             domain.Code = "not_ready"
	CodeInternal             domain.Code = "internal"
	CodeUnauthorized         domain.Code = "unauthorized"
	CodeRateLimited          domain.Code = "rate_limited"
	// Webhooks.
	CodeWebhookNotFound    domain.Code = "webhook_not_found"
	CodeDeadLetterNotFound domain.Code = "dead_letter_not_found"
	CodeWebhookLimit       domain.Code = "webhook_limit_reached"
	CodeDeliveryFailed     domain.Code = "webhook_delivery_failed"
	// CodeSequenceNotFound is a ledger sequence the journal does not hold
	// (GET /v1/journal/locate).
	CodeSequenceNotFound domain.Code = "sequence_not_found"
	// Checkpoints: none was taken yet.
	CodeCheckpointNotFound domain.Code = "checkpoint_not_found"
	// CodeForbidden is domain.CodeForbidden: the processor refuses a debit
	// of someone else's account with it, and the API its reads.
	CodeForbidden = domain.CodeForbidden
)

// statusOf is the one table that turns a stable code into an HTTP status.
var statusOf = map[domain.Code]int{
	domain.CodeValidationFailed:    http.StatusBadRequest,
	domain.CodeInvalidAmount:       http.StatusBadRequest,
	domain.CodeSameAccount:         http.StatusBadRequest,
	domain.CodeAccountNotFound:     http.StatusNotFound,
	domain.CodeAssetNotFound:       http.StatusNotFound,
	domain.CodeInsufficientFunds:   http.StatusUnprocessableEntity,
	domain.CodeAssetMismatch:       http.StatusUnprocessableEntity,
	domain.CodeBalanceOverflow:     http.StatusUnprocessableEntity,
	domain.CodeBatchAborted:        http.StatusUnprocessableEntity,
	domain.CodeRateNotFound:        http.StatusUnprocessableEntity,
	domain.CodeAccountFrozen:       http.StatusUnprocessableEntity,
	domain.CodeAccountClosed:       http.StatusUnprocessableEntity,
	domain.CodeLimitInUse:          http.StatusConflict,
	domain.CodeAccountNotEmpty:     http.StatusConflict,
	domain.CodeIdempotencyConflict: http.StatusConflict,
	domain.CodeAssetConflict:       http.StatusConflict,
	domain.CodeAccountConflict:     http.StatusConflict,
	CodeTransferNotFound:           http.StatusNotFound,
	CodeNotFound:                   http.StatusNotFound,
	CodeMethodNotAllowed:           http.StatusMethodNotAllowed,
	CodePayloadTooLarge:            http.StatusRequestEntityTooLarge,
	CodeHeadersTooLarge:            http.StatusRequestHeaderFieldsTooLarge,
	CodeUnsupportedMediaType:       http.StatusUnsupportedMediaType,
	CodeUnavailable:                http.StatusServiceUnavailable,
	CodeNotReady:                   http.StatusServiceUnavailable,
	CodeInternal:                   http.StatusInternalServerError,
	CodeUnauthorized:               http.StatusUnauthorized,
	domain.CodeForbidden:           http.StatusForbidden,
	CodeRateLimited:                http.StatusTooManyRequests,
	CodeWebhookNotFound:            http.StatusNotFound,
	CodeDeadLetterNotFound:         http.StatusNotFound,
	CodeWebhookLimit:               http.StatusConflict,
	CodeDeliveryFailed:             http.StatusBadGateway,
	CodeSequenceNotFound:           http.StatusNotFound,
	CodeCheckpointNotFound:         http.StatusNotFound,
	// Two-phase transfers (ADR 0022).
	domain.CodeHoldNotFound:       http.StatusNotFound,
	domain.CodeHoldNotPending:     http.StatusConflict,
	domain.CodeHoldExpired:        http.StatusConflict,
	domain.CodeHoldAmountExceeded: http.StatusUnprocessableEntity,
	domain.CodeHoldsFull:          http.StatusUnprocessableEntity,
	domain.CodePendingConversion:  http.StatusUnprocessableEntity,

	// Reversals (ADR 0023).
	domain.CodeReversalExceedsTransfer: http.StatusUnprocessableEntity,
	domain.CodeTransferNotReversible:   http.StatusUnprocessableEntity,
}

// Codes lists every code the API can answer with.
func Codes() []domain.Code {
	out := make([]domain.Code, 0, len(statusOf))
	for c := range statusOf {
		out = append(out, c)
	}
	return out
}

// problemTypeBase prefixes a code to form the problem's type URI, which
// points at the code's documentation.
const problemTypeBase = "https://github.com/nats-ledger/ledger/blob/main/docs/errors.md#"

// Problem is an RFC 9457 problem details body with a stable code.
type Problem struct {
	Type     string      `json:"type"`
	Title    string      `json:"title"`
	Status   int         `json:"status"`
	Detail   string      `json:"detail,omitempty"`
	Instance string      `json:"instance,omitempty"`
	Code     domain.Code `json:"code"`
	Field    string      `json:"field,omitempty"`
	// RequestID is the answer's X-Request-Id, in every problem answer;
	// a batch item's problem has none (its request's is in the header).
	RequestID string `json:"request_id,omitempty"`
}

// problemError carries a problem through Echo's error path.
type problemError struct{ p Problem }

func (e *problemError) Error() string { return string(e.p.Code) + ": " + e.p.Detail }

func problem(code domain.Code, detail string) *problemError {
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return &problemError{p: Problem{
		Type: problemTypeBase + string(code), Title: http.StatusText(status),
		Status: status, Detail: detail, Code: code,
	}}
}

// problemOf turns any error into a problem: coded domain errors keep their
// code; Echo's own errors get transport codes; anything else is internal
// and its text is not shown to the client.
func problemOf(err error) *problemError {
	var pe *problemError
	if errors.As(err, &pe) {
		return pe
	}
	var fe *domain.FieldError
	if errors.As(err, &fe) {
		p := problem(fe.Code(), fe.Error())
		p.p.Field = fe.Field
		return p
	}
	var ce domain.CodedError
	if errors.As(err, &ce) {
		return problem(ce.Code(), ce.Error())
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return problem(CodeNotFound, "no such route")
		case http.StatusMethodNotAllowed:
			return problem(CodeMethodNotAllowed, "method not allowed on this route")
		case http.StatusRequestEntityTooLarge:
			return problem(CodePayloadTooLarge, "request body exceeds the limit")
		case http.StatusUnsupportedMediaType:
			return problem(CodeUnsupportedMediaType, "send application/json")
		case http.StatusServiceUnavailable:
			return problem(CodeUnavailable, "service unavailable")
		}
		if he.Code >= 400 && he.Code < 500 {
			return problem(domain.CodeValidationFailed, http.StatusText(he.Code))
		}
	}
	return problem(CodeInternal, "internal error")
}

// errorHandler writes every error as application/problem+json.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := problemOf(err).p
	p.Instance = c.Request().URL.Path
	p.RequestID = requestID(c)
	if p.Code == CodeInternal {
		s.log.Error("request failed", "path", p.Instance, "err", err, "request_id", p.RequestID)
	}
	if p.Code == CodeUnavailable {
		c.Response().Header().Set("Retry-After", "1")
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(p.Status)
	if c.Request().Method == http.MethodHead {
		return
	}
	_ = writeJSON(c.Response(), p)
}
