package mixin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
)

// admin checks the native admin bearer token of the operator's routes;
// Mixin's own tokens are not taken there.
func (h *handler) admin(ctx context.Context, r *http.Request) *Error {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return errUnauthorized
	}
	p, err := h.l.Authenticate(ctx, tok)
	if err != nil {
		return errUnauthorized
	}
	if !p.Admin() {
		return newError(CodeForbidden, "Access forbidden: this route takes a native admin token.")
	}
	return nil
}

// adminCreateUser is POST /admin/users: it creates a user and answers its
// keystore (201), the JSON the SDK reads, with the PIN beside it.
func (h *handler) adminCreateUser(w http.ResponseWriter, r *http.Request, body []byte) {
	if e := h.admin(r.Context(), r); e != nil {
		writeError(w, e)
		return
	}
	var req NewUserRequest
	if len(strings.TrimSpace(string(body))) > 0 {
		if e := decodeBody(body, &req); e != nil {
			writeError(w, e)
			return
		}
	}
	ks, err := CreateUser(r.Context(), h.store, req, h.now())
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			writeError(w, e)
			return
		}
		h.log.Warn("mixin create user", "err", err)
		writeError(w, errUnavailable)
		return
	}
	writeJSON(w, http.StatusCreated, ks)
}

// adminPutAsset is POST /admin/assets: it maps a Mixin asset id to a
// native asset code, defining the native asset (scale 8) if it is new.
func (h *handler) adminPutAsset(w http.ResponseWriter, r *http.Request, body []byte) {
	ctx := r.Context()
	if e := h.admin(ctx, r); e != nil {
		writeError(w, e)
		return
	}
	var a Asset
	if e := decodeBody(body, &a); e != nil {
		writeError(w, e)
		return
	}
	if e := CheckAsset(&a); e != nil {
		writeError(w, e)
		return
	}
	rs, err := h.l.Submit(ctx, []commands.Item{{Asset: &domain.Asset{Code: a.Code, Scale: Scale}}})
	if err != nil {
		writeError(w, h.ledgerError(err))
		return
	}
	if rs[0].Outcome == commands.OutcomeRejected {
		writeError(w, invalidField(fmt.Sprintf("code: the native asset %s exists with another scale: Mixin assets need scale %d (%s).",
			a.Code, Scale, rs[0].Detail)))
		return
	}
	if e := PutAsset(ctx, h.store, a); e != nil {
		writeError(w, e)
		return
	}
	writeData(w, a)
}

var assetCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,15}$`)

// maxAssetTextLen bounds an asset's symbol and name.
const maxAssetTextLen = 64

// CheckAsset validates a mapping (lower-casing the asset id): an *Error
// (10002) names the field.
func CheckAsset(a *Asset) *Error {
	a.AssetID = strings.ToLower(a.AssetID)
	switch {
	case !isUUID(a.AssetID):
		return invalidField("asset_id: a UUID is required.")
	case !assetCodeRE.MatchString(a.Code):
		return invalidField("code: a native asset code is required (A-Z, 0-9, _; 1 to 16, starting with a letter).")
	case !utf8.ValidString(a.Symbol) || utf8.RuneCountInString(a.Symbol) > maxAssetTextLen,
		!utf8.ValidString(a.Name) || utf8.RuneCountInString(a.Name) > maxAssetTextLen:
		return invalidField(fmt.Sprintf("symbol and name: at most %d characters of UTF-8.", maxAssetTextLen))
	}
	if a.Symbol == "" {
		a.Symbol = a.Code
	}
	if a.Name == "" {
		a.Name = a.Symbol
	}
	return nil
}

// PutAsset stores a checked mapping; a conflicting one is 10002.
func PutAsset(ctx context.Context, s Store, a Asset) *Error {
	err := s.PutAsset(ctx, a)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrExists):
		return invalidField(fmt.Sprintf("asset_id %s or code %s is mapped already, to something else: %v.", a.AssetID, a.Code, err))
	case errors.Is(err, ErrFull):
		return invalidField(fmt.Sprintf("at most %d assets can be mapped.", MaxAssets))
	}
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Description: "store: " + err.Error()}
}
