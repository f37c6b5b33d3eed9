package allmine

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/nats-ledger/ledger/api"
)

// maxTokenBytes bounds a bearer token, as the native API does; real JWTs
// are well under 4 KiB.
const maxTokenBytes = 8 << 10

// principal authenticates the request with the ledger's own tokens and
// requires the native transfers:write scope: 401 without a token the
// ledger accepts, 403 without the scope.
func (h *Handler) principal(r *http.Request) (api.Principal, *apiError) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return api.Principal{}, &apiError{status: http.StatusUnauthorized, detail: "a bearer token is required: Authorization: Bearer <token>"}
	}
	if len(token) > maxTokenBytes {
		return api.Principal{}, &apiError{status: http.StatusUnauthorized, detail: "the token is invalid or expired"}
	}
	p, err := h.l.Authenticate(r.Context(), token)
	if err != nil {
		return api.Principal{}, &apiError{status: http.StatusUnauthorized, detail: "the token is invalid or expired"}
	}
	if !p.Has(api.ScopeTransfersWrite) {
		return api.Principal{}, &apiError{status: http.StatusForbidden, detail: "the token lacks the " + api.ScopeTransfersWrite + " scope"}
	}
	if secs, ok := h.l.Allow(p); !ok {
		// The token's one budget, shared with the native API.
		return api.Principal{}, &apiError{status: http.StatusTooManyRequests, retryAfter: secs,
			detail: "too many requests for this token; retry after " + strconv.Itoa(secs) + "s"}
	}
	return p, nil
}
