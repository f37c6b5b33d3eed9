package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/api"
	"github.com/nats-ledger/ledger/commands"
	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/internal/ledgertest/apidoc"
	"github.com/nats-ledger/ledger/projections"
)

// The contract tests of api/openapi.json: the document is valid OpenAPI
// 3.1 JSON, lists exactly the routes the server registers, documents every
// error code with the status the server answers it with, and describes the
// bodies, statuses and headers the handlers actually produce.

// oaLoadDoc parses the document the server embeds and serves.
func oaLoadDoc(t *testing.T) map[string]any {
	t.Helper()
	return apidoc.Load(t, api.OpenAPI())
}

func TestOpenAPIDocument(t *testing.T) {
	doc := oaLoadDoc(t)
	if v, _ := doc["openapi"].(string); !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(v) {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	info := apidoc.Obj(t, doc, "info")
	for _, k := range []string{"title", "version"} {
		if s, _ := info[k].(string); s == "" {
			t.Errorf("info.%s is missing", k)
		}
	}
	// Every reference resolves.
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, err := apidoc.Resolve(doc, ref); err != nil {
					t.Errorf("%s: %v", at, err)
				}
			}
			for k, e := range v {
				walk(at+"/"+k, e)
			}
		case []any:
			for i, e := range v {
				walk(at+"/"+strconv.Itoa(i), e)
			}
		}
	}
	walk("#", doc)
	// Readable: 2-space indentation, as json.Indent would write it.
	var want bytes.Buffer
	if err := json.Indent(&want, bytes.TrimSpace(api.OpenAPI()), "", "  "); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(api.OpenAPI()), want.Bytes()) {
		t.Error("openapi.json is not indented with 2 spaces")
	}
}

// TestOpenAPIServed checks that the server serves the embedded document.
func TestOpenAPIServed(t *testing.T) {
	rec := oaDo(t, oaNew(api.Config{}, nil, nil), http.MethodGet, "/openapi.json", "", nil)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), api.OpenAPI()) {
		t.Fatalf("GET /openapi.json: %d, body equal: %v", rec.Code, bytes.Equal(rec.Body.Bytes(), api.OpenAPI()))
	}
	apidoc.CheckMediaType(t, rec, apidoc.MimeJSON)
}

var oaEchoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

