package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// accountListParams are the query parameters GET /v1/accounts takes,
// besides one metadata[<key>] parameter.
var accountListParams = map[string]bool{"owner": true, "asset": true, "status": true, "limit": true, "cursor": true}

// maxOwnerQueryBytes bounds the owner filter: an owner is at most 128
// characters of UTF-8.
const maxOwnerQueryBytes = 4 * 128

// listAccounts lists accounts by id (GET /v1/accounts): filtered by owner,
// asset, status and one metadata pair (metadata[key]=value), a page of 1
// to 100 (each page examines at most projections.AccountScanMax
// accounts). A non-admin sees only the accounts it owns, whatever owner
// it names.
func (s *Server) listAccounts(c echo.Context) error {
	f, err := accountFilter(c)
	if err != nil {
		return err
	}
	if p := principalOf(c); !p.Admin() {
		if f.Owner != "" && f.Owner != p.Subject {
			// Someone else's accounts: none this token may see.
			return respond(c, http.StatusOK, projections.Page[projections.AccountView]{Data: []projections.AccountView{}})
		}
		f.Owner = p.Subject
	}
	page, err := s.read.Accounts(c.Request().Context(), f)
	if err != nil {
		return s.readError(err, CodeNotFound)
	}
	return respond(c, http.StatusOK, page)
}

// accountFilter reads and checks GET /v1/accounts' query: an unknown
// parameter, a second metadata pair or a malformed value is a 400.
func accountFilter(c echo.Context) (projections.AccountFilter, error) {
	q := c.QueryParams()
	f := projections.AccountFilter{Owner: q.Get("owner"), Asset: q.Get("asset"), Status: q.Get("status"), Cursor: q.Get("cursor")}
	for name, values := range q {
		key, isMeta := strings.CutPrefix(name, "metadata[")
		switch {
		case accountListParams[name]:
		case isMeta && strings.HasSuffix(key, "]"):
			if f.MetaKey != "" {
				return f, &domain.FieldError{Field: "metadata", Reason: "filter by one metadata pair at most"}
			}
			f.MetaKey, f.MetaValue = strings.TrimSuffix(key, "]"), values[0]
			if f.MetaKey == "" {
				return f, &domain.FieldError{Field: "metadata", Reason: "give the key: metadata[key]=value"}
			}
			if err := domain.ValidateMetadata(map[string]string{f.MetaKey: f.MetaValue}); err != nil {
				return f, err
			}
		default:
			return f, &domain.FieldError{Field: name, Reason: "unknown query parameter: owner, asset, status, metadata[key], limit and cursor filter accounts"}
		}
	}
	if f.Owner != "" && (len(f.Owner) > maxOwnerQueryBytes || !utf8.ValidString(f.Owner)) {
		return f, &domain.FieldError{Field: "owner", Reason: "must be valid UTF-8 of at most 128 characters"}
	}
	if f.Asset != "" {
		if err := (domain.Asset{Code: f.Asset}).Validate(); err != nil {
			return f, &domain.FieldError{Field: "asset", Reason: "must be an asset code: 1-16 of A-Z 0-9 _, starting with a letter"}
		}
	}
	switch f.Status {
	case "", domain.AccountOpen, domain.AccountFrozen, domain.AccountClosed:
	default:
		return f, &domain.FieldError{Field: "status", Reason: "must be open, frozen or closed"}
	}
	var err error
	f.Limit, err = pageLimit(c)
	return f, err
}

// listAssets lists the defined assets by code (GET /v1/assets).
func (s *Server) listAssets(c echo.Context) error {
	for name := range c.QueryParams() {
		if name != "limit" && name != "cursor" {
			return &domain.FieldError{Field: name, Reason: "unknown query parameter: limit and cursor page assets"}
		}
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	page, err := s.read.Assets(c.Request().Context(), limit, c.QueryParam("cursor"))
	if err != nil {
		return s.readError(err, CodeNotFound)
	}
	return respond(c, http.StatusOK, page)
}
