package e2e_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/infra/auth"
)

// TestE2EIDsMadeOfDots refuses, for every kind of id a request names, the
// ids a URL path would rewrite: "." and ".." are dot segments that clients
// and proxies remove, so an account or transfer so named could be written
// but never read back ("..." is refused with them). Each refusal is 400
// validation_failed on the field, with a detail that names the rule.
func TestE2EIDsMadeOfDots(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	l.defineAsset(t, "USD", 2)
	l.openAccount(t, "alice", "USD")
	l.openAccount(t, "bob", "USD")
	l.mint(t, "alice", "10.00")

	const (
		post  = http.MethodPost
		get   = http.MethodGet
		vf    = "validation_failed"
		accts = "/v1/accounts"
		tfers = "/v1/transfers"
	)
	pay := func(id, from, to string) map[string]any {
		return map[string]any{"id": id, "from": from, "to": to, "amount": "1.00"}
	}
	var cases []hostileCase
	for _, dots := range []string{".", "..", "..."} {
		cases = append(cases,
			hostileCase{"account id " + dots, post, accts, map[string]any{"id": dots, "asset": "USD"}, nil, 400, vf, "id"},
			hostileCase{"transfer id " + dots, post, tfers, pay(dots, "alice", "bob"), nil, 400, vf, "id"},
			hostileCase{"Idempotency-Key " + dots, post, tfers, map[string]any{"from": "alice", "to": "bob", "amount": "1.00"}, []string{"Idempotency-Key", dots}, 400, vf, "id"},
			hostileCase{"from " + dots, post, tfers, pay("t-from", dots, "bob"), nil, 400, vf, "from"},
			hostileCase{"to " + dots, post, tfers, pay("t-to", "alice", dots), nil, 400, vf, "to"},
			hostileCase{"transfers filter " + dots, get, tfers + "?account=" + dots, nil, nil, 400, vf, "account"},
			hostileCase{"webhook account " + dots, post, "/v1/webhooks", map[string]any{"url": "https://hooks.example.com/x", "events": []string{"TransferPosted"}, "account": dots}, nil, 400, vf, "account"},
		)
	}
	// In paths: "..." as it is; "." and ".." percent-encoded so that the
	// client sends them unresolved. An encoded id is refused by the
	// character set, which has no '%': no id needs encoding in a URL, so
	// none has two spellings there.
	for _, enc := range []string{"...", "%2E", "%2E%2E", "%2e%2e", ".%2E", "%2E%2E%2E"} {
		cases = append(cases,
			hostileCase{"transfer path " + enc, get, tfers + "/" + enc, nil, nil, 400, vf, "id"},
			hostileCase{"account path " + enc, get, accts + "/" + enc + "/balance", nil, nil, 400, vf, "id"},
			hostileCase{"webhook path " + enc, get, "/v1/webhooks/" + enc, nil, nil, 400, vf, "id"},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := e2eCheckProblem(t, l.do(t, c.method, c.path, c.body, c.header...), c.status, c.code, c.field)
			rule := "only of dots"
			if strings.Contains(c.path, "%") {
				rule = "may contain only"
			}
			if p.Code == vf && !strings.Contains(p.Detail, rule) {
				t.Errorf("detail %q does not name the rule", p.Detail)
			}
		})
	}
	// In a batch, the item is refused on its own.
	r := l.do(t, post, tfers+"/batch", map[string]any{"transfers": []any{pay("..", "alice", "bob"), pay("ok-1", "alice", "bob")}})
	out := e2eJSON[e2eBatchResponse](t, r, http.StatusOK)
	if len(out.Results) != 2 || out.Results[0].Status != 400 || out.Results[0].Problem == nil || out.Results[0].Problem.Field != "id" || out.Results[1].Status != 201 {
		t.Errorf("batch with an item of id %q: %s", "..", r)
	}
	// Ids with dots among other characters stay valid and read back.
	for _, id := range []string{"a.", ".a", "v1..2", "...:"} {
		e2eJSON[e2eAccount](t, l.do(t, post, accts, map[string]any{"id": id, "asset": "USD"}), http.StatusCreated)
		if got := l.account(t, id, "USD"); got.ID != id {
			t.Errorf("account %q reads back as %q", id, got.ID)
		}
	}
}

