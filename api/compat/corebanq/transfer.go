package corebanq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// maxBodyBytes bounds a transfer request's body, read whole before it is
// decoded. The largest valid body (30 metadata entries of 64 + 512
// characters and a 512-character description, every character a 12-byte
// JSON escape at worst) is about 215 KB; anything larger is refused
// unread (413) rather than held in memory.
const maxBodyBytes = 256 << 10

// Bounds of the client's fields that become native metadata.
const (
	maxTransactionIDLen = 255 // characters; CoreBanq's are UUIDs (36)
	maxMetadataKeys     = 30  // the native 32, less the adapter's two
	maxAmountDigits     = 19  // an int64: CoreBanq's amounts are 64-bit integers
	maxAmount           = "9223372036854775807"
)

// transferRequest is CoreBanq's body. Fields it does not know are
// ignored, as CoreBanq's clients may send more than the documented five;
// every known field is checked for its type and value.
type transferRequest struct {
	DestinationLedgerID *string           `json:"destination_ledger_id"`
	Amount              json.RawMessage   `json:"amount"`
	TransactionID       *string           `json:"transaction_id"`
	Description         *string           `json:"description"`
	Metadata            map[string]string `json:"metadata"`
}

// transfer is POST /v1/ledgers/{id}/transfer.
func (h *Handler) transfer(w http.ResponseWriter, r *http.Request) {
	p, ok := h.principal(w, r, api.ScopeTransfersWrite)
	if !ok {
		return
	}
	source, ok := ledgerID(w, r)
	if !ok {
		return
	}
	req, status, msg := decodeTransfer(w, r)
	if msg != "" {
		code := codeInvalid
		if status == http.StatusRequestEntityTooLarge {
			code = codeTooLarge
		}
		writeError(w, status, code, msg)
		return
	}
	in, msg := req.check()
	if msg != "" {
		writeError(w, http.StatusBadRequest, codeInvalid, msg)
		return
	}
	src, err := h.currencies.of(r.Context(), accountOf(source))
	switch {
	case errors.Is(err, projections.ErrNotFound):
		writeError(w, http.StatusNotFound, codeLedgerNotFound, "ledger "+source+" not found")
		return
	case err != nil:
		h.readFailed(w, err)
		return
	}
	scale := src.scale
	meta := map[string]string{metaTransactionID: in.transactionID, metaCreatedBy: p.Subject}
	for k, v := range in.metadata {
		meta[k] = v
	}
	t := &domain.Transfer{
		// Keyed by the source ledger and the client's key: a retry is the
		// native replay, and two ledgers' keys never collide.
		ID:   compat.TransferID("cb", source, in.transactionID),
		From: accountOf(source), To: accountOf(in.destination),
		Amount: toNative(in.amount, scale), Asset: src.asset,
		Reference: in.description, Metadata: meta,
	}
	rs, err := h.l.Submit(r.Context(), []commands.Item{{Actor: p.Actor(), Transfer: t, SameAsset: true}})
	if err != nil || len(rs) != 1 {
		if err != nil && !errors.Is(err, api.ErrUnavailable) && !errors.Is(err, api.ErrUndecided) {
			h.log.Info("corebanq transfer not decided", "err", err)
		}
		unavailable(w)
		return
	}
	res := rs[0]
	var post posting
	switch res.Outcome {
	case commands.OutcomePosted:
		post, ok = postingOfEvent(res.Event)
	case commands.OutcomeReplayed:
		post, ok = h.original(r, t.ID, res.Seq)
	case commands.OutcomeRejected:
		status, code, msg := rejection(res, source, in.destination, scale)
		writeError(w, status, code, msg)
		return
	default:
		ok = false
	}
	if !ok {
		unavailable(w)
		return
	}
	out, ok := post.result(scale)
	if !ok {
		h.log.Error("corebanq transfer: amounts not at the asset's scale", "transfer", post.id, "scale", scale)
		unavailable(w)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

// original reads back the transfer a replay answers, once the read model
// has applied it.
func (h *Handler) original(r *http.Request, id string, seq uint64) (posting, bool) {
	if err := h.l.Seen(r.Context(), seq); err != nil {
		return posting{}, false
	}
	v, err := h.l.Transfer(r.Context(), id)
	if err != nil {
		h.log.Info("corebanq replay: original not readable", "transfer", id, "err", err)
		return posting{}, false
	}
	return postingOfView(v)
}

// decodeTransfer reads and decodes the body: one JSON object, within
// maxBodyBytes. It returns a status and a message on failure.
func decodeTransfer(w http.ResponseWriter, r *http.Request) (transferRequest, int, string) {
	var req transferRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxBodyBytes)
		}
		return req, http.StatusBadRequest, "the body could not be read"
	}
	if !utf8.Valid(body) {
		// encoding/json would read invalid bytes as U+FFFD, so that two
		// different keys could become one: refuse them instead.
		return req, http.StatusBadRequest, "the body must be UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return req, http.StatusBadRequest, "the body must be a JSON object"
			}
			return req, http.StatusBadRequest, fmt.Sprintf("%s must be %s, not a JSON %s", typeErr.Field, expected(typeErr.Field), typeErr.Value)
		}
		return req, http.StatusBadRequest, "the body is not valid JSON: " + err.Error()
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, http.StatusBadRequest, "the body must be exactly one JSON object"
	}
	return req, 0, ""
}

