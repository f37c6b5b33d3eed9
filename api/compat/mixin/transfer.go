package mixin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/api/compat"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// maxMemoLen is Mixin's memo limit, in characters.
const maxMemoLen = 200

// transferRequest is POST /transfers. encoding/json matches keys without
// regard to case, so Pin takes the SDK's "Pin" as well as "pin".
type transferRequest struct {
	AssetID          string          `json:"asset_id"`
	OpponentID       string          `json:"opponent_id"`
	Amount           json.RawMessage `json:"amount"`
	Pin              string          `json:"pin"`
	PinBase64        string          `json:"pin_base64"`
	TraceID          string          `json:"trace_id"`
	Memo             string          `json:"memo"`
	OpponentKey      string          `json:"opponent_key"`
	OpponentMultisig struct {
		Receivers []string `json:"receivers"`
	} `json:"opponent_multisig"`
}

// transfer is POST /transfers: the request is checked whole (fields, then
// the PIN, which is then spent), the accounts are opened on first use,
// and the native transfer is submitted with the user as its actor.
func (h *handler) transfer(w http.ResponseWriter, r *http.Request, u User, body []byte) {
	ctx := r.Context()
	var req transferRequest
	if e := decodeBody(body, &req); e != nil {
		writeError(w, e)
		return
	}
	t, asset, e := h.translate(ctx, u, req)
	if e != nil {
		writeError(w, e)
		return
	}
	if req.Pin == "" && req.PinBase64 != "" {
		writeError(w, newError(CodePinFormat, "PIN format error: TIP PINs (pin_base64) are not supported; send pin."))
		return
	}
	if e := h.checkPin(ctx, u, req.Pin); e != nil {
		writeError(w, e)
		return
	}
	if e := h.open(ctx, asset, t.From, ownerOf(u.ID), t.To, ownerOf(req.OpponentID)); e != nil {
		writeError(w, e)
		return
	}
	rs, err := h.l.Submit(ctx, []commands.Item{{Actor: &domain.Actor{Subject: ownerOf(u.ID)}, Transfer: &t, SameAsset: true}})
	if err != nil {
		writeError(w, h.ledgerError(err))
		return
	}
	res := rs[0]
	switch res.Outcome {
	case commands.OutcomePosted:
		s, _ := snapshotOf(u.ID, projections.PostedView(res.Event))
		writeData(w, s)
	case commands.OutcomeReplayed:
		// The original, as the read model has it once it has applied it.
		if err := h.l.Seen(ctx, res.Seq); err != nil {
			writeError(w, errUnavailable)
			return
		}
		h.writeSnapshot(w, r, u, t.ID)
	default:
		writeError(w, rejection(res))
	}
}