// TestE2EWebhookURLsInEveryForm refuses at creation every spelling of a
// loopback, unspecified or private address a resolver or URL parser
// accepts, not only the canonical one, as the check at delivery would.
func TestE2EWebhookURLsInEveryForm(t *testing.T) {
	t.Parallel()
	l := e2eStart(t) // private networks not allowed: the default
	for _, url := range []string{
		"http://127.1/x", "http://0x7f000001/x", "http://2130706433/x", "http://0177.0.0.1/x", "http://0x7f.0.0.1/x",
		"http://017700000001/x", "http://127.0.0.1./x", "http://[::1]/x", "http://[::ffff:127.0.0.1]/x",
		"http://[::ffff:7f00:1]/x", "http://[0:0:0:0:0:ffff:127.0.0.1]/x", "http://0/x", "http://0.0.0.0/x",
		"http://localhost./x", "http://LocalHost/x", "http://app.localhost./x", "http://10.1/x", "http://192.168.257/x",
		"http://0xa9fea9fe/latest/meta-data", "http://[fe80::1%25eth0]/x", "http://1.2.3.4.5/x",
	} {
		t.Run(url, func(t *testing.T) {
			e2eCheckProblem(t, l.do(t, http.MethodPost, "/v1/webhooks", map[string]any{"url": url, "events": []string{"TransferPosted"}}), http.StatusBadRequest, "validation_failed", "url")
		})
	}
	list := e2eJSON[e2ePage[map[string]any]](t, l.do(t, http.MethodGet, "/v1/webhooks", nil), http.StatusOK)
	if len(list.Data) != 0 {
		t.Errorf("webhooks were created: %+v", list.Data)
	}
}

// TestE2EMalformedRegisteredClaims refuses tokens, correctly signed with
// the ledger's key, whose registered time claims are not JSON numbers: an
// exp of "9999999999" would otherwise never expire. Each is 401
// unauthorized, like any bad token; the same token with numbers works.
func TestE2EMalformedRegisteredClaims(t *testing.T) {
	t.Parallel()
	l := e2eStart(t)
	key, err := auth.LoadKey(l.node.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	exp, iat := strconv.FormatInt(now+3600, 10), strconv.FormatInt(now, 10)
	sign := func(claims string) string {
		enc := base64.RawURLEncoding.EncodeToString
		unsigned := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(claims))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(unsigned))
		return unsigned + "." + enc(mac.Sum(nil))
	}
	claims := func(fields string) string { return sign(`{"sub":"ops","scope":"admin"` + fields + `}`) }
	if r := l.as(claims(`,"exp":`+exp+`,"nbf":`+iat+`,"iat":`+iat)).do(t, http.MethodGet, "/v1/transfers", nil); r.Status != http.StatusOK {
		t.Fatalf("a well-formed token was refused: %s", r)
	}
	for name, fields := range map[string]string{
		"exp as a string":          `,"exp":"` + exp + `"`,
		"exp as a far string":      `,"exp":"99999999999"`,
		"exp as a boolean":         `,"exp":true`,
		"exp as null":              `,"exp":null`,
		"exp as an object":         `,"exp":{"s":` + exp + `}`,
		"exp as an array":          `,"exp":[` + exp + `]`,
		"nbf as a string":          `,"exp":` + exp + `,"nbf":"` + iat + `"`,
		"nbf as null":              `,"exp":` + exp + `,"nbf":null`,
		"iat as a string":          `,"exp":` + exp + `,"iat":"` + iat + `"`,
		"exp twice, last a string": `,"exp":` + exp + `,"exp":"` + exp + `"`,
		"sub as a number":          `,"exp":` + exp + `,"sub":7`,
		"no exp":                   ``,
	} {
		t.Run(name, func(t *testing.T) {
			r := l.as(claims(fields)).do(t, http.MethodGet, "/v1/transfers", nil)
			e2eCheckProblem(t, r, http.StatusUnauthorized, "unauthorized", "")
			if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
}
