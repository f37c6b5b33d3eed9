package testbank

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Testbank's error codes (docs/compat/testbank.md).
const (
	CodeNotAuthenticated = "NOT_AUTHENTICATED"  // 401: no or unknown token
	CodeNotAuthorized    = "NOT_AUTHORIZED"     // 403: the token may not do this
	CodeNotFound         = "RESOURCE_NOT_FOUND" // 404: no such route or resource (or not the caller's to see)
	CodeValidation       = "VALIDATION_ERROR"   // 400: a field is wrong, or the sender's balance is short
	CodeNotAcceptable    = "NOT_ACCEPTABLE"     // 406: Accept excludes JSON
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED" // 405: transactions cannot be changed
	CodeTooManyRequests  = "TOO_MANY_REQUESTS"  // 429: the user's rate-limit budget is spent
	CodeUnavailable      = "SERVICE_UNAVAILABLE"
)

// Error is one JSON:API error object.
type Error struct {
	Status string  `json:"status"`
	Code   string  `json:"code"`
	Title  string  `json:"title"`
	Detail string  `json:"detail"`
	Source *Source `json:"source,omitempty"`

	status int
}

// Source points at the member of the request document (or the query
// parameter) that caused an error.
type Source struct {
	Pointer   string `json:"pointer,omitempty"`
	Parameter string `json:"parameter,omitempty"`
}

func (e *Error) Error() string { return e.Detail }

func newError(status int, code, title, detail string) *Error {
	return &Error{Status: strconv.Itoa(status), Code: code, Title: title, Detail: detail, status: status}
}

// invalid is a 400 VALIDATION_ERROR pointing at a member of the body.
func invalid(pointer, detail string) *Error {
	e := newError(http.StatusBadRequest, CodeValidation, "A validation error occurred", detail)
	if pointer != "" {
		e.Source = &Source{Pointer: pointer}
	}
	return e
}

// invalidParam is a 400 VALIDATION_ERROR naming a query parameter.
func invalidParam(param, detail string) *Error {
	e := newError(http.StatusBadRequest, CodeValidation, "A validation error occurred", detail)
	e.Source = &Source{Parameter: param}
	return e
}

func forbidden(detail string) *Error {
	return newError(http.StatusForbidden, CodeNotAuthorized, "Not authorized", detail)
}

var (
	errNotAuthenticated = newError(http.StatusUnauthorized, CodeNotAuthenticated, "Not authenticated",
		"You are not authenticated to perform this action.")
	errNotFound    = newError(http.StatusNotFound, CodeNotFound, "Resource not found", "Resource not found.")
	errUnavailable = newError(http.StatusServiceUnavailable, CodeUnavailable, "Service unavailable",
		"The ledger is unavailable or did not decide in time; check GET /transactions before retrying.")
	errNotAcceptable = newError(http.StatusNotAcceptable, CodeNotAcceptable, "Not acceptable",
		"This API answers application/vnd.api+json or application/json only.")
	errImmutable = newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "Transactions cannot be changed",
		"You cannot edit or delete a transaction after it is created.")
)

// mediaType is what every answer is sent as.
const mediaType = "application/vnd.api+json"

// writeError sends e as {"errors":[e]}.
func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.status, map[string][]*Error{"errors": {e}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
