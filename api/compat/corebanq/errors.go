package corebanq

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// CoreBanq's error codes, "<area>.<reason>", each with one HTTP status
// (docs/compat/corebanq.md lists them).
const (
	codeUnauthorized      = "auth.unauthorized"          // 401
	codeForbidden         = "auth.forbidden"             // 403
	codeRateLimited       = "request.rate_limited"       // 429: the token's budget, shared with the native API
	codeLedgerNotFound    = "ledger.not_found"           // 404
	codeInsufficientFunds = "ledger.insufficient_funds"  // 422
	codeCurrencyMismatch  = "ledger.currency_mismatch"   // 422
	codeBalanceOverflow   = "ledger.balance_overflow"    // 422
	codeConflict          = "transfer.conflict"          // 409
	codeRejected          = "transfer.rejected"          // 422, any other refusal
	codeInvalid           = "request.invalid"            // 400
	codeTooLarge          = "request.too_large"          // 413
	codeRouteNotFound     = "request.not_found"          // 404, unknown path
	codeMethodNotAllowed  = "request.method_not_allowed" // 405
	codeUnavailable       = "service.unavailable"        // 503
)

// apiError is CoreBanq's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	if status == http.StatusServiceUnavailable {
		// Nothing moved, or it was stored and will be decided: a retry
		// with the same transaction_id is safe either way.
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, apiError{Code: code, Message: message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // an API answer, never embedded in HTML
	_ = enc.Encode(v)
}

func unavailable(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, codeUnavailable,
		"the ledger could not answer in time; retrying with the same transaction_id is safe")
}

// insufficientDetail is the processor's insufficient_funds detail
// (domain.InsufficientFundsError): both figures at the asset's scale.
var insufficientDetail = regexp.MustCompile(`^insufficient balance: balance was (-?[0-9.]+) (\S+), at least (-?[0-9.]+) \S+ is required$`)

// rejection translates a processor's refusal of a transfer from source
// to destination (ledger UUIDs) into CoreBanq's status, code and message.
func rejection(r commands.Result, source, destination string, scale int) (int, string, string) {
	switch r.Code {
	case domain.CodeInsufficientFunds:
		if m := insufficientDetail.FindStringSubmatch(r.Detail); m != nil {
			balance, ok1 := toMinor(m[1], scale)
			needed, ok2 := toMinor(m[3], scale)
			if ok1 && ok2 {
				return http.StatusUnprocessableEntity, codeInsufficientFunds, fmt.Sprintf(
					"insufficient funds in ledger %s: balance was %s, at least %s is required (minor units of %s)",
					source, balance, needed, m[2])
			}
		}
		return http.StatusUnprocessableEntity, codeInsufficientFunds, r.Detail
	case domain.CodeAssetMismatch:
		return http.StatusUnprocessableEntity, codeCurrencyMismatch,
			"ledgers " + source + " and " + destination + " are in different currencies: " + r.Detail
	case domain.CodeAccountNotFound:
		// The source was read before the transfer was submitted.
		return http.StatusNotFound, codeLedgerNotFound, "destination ledger " + destination + " not found"
	case domain.CodeForbidden:
		return http.StatusForbidden, codeForbidden, "this token may not debit ledger " + source + ": " + r.Detail
	case domain.CodeIdempotencyConflict:
		return http.StatusConflict, codeConflict,
			"transaction_id was already used for a different transfer from ledger " + source + ": " + r.Detail
	case domain.CodeSameAccount:
		return http.StatusBadRequest, codeInvalid, "destination_ledger_id must differ from the source ledger"
	case domain.CodeValidationFailed, domain.CodeInvalidAmount:
		// The native transfer's reference is CoreBanq's description.
		if rest, ok := strings.CutPrefix(r.Detail, "reference:"); ok {
			return http.StatusBadRequest, codeInvalid, "description:" + rest
		}
		return http.StatusBadRequest, codeInvalid, r.Detail
	case domain.CodeBalanceOverflow:
		return http.StatusUnprocessableEntity, codeBalanceOverflow, r.Detail
	}
	return http.StatusUnprocessableEntity, codeRejected, string(r.Code) + ": " + r.Detail
}
