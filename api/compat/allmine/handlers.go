package allmine

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// creditTransfer serves POST /api/v1/messages/credit-transfer: checks in
// the original's order (authentication, then the body), opens the
// sender's account on first use, and submits one native transfer with the
// token's principal as its actor.
func (h *Handler) creditTransfer(w http.ResponseWriter, r *http.Request) {
	resp, apiErr := h.transfer(w, r)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *Handler) transfer(w http.ResponseWriter, r *http.Request) (creditTransferResponse, *apiError) {
	var none creditTransferResponse
	p, apiErr := h.principal(r)
	if apiErr != nil {
		return none, apiErr
	}
	sender, err := compat.AccountID("sender", System, p.Subject)
	if err != nil {
		return none, &apiError{status: http.StatusForbidden, detail: "the token's subject is not an Allmine user id: " + err.Error()}
	}
	req, apiErr := readRequest(w, r)
	if apiErr != nil {
		return none, apiErr
	}
	recipient, err := compat.AccountID("recipientId", System, req.recipientID)
	if err != nil {
		return none, errValidation(err.Error())
	}
	if apiErr := readAmount(req.amount, h.asset.Scale); apiErr != nil {
		return none, apiErr
	}
	id, apiErr := transferID(r, p.Subject)
	if apiErr != nil {
		return none, apiErr
	}
	ctx := r.Context()
	if apiErr := h.openSender(ctx, sender, p.Subject); apiErr != nil {
		return none, apiErr
	}
	t := domain.Transfer{ID: id, From: sender, To: recipient, Amount: req.amount, Asset: h.asset.Code, Reference: reference}
	rs, err := h.l.Submit(ctx, []commands.Item{{Actor: p.Actor(), Transfer: &t, SameAsset: true}})
	if err != nil || len(rs) != 1 {
		return none, errUnavailable
	}
	switch res := rs[0]; res.Outcome {
	case commands.OutcomePosted:
		if res.Event == nil || res.Event.Transfer == nil {
			h.log.Error("allmine posted transfer without its event", "id", id)
			return none, errUnavailable
		}
		out, err := responseOf(res.Event.Transfer.Transfer, res.Event.Transfer.Entries[:])
		if err != nil {
			h.log.Error("allmine posted transfer", "err", err)
			return none, errUnavailable
		}
		return out, nil
	case commands.OutcomeReplayed:
		return h.replay(ctx, id, res.Seq)
	case commands.OutcomeRejected:
		if res.Code == domain.CodeAccountNotFound {
			return none, errNotFound(fmt.Sprintf("recipient %s has no Allmine account", req.recipientID))
		}
		return none, fromRejection(res.Code, res.Detail)
	default:
		h.log.Error("allmine transfer: unexpected outcome", "outcome", res.Outcome, "id", id)
		return none, errUnavailable
	}
}

// openSender opens the sender's account on first use, owned by the token
// subject (the Allmine user id), which is what lets that token debit it.
// The asset is made sure of first, alone: in one command with the account
// the account would be opened even if the asset were refused. An account
// that exists with another definition (an operator opened it with
// metadata, an overdraft or another owner) is used as it is: the
// processor decides whether this token may debit it.
func (h *Handler) openSender(ctx context.Context, account, user string) *apiError {
	if err := h.opener.Open(ctx); err != nil {
		if !errors.Is(err, compat.ErrConflict) {
			return errUnavailable
		}
		// No request can be served until an operator fixes the
		// configuration: the asset exists with another scale.
		h.log.Error("allmine cannot open accounts: its native asset exists with another definition",
			"asset", h.asset.Code, "scale", h.asset.Scale, "err", err)
		return &apiError{status: http.StatusServiceUnavailable, detail: "the adapter's asset is misconfigured; see the ledger's log"}
	}
	err := h.opener.Open(ctx, account, user)
	if err == nil {
		return nil
	}
	if !errors.Is(err, compat.ErrConflict) {
		return errUnavailable
	}
	if _, err := h.l.Account(ctx, account, ""); err != nil {
		// A conflict with an account the read model does not show yet.
		return errUnavailable
	}
	return nil
}

// replay answers a retry with the same Idempotency-Key and body: the
// original transfer's amount and balances, read once the read model has
// applied it.
func (h *Handler) replay(ctx context.Context, id string, seq uint64) (creditTransferResponse, *apiError) {
	if err := h.l.Seen(ctx, seq); err != nil {
		return creditTransferResponse{}, errUnavailable
	}
	v, err := h.l.Transfer(ctx, id)
	if err != nil {
		return creditTransferResponse{}, errUnavailable
	}
	t := domain.Transfer{ID: v.ID, From: v.From, To: v.To, Amount: v.Amount, Asset: v.Asset}
	out, err := responseOf(t, v.Entries)
	if err != nil {
		h.log.Error("allmine replay", "err", err)
		return creditTransferResponse{}, errUnavailable
	}
	return out, nil
}