// expected names the JSON type a field takes, for a message.
func expected(field string) string {
	if strings.HasPrefix(field, "metadata") {
		return "an object whose values are strings"
	}
	return "a string"
}

// transferInput is a checked request.
type transferInput struct {
	destination, amount, transactionID, description string
	metadata                                        map[string]string
}

// check validates the fields and reports the first problem, naming the
// field. Values the native rules bound (description and metadata text)
// are left to the processor, whose refusal names the field too.
func (req transferRequest) check() (transferInput, string) {
	var in transferInput
	if req.DestinationLedgerID == nil {
		return in, "destination_ledger_id is required"
	}
	dest, ok := parseUUID(*req.DestinationLedgerID)
	if !ok {
		return in, "destination_ledger_id must be a UUID"
	}
	in.destination = dest
	amount, msg := checkAmount(req.Amount)
	if msg != "" {
		return in, msg
	}
	in.amount = amount
	if req.TransactionID == nil || *req.TransactionID == "" {
		return in, "transaction_id is required: it makes retries safe"
	}
	if msg := checkText("transaction_id", *req.TransactionID, maxTransactionIDLen); msg != "" {
		return in, msg
	}
	in.transactionID = *req.TransactionID
	if req.Description != nil {
		in.description = *req.Description
	}
	if len(req.Metadata) > maxMetadataKeys {
		return in, fmt.Sprintf("metadata: at most %d keys", maxMetadataKeys)
	}
	for k := range req.Metadata {
		if strings.HasPrefix(k, metaPrefix) {
			return in, fmt.Sprintf("metadata: keys starting with %q are reserved", metaPrefix)
		}
	}
	in.metadata = req.Metadata
	return in, ""
}

// checkAmount accepts a JSON integer of at least 1 that fits in 64 bits,
// written plainly: no sign, fraction, exponent or quotes. It returns the
// digits.
func checkAmount(raw json.RawMessage) (string, string) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return "", "amount is required"
	}
	const want = "amount must be a positive integer of minor units (at least 1)"
	if s[0] < '1' || s[0] > '9' {
		return "", want
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", want
		}
	}
	if len(s) > maxAmountDigits || len(s) == maxAmountDigits && s > maxAmount {
		return "", "amount must be at most " + maxAmount
	}
	return s, ""
}

// checkText accepts valid UTF-8 of 1 to max characters without control
// characters: what native metadata values accept.
func checkText(field, s string, max int) string {
	if !utf8.ValidString(s) {
		return field + " must be valid UTF-8"
	}
	if utf8.RuneCountInString(s) > max {
		return fmt.Sprintf("%s must be at most %d characters", field, max)
	}
	for _, c := range s {
		if unicode.IsControl(c) || c == 0x2028 || c == 0x2029 {
			return field + " must not contain control characters"
		}
	}
	return ""
}
