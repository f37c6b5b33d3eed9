package mercury

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// maxBodyBytes bounds a /transact body. The real client's is a few
// hundred bytes (two user ids, an amount, a note, a link, a short
// Returns); 64 KiB leaves room for any note the ledger keeps (512
// characters) and refuses a body meant to exhaust memory.
const maxBodyBytes = 64 << 10

// maxIDDraws bounds the fresh ids drawn for one transaction when the
// processor reports the id as taken (it never is, in practice).
const maxIDDraws = 3

// sentTx is the original's request. Keys match case-insensitively and
// unknown ones (the real client's Link) are ignored, as encoding/json
// does; Content-Type is not looked at.
type sentTx struct {
	From, To string
	Amount   uint64
	Note     string
	Returns  json.RawMessage
}

// transact is POST /transact: 200 with an empty body when the transfer
// posted, 400 text with the original's message when it did not.
func (a *Adapter) transact(w http.ResponseWriter, r *http.Request) {
	var tx sentTx
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBodyBytes)).Decode(&tx); err != nil {
		fail(w, http.StatusBadRequest, decodeMessage(err))
		return
	}
	kept, nonEmpty, ok := returns(tx.Returns)
	// The original's order: amount, sender, recipient, itself, note.
	switch {
	case !ok:
		fail(w, http.StatusBadRequest, "transaction returns must be an object of asset ids to quantities")
		return
	case tx.Amount == 0 && !nonEmpty:
		fail(w, http.StatusBadRequest, msgNoAmount)
		return
	case tx.From == "":
		fail(w, http.StatusBadRequest, msgNoSender)
		return
	case tx.To == "":
		fail(w, http.StatusBadRequest, msgNoRecipient)
		return
	case tx.From == tx.To:
		fail(w, http.StatusBadRequest, fmt.Sprintf("circular transaction: %s -> %s", tx.From, tx.To))
		return
	case tx.Note == "":
		fail(w, http.StatusBadRequest, msgNoNote)
		return
	case len(kept) > maxReturnsBytes:
		fail(w, http.StatusBadRequest, fmt.Sprintf("transaction returns must be at most %d bytes of JSON", maxReturnsBytes))
		return
	}
	from, err := compat.AccountID("From", System, tx.From)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	to, err := compat.AccountID("To", System, tx.To)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	t := domain.Transfer{From: from, To: to, Amount: nativeAmount(tx.Amount, a.asset.Scale), Asset: a.asset.Code, Reference: tx.Note}
	if nonEmpty {
		t.Metadata = map[string]string{returnsKey: kept}
	}
	// Items that change hands for nothing (Amount 0, Returns named) are
	// a native memo: journaled with the Returns, moving no money.
	t.Memo = tx.Amount == 0
	if msg := shapeMessage(t); msg != "" {
		fail(w, http.StatusBadRequest, msg)
		return
	}
	if secs, ok := a.l.Allow(api.Principal{Subject: from}); !ok {
		// The sender's budget in the native rate limit (--rate-limit):
		// Mercury has no tokens, so its users are the principals.
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		fail(w, http.StatusTooManyRequests, "too many transactions from "+tx.From+"; retry after "+strconv.Itoa(secs)+"s")
		return
	}
	if err := a.open.Open(r.Context(), from, from, to, to); err != nil {
		if errors.Is(err, compat.ErrConflict) {
			fail(w, http.StatusBadRequest, "transaction cannot use this user's account: "+err.Error())
			return
		}
		unavailable(w, err, tx.From)
		return
	}
	a.post(w, r, t, tx.From)
}

// post submits t as its sender under a fresh id and answers its outcome.
func (a *Adapter) post(w http.ResponseWriter, r *http.Request, t domain.Transfer, sender string) {
	actor := &domain.Actor{Subject: t.From}
	for range maxIDDraws {
		t.ID = transferID(newID())
		rs, err := a.l.Submit(r.Context(), []commands.Item{{Actor: actor, Transfer: &t, SameAsset: true}})
		if err != nil || len(rs) != 1 {
			unavailable(w, err, sender)
			return
		}
		switch res := rs[0]; {
		case res.Outcome == commands.OutcomePosted, res.Outcome == commands.OutcomeReplayed:
			return // 200, no body, as the original
		case res.Code == domain.CodeIdempotencyConflict:
			continue // the id was taken: draw another
		default:
			fail(w, http.StatusBadRequest, rejection(res))
			return
		}
	}
	fail(w, http.StatusServiceUnavailable, "could not draw a free transaction id; retry")
}

// decodeMessage is the message for a body that is not a transaction.
// The original answered encoding/json's own error; so does this, but for
// an empty or oversized body, which get a plainer sentence.
func decodeMessage(err error) string {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Sprintf("request body too large: at most %d bytes", maxBodyBytes)
	case errors.Is(err, io.EOF):
		return "request body must be a JSON transaction"
	}
	return err.Error()
}

// shapeMessage checks what the native ledger keeps of a transfer before
// it is submitted, so that a note or Returns it cannot keep gets a
// Mercury message, not a native one. The id is drawn later (a
// well-formed one stands in).
func shapeMessage(t domain.Transfer) string {
	t.ID = transferID(newID())
	err := t.Validate()
	var fe *domain.FieldError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe) && fe.Field == "reference":
		return fmt.Sprintf("transaction note %s (at most %d characters, no control characters)", fe.Reason, domain.MaxReferenceLen)
	case errors.As(err, &fe) && fe.Field == "metadata."+returnsKey:
		return "transaction returns " + fe.Reason
	}
	return err.Error()
}