func TestOpenAPIRoutes(t *testing.T) {
	doc := oaLoadDoc(t)
	e := oaNew(api.Config{}, nil, nil)
	registered := map[string]bool{}
	for _, r := range e.Routes() {
		if !slices.Contains(apidoc.Methods, strings.ToLower(r.Method)) {
			continue // Echo's internal pseudo-methods, such as echo_route_not_found
		}
		registered[r.Method+" "+oaEchoParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(registered) == 0 {
		t.Fatal("no routes registered")
	}
	// Echo answers OPTIONS on every registered path itself (204, Allow
	// naming the path's methods, no token needed): it is a route too.
	allowed := map[string][]string{}
	for k := range registered {
		method, path, _ := strings.Cut(k, " ")
		allowed[path] = append(allowed[path], method)
	}
	for path, methods := range allowed {
		target := strings.NewReplacer("{id}", "x", "{seq}", "1").Replace(path)
		rec := oaDo(t, e, http.MethodOptions, target, "", nil)
		got := strings.Split(rec.Header().Get("Allow"), ", ")
		want := append([]string{http.MethodOptions}, methods...)
		slices.Sort(got)
		slices.Sort(want)
		if rec.Code != http.StatusNoContent || !slices.Equal(got, want) {
			t.Errorf("OPTIONS %s: %d, Allow %v, want 204 and %v", path, rec.Code, got, want)
			continue
		}
		apidoc.CheckDocumented(t, doc, "OPTIONS "+path, rec, "")
		registered["OPTIONS "+path] = true
	}
	documented := apidoc.Operations(t, doc)
	for k := range registered {
		if documented[k] == nil {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	pathParam := regexp.MustCompile(`\{([^}]+)\}`)
	for k, op := range documented {
		if !registered[k] {
			t.Errorf("openapi.json documents %s, which is not a route", k)
		}
		// Every path template parameter is declared, required, in: path.
		declared := map[string]bool{}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			p := apidoc.Deref(t, doc, p)
			if p["in"] == "path" {
				declared[p["name"].(string)] = p["required"] == true
			}
		}
		for _, m := range pathParam.FindAllStringSubmatch(k, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %q is not declared as a required path parameter", k, m[1])
			}
		}
		if resp, _ := op["responses"].(map[string]any); len(resp) == 0 {
			t.Errorf("%s has no responses", k)
		}
	}
}

// oaErrorResponses returns every error response of the document (each
// operation's and components.responses), keyed by where it is.
func oaErrorResponses(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for k, op := range apidoc.Operations(t, doc) {
		for status, r := range apidoc.Obj(t, op, "responses") {
			if apidoc.IsErrorStatus(status) {
				out[k+" "+status] = apidoc.Deref(t, doc, r)
			}
		}
	}
	if comps, ok := apidoc.Obj(t, doc, "components")["responses"].(map[string]any); ok {
		for name, r := range comps {
			r := apidoc.Deref(t, doc, r)
			codes, _ := r["x-codes"].([]any)
			if len(codes) == 0 {
				t.Errorf("components.responses.%s has no x-codes", name)
				continue
			}
			// Its status is the status of its codes.
			st := apidoc.ErrorCodes(t, doc)[domain.Code(fmt.Sprint(codes[0]))]
			out["components.responses."+name+" "+strconv.Itoa(st)] = r
		}
	}
	return out
}

// TestOpenAPIErrorResponses checks that every error response is a Problem
// in application/problem+json and names its codes, each of which is in
// x-error-codes with the response's status, and that every code is named
// by some response.
func TestOpenAPIErrorResponses(t *testing.T) {
	doc := oaLoadDoc(t)
	table := apidoc.ErrorCodes(t, doc)
	named := map[domain.Code]bool{}
	for where, r := range oaErrorResponses(t, doc) {
		content, _ := r["content"].(map[string]any)
		if len(content) != 1 || content[apidoc.MimeProblem] == nil {
			t.Errorf("%s: content must be exactly %s, have %v", where, apidoc.MimeProblem, oaKeys(content))
			continue
		}
		schema, _ := content[apidoc.MimeProblem].(map[string]any)["schema"].(map[string]any)
		if schema["$ref"] != apidoc.ProblemRef {
			t.Errorf("%s: schema must be {$ref: %s}, have %v", where, apidoc.ProblemRef, schema)
		}
		codes, _ := r["x-codes"].([]any)
		if len(codes) == 0 {
			t.Errorf("%s: no x-codes", where)
		}
		status, _ := strconv.Atoi(where[strings.LastIndexByte(where, ' ')+1:])
		desc, _ := r["description"].(string)
		for _, c := range codes {
			code := domain.Code(fmt.Sprint(c))
			named[code] = true
			st, ok := table[code]
			switch {
			case !ok:
				t.Errorf("%s: code %s is not in x-error-codes", where, code)
			case st != status:
				t.Errorf("%s: code %s has status %d in x-error-codes", where, code, st)
			}
			if !strings.Contains(desc, string(code)) {
				t.Errorf("%s: description does not name code %s", where, code)
			}
		}
	}
	// A batch answers 200 with a problem per item: x-item-codes names the
	// codes those may carry.
	for k, op := range apidoc.Operations(t, doc) {
		responses, _ := op["responses"].(map[string]any)
		for status, r := range responses {
			rm, _ := r.(map[string]any)
			items, _ := rm["x-item-codes"].([]any)
			for _, c := range items {
				code := domain.Code(fmt.Sprint(c))
				if _, ok := table[code]; !ok {
					t.Errorf("%s %s: item code %s is not in x-error-codes", k, status, code)
				}
				named[code] = true
			}
		}
	}
	for code := range table {
		if !named[code] {
			t.Errorf("code %s is in x-error-codes but no response names it", code)
		}
	}
	// Success responses are JSON, or a stream of server-sent events (or,
	// for GET /metrics only, Prometheus text); a 204 has no body.
	for k, op := range apidoc.Operations(t, doc) {
		for status, r := range apidoc.Obj(t, op, "responses") {
			if apidoc.IsErrorStatus(status) {
				continue
			}
			content, _ := apidoc.Deref(t, doc, r)["content"].(map[string]any)
			if status == "204" {
				if content != nil {
					t.Errorf("%s 204: has content %v", k, oaKeys(content))
				}
				continue
			}
			if k == "GET /metrics" && len(content) == 1 && content["text/plain"] != nil {
				continue // the Prometheus text format, which scrapers expect
			}
			if len(content) != 1 || content[apidoc.MimeJSON] == nil && content[apidoc.MimeEventStream] == nil {
				t.Errorf("%s %s: content must be exactly %s (or %s), have %v", k, status, apidoc.MimeJSON, apidoc.MimeEventStream, oaKeys(content))
			}
		}
	}
	problem := apidoc.Deref(t, doc, map[string]any{"$ref": apidoc.ProblemRef})
	props, _ := problem["properties"].(map[string]any)
	for _, f := range []string{"type", "title", "status", "detail", "instance", "code"} {
		if props[f] == nil {
			t.Errorf("Problem schema lacks %q", f)
		}
	}
}

func oaKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIErrorCodes checks x-error-codes against the server: it holds
// exactly the codes of api.Codes (which must include every domain code),
// each with the status the server answers it with. A stub processor that
// rejects with each code makes the server round-trip every code through
// its status table; the transport codes are also triggered for real.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc := oaLoadDoc(t)
	table := apidoc.ErrorCodes(t, doc)
	codes := map[domain.Code]bool{}
	for _, c := range api.Codes() {
		codes[c] = true
	}
	for _, c := range domain.Codes {
		if !codes[c] {
			t.Errorf("domain code %s is not in api.Codes()", c)
		}
		codes[c] = true
	}
	for c := range codes {
		if _, ok := table[c]; !ok {
			t.Errorf("code %s is not in x-error-codes", c)
		}
	}
	for c := range table {
		if !codes[c] {
			t.Errorf("x-error-codes has %s, which is neither in api.Codes() nor domain.Codes", c)
		}
	}

	// The status of every code, round-tripped through the server.
	for c := range codes {
		e := oaNew(api.Config{}, &oaStubSubmit{results: []commands.Result{{Outcome: commands.OutcomeRejected, Code: c, Detail: "stub"}}}, &oaStubRead{})
		rec := oaDo(t, e, http.MethodPost, "/v1/assets", `{"code":"USD","scale":2}`, nil)
		apidoc.CheckProblem(t, doc, rec, c)
		if want, ok := table[c]; ok && rec.Code != want {
			t.Errorf("code %s: the server answers %d, x-error-codes says %d", c, rec.Code, want)
		}
	}
}

// TestOpenAPIContract exercises every operation with stub backends and
// checks each answer against the document: the status is declared for the
// operation, a success body matches its schema and carries the declared
// headers, and an error is a problem whose code the response declares.
func TestOpenAPIContract(t *testing.T) {
	doc := oaLoadDoc(t)
	failing := func(context.Context) error { return errors.New("nats: down") }
	noAnswer := commands.ErrNoAnswer
	full := commands.ErrCommandsFull
	cfg := api.Config{
		SyncTimeout:  time.Second,
		MaxBodyBytes: 1024,
	}
	limited := api.Config{MaxBodyBytes: 1024}
	rejected := func(c domain.Code) *oaStubSubmit {
		return &oaStubSubmit{results: []commands.Result{{Outcome: commands.OutcomeRejected, Code: c, Detail: "stub"}}}
	}
	outcome := func(o commands.Outcome) *oaStubSubmit {
		return &oaStubSubmit{results: []commands.Result{{Outcome: o, Seq: 7, Event: oaStubEvent()}}}
	}
	const (
		asset    = `{"code":"USD","scale":2}`
		account  = `{"id":"alice","asset":"USD","overdraft_limit":"10.00","owner":"user:1","metadata":{"k":"v"}}`
		transfer = `{"id":"t-1","from":"alice","to":"bob","amount":25.5,"reference":"memo"}`
	)
	big := `{"id":"t-1","from":"alice","to":"bob","amount":"1","reference":"` + strings.Repeat("x", 2000) + `"}`
	tests := []struct {
		name           string
		cfg            api.Config
		sub            api.Submitter
		read           api.ReadModel
		method, target string
		body           string
		header         map[string]string
		route          string      // the documented path
		status         int         // expected status
		code           domain.Code // for errors
		wantHeader     map[string]string
		chunked        bool
	}{
		// Failures that need no backend.
		{name: "unknown route", cfg: limited, method: "GET", target: "/v1/nope", status: 404, code: api.CodeNotFound},
		{name: "wrong method", cfg: limited, method: "DELETE", target: "/v1/accounts/alice", status: 405, code: api.CodeMethodNotAllowed, wantHeader: map[string]string{"Allow": "OPTIONS, GET, PATCH"}},
		{name: "body too large", cfg: limited, method: "POST", target: "/v1/transfers", body: big, route: "/v1/transfers", status: 413, code: api.CodePayloadTooLarge},
		{name: "chunked body too large", cfg: limited, method: "POST", target: "/v1/transfers", body: big, chunked: true, route: "/v1/transfers", status: 413, code: api.CodePayloadTooLarge},
		{name: "not JSON", cfg: limited, method: "POST", target: "/v1/assets", body: asset, header: map[string]string{"Content-Type": "text/plain"}, route: "/v1/assets", status: 415, code: api.CodeUnsupportedMediaType},
		{name: "bad asset code", cfg: limited, method: "POST", target: "/v1/assets", body: `{"code":"usd","scale":2}`, route: "/v1/assets", status: 400, code: domain.CodeValidationFailed},
		{name: "unknown field", cfg: limited, method: "POST", target: "/v1/accounts", body: `{"id":"a","asset":"USD","x":1}`, route: "/v1/accounts", status: 400, code: domain.CodeValidationFailed},
		{name: "world is reserved", cfg: limited, method: "POST", target: "/v1/accounts", body: `{"id":"world","asset":"USD"}`, route: "/v1/accounts", status: 400, code: domain.CodeValidationFailed},
		{name: "bad amount", cfg: limited, method: "POST", target: "/v1/transfers", body: `{"from":"a","to":"b","amount":"1e3"}`, route: "/v1/transfers", status: 400, code: domain.CodeInvalidAmount},
		{name: "same account", cfg: limited, method: "POST", target: "/v1/transfers", body: `{"from":"a","to":"a","amount":"1"}`, route: "/v1/transfers", status: 400, code: domain.CodeSameAccount},
		{name: "id differs from key", cfg: limited, method: "POST", target: "/v1/transfers", body: transfer, header: map[string]string{"Idempotency-Key": "t-2"}, route: "/v1/transfers", status: 400, code: domain.CodeValidationFailed},
		{name: "bad account id", cfg: limited, method: "GET", target: "/v1/accounts/a%20b", route: "/v1/accounts/{id}", status: 400, code: domain.CodeValidationFailed},
		{name: "world without asset", cfg: limited, method: "GET", target: "/v1/accounts/world/balance", route: "/v1/accounts/{id}/balance", status: 400, code: domain.CodeValidationFailed},
		{name: "bad limit", cfg: limited, method: "GET", target: "/v1/accounts/alice/entries?limit=101", route: "/v1/accounts/{id}/entries", status: 400, code: domain.CodeValidationFailed},
		{name: "bad as_of", cfg: limited, method: "GET", target: "/v1/accounts/alice/balance?as_of=yesterday", route: "/v1/accounts/{id}/balance", status: 400, code: domain.CodeValidationFailed},
		{name: "bad since", cfg: limited, method: "GET", target: "/v1/transfers?since=2025-01-01", route: "/v1/transfers", status: 400, code: domain.CodeValidationFailed},
		{name: "bad transfer id", cfg: limited, method: "GET", target: "/v1/transfers/%C3%A9", route: "/v1/transfers/{id}", status: 400, code: domain.CodeValidationFailed},
		{name: "not ready", cfg: api.Config{Ready: failing}, method: "GET", target: "/readyz", route: "/readyz", status: 503, code: api.CodeNotReady},

		// Operations.
		{name: "healthz", method: "GET", target: "/healthz", route: "/healthz", status: 200},
		{name: "readyz", method: "GET", target: "/readyz", route: "/readyz", status: 200},
		{name: "openapi", method: "GET", target: "/openapi.json", route: "/openapi.json", status: 200},

		// Assets.
		{name: "asset created", sub: outcome(commands.OutcomeCreated), method: "POST", target: "/v1/assets", body: asset, route: "/v1/assets", status: 201},
		{name: "asset existed", sub: outcome(commands.OutcomeExisted), method: "POST", target: "/v1/assets", body: asset, header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, route: "/v1/assets", status: 200},
		{name: "asset conflict", sub: rejected(domain.CodeAssetConflict), method: "POST", target: "/v1/assets", body: asset, route: "/v1/assets", status: 409, code: domain.CodeAssetConflict},
		{name: "asset queue full", cfg: cfg, sub: &oaStubSubmit{err: full}, method: "POST", target: "/v1/assets", body: asset, route: "/v1/assets", status: 503, code: api.CodeUnavailable, wantHeader: map[string]string{"Retry-After": "1"}},
		{name: "asset unexpected outcome", sub: outcome(commands.OutcomePosted), method: "POST", target: "/v1/assets", body: asset, route: "/v1/assets", status: 500, code: api.CodeInternal},

		// Accounts.
		{name: "account created", sub: outcome(commands.OutcomeCreated), read: &oaStubRead{}, method: "POST", target: "/v1/accounts", body: account, route: "/v1/accounts", status: 201, wantHeader: map[string]string{"Location": "/v1/accounts/alice"}},
		{name: "account existed", sub: outcome(commands.OutcomeExisted), read: &oaStubRead{}, method: "POST", target: "/v1/accounts", body: account, route: "/v1/accounts", status: 200, wantHeader: map[string]string{"Location": "/v1/accounts/alice"}},
		{name: "account no answer", cfg: cfg, sub: &oaStubSubmit{err: noAnswer}, method: "POST", target: "/v1/accounts", body: account, route: "/v1/accounts", status: 202, wantHeader: map[string]string{"Location": "/v1/accounts/alice"}},
		{name: "metadata updated", sub: outcome(commands.OutcomeUpdated), read: &oaStubRead{}, method: "PATCH", target: "/v1/accounts/alice", body: `{"metadata":{"k":"w"}}`, route: "/v1/accounts/{id}", status: 200, wantHeader: map[string]string{"Location": "/v1/accounts/alice"}},
		{name: "metadata no answer", cfg: cfg, sub: &oaStubSubmit{err: noAnswer}, method: "PATCH", target: "/v1/accounts/alice", body: `{"metadata":{}}`, route: "/v1/accounts/{id}", status: 202, wantHeader: map[string]string{"Location": "/v1/accounts/alice"}},
		{name: "metadata of another's", sub: rejected(domain.CodeForbidden), method: "PATCH", target: "/v1/accounts/alice", body: `{"metadata":{}}`, route: "/v1/accounts/{id}", status: 403, code: api.CodeForbidden},
		{name: "metadata of no account", sub: rejected(domain.CodeAccountNotFound), method: "PATCH", target: "/v1/accounts/alice", body: `{"metadata":{}}`, route: "/v1/accounts/{id}", status: 404, code: domain.CodeAccountNotFound},
		{name: "metadata missing", cfg: limited, method: "PATCH", target: "/v1/accounts/alice", body: `{}`, route: "/v1/accounts/{id}", status: 400, code: domain.CodeValidationFailed},
		{name: "account asset missing", sub: rejected(domain.CodeAssetNotFound), method: "POST", target: "/v1/accounts", body: account, route: "/v1/accounts", status: 404, code: domain.CodeAssetNotFound},
		{name: "account conflict", sub: rejected(domain.CodeAccountConflict), method: "POST", target: "/v1/accounts", body: account, route: "/v1/accounts", status: 409, code: domain.CodeAccountConflict},
		{name: "get account", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/alice", route: "/v1/accounts/{id}", status: 200},
		{name: "get world", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/world?asset=USD", route: "/v1/accounts/{id}", status: 200},
		{name: "get account missing", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/ghost", route: "/v1/accounts/{id}", status: 404, code: domain.CodeAccountNotFound},
		{name: "get account read model down", read: &oaStubRead{fail: true}, method: "GET", target: "/v1/accounts/alice", route: "/v1/accounts/{id}", status: 503, code: api.CodeUnavailable, wantHeader: map[string]string{"Retry-After": "1"}},
		{name: "entries", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/alice/entries?limit=2&cursor=Mw", route: "/v1/accounts/{id}/entries", status: 200},
		{name: "entries bad cursor", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/alice/entries?cursor=bogus", route: "/v1/accounts/{id}/entries", status: 400, code: domain.CodeValidationFailed},
		{name: "entries missing", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/ghost/entries", route: "/v1/accounts/{id}/entries", status: 404, code: domain.CodeAccountNotFound},
		{name: "balance now", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/alice/balance", route: "/v1/accounts/{id}/balance", status: 200},
		{name: "balance by sequence", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/alice/balance?as_of=3", route: "/v1/accounts/{id}/balance", status: 200},
		{name: "balance by time", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/world/balance?asset=USD&as_of=2025-01-02T03:04:05.5%2B01:00", route: "/v1/accounts/{id}/balance", status: 200},
		{name: "balance missing", read: &oaStubRead{}, method: "GET", target: "/v1/accounts/ghost/balance?as_of=3", route: "/v1/accounts/{id}/balance", status: 404, code: domain.CodeAccountNotFound},

		// Transfers.
		{name: "transfer posted", cfg: cfg, sub: outcome(commands.OutcomePosted), read: &oaStubRead{}, method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 201, wantHeader: map[string]string{"Location": "/v1/transfers/t-1"}},
		{name: "transfer replayed", cfg: cfg, sub: outcome(commands.OutcomeReplayed), read: &oaStubRead{}, method: "POST", target: "/v1/transfers", body: `{"from":"alice","to":"bob","amount":"25.50"}`, header: map[string]string{"Idempotency-Key": "t-1"}, route: "/v1/transfers", status: 200, wantHeader: map[string]string{"Location": "/v1/transfers/t-1", "Idempotent-Replayed": "true"}},
		{name: "transfer async", cfg: cfg, sub: &oaStubSubmit{}, read: &oaStubRead{}, method: "POST", target: "/v1/transfers", body: transfer, header: map[string]string{"Prefer": "wait=10, respond-async"}, route: "/v1/transfers", status: 202, wantHeader: map[string]string{"Location": "/v1/transfers/t-1"}},
		{name: "batch async", cfg: cfg, sub: &oaStubSubmit{}, method: "POST", target: "/v1/transfers/batch", body: `{"transfers":[{"id":"b-1","from":"alice","to":"bob","amount":"1"},{"id":"b-2","from":"alice","to":"alice","amount":"1"}]}`, header: map[string]string{"Prefer": "respond-async"}, route: "/v1/transfers/batch", status: 202},
		{name: "transfer sync timeout", cfg: cfg, sub: &oaStubSubmit{err: noAnswer}, method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 202, wantHeader: map[string]string{"Location": "/v1/transfers/t-1"}},
		{name: "transfer not stored", cfg: cfg, sub: &oaStubSubmit{err: errors.New("nats: timeout")}, method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 503, code: api.CodeUnavailable, wantHeader: map[string]string{"Retry-After": "1"}},
		{name: "insufficient funds", cfg: cfg, sub: rejected(domain.CodeInsufficientFunds), method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 422, code: domain.CodeInsufficientFunds, wantHeader: map[string]string{"Location": "/v1/transfers/t-1"}},
		{name: "asset mismatch", cfg: cfg, sub: rejected(domain.CodeAssetMismatch), method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 422, code: domain.CodeAssetMismatch},
		{name: "balance overflow", cfg: cfg, sub: rejected(domain.CodeBalanceOverflow), method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 422, code: domain.CodeBalanceOverflow},
		{name: "account missing", cfg: cfg, sub: rejected(domain.CodeAccountNotFound), method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 404, code: domain.CodeAccountNotFound},
		{name: "transfer asset missing", cfg: cfg, sub: rejected(domain.CodeAssetNotFound), method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 404, code: domain.CodeAssetNotFound},
		{name: "scale too fine", cfg: cfg, sub: rejected(domain.CodeInvalidAmount), method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 400, code: domain.CodeInvalidAmount, wantHeader: map[string]string{"Location": "/v1/transfers/t-1"}},
		{name: "idempotency conflict", cfg: cfg, sub: rejected(domain.CodeIdempotencyConflict), method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 409, code: domain.CodeIdempotencyConflict},
		{name: "transfer converted", cfg: cfg, sub: &oaStubSubmit{results: []commands.Result{{Outcome: commands.OutcomePosted, Seq: 8, Event: oaStubConverted()}}}, read: &oaStubRead{}, method: "POST", target: "/v1/transfers", body: `{"id":"x-1","from":"alice","to":"eve","amount":"10","exchange_rate":0.92}`, route: "/v1/transfers", status: 201},
		{name: "no rate", cfg: cfg, sub: rejected(domain.CodeRateNotFound), method: "POST", target: "/v1/transfers", body: `{"id":"x-1","from":"alice","to":"eve","amount":"10"}`, route: "/v1/transfers", status: 422, code: domain.CodeRateNotFound},
		{name: "bad exchange rate", cfg: limited, method: "POST", target: "/v1/transfers", body: `{"from":"alice","to":"eve","amount":"10","exchange_rate":"-1"}`, route: "/v1/transfers", status: 400, code: domain.CodeValidationFailed},
		{name: "fx is reserved", cfg: limited, method: "POST", target: "/v1/transfers", body: `{"from":"fx","to":"eve","amount":"10","asset":"EUR"}`, route: "/v1/transfers", status: 400, code: domain.CodeValidationFailed},
		{name: "fx without asset", cfg: limited, method: "GET", target: "/v1/accounts/fx", route: "/v1/accounts/{id}", status: 400, code: domain.CodeValidationFailed},
		{name: "rate set", cfg: cfg, sub: &oaStubSubmit{results: []commands.Result{{Outcome: commands.OutcomeUpdated, Seq: 7, Event: &domain.Event{Seq: 7, Type: domain.EventRateSet, Time: oaStubTime, Rate: &domain.RateSet{Base: "USD", Quote: "EUR", Rate: "0.92"}}}}}, method: "PUT", target: "/v1/rates/USD/EUR", body: `{"rate":"0.920"}`, route: "/v1/rates/{base}/{quote}", status: 200},
		{name: "rate set by a non-admin", cfg: cfg, sub: rejected(domain.CodeForbidden), method: "PUT", target: "/v1/rates/USD/EUR", body: `{"rate":"0.92"}`, route: "/v1/rates/{base}/{quote}", status: 403, code: api.CodeForbidden},
		{name: "rate of an undefined asset", cfg: cfg, sub: rejected(domain.CodeAssetNotFound), method: "PUT", target: "/v1/rates/USD/XYZ", body: `{"rate":"1"}`, route: "/v1/rates/{base}/{quote}", status: 404, code: domain.CodeAssetNotFound},
		{name: "rate zero", cfg: limited, method: "PUT", target: "/v1/rates/USD/EUR", body: `{"rate":"0"}`, route: "/v1/rates/{base}/{quote}", status: 400, code: domain.CodeValidationFailed},
		{name: "rate no answer", cfg: cfg, sub: &oaStubSubmit{err: noAnswer}, method: "PUT", target: "/v1/rates/USD/EUR", body: `{"rate":"0.92"}`, route: "/v1/rates/{base}/{quote}", status: 202},
		{name: "list rates", read: &oaStubRead{}, method: "GET", target: "/v1/rates", route: "/v1/rates", status: 200},

		// Lifecycle and listings (ADR 0024).
		{name: "limit set", cfg: cfg, sub: outcome(commands.OutcomeUpdated), read: &oaStubRead{}, method: "PUT", target: "/v1/accounts/alice/limit", body: `{"overdraft_limit":"100"}`, route: "/v1/accounts/{id}/limit", status: 200, wantHeader: map[string]string{"Location": "/v1/accounts/alice"}},
		{name: "limit unlimited, unchanged", cfg: cfg, sub: outcome(commands.OutcomeExisted), read: &oaStubRead{}, method: "PUT", target: "/v1/accounts/alice/limit", body: `{"overdraft_limit":"unlimited"}`, route: "/v1/accounts/{id}/limit", status: 200},
		{name: "limit by a non-admin", cfg: cfg, sub: rejected(domain.CodeForbidden), method: "PUT", target: "/v1/accounts/alice/limit", body: `{"overdraft_limit":"1"}`, route: "/v1/accounts/{id}/limit", status: 403, code: api.CodeForbidden},
		{name: "limit in use", cfg: cfg, sub: rejected(domain.CodeLimitInUse), method: "PUT", target: "/v1/accounts/alice/limit", body: `{"overdraft_limit":"1"}`, route: "/v1/accounts/{id}/limit", status: 409, code: domain.CodeLimitInUse},
		{name: "limit of a closed account", cfg: cfg, sub: rejected(domain.CodeAccountClosed), method: "PUT", target: "/v1/accounts/alice/limit", body: `{"overdraft_limit":"1"}`, route: "/v1/accounts/{id}/limit", status: 422, code: domain.CodeAccountClosed},
		{name: "limit missing", cfg: limited, method: "PUT", target: "/v1/accounts/alice/limit", body: `{}`, route: "/v1/accounts/{id}/limit", status: 400, code: domain.CodeValidationFailed},
		{name: "limit of the issuer", cfg: limited, method: "PUT", target: "/v1/accounts/world/limit", body: `{"overdraft_limit":"1"}`, route: "/v1/accounts/{id}/limit", status: 400, code: domain.CodeValidationFailed},
		{name: "limit no answer", cfg: cfg, sub: &oaStubSubmit{err: noAnswer}, method: "PUT", target: "/v1/accounts/alice/limit", body: `{"overdraft_limit":"1"}`, route: "/v1/accounts/{id}/limit", status: 202},
		{name: "frozen", cfg: cfg, sub: outcome(commands.OutcomeUpdated), read: &oaStubRead{}, method: "POST", target: "/v1/accounts/alice/freeze", body: `{"frozen":"all"}`, route: "/v1/accounts/{id}/freeze", status: 200},
		{name: "freeze mode unknown", cfg: limited, method: "POST", target: "/v1/accounts/alice/freeze", body: `{"frozen":"credits"}`, route: "/v1/accounts/{id}/freeze", status: 400, code: domain.CodeValidationFailed},
		{name: "freeze of no account", cfg: cfg, sub: rejected(domain.CodeAccountNotFound), method: "POST", target: "/v1/accounts/alice/freeze", body: `{"frozen":"debits"}`, route: "/v1/accounts/{id}/freeze", status: 404, code: domain.CodeAccountNotFound},
		{name: "unfrozen", cfg: cfg, sub: outcome(commands.OutcomeUpdated), read: &oaStubRead{}, method: "POST", target: "/v1/accounts/alice/unfreeze", route: "/v1/accounts/{id}/unfreeze", status: 200},
		{name: "closed", cfg: cfg, sub: outcome(commands.OutcomeUpdated), read: &oaStubRead{}, method: "POST", target: "/v1/accounts/alice/close", route: "/v1/accounts/{id}/close", status: 200},
		{name: "close with a balance", cfg: cfg, sub: rejected(domain.CodeAccountNotEmpty), method: "POST", target: "/v1/accounts/alice/close", route: "/v1/accounts/{id}/close", status: 409, code: domain.CodeAccountNotEmpty},
		{name: "account frozen", cfg: cfg, sub: rejected(domain.CodeAccountFrozen), method: "POST", target: "/v1/transfers", body: transfer, route: "/v1/transfers", status: 422, code: domain.CodeAccountFrozen},
		{name: "list accounts", read: &oaStubRead{}, method: "GET", target: "/v1/accounts?owner=user:1&asset=USD&status=open&metadata%5Btier%5D=gold&limit=10&cursor=YQ", route: "/v1/accounts", status: 200},
		{name: "list accounts, two metadata pairs", cfg: limited, method: "GET", target: "/v1/accounts?metadata%5Ba%5D=1&metadata%5Bb%5D=2", route: "/v1/accounts", status: 400, code: domain.CodeValidationFailed},
		{name: "list accounts, bad cursor", read: &oaStubRead{}, method: "GET", target: "/v1/accounts?cursor=bogus", route: "/v1/accounts", status: 400, code: domain.CodeValidationFailed},
		{name: "list assets", read: &oaStubRead{}, method: "GET", target: "/v1/assets?limit=5", route: "/v1/assets", status: 200},
		{name: "list assets read model down", read: &oaStubRead{fail: true}, method: "GET", target: "/v1/assets", route: "/v1/assets", status: 503, code: api.CodeUnavailable},
		{name: "list transfers", read: &oaStubRead{}, method: "GET", target: "/v1/transfers?account=alice&from=alice&to=bob&asset=USD&reference=memo&since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z&limit=100", route: "/v1/transfers", status: 200},
		{name: "get transfer", read: &oaStubRead{}, method: "GET", target: "/v1/transfers/t-1", route: "/v1/transfers/{id}", status: 200},
		{name: "get rejected transfer", read: &oaStubRead{}, method: "GET", target: "/v1/transfers/rejected", route: "/v1/transfers/{id}", status: 200},
		{name: "get transfer missing", read: &oaStubRead{}, method: "GET", target: "/v1/transfers/ghost", route: "/v1/transfers/{id}", status: 404, code: api.CodeTransferNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := oaNew(tc.cfg, tc.sub, tc.read)
			rec := oaDoChunked(t, e, tc.method, tc.target, tc.body, tc.header, tc.chunked)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			for h, v := range tc.wantHeader {
				if got := rec.Header().Get(h); got != v {
					t.Errorf("header %s = %q, want %q", h, got, v)
				}
			}
			if tc.code != "" {
				apidoc.CheckProblem(t, doc, rec, tc.code)
			}
			if tc.route == "" {
				return
			}
			apidoc.CheckDocumented(t, doc, tc.method+" "+tc.route, rec, tc.code)
		})
	}

	// A transfer answered 202 reads as pending on the same server.
	t.Run("pending transfer", func(t *testing.T) {
		e := oaNew(cfg, &oaStubSubmit{}, &oaStubRead{})
		rec := oaDo(t, e, "POST", "/v1/transfers", `{"from":"alice","to":"bob","amount":"1"}`, map[string]string{"Prefer": "respond-async", "Idempotency-Key": "ghost"})
		if rec.Code != http.StatusAccepted {
			t.Fatalf("POST: %d %s", rec.Code, rec.Body)
		}
		rec = oaDo(t, e, "GET", rec.Header().Get("Location"), "", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"pending"`) {
			t.Fatalf("GET: %d %s", rec.Code, rec.Body)
		}
		apidoc.CheckDocumented(t, doc, "GET /v1/transfers/{id}", rec, "")
	})
}

// oaToken is the admin token every server built by oaNew accepts.
const oaToken = "oa-admin-token"

// oaNew is api.New with an authenticator that accepts oaToken as admin,
// unless cfg brings its own.
func oaNew(cfg api.Config, sub api.Submitter, read api.ReadModel) *echo.Echo {
	if cfg.Auth == nil {
		cfg.Auth = api.StaticToken{Token: oaToken, Subject: "oa-admin"}
	}
	return api.New(cfg, sub, read)
}

func oaDo(t *testing.T, h http.Handler, method, target, body string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	return oaDoChunked(t, h, method, target, body, header, false)
}

// oaDoChunked serves one request; chunked sends the body without a
// Content-Length.
func oaDoChunked(t *testing.T, h http.Handler, method, target, body string, header map[string]string, chunked bool) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // hides the length: ContentLength is -1
		}
	}
	req := httptest.NewRequest(method, target, r)
	if body != "" {
		req.Header.Set("Content-Type", apidoc.MimeJSON)
	}
	req.Header.Set("Authorization", "Bearer "+oaToken)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// TestOpenAPIValidator makes sure the schema checks above can fail.
func TestOpenAPIValidator(t *testing.T) {
	doc := oaLoadDoc(t)
	view := func(mutate func(map[string]any)) map[string]any {
		v := map[string]any{"id": "alice", "asset": "USD", "balance": "1.00", "overdraft_limit": "0.00",
			"owner": "", "metadata": map[string]any{}, "created_at": "2025-01-02T03:04:05Z", "sequence": float64(3), "status": "open"}
		if mutate != nil {
			mutate(v)
		}
		return v
	}
	s := map[string]any{"$ref": "#/components/schemas/AccountView"}
	if errs := apidoc.Validate(doc, s, view(nil), "v"); len(errs) > 0 {
		t.Fatalf("a valid AccountView fails: %v", errs)
	}
	for name, bad := range map[string]func(map[string]any){
		"empty balance":  func(v map[string]any) { v["balance"] = "" },
		"float balance":  func(v map[string]any) { v["balance"] = 1.5 },
		"no sequence":    func(v map[string]any) { delete(v, "sequence") },
		"bad time":       func(v map[string]any) { v["created_at"] = "yesterday" },
		"bad id":         func(v map[string]any) { v["id"] = "a b" },
		"metadata array": func(v map[string]any) { v["metadata"] = []any{} },
		"metadata null":  func(v map[string]any) { v["metadata"] = nil },
	} {
		if errs := apidoc.Validate(doc, s, view(bad), "v"); len(errs) == 0 {
			t.Errorf("%s: an invalid AccountView passes", name)
		}
	}
	if errs := apidoc.Validate(doc, map[string]any{"$ref": "#/components/schemas/Metadata"}, map[string]any{"k": "a\u2028b"}, "m"); len(errs) == 0 {
		t.Error("metadata with a control character passes")
	}
}

// Stub backends.

type oaStubSubmit struct {
	results []commands.Result
	err     error
	calls   int // Submit calls, for tests that run one request at a time
}

func (s *oaStubSubmit) Submit(_ context.Context, items []commands.Item, wait bool) ([]commands.Result, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	if !wait {
		return nil, nil
	}
	out := make([]commands.Result, len(items))
	for i := range out {
		out[i] = s.results[0]
	}
	return out, nil
}

var oaStubTime = time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)

func oaStubEvent() *domain.Event {
	return &domain.Event{
		Seq: 7, Type: "transfer_posted", Time: oaStubTime,
		Account: &domain.Account{ID: "alice", Asset: "USD", OverdraftLimit: "10.00"},
		Transfer: &domain.PostedTransfer{
			Transfer: domain.Transfer{ID: "t-1", From: "alice", To: "bob", Amount: "25.50", Asset: "USD", Reference: "memo"},
			Entries: [2]domain.Entry{
				{Account: "alice", Type: domain.Debit, Amount: "25.50", Balance: "-5.50"},
				{Account: "bob", Type: domain.Credit, Amount: "25.50", Balance: "25.50"},
			},
		},
	}
}

type oaStubRead struct{ fail bool }

var errOAStubDown = errors.New("read model down")

func (r *oaStubRead) err(id string) error {
	switch {
	case r.fail:
		return errOAStubDown
	case id == "ghost":
		return projections.ErrNotFound
	}
	return nil
}

func (r *oaStubRead) Account(_ context.Context, id, asset string) (projections.AccountView, error) {
	if err := r.err(id); err != nil {
		return projections.AccountView{}, err
	}
	v := projections.AccountView{ID: id, Asset: "USD", Balance: "-5.50", OverdraftLimit: "10.00", Owner: "user:1",
		Metadata: map[string]string{"k": "v"}, CreatedAt: oaStubTime, Sequence: 7, Status: domain.AccountOpen}
	if id == domain.World {
		v.Asset, v.OverdraftLimit, v.Owner, v.Metadata = asset, domain.Unlimited, "", map[string]string{}
	}
	return v, nil
}

func (r *oaStubRead) Transfer(_ context.Context, id string) (projections.TransferView, error) {
	if err := r.err(id); err != nil {
		return projections.TransferView{}, err
	}
	if id == "rejected" {
		at := oaStubTime
		return projections.TransferView{ID: id, Status: projections.StatusRejected, From: "alice", To: "nobody",
			Amount: "1", Metadata: map[string]string{}, Sequence: 8, Code: string(domain.CodeAccountNotFound), Detail: "account nobody does not exist", RejectedAt: &at}, nil
	}
	return projections.TransferView{ID: id, Status: projections.StatusPosted, From: "alice", To: "bob", Amount: "25.50",
		Asset: "USD", Reference: "memo", Metadata: map[string]string{}, Sequence: 7, PostedAt: &oaStubTime, Entries: oaStubEvent().Transfer.Entries[:]}, nil
}

func (r *oaStubRead) Transfers(ctx context.Context, f projections.TransferFilter) (projections.Page[projections.TransferView], error) {
	posted, err := r.Transfer(ctx, "t-1")
	if err != nil {
		return projections.Page[projections.TransferView]{}, err
	}
	rejected, _ := r.Transfer(ctx, "rejected")
	next := "Nw"
	return projections.Page[projections.TransferView]{Data: []projections.TransferView{rejected, posted}, NextCursor: &next}, nil
}

func (r *oaStubRead) Entries(_ context.Context, account, _, cursor string, _ int) (projections.Page[projections.EntryView], error) {
	if err := r.err(account); err != nil {
		return projections.Page[projections.EntryView]{}, err
	}
	if cursor == "bogus" {
		return projections.Page[projections.EntryView]{}, projections.ErrBadCursor
	}
	return projections.Page[projections.EntryView]{Data: []projections.EntryView{
		{TransferID: "t-1", Sequence: 7, Type: domain.Debit, Amount: "25.50", Balance: "-5.50", Reference: "memo", PostedAt: oaStubTime},
		{TransferID: "t-0", Sequence: 5, Type: domain.Credit, Amount: "20.00", Balance: "20.00", PostedAt: oaStubTime},
	}}, nil
}

func (r *oaStubRead) BalanceAsOf(_ context.Context, account, asset string, asOf projections.AsOf) (projections.BalanceView, error) {
	if err := r.err(account); err != nil {
		return projections.BalanceView{}, err
	}
	if asset == "" {
		asset = "USD"
	}
	v := projections.BalanceView{Account: account, Asset: asset, Balance: "20.00", AsOf: projections.AsOfView{Sequence: min(asOf.Seq, 9)}}
	if !asOf.Time.IsZero() {
		t := asOf.Time
		v.AsOf.Time, v.AsOf.Sequence = &t, 5
	}
	return v, nil
}

func (r *oaStubRead) Checkpoint(context.Context) (projections.Checkpoint, error) {
	if r.fail {
		return projections.Checkpoint{}, errOAStubDown
	}
	return projections.Checkpoint{Seq: 9}, nil
}

func (r *oaStubRead) WaitSeq(context.Context, uint64) error { return nil }

func (r *oaStubRead) Transaction(context.Context, string) (projections.TransactionView, error) {
	return projections.TransactionView{}, projections.ErrNotFound
}

func (r *oaStubRead) Rates(context.Context) ([]projections.RateView, error) {
	if r.fail {
		return nil, errOAStubDown
	}
	return []projections.RateView{{Base: "USD", Quote: "EUR", Rate: "0.92", Sequence: 7, SetAt: oaStubTime}}, nil
}

func (r *oaStubRead) Accounts(ctx context.Context, f projections.AccountFilter) (projections.Page[projections.AccountView], error) {
	if f.Cursor == "bogus" {
		return projections.Page[projections.AccountView]{}, projections.ErrBadCursor
	}
	v, err := r.Account(ctx, "alice", "")
	if err != nil {
		return projections.Page[projections.AccountView]{}, err
	}
	next := "YWxpY2U"
	return projections.Page[projections.AccountView]{Data: []projections.AccountView{v}, NextCursor: &next}, nil
}

func (r *oaStubRead) Assets(context.Context, int, string) (projections.Page[projections.AssetView], error) {
	if r.fail {
		return projections.Page[projections.AssetView]{}, errOAStubDown
	}
	return projections.Page[projections.AssetView]{Data: []projections.AssetView{{Code: "USD", Scale: 2, CreatedAt: oaStubTime, Sequence: 1}}}, nil
}

// oaStubConverted is a conversion of 10.00 USD to 9.20 EUR as the
// processor answers it.
func oaStubConverted() *domain.Event {
	return &domain.Event{Seq: 8, Type: domain.EventTransferConverted, Time: oaStubTime, Conversion: &domain.ConvertedTransfer{
		Transfer: domain.Transfer{ID: "x-1", From: "alice", To: "eve", Amount: "10.00", Asset: "USD", ExchangeRate: "0.92"},
		RateFrom: domain.RateFromTable, ToAsset: "EUR", ToAmount: "9.20",
		Entries: [4]domain.Entry{
			{Account: "alice", Type: domain.Debit, Amount: "10.00", Balance: "0.00"},
			{Account: domain.FX, Type: domain.Credit, Amount: "10.00", Balance: "10.00"},
			{Account: domain.FX, Type: domain.Debit, Amount: "9.20", Balance: "-9.20"},
			{Account: "eve", Type: domain.Credit, Amount: "9.20", Balance: "9.20"},
		},
	}}
}

func (r *oaStubRead) Applied() projections.Checkpoint { return projections.Checkpoint{Seq: 9} }
