package mercury

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// The original's validation messages, word for word (seed 003).
const (
	msgNoAmount    = "transaction must have an amount or returns"
	msgNoSender    = "transaction must have a sender"
	msgNoRecipient = "transaction must have a recipient"
	msgNoNote      = "transaction must have a note"
)

// fail answers as the original did: the status and the message as
// text/plain (http.Error), never problem+json.
func fail(w http.ResponseWriter, status int, msg string) {
	http.Error(w, msg, status)
}

// unavailable answers 503 for a write the ledger did not answer: err is
// api.ErrUnavailable (not stored) or api.ErrUndecided (maybe stored).
// Mercury has no client key, so after "maybe" the client must look
// before it sends again.
func unavailable(w http.ResponseWriter, err error, from string) {
	if errors.Is(err, api.ErrUnavailable) {
		fail(w, http.StatusServiceUnavailable, "the ledger is unavailable: the transaction was not recorded; retry later")
		return
	}
	fail(w, http.StatusServiceUnavailable, fmt.Sprintf("the ledger did not answer in time: the transaction may have been recorded; "+
		"check /transactions/%s before sending it again", from))
}

// insufficientDetail is the native insufficient_funds detail
// (domain.InsufficientFundsError.Error): both figures are formatted at the
// asset's scale, followed by the asset code.
var insufficientDetail = regexp.MustCompile(`^insufficient balance: balance was (-?[0-9]+(?:\.[0-9]+)?) \S+, at least (-?[0-9]+(?:\.[0-9]+)?) \S+ is required$`)

// rejection is the original's message for a native rejection.
func rejection(r commands.Result) string {
	switch r.Code {
	case domain.CodeInsufficientFunds:
		// The original says "unit" where the native detail names the
		// asset; the figures are the processor's, at six decimals with
		// the default scale.
		if m := insufficientDetail.FindStringSubmatch(r.Detail); m != nil {
			return fmt.Sprintf("insufficient balance: balance was %s unit, at least %s unit is required", m[1], m[2])
		}
		return r.Detail
	case domain.CodeForbidden:
		return "transaction not allowed: " + r.Detail
	}
	return r.Detail
}
