package allmine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/nats-ledger/ledger/domain"
)

// maxBodyBytes bounds a request body. A credit transfer is two short
// fields (under 200 bytes); 16 KiB leaves room for clients that send
// extra fields and keeps a hostile body from costing memory or time.
const maxBodyBytes = 16 << 10

// creditTransfer is a request as the client gave it: the recipient's
// user id and the amount's exact JSON number text.
type creditTransfer struct {
	recipientID string
	amount      string // a plain decimal literal, checked by readAmount
}

// readRequest reads and checks the body: one JSON object whose
// recipientId is a string and whose amount is a JSON number. Keys match
// exactly (encoding/json would also take "AMOUNT"); a key given twice is
// refused (which one would count is a guess); other keys are ignored, as
// the original's clients may send more than these two.
func readRequest(w http.ResponseWriter, r *http.Request) (creditTransfer, *apiError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return creditTransfer{}, errValidation("Content-Type must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return creditTransfer{}, &apiError{status: http.StatusRequestEntityTooLarge,
				detail: fmt.Sprintf("the request body exceeds %d bytes", maxBodyBytes)}
		}
		return creditTransfer{}, errValidation("the request body could not be read")
	}
	fields, apiErr := topLevelFields(body)
	if apiErr != nil {
		return creditTransfer{}, apiErr
	}
	var req creditTransfer
	raw, ok := fields["recipientId"]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return creditTransfer{}, errValidation("recipientId is required")
	}
	if raw[0] != '"' || json.Unmarshal(raw, &req.recipientID) != nil {
		return creditTransfer{}, errValidation("recipientId must be a string")
	}
	raw, ok = fields["amount"]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return creditTransfer{}, errValidation("amount is required")
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return creditTransfer{}, errValidation("amount must be a number")
	}
	req.amount = string(raw)
	return req, nil
}

// maxFields bounds the keys of the body object that are looked at.
const maxFields = 64

// topLevelFields splits a JSON object into its keys and raw values,
// refusing anything but exactly one object and duplicate keys. Numbers
// stay as their text: an amount is never read through a float.
func topLevelFields(body []byte) (map[string]json.RawMessage, *apiError) {
	malformed := func(why string) (map[string]json.RawMessage, *apiError) {
		return nil, errValidation("malformed JSON body: " + why)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return malformed("empty body")
	}
	if d, ok := tok.(json.Delim); err != nil || !ok || d != '{' {
		return malformed("the body must be a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return malformed(err.Error())
		}
		key, _ := tok.(string) // an object's key is always a string token
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return malformed(err.Error())
		}
		if _, dup := fields[key]; dup {
			return malformed(fmt.Sprintf("key %q is given twice", truncate(key, maxEchoedKeyBytes)))
		}
		if len(fields) == maxFields {
			return malformed(fmt.Sprintf("more than %d keys", maxFields))
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return malformed(err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("data after the object")
	}
	return fields, nil
}

// maxEchoedKeyBytes bounds how much of a key an error repeats.
const maxEchoedKeyBytes = 64

// readAmount checks that text, a JSON number, is a positive amount with
// at most scale decimal places, exactly: no sign, exponent or leading
// zero, never rounded. The processor checks it again; checking it here
// means a malformed amount opens no account and writes nothing.
func readAmount(text string, scale int) *apiError {
	a, err := domain.ParseAmount(text, scale)
	shown := truncate(text, maxEchoedAmountBytes)
	var se *domain.AmountScaleError
	var syn *domain.AmountSyntaxError
	switch {
	case errors.As(err, &se):
		return errValidation(fmt.Sprintf("amount %s has %d decimal places; at most %d are allowed, and an amount is never rounded", shown, se.Places, scale))
	case errors.As(err, &syn):
		return errValidation(fmt.Sprintf("amount %s: %s; it must be a positive number with at most %d decimal places, without exponent", shown, syn.Reason, scale))
	case err != nil:
		return errValidation(fmt.Sprintf("amount %s: %v", shown, err))
	case a.IsZero():
		return errValidation("amount must be greater than zero")
	}
	return nil
}

// maxEchoedAmountBytes bounds how much of an amount an error repeats.
const maxEchoedAmountBytes = 48
