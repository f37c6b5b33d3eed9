package mixin

import (
	"encoding/json"
	"net/http"
)

// Mixin's error codes this adapter answers with (docs/compat/mixin.md).
// Business errors travel with HTTP 202, as Mixin sends them; 401, 429 and
// 503 are also the HTTP status, so that a client that only looks at the
// status learns it too.
const (
	CodeBadRequest          = 400   // the body is not JSON, or not an object
	CodeUnauthorized        = 401   // no, an expired, a tampered or a replayed token
	CodeForbidden           = 403   // the token's scope does not allow the route
	CodeNotFound            = 404   // no such endpoint, snapshot, trace or asset
	CodeTooManyRequests     = 429   // the user is locked after wrong PINs
	CodeUnavailable         = 503   // the ledger could not answer in time: retry
	CodeInvalidField        = 10002 // a field is missing or malformed
	CodeInsufficientBalance = 20117
	CodePinFormat           = 20118 // the encrypted PIN cannot be decrypted
	CodePinIncorrect        = 20119 // wrong PIN, or an iterator already used
	CodeAmountTooSmall      = 20120 // zero or negative amount
	CodeTraceConflict       = 20125 // trace_id already used with another body
)

// Error is Mixin's error: {"error":{"status":..,"code":..,"description":..}}.
type Error struct {
	Status      int    `json:"status"`
	Code        int    `json:"code"`
	Description string `json:"description"`
}

func (e *Error) Error() string { return e.Description }

// newError returns a business error (HTTP 202), or for 401, 429 and 503
// an error whose HTTP status is its code.
func newError(code int, description string) *Error {
	status := http.StatusAccepted
	switch code {
	case CodeUnauthorized, CodeTooManyRequests, CodeUnavailable:
		status = code
	}
	return &Error{Status: status, Code: code, Description: description}
}

func invalidField(description string) *Error { return newError(CodeInvalidField, description) }

var (
	errUnauthorized = newError(CodeUnauthorized, "Unauthorized, maybe invalid token.")
	errNotFound     = newError(CodeNotFound, "The endpoint is not found.")
	errUnavailable  = newError(CodeUnavailable,
		"The ledger is unavailable or did not decide in time; nothing is known to have moved: retry with the same trace_id.")
	errBadBody = newError(CodeBadRequest, "The request body can't be parsed as valid data.")
)

// writeError sends e in Mixin's envelope.
func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

// writeData sends {"data": v} with 200.
func writeData(w http.ResponseWriter, v any) {
	writeJSON(w, http.StatusOK, map[string]any{"data": v})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
