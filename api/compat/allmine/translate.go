package allmine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/domain"
)

// creditTransferResponse is the seed's 200 body. Amounts are JSON
// numbers written exactly, without trailing zeros (75, 75.5), as the
// original's JavaScript server writes them.
type creditTransferResponse struct {
	SenderID          string      `json:"senderId"`
	RecipientID       string      `json:"recipientId"`
	TransferredAmount json.Number `json:"transferredAmount"`
	SenderBalance     json.Number `json:"senderBalance"`
	RecipientBalance  json.Number `json:"recipientBalance"`
}

// responseOf is the answer for a posted transfer (or its replay): its
// amount and the two balances right after it.
func responseOf(t domain.Transfer, entries []domain.Entry) (creditTransferResponse, error) {
	if len(entries) != 2 || entries[0].Account != t.From || entries[1].Account != t.To {
		return creditTransferResponse{}, fmt.Errorf("transfer %s: entries %v are not its debit and credit", t.ID, entries)
	}
	sender, _ := compat.UserOf(System, t.From)
	recipient, _ := compat.UserOf(System, t.To)
	return creditTransferResponse{
		SenderID:          sender,
		RecipientID:       recipient,
		TransferredAmount: number(t.Amount),
		SenderBalance:     number(entries[0].Balance),
		RecipientBalance:  number(entries[1].Balance),
	}, nil
}

// number writes a native decimal ("75.00", "-3.10") as the shortest JSON
// number of the same value ("75", "-3.1"): exact, never through a float.
func number(s string) json.Number {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return json.Number(s)
}

// reference marks the native transfers this adapter makes, so an operator
// can list them (GET /v1/transfers?reference=allmine).
const reference = "allmine credit-transfer"

// maxIdempotencyKeyBytes bounds the Idempotency-Key header; the IETF draft's
// keys are UUIDs and similar, far shorter.
const maxIdempotencyKeyBytes = 255

// transferID is the native id of the request: derived from the sender and
// its Idempotency-Key (an extension: the original has no client key), so
// a retry is the native replay; without one, a new random id, since each
// request of the original is a new transfer.
func transferID(r *http.Request, user string) (string, *apiError) {
	keys := r.Header.Values("Idempotency-Key")
	switch {
	case len(keys) > 1:
		return "", errValidation("Idempotency-Key is given more than once")
	case len(keys) == 1 && keys[0] == "":
		return "", errValidation("Idempotency-Key must not be empty")
	case len(keys) == 1 && len(keys[0]) > maxIdempotencyKeyBytes:
		return "", errValidation(fmt.Sprintf("Idempotency-Key must be at most %d bytes", maxIdempotencyKeyBytes))
	case len(keys) == 1:
		return compat.TransferID(System, user, keys[0]), nil
	}
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return System + "-" + hex.EncodeToString(b[:]), nil
}