// translate checks the request's fields and makes the native transfer.
func (h *handler) translate(ctx context.Context, u User, req transferRequest) (domain.Transfer, Asset, *Error) {
	if req.OpponentKey != "" || len(req.OpponentMultisig.Receivers) > 0 {
		return domain.Transfer{}, Asset{}, invalidField("opponent_key and opponent_multisig are not supported: transfer to an opponent_id.")
	}
	assetID := strings.ToLower(req.AssetID)
	if !isUUID(assetID) {
		return domain.Transfer{}, Asset{}, invalidField("asset_id: a UUID is required.")
	}
	asset, err := h.store.Asset(ctx, assetID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return domain.Transfer{}, Asset{}, invalidField("asset_id: no such asset on this ledger.")
		}
		h.log.Warn("mixin asset lookup", "err", err)
		return domain.Transfer{}, Asset{}, errUnavailable
	}
	opponent := strings.ToLower(req.OpponentID)
	if !isUUID(opponent) {
		return domain.Transfer{}, Asset{}, invalidField("opponent_id: a UUID is required.")
	}
	if opponent == u.ID {
		return domain.Transfer{}, Asset{}, invalidField("opponent_id: one can't transfer to oneself.")
	}
	if _, err := h.store.User(ctx, opponent); err != nil {
		if errors.Is(err, ErrNotFound) {
			return domain.Transfer{}, Asset{}, invalidField("opponent_id: no such user.")
		}
		h.log.Warn("mixin user lookup", "err", err)
		return domain.Transfer{}, Asset{}, errUnavailable
	}
	amount, e := parseAmount(req.Amount)
	if e != nil {
		return domain.Transfer{}, Asset{}, e
	}
	trace := strings.ToLower(req.TraceID)
	if trace == "" {
		trace = newUUID() // Mixin's trace_id is optional: no retry is safe without one
	} else if !isUUID(trace) {
		return domain.Transfer{}, Asset{}, invalidField("trace_id: a UUID is required.")
	}
	if e := checkMemo(req.Memo); e != nil {
		return domain.Transfer{}, Asset{}, e
	}
	from, _ := compat.AccountID("asset_id", System, u.ID+":"+asset.Code)
	to, _ := compat.AccountID("opponent_id", System, opponent+":"+asset.Code)
	return domain.Transfer{
		ID: nativeID(snapshotID(u.ID, trace)), From: from, To: to, Amount: amount, Asset: asset.Code,
		Reference: req.Memo,
		Metadata:  map[string]string{metaTrace: trace, metaAsset: asset.AssetID},
	}, asset, nil
}

// Metadata keys of the native transfers this adapter makes.
const (
	metaTrace = "mixin_trace_id"
	metaAsset = "mixin_asset_id"
)

func checkMemo(memo string) *Error {
	if n := utf8.RuneCountInString(memo); n > maxMemoLen {
		return invalidField(fmt.Sprintf("memo: at most %d characters, got %d.", maxMemoLen, n))
	}
	if err := domain.ValidateMetadata(map[string]string{"memo": memo}); err != nil {
		return invalidField("memo: must be UTF-8 text without control characters.")
	}
	return nil
}

// decodeBody parses a JSON object; a body that is not one is 400, a
// field of the wrong type 10002 naming it.
func decodeBody(body []byte, v any) *Error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return errBadBody
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalidField(fmt.Sprintf("%s: must be a %s.", te.Field, kindOf(te.Type.Kind().String())))
		}
		return errBadBody
	}
	return nil
}

func kindOf(k string) string {
	if k == "slice" {
		return "list"
	}
	return k
}

// open opens both accounts (and defines the native asset) on first use.
func (h *handler) open(ctx context.Context, a Asset, idOwner ...string) *Error {
	err := h.openers.For(domain.Asset{Code: a.Code, Scale: Scale}).Open(ctx, idOwner...)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, compat.ErrConflict):
		h.log.Warn("mixin accounts", "err", err)
		return invalidField(fmt.Sprintf("asset_id: the native asset %s is not usable for Mixin (%v).", a.Code, err))
	}
	return h.ledgerError(err)
}

// ledgerError is a Ledger error in Mixin's shape: unavailable or
// undecided is 503 (retry with the same trace_id), a cancelled request too.
func (h *handler) ledgerError(err error) *Error {
	if !errors.Is(err, api.ErrUnavailable) && !errors.Is(err, api.ErrUndecided) {
		h.log.Warn("mixin ledger", "err", err)
	}
	return errUnavailable
}

// rejection maps a native refusal to Mixin's code.
func rejection(r commands.Result) *Error {
	switch r.Code {
	case domain.CodeInsufficientFunds:
		return newError(CodeInsufficientBalance, "Insufficient balance: "+r.Detail)
	case domain.CodeIdempotencyConflict:
		return newError(CodeTraceConflict, "The trace_id was already used for another transfer: "+r.Detail)
	}
	return invalidField(fmt.Sprintf("%s: %s", r.Code, r.Detail))
}

// ownerOf is the native owner (and actor subject) of a Mixin user.
func ownerOf(userID string) string { return System + ":" + userID }
