package testbank

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/nats-ledger/ledger/domain"
)

// currency is a Testbank currency: the native asset of the same code.
type currency struct {
	Name   string
	Symbol string
	Emoji  string
	// Scale is the native asset's: ISO 4217's minor unit.
	Scale int
}

// currencies are Testbank's (its static list): each is the native asset
// of the same code, defined on first use with ISO 4217's minor unit (2
// for all three). A native asset of that code with another scale is a
// conflict the adapter reports, never works around.
var currencies = map[string]currency{
	"USD": {Name: "United States Dollar", Symbol: "$", Emoji: "🇺🇸", Scale: 2},
	"GBP": {Name: "Great British Pound", Symbol: "£", Emoji: "🇬🇧", Scale: 2},
	"EUR": {Name: "Euro", Symbol: "€", Emoji: "🇪🇺", Scale: 2},
}

func assetOf(code string) domain.Asset {
	return domain.Asset{Code: code, Scale: currencies[code].Scale}
}

type currencyAttributes struct {
	Name   string `json:"name"`
	Symbol string `json:"symbol"`
	Emoji  string `json:"emoji"`
}

// apiVersion is the version of Testbank's swagger.yml the adapter follows.
const apiVersion = "2023.7"

// ping is GET /: unauthenticated, as Testbank's.
func (h *handler) ping(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"meta":  map[string]any{"name": "Testbank API", "version": apiVersion},
		"links": map[string]any{"self": "/"},
	})
}

// listCurrencies is GET /currencies: each currency with meta.exchangeRate,
// the native rate table's rate from the base currency to it (1 for the
// base itself; null when the table has none).
func (h *handler) listCurrencies(w http.ResponseWriter, r *http.Request) {
	rates, err := h.l.Rates(r.Context())
	if err != nil {
		writeError(w, h.ledgerError(err))
		return
	}
	codes := make([]string, 0, len(currencies))
	for c := range currencies {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	out := make([]resource, 0, len(codes))
	for _, c := range codes {
		var rate any
		if c == h.base {
			rate = json.Number("1")
		}
		for _, rv := range rates {
			if rv.Base == h.base && rv.Quote == c {
				rate = json.Number(rv.Rate)
			}
		}
		cur := currencies[c]
		out = append(out, resource{Type: "currencies", ID: c,
			Attributes: currencyAttributes{Name: cur.Name, Symbol: cur.Symbol, Emoji: cur.Emoji},
			Meta:       map[string]any{"exchangeRate": rate}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}
