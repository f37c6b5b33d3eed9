package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// e2eCase is one request and the problem it must be answered with.
type e2eCase struct {
	name   string
	method string
	path   string
	body   any
	header []string
	status int
	code   string
	field  string
	detail string
}

// TestE2EErrors sends every kind of bad request and checks each answer's
// status, problem content type, code and field; none of them moves money.
func TestE2EErrors(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.defineAsset(t, "EUR", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.openAccount(t, "eve", "EUR")
	mint := l.mint(t, "alice", "10.00")

	const (
		post = http.MethodPost
		get  = http.MethodGet
	)
	tr := func(fields string) string {
		return `{"from":"alice","to":"bob"` + fields + `}`
	}
	big := `{"from":"alice","to":"bob","amount":"1.00","reference":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []e2eCase{
		// Assets.
		{"asset malformed JSON", post, "/v1/assets", `{"code":`, nil, 400, "validation_failed", "", ""},
		{"asset unknown field", post, "/v1/assets", `{"code":"GBP","scale":2,"symbol":"£"}`, nil, 400, "validation_failed", "", ""},
		{"asset missing scale", post, "/v1/assets", `{"code":"GBP"}`, nil, 400, "validation_failed", "", ""},
		{"asset scale 19", post, "/v1/assets", `{"code":"GBP","scale":19}`, nil, 400, "validation_failed", "scale", ""},
		{"asset lower-case code", post, "/v1/assets", `{"code":"gbp","scale":2}`, nil, 400, "validation_failed", "code", ""},
		{"asset different scale", post, "/v1/assets", `{"code":"USD","scale":4}`, nil, 409, "asset_conflict", "", ""},
		// Accounts.
		{"account malformed JSON", post, "/v1/accounts", `{"id":"carol",`, nil, 400, "validation_failed", "", ""},
		{"account unknown field", post, "/v1/accounts", `{"id":"carol","asset":"USD","colour":"red"}`, nil, 400, "validation_failed", "", ""},
		{"account missing asset", post, "/v1/accounts", `{"id":"carol"}`, nil, 400, "validation_failed", "", ""},
		{"account unknown asset", post, "/v1/accounts", `{"id":"carol","asset":"JPY"}`, nil, 404, "asset_not_found", "", ""},
		{"account id world", post, "/v1/accounts", `{"id":"world","asset":"USD"}`, nil, 400, "validation_failed", "id", ""},
		{"account id with a space", post, "/v1/accounts", `{"id":"a b","asset":"USD"}`, nil, 400, "validation_failed", "id", ""},
		{"account bad overdraft", post, "/v1/accounts", `{"id":"carol","asset":"USD","overdraft_limit":"lots"}`, nil, 400, "validation_failed", "overdraft_limit", ""},
		{"account different asset", post, "/v1/accounts", `{"id":"alice","asset":"EUR"}`, nil, 409, "account_conflict", "", ""},
		// Transfer bodies.
		{"transfer malformed JSON", post, "/v1/transfers", `{"from":"alice","to":`, nil, 400, "validation_failed", "", ""},
		{"transfer not an object", post, "/v1/transfers", `["alice","bob","1.00"]`, nil, 400, "validation_failed", "", ""},
		{"transfer empty body", post, "/v1/transfers", ``, nil, 400, "validation_failed", "", ""},
		{"transfer trailing data", post, "/v1/transfers", tr(`,"amount":"1.00"`) + `{}`, nil, 400, "validation_failed", "", ""},
		{"transfer unknown field", post, "/v1/transfers", tr(`,"amount":"1.00","memo":"hi"`), nil, 400, "validation_failed", "", ""},
		{"transfer missing amount", post, "/v1/transfers", tr(``), nil, 400, "validation_failed", "", ""},
		{"transfer missing from", post, "/v1/transfers", `{"to":"bob","amount":"1.00"}`, nil, 400, "validation_failed", "", ""},
		{"transfer amount boolean", post, "/v1/transfers", tr(`,"amount":true`), nil, 400, "validation_failed", "", ""},
		{"transfer bad id", post, "/v1/transfers", tr(`,"id":"a b","amount":"1.00"`), nil, 400, "validation_failed", "id", ""},
		{"transfer reference too long", post, "/v1/transfers", tr(`,"amount":"1.00","reference":"` + strings.Repeat("r", 600) + `"`), nil, 400, "validation_failed", "reference", ""},
		{"transfer Idempotency-Key differs from id", post, "/v1/transfers", tr(`,"id":"k-1","amount":"1.00"`), []string{"Idempotency-Key", "k-2"}, 400, "validation_failed", "id", ""},
		{"transfer text/plain", post, "/v1/transfers", tr(`,"amount":"1.00"`), []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", "", ""},
		{"transfer 70 KB body", post, "/v1/transfers", big, nil, 413, "payload_too_large", "", ""},
		{"transfer 70 KB body chunked", post, "/v1/transfers", strings.NewReader(big), nil, 413, "payload_too_large", "", ""},
		// Amounts.
		{"amount too many decimals", post, "/v1/transfers", tr(`,"amount":"1.001"`), nil, 400, "invalid_amount", "", ""},
		{"amount number too many decimals", post, "/v1/transfers", tr(`,"amount":1.001`), nil, 400, "invalid_amount", "", ""},
		{"amount zero", post, "/v1/transfers", tr(`,"amount":"0"`), nil, 400, "invalid_amount", "", ""},
		{"amount zero at scale", post, "/v1/transfers", tr(`,"amount":"0.00"`), nil, 400, "invalid_amount", "", ""},
		{"amount number zero", post, "/v1/transfers", tr(`,"amount":0`), nil, 400, "invalid_amount", "", ""},
		{"amount negative", post, "/v1/transfers", tr(`,"amount":"-5.00"`), nil, 400, "invalid_amount", "", ""},
		{"amount number negative", post, "/v1/transfers", tr(`,"amount":-5`), nil, 400, "invalid_amount", "", ""},
		{"amount not a number", post, "/v1/transfers", tr(`,"amount":"ten"`), nil, 400, "invalid_amount", "", ""},
		{"amount empty", post, "/v1/transfers", tr(`,"amount":""`), nil, 400, "invalid_amount", "", ""},
		// Decisions.
		{"world to world", post, "/v1/transfers", `{"from":"world","to":"world","amount":"1.00","asset":"USD"}`, nil, 400, "same_account", "", ""},
		{"alice to alice", post, "/v1/transfers", `{"from":"alice","to":"alice","amount":"1.00"}`, nil, 400, "same_account", "", ""},
		{"unknown recipient", post, "/v1/transfers", `{"from":"alice","to":"ghost","amount":"1.00"}`, nil, 404, "account_not_found", "", ""},
		{"unknown sender", post, "/v1/transfers", `{"from":"ghost","to":"alice","amount":"1.00"}`, nil, 404, "account_not_found", "", ""},
		{"unknown asset", post, "/v1/transfers", tr(`,"amount":"1.00","asset":"JPY"`), nil, 404, "asset_not_found", "", ""},
		{"mint of an unknown asset", post, "/v1/transfers", `{"from":"world","to":"alice","amount":"1.00","asset":"JPY"}`, nil, 404, "asset_not_found", "", ""},
		{"accounts of two assets, no rate", post, "/v1/transfers", `{"from":"alice","to":"eve","amount":"1.00"}`, nil, 422, "rate_not_found", "", ""},
		{"asset other than the accounts'", post, "/v1/transfers", tr(`,"amount":"1.00","asset":"EUR"`), nil, 422, "asset_mismatch", "", ""},
		{"insufficient funds", post, "/v1/transfers", tr(`,"id":"err-poor","amount":"25.00"`), nil, 422, "insufficient_funds", "",
			"insufficient balance: balance was 10.00 USD, at least 25.00 USD is required"},
		// Queries.
		{"transfers limit 0", get, "/v1/transfers?limit=0", nil, nil, 400, "validation_failed", "limit", ""},
		{"transfers limit 101", get, "/v1/transfers?limit=101", nil, nil, 400, "validation_failed", "limit", ""},
		{"transfers limit abc", get, "/v1/transfers?limit=abc", nil, nil, 400, "validation_failed", "limit", ""},
		{"transfers limit -1", get, "/v1/transfers?limit=-1", nil, nil, 400, "validation_failed", "limit", ""},
		{"transfers limit 1.5", get, "/v1/transfers?limit=1.5", nil, nil, 400, "validation_failed", "limit", ""},
		{"transfers bad cursor", get, "/v1/transfers?cursor=not-a-cursor!", nil, nil, 400, "validation_failed", "cursor", ""},
		{"transfers foreign cursor", get, "/v1/transfers?cursor=Zm9v", nil, nil, 400, "validation_failed", "cursor", ""},
		{"transfers bad since", get, "/v1/transfers?since=yesterday", nil, nil, 400, "validation_failed", "since", ""},
		{"transfers bad until", get, "/v1/transfers?until=2026-13-01", nil, nil, 400, "validation_failed", "until", ""},
		{"transfers bad account", get, "/v1/transfers?account=a%20b", nil, nil, 400, "validation_failed", "account", ""},
		{"entries limit 0", get, "/v1/accounts/alice/entries?limit=0", nil, nil, 400, "validation_failed", "limit", ""},
		{"entries limit 101", get, "/v1/accounts/alice/entries?limit=101", nil, nil, 400, "validation_failed", "limit", ""},
		{"entries limit abc", get, "/v1/accounts/alice/entries?limit=abc", nil, nil, 400, "validation_failed", "limit", ""},
		{"entries bad cursor", get, "/v1/accounts/alice/entries?cursor=%25%25", nil, nil, 400, "validation_failed", "cursor", ""},
		{"balance as_of text", get, "/v1/accounts/alice/balance?as_of=yesterday", nil, nil, 400, "validation_failed", "as_of", ""},
		{"unknown account balance as_of 0", get, "/v1/accounts/ghost/balance?as_of=0", nil, nil, 404, "account_not_found", "", ""},
		{"balance as_of -1", get, "/v1/accounts/alice/balance?as_of=-1", nil, nil, 400, "validation_failed", "as_of", ""},
		{"world without asset", get, "/v1/accounts/world", nil, nil, 400, "validation_failed", "asset", ""},
		{"world entries without asset", get, "/v1/accounts/world/entries", nil, nil, 400, "validation_failed", "asset", ""},
		{"world balance without asset", get, "/v1/accounts/world/balance", nil, nil, 400, "validation_failed", "asset", ""},
		// Not found.
		{"unknown account", get, "/v1/accounts/ghost", nil, nil, 404, "account_not_found", "", ""},
		{"unknown account entries", get, "/v1/accounts/ghost/entries", nil, nil, 404, "account_not_found", "", ""},
		{"unknown account balance", get, "/v1/accounts/ghost/balance", nil, nil, 404, "account_not_found", "", ""},
		{"unknown account balance as_of", get, "/v1/accounts/ghost/balance?as_of=1", nil, nil, 404, "account_not_found", "", ""},
		{"world of an unknown asset", get, "/v1/accounts/world?asset=JPY", nil, nil, 404, "account_not_found", "", ""},
		{"unknown transfer", get, "/v1/transfers/ghost", nil, nil, 404, "transfer_not_found", "", ""},
		{"unknown route", get, "/v1/nope", nil, nil, 404, "not_found", "", ""},
		{"unknown top-level route", get, "/nope", nil, nil, 404, "not_found", "", ""},
		// Wrong methods.
		{"DELETE a transfer", http.MethodDelete, "/v1/transfers/" + mint.ID, nil, nil, 405, "method_not_allowed", "", ""},
		{"PUT an account", http.MethodPut, "/v1/accounts/alice", `{"id":"alice","asset":"USD"}`, nil, 405, "method_not_allowed", "", ""},
		{"GET a freeze", get, "/v1/accounts/alice/freeze", nil, nil, 405, "method_not_allowed", "", ""},
		{"POST healthz", post, "/healthz", `{}`, nil, 405, "method_not_allowed", "", ""},
	}
	l.settle(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := e2eCheckProblem(t, l.do(t, c.method, c.path, c.body, c.header...), c.status, c.code, c.field)
			if c.detail != "" && p.Detail != c.detail {
				t.Errorf("detail %q, want %q", p.Detail, c.detail)
			}
		})
	}

	t.Run("operational routes", func(t *testing.T) {
		if h := e2eJSON[map[string]any](t, l.do(t, get, "/healthz", nil), http.StatusOK); h["status"] != "ok" {
			t.Errorf("healthz: %v", h)
		}
		e2eJSON[map[string]any](t, l.do(t, get, "/readyz", nil), http.StatusOK)
		doc := e2eJSON[map[string]any](t, l.do(t, get, "/openapi.json", nil), http.StatusOK)
		if _, ok := doc["paths"].(map[string]any)["/v1/transfers"]; !ok || doc["openapi"] == nil {
			t.Errorf("openapi.json has no openapi version or /v1/transfers path")
		}
		for _, q := range []string{"limit=1", "limit=100", "limit=20&asset=USD"} {
			e2ePageOf[e2eTransfer](t, l.do(t, get, "/v1/transfers?"+q, nil))
			e2ePageOf[e2eAccountEntry](t, l.do(t, get, "/v1/accounts/alice/entries?"+q, nil))
		}
	})

	// Nothing above moved money, and the one decided rejection is in the
	// journal.
	if a := l.account(t, "alice", ""); a.Balance != "10.00" {
		t.Errorf("alice's balance %s after the rejections, want 10.00", a.Balance)
	}
	if b := l.account(t, "bob", ""); b.Balance != "0.00" {
		t.Errorf("bob's balance %s after the rejections, want 0.00", b.Balance)
	}
	j := l.journal(t)
	j.checkPosted(t, mint)
	j.checkRejected(t, "err-poor", "insufficient_funds")
	if n := len(j.postedEvents(mint.ID)); n != 1 {
		t.Errorf("%d postings of the mint", n)
	}
	posted := 0
	for _, ev := range j {
		if ev.Type == domain.EventTransferPosted {
			posted++
		}
	}
	if posted != 1 {
		t.Errorf("journal has %d TransferPosted events, want only the mint", posted)
	}
	l.checkZeroSum(t, "USD", "alice", "bob")
	l.checkZeroSum(t, "EUR", "eve")
}
