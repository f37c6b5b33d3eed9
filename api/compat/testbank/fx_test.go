package testbank_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestCrossCurrency: a transaction between accounts of two currencies
// posts a native conversion at the rate table's rate, shows that rate as
// meta.exchangeRate (in the answer, by id and in the list), is visible
// through the native API with its exchange rate, and every currency
// still sums to zero in the audit. Without a rate it is refused and
// nothing moves.
func TestCrossCurrency(t *testing.T) {
	e := start(t)
	alice := e.newUser(t, "Alice", true)
	bob := e.newUser(t, "Bob", false)
	usd := e.newAccount(t, alice, "Dollars", "", "USD")
	eur := e.newAccount(t, bob, "Euros", "PUBLIC", "EUR")
	gbp := e.newAccount(t, bob, "Pounds", "", "GBP")
	e.send(t, alice, "100.00", "", "ROOT", usd.ID).one(t, http.StatusOK)
	e.setRate(t, "USD", "EUR", "0.9155")

	tx := e.send(t, alice, "10.00", "fx", usd.ID, eur.ID).one(t, http.StatusOK)
	if tx.Attributes["amount"] != "10.00" || tx.Meta["exchangeRate"] != 0.9155 {
		t.Fatalf("conversion: %+v", tx)
	}
	// 10.00 USD at 0.9155 is 9.155 EUR: the recipient gets 9.15, the
	// half cent stays with the FX position; nothing is created.
	if a, b := e.balance(t, alice, usd.ID), e.balance(t, bob, eur.ID); a != "90.00" || b != "9.15" {
		t.Fatalf("balances %s USD, %s EUR", a, b)
	}
	byID := e.do(t, bob.Token, http.MethodGet, "/transactions/"+tx.ID, "").one(t, http.StatusOK)
	list, _ := e.do(t, bob.Token, http.MethodGet, "/transactions", "").many(t)
	if byID.Meta["exchangeRate"] != 0.9155 || len(list) != 1 || list[0].Meta["exchangeRate"] != 0.9155 {
		t.Fatalf("read back: %+v %+v", byID, list)
	}
	// The native API shows the same transfer, with its rate.
	var native struct {
		ID, Status, From, To, Amount, Asset string
		ExchangeRate                        string `json:"exchange_rate"`
		ToAsset                             string `json:"to_asset"`
		ToAmount                            string `json:"to_amount"`
		Metadata                            map[string]string
	}
	if err := json.Unmarshal(e.l.Must(t, http.StatusOK, http.MethodGet, "/v1/transfers/testbank-"+tx.ID, nil), &native); err != nil {
		t.Fatal(err)
	}
	if native.Status != "posted" || native.From != "testbank:"+usd.ID || native.To != "testbank:"+eur.ID ||
		native.Amount != "10.00" || native.Asset != "USD" || native.ExchangeRate != "0.9155" ||
		native.ToAsset != "EUR" || native.ToAmount != "9.15" || native.Metadata["testbank_user"] != alice.ID {
		t.Fatalf("native transfer: %+v", native)
	}
	// GET /currencies shows the table's rates from USD.
	var cur []resource
	_ = json.Unmarshal(e.do(t, bob.Token, http.MethodGet, "/currencies", "").must(t, http.StatusOK).Data, &cur)
	rates := map[string]any{}
	for _, c := range cur {
		rates[c.ID] = c.Meta["exchangeRate"]
	}
	if rates["USD"] != 1.0 || rates["EUR"] != 0.9155 || rates["GBP"] != nil {
		t.Fatalf("currency rates: %v", rates)
	}
	// No rate EUR->GBP (inverse rates are not implied): refused, nothing moves.
	e.send(t, bob, "5.00", "", eur.ID, gbp.ID).fails(t, http.StatusBadRequest, "VALIDATION_ERROR", "/data/relationships/recipient")
	if b, g := e.balance(t, bob, eur.ID), e.balance(t, bob, gbp.ID); b != "9.15" || g != "0.00" {
		t.Fatalf("after a refused conversion: %s EUR, %s GBP", b, g)
	}
	e.l.Audit(t)
}
