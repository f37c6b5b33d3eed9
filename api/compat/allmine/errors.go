package allmine

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// envelope is Allmine's error shape, as the seed shows it.
type envelope struct {
	IsSuccess  bool     `json:"isSuccess"`
	StatusCode int      `json:"statusCode"`
	Data       any      `json:"data"` // always null in an error
	Errors     []string `json:"errors"`
	Timestamp  string   `json:"timestamp"`
}

// messages are the seed's first error message per status; clients that
// match on errors[0] keep working. The statuses the seed does not show
// (405, 413, 503) get a message in the same style.
var messages = map[int]string{
	http.StatusBadRequest:            "Validation failed",
	http.StatusUnauthorized:          "Authentication required",
	http.StatusForbidden:             "Insufficient permissions",
	http.StatusNotFound:              "Resource not found",
	http.StatusMethodNotAllowed:      "Method not allowed",
	http.StatusConflict:              "Resource already exists or cannot be changed in its current state",
	http.StatusRequestEntityTooLarge: "Payload too large",
	http.StatusTooManyRequests:       "Too many requests",
	http.StatusServiceUnavailable:    "Service unavailable",
}

// apiError is an answer in the envelope: the status (whose seed message
// is errors[0]) and what exactly is wrong (errors[1]), when known.
type apiError struct {
	status     int
	detail     string
	retryAfter int // seconds, for a 429
}

func (e *apiError) Error() string { return messages[e.status] + ": " + e.detail }

func errValidation(detail string) *apiError {
	return &apiError{status: http.StatusBadRequest, detail: detail}
}

func errNotFound(detail string) *apiError {
	return &apiError{status: http.StatusNotFound, detail: detail}
}

// errUnavailable: the ledger did not take or did not decide the request in
// time; nothing is known to have moved.
var errUnavailable = &apiError{status: http.StatusServiceUnavailable,
	detail: "the ledger could not answer in time; retry (with the same Idempotency-Key, to be safe)"}

// timestampLayout is ISO 8601 in UTC with milliseconds, as the seed shows.
const timestampLayout = "2006-01-02T15:04:05.000Z"

func writeError(w http.ResponseWriter, e *apiError) {
	errs := []string{messages[e.status]}
	if e.detail != "" {
		errs = append(errs, e.detail)
	}
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="allmine"`)
	}
	if e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.status, envelope{StatusCode: e.status, Errors: errs, Timestamp: time.Now().UTC().Format(timestampLayout)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// An API answer, not HTML: "<token>" stays readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only our own types are encoded
		panic("allmine: encode response: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fromRejection translates the processor's refusal of a credit transfer.
// A self-transfer is a malformed request (400), as any input check is; a
// conflict is a state that refuses the request whatever its shape: the
// Idempotency-Key used with another body, a recipient account the ledger
// holds in another asset, or an account frozen or closed (ADR 0024).
func fromRejection(code domain.Code, detail string) *apiError {
	status := http.StatusBadRequest
	switch code {
	case domain.CodeForbidden:
		status = http.StatusForbidden
	case domain.CodeAccountNotFound:
		status = http.StatusNotFound
	case domain.CodeIdempotencyConflict, domain.CodeAssetMismatch, domain.CodeBalanceOverflow, domain.CodeAccountConflict,
		domain.CodeAccountFrozen, domain.CodeAccountClosed:
		status = http.StatusConflict
	}
	return &apiError{status: status, detail: detail}
}
