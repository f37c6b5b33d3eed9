package e2e_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// hostileCase is one hostile request and the problem it must get.
type hostileCase struct {
	name   string
	method string
	path   string
	body   any      // as l.send takes it
	header []string // name, value pairs
	status int
	code   string
	field  string // checked when not empty
}

// TestE2EHostileRequests sends requests built to confuse the decoder and
// the validators: wrong JSON types, control characters and look-alike
// Unicode, overlong fields, deep nesting, duplicate keys, numbers at the
// 128-bit edge, odd bodies and content types, bad path ids and queries.
// Each must get a 4xx problem with its stable code, never a 5xx, and
// afterwards no balance has moved and the journal holds no new posting.
func TestE2EHostileRequests(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.defineAsset(t, "EUR", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.openAccount(t, "eve", "EUR")
	mint := l.mint(t, "alice", "10.00")

	type balanceOf struct{ id, asset string }
	involved := []balanceOf{{"alice", "USD"}, {"bob", "USD"}, {"eve", "EUR"}, {domain.World, "USD"}, {domain.World, "EUR"}}
	before := map[balanceOf]string{}
	for _, a := range involved {
		before[a] = l.account(t, a.id, a.asset).Balance
	}
	postedBefore := countPosted(l.journal(t))

	const (
		post  = http.MethodPost
		get   = http.MethodGet
		vf    = "validation_failed"
		amt   = "invalid_amount"
		tfers = "/v1/transfers"
		batch = "/v1/transfers/batch"
		accts = "/v1/accounts"
	)
	tr := func(fields string) string { // alice to bob, plus fields
		return `{"from":"alice","to":"bob"` + fields + `}`
	}
	amount := func(lit string) string { return tr(`,"amount":` + lit) }
	withID := func(id string) string { return tr(`,"id":"` + id + `","amount":"1.00"`) }
	metadata := func(n int) string {
		kv := make([]string, n)
		for i := range kv {
			kv[i] = `"k` + strconv.Itoa(i) + `":"v"`
		}
		return tr(`,"amount":"1.00","metadata":{` + strings.Join(kv, ",") + `}`)
	}
	nested := func(levels int) string { // the body nests levels deep in all
		return tr(`,"amount":"1.00","metadata":{"k":` + strings.Repeat("[", levels-2) + strings.Repeat("]", levels-2) + `}`)
	}
	big := tr(`,"amount":"1.00","reference":"` + strings.Repeat("x", 70<<10) + `"`)
	long := strings.Repeat("a", 65)

	cases := []hostileCase{
		// Wrong JSON types for every field.
		{"transfer id as number", post, tfers, tr(`,"id":42,"amount":"1.00"`), nil, 400, vf, ""},
		{"transfer id as boolean", post, tfers, tr(`,"id":true,"amount":"1.00"`), nil, 400, vf, ""},
		{"from as number", post, tfers, `{"from":1,"to":"bob","amount":"1.00"}`, nil, 400, vf, ""},
		{"to as array", post, tfers, `{"from":"alice","to":["bob"],"amount":"1.00"}`, nil, 400, vf, ""},
		{"amount as boolean", post, tfers, amount(`false`), nil, 400, vf, ""},
		{"amount as object", post, tfers, amount(`{"value":"1.00"}`), nil, 400, vf, ""},
		{"amount as array", post, tfers, amount(`["1.00"]`), nil, 400, vf, ""},
		{"amount as null", post, tfers, amount(`null`), nil, 400, vf, ""},
		{"asset as number", post, tfers, tr(`,"amount":"1.00","asset":840`), nil, 400, vf, ""},
		{"reference as object", post, tfers, tr(`,"amount":"1.00","reference":{}`), nil, 400, vf, ""},
		{"metadata as array", post, tfers, tr(`,"amount":"1.00","metadata":["k","v"]`), nil, 400, vf, ""},
		{"metadata as string", post, tfers, tr(`,"amount":"1.00","metadata":"k=v"`), nil, 400, vf, ""},
		{"metadata value as number", post, tfers, tr(`,"amount":"1.00","metadata":{"k":1}`), nil, 400, vf, ""},
		{"metadata value as object", post, tfers, tr(`,"amount":"1.00","metadata":{"k":{}}`), nil, 400, vf, ""},
		{"metadata value as boolean", post, tfers, tr(`,"amount":"1.00","metadata":{"k":false}`), nil, 400, vf, ""},
		{"scale as string", post, "/v1/assets", `{"code":"GBP","scale":"2"}`, nil, 400, vf, ""},
		{"scale as float", post, "/v1/assets", `{"code":"GBP","scale":2.5}`, nil, 400, vf, ""},
		{"scale as exponent", post, "/v1/assets", `{"code":"GBP","scale":2e0}`, nil, 400, vf, ""},
		{"scale negative", post, "/v1/assets", `{"code":"GBP","scale":-1}`, nil, 400, vf, "scale"},
		{"scale 19", post, "/v1/assets", `{"code":"GBP","scale":19}`, nil, 400, vf, "scale"},
		{"scale beyond int64", post, "/v1/assets", `{"code":"GBP","scale":99999999999999999999}`, nil, 400, vf, ""},
		{"asset code as number", post, "/v1/assets", `{"code":826,"scale":2}`, nil, 400, vf, ""},
		{"account id as number", post, accts, `{"id":7,"asset":"USD"}`, nil, 400, vf, ""},
		{"overdraft limit as boolean", post, accts, `{"id":"carol","asset":"USD","overdraft_limit":true}`, nil, 400, vf, ""},
		{"overdraft limit with a plus", post, accts, `{"id":"carol","asset":"USD","overdraft_limit":+5}`, nil, 400, vf, "overdraft_limit"},
		{"owner as number", post, accts, `{"id":"carol","asset":"USD","owner":1}`, nil, 400, vf, ""},
		{"account metadata as array", post, accts, `{"id":"carol","asset":"USD","metadata":[]}`, nil, 400, vf, ""},

		// Control characters and Unicode in ids.
		{"id with NUL", post, tfers, withID(`a\u0000b`), nil, 400, vf, "id"},
		{"id with newline", post, tfers, withID(`a\nb`), nil, 400, vf, "id"},
		{"id with tab", post, tfers, withID(`a\tb`), nil, 400, vf, "id"},
		{"id with RTL override", post, tfers, withID("\u202eevil"), nil, 400, vf, "id"},
		{"id with zero-width space", post, tfers, withID("ali\u200bce"), nil, 400, vf, "id"},
		{"id with emoji", post, tfers, withID("pay-\U0001F4B8"), nil, 400, vf, "id"},
		{"id of full-width digits", post, tfers, withID("\uff11\uff12\uff13"), nil, 400, vf, "id"},
		{"from with Cyrillic a", post, tfers, `{"from":"\u0430lice","to":"bob","amount":"1.00"}`, nil, 400, vf, "from"},
		{"to with zero-width space", post, tfers, `{"from":"alice","to":"b\u200bob","amount":"1.00"}`, nil, 400, vf, "to"},
		{"to with emoji", post, tfers, "{\"from\":\"alice\",\"to\":\"bob\U0001F642\",\"amount\":\"1.00\"}", nil, 400, vf, "to"},
		{"to upper case is another account", post, tfers, `{"from":"alice","to":"BOB","amount":"1.00"}`, nil, 404, "account_not_found", ""},
		{"account id with Cyrillic a", post, accts, `{"id":"\u0430lice","asset":"USD"}`, nil, 400, vf, "id"},
		{"account id with RTL override", post, accts, `{"id":"bob\u202e","asset":"USD"}`, nil, 400, vf, "id"},
		{"Idempotency-Key with a space", post, tfers, tr(`,"amount":"1.00"`), []string{"Idempotency-Key", "a b"}, 400, vf, "id"},
		{"metadata key with NUL", post, tfers, tr(`,"amount":"1.00","metadata":{"a\u0000":"v"}`), nil, 400, vf, ""},
		{"reference with line separator", post, tfers, tr(`,"amount":"1.00","reference":"a\u2028b"`), nil, 400, vf, "reference"},
		{"raw NUL byte in a string", post, tfers, "{\"from\":\"alice\",\"to\":\"bob\",\"amount\":\"1.00\",\"reference\":\"a\x00\"}", nil, 400, vf, ""},
		{"invalid UTF-8 in the reference", post, tfers, tr(",\"amount\":\"1.00\",\"reference\":\"\xff\xfe\""), nil, 400, vf, ""},
		{"lone surrogate in the reference", post, tfers, tr(`,"amount":"1.00","reference":"\ud800"`), nil, 400, vf, ""},
		{"byte order mark", post, tfers, "\xef\xbb\xbf" + tr(`,"amount":"1.00"`), nil, 400, vf, ""},

		// Overlong fields.
		{"id of 65 characters", post, tfers, withID(long), nil, 400, vf, "id"},
		{"from of 65 characters", post, tfers, `{"from":"` + long + `","to":"bob","amount":"1.00"}`, nil, 400, vf, "from"},
		{"reference of 513 characters", post, tfers, tr(`,"amount":"1.00","reference":"` + strings.Repeat("é", 513) + `"`), nil, 400, vf, "reference"},
		{"33 metadata keys", post, tfers, metadata(33), nil, 400, vf, "metadata"},
		{"metadata value of 513 characters", post, tfers, tr(`,"amount":"1.00","metadata":{"k":"` + strings.Repeat("v", 513) + `"}`), nil, 400, vf, "metadata.k"},
		{"metadata key of 65 characters", post, tfers, tr(`,"amount":"1.00","metadata":{"` + long + `":"v"}`), nil, 400, vf, "metadata key"},
		{"empty metadata key", post, tfers, tr(`,"amount":"1.00","metadata":{"":"v"}`), nil, 400, vf, "metadata"},
		{"owner of 129 characters", post, accts, `{"id":"carol","asset":"USD","owner":"` + strings.Repeat("o", 129) + `"}`, nil, 400, vf, "owner"},
		{"asset code of 17 characters", post, "/v1/assets", `{"code":"` + strings.Repeat("A", 17) + `","scale":2}`, nil, 400, vf, "code"},
		{"account id of 65 characters", post, accts, `{"id":"` + long + `","asset":"USD"}`, nil, 400, vf, "id"},

		// Deep nesting.
		{"nesting one level too deep", post, tfers, nested(17), nil, 400, vf, ""},
		{"nesting 1000 levels", post, tfers, nested(1000), nil, 400, vf, ""},
		{"60 KB of brackets", post, tfers, `{"metadata":` + strings.Repeat("[", 60<<10), nil, 400, vf, ""},

		// Duplicate keys.
		{"amount twice", post, tfers, tr(`,"amount":"1.00","amount":"9.00"`), nil, 400, vf, "amount"},
		{"to twice", post, tfers, `{"from":"alice","to":"bob","amount":"1.00","to":"eve"}`, nil, 400, vf, "to"},
		{"amount twice in other cases", post, tfers, tr(`,"amount":"1.00","AMOUNT":"9.00"`), nil, 400, vf, "AMOUNT"},
		{"from twice by escape", post, tfers, `{"from":"alice","to":"bob","\u0066rom":"eve","amount":"1.00"}`, nil, 400, vf, "from"},
		{"metadata key twice", post, tfers, tr(`,"amount":"1.00","metadata":{"k":"1","k":"2"}`), nil, 400, vf, "metadata.k"},
		{"account asset twice", post, accts, `{"id":"carol","asset":"USD","asset":"EUR"}`, nil, 400, vf, "asset"},
		{"asset scale twice", post, "/v1/assets", `{"code":"GBP","scale":2,"scale":0}`, nil, 400, vf, "scale"},

		// Numbers at the edges.
		{"amount of 39 digits", post, tfers, amount(strings.Repeat("9", 39)), nil, 400, amt, ""},
		{"amount of 39 digits quoted", post, tfers, amount(`"` + strings.Repeat("9", 39) + `"`), nil, 400, amt, ""},
		{"amount 10^38", post, tfers, amount("1" + strings.Repeat("0", 38)), nil, 400, amt, ""},
		{"amount 2^127", post, tfers, amount("170141183460469231731687303715884105728"), nil, 400, amt, ""},
		{"amount 2^128", post, tfers, amount(`"340282366920938463463374607431768211456"`), nil, 400, amt, ""},
		{"amount of 38 nines at scale 2", post, tfers, amount(strings.Repeat("9", 38)), nil, 400, amt, ""},
		{"amount of 5000 digits", post, tfers, amount(strings.Repeat("7", 5000)), nil, 400, amt, ""},
		{"amount negative zero", post, tfers, amount(`-0`), nil, 400, amt, ""},
		{"amount negative zero quoted", post, tfers, amount(`"-0.00"`), nil, 400, amt, ""},
		{"amount 0.0", post, tfers, amount(`0.0`), nil, 400, amt, ""},
		{"amount 1e3", post, tfers, amount(`1e3`), nil, 400, amt, ""},
		{"amount 1E3", post, tfers, amount(`1E3`), nil, 400, amt, ""},
		{"amount 1.50e1", post, tfers, amount(`1.50e1`), nil, 400, amt, ""},
		{"amount 1e-2", post, tfers, amount(`1e-2`), nil, 400, amt, ""},
		{"amount 1e400", post, tfers, amount(`1e400`), nil, 400, amt, ""},
		{"amount 00.5", post, tfers, amount(`00.5`), nil, 400, amt, ""},
		{"amount .5", post, tfers, amount(`.5`), nil, 400, amt, ""},
		{"amount with a plus", post, tfers, amount(`+1`), nil, 400, amt, ""},
		{"amount with a plus quoted", post, tfers, amount(`"+1.00"`), nil, 400, amt, ""},
		{"amount NaN", post, tfers, amount(`NaN`), nil, 400, amt, ""},
		{"amount Infinity", post, tfers, amount(`Infinity`), nil, 400, amt, ""},
		{"amount hexadecimal", post, tfers, amount(`"0x10"`), nil, 400, amt, ""},
		{"amount with a comma", post, tfers, amount(`"1,00"`), nil, 400, amt, ""},
		{"amount with a space", post, tfers, amount(`" 1.00"`), nil, 400, amt, ""},
		{"amount of full-width digits", post, tfers, amount(`"\uff11.\uff10\uff10"`), nil, 400, amt, ""},
		{"amount with too many decimals", post, tfers, amount(`"1.001"`), nil, 400, amt, ""},

		// Unknown fields.
		{"transfer unknown field", post, tfers, tr(`,"amount":"1.00","fee":"0.50"`), nil, 400, vf, ""},
		{"transfer __proto__", post, tfers, tr(`,"amount":"1.00","__proto__":{"admin":true}`), nil, 400, vf, ""},
		{"account unknown field", post, accts, `{"id":"carol","asset":"USD","balance":"1000000.00"}`, nil, 400, vf, ""},

		// Bodies and content types.
		{"empty body", post, tfers, "", nil, 400, vf, ""},
		{"null body", post, tfers, "null", nil, 400, vf, ""},
		{"array body", post, tfers, `[` + tr(`,"amount":"1.00"`) + `]`, nil, 400, vf, ""},
		{"string body", post, tfers, `"from=alice"`, nil, 400, vf, ""},
		{"two objects", post, tfers, tr(`,"amount":"1.00"`) + tr(`,"amount":"1.00"`), nil, 400, vf, ""},
		{"70 KB body", post, tfers, big, nil, 413, "payload_too_large", ""},
		{"70 KB body chunked", post, tfers, strings.NewReader(big), nil, 413, "payload_too_large", ""},
		{"text/plain", post, tfers, tr(`,"amount":"1.00"`), []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"form body", post, tfers, "from=alice&to=bob&amount=1.00", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"malformed Content-Type", post, tfers, tr(`,"amount":"1.00"`), []string{"Content-Type", "application/json;;;"}, 415, "unsupported_media_type", ""},
		{"application/jsonp", post, tfers, tr(`,"amount":"1.00"`), []string{"Content-Type", "application/jsonp"}, 415, "unsupported_media_type", ""},

		// Path ids.
		{"account id NUL", get, accts + "/%00", nil, nil, 400, vf, "id"},
		{"account id with a space", get, accts + "/a%20b", nil, nil, 400, vf, "id"},
		{"account id with a newline", get, accts + "/alice%0A/balance", nil, nil, 400, vf, "id"},
		{"account id RTL override", get, accts + "/%E2%80%AEevil", nil, nil, 400, vf, "id"},
		{"account id Cyrillic a", get, accts + "/%D0%B0lice/entries", nil, nil, 400, vf, "id"},
		{"account id of 65 characters", get, accts + "/" + long, nil, nil, 400, vf, "id"},
		{"transfer id dot-dot-slash", get, tfers + "/..%2F..", nil, nil, 400, vf, "id"},
		{"transfer id emoji", get, tfers + "/%F0%9F%99%82", nil, nil, 400, vf, "id"},
		{"transfer id invalid UTF-8", get, tfers + "/%FF", nil, nil, 400, vf, "id"},

		// Query parameters out of range.
		{"limit -1", get, tfers + "?limit=-1", nil, nil, 400, vf, "limit"},
		{"limit 1e2", get, tfers + "?limit=1e2", nil, nil, 400, vf, "limit"},
		{"limit beyond int64", get, tfers + "?limit=99999999999999999999", nil, nil, 400, vf, "limit"},
		{"entries limit 1e2", get, accts + "/alice/entries?limit=1e2", nil, nil, 400, vf, "limit"},
		{"as_of garbage", get, accts + "/alice/balance?as_of=garbage", nil, nil, 400, vf, "as_of"},
		{"as_of beyond uint64", get, accts + "/alice/balance?as_of=18446744073709551616", nil, nil, 400, vf, "as_of"},
		{"since yesterday", get, tfers + "?since=yesterday", nil, nil, 400, vf, "since"},
		{"cursor !!!", get, tfers + "?cursor=!!!", nil, nil, 400, vf, "cursor"},
		{"entries cursor !!!", get, accts + "/alice/entries?cursor=!!!", nil, nil, 400, vf, "cursor"},
		{"status maybe", get, tfers + "?status=maybe", nil, nil, 400, vf, "status"},
		{"account filter NUL", get, tfers + "?account=%00", nil, nil, 400, vf, "account"},
		{"reference filter of 513 characters", get, tfers + "?reference=" + strings.Repeat("r", 513), nil, nil, 400, vf, "reference"},

		// Batches: the same rules inside each transfer of the array.
		{"batch amount twice in an item", post, batch, `{"transfers":[` + tr(`,"amount":"1.00","amount":"9.00"`) + `]}`, nil, 400, vf, "transfers[].amount"},
		{"batch amount twice in other cases", post, batch, `{"transfers":[` + tr(`,"amount":"1.00","Amount":"9.00"`) + `]}`, nil, 400, vf, "transfers[].Amount"},
		{"batch transfers twice", post, batch, `{"transfers":[],"transfers":[` + tr(`,"amount":"1.00"`) + `]}`, nil, 400, vf, "transfers"},
		{"batch nested too deep", post, batch, `{"transfers":[` + nested(16) + `]}`, nil, 400, vf, ""},
		{"batch as an array", post, batch, `[` + tr(`,"amount":"1.00"`) + `]`, nil, 400, vf, ""},
		{"batch transfers as an object", post, batch, `{"transfers":` + tr(`,"amount":"1.00"`) + `}`, nil, 400, vf, ""},
		{"batch of no transfers", post, batch, `{"transfers":[]}`, nil, 400, vf, "transfers"},
		{"batch atomic as a string", post, batch, `{"transfers":[` + tr(`,"amount":"1.00"`) + `],"atomic":"yes"}`, nil, 400, vf, ""},

		// The issuer account and assets.
		{"mint of EUR into a USD account", post, tfers, `{"from":"world","to":"alice","amount":"1.00","asset":"EUR"}`, nil, 422, "asset_mismatch", ""},
		{"burn of EUR from a USD account", post, tfers, `{"from":"alice","to":"world","amount":"1.00","asset":"EUR"}`, nil, 422, "asset_mismatch", ""},
		{"mint of USD into an EUR account", post, tfers, `{"from":"world","to":"eve","amount":"1.00","asset":"USD"}`, nil, 422, "asset_mismatch", ""},
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := l.do(t, c.method, c.path, c.body, c.header...)
			if r.Status >= 500 {
				t.Fatalf("server error: %s", r)
			}
			e2eCheckProblem(t, r, c.status, c.code, c.field)
		})
	}

	// Nothing moved.
	for _, a := range involved {
		if got := l.account(t, a.id, a.asset).Balance; got != before[a] {
			t.Errorf("%s %s balance %s after the hostile requests, want %s", a.id, a.asset, got, before[a])
		}
	}
	j := l.journal(t)
	j.checkPosted(t, mint)
	if n := countPosted(j); n != postedBefore {
		t.Errorf("journal has %d TransferPosted events after the hostile requests, want %d", n, postedBefore)
	}
	l.checkZeroSum(t, "USD", "alice", "bob")
	l.checkZeroSum(t, "EUR", "eve")
}

func countPosted(j e2eJournal) int {
	n := 0
	for _, ev := range j {
		if ev.Type == domain.EventTransferPosted {
			n++
		}
	}
	return n
}
