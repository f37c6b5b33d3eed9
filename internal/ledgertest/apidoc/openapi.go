// Package apidoc holds the API's documents to the answers in tests: the
// OpenAPI document (api/openapi.json), which answers must match, and the
// code catalogue (docs/errors.md), which problems link to. The api
// package's contract tests and the end-to-end tests (test/e2e) check
// through it, so that both are held to one reading of the documents.
package apidoc

import (
	"bytes"
	"encoding/json"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/infra/schematest"
)

// Media types of the API's bodies, and the problem schema.
const (
	MimeJSON    = "application/json"
	MimeProblem = "application/problem+json"
	// MimeEventStream is the one other success body: GET /v1/events.
	MimeEventStream = "text/event-stream"
	ProblemRef      = "#/components/schemas/Problem"
)

// Methods are the path item fields that are operations.
var Methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Load parses an OpenAPI document, failing the test unless it is one JSON
// object and nothing after it.
func Load(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if dec.More() {
		t.Fatal("openapi.json: data after the document")
	}
	return doc
}

// LoadFile is Load of the file at path.
func LoadFile(t testing.TB, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Load(t, data)
}

// Obj returns v[key] as an object, failing the test if it is not one.
func Obj(t testing.TB, v any, key string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: parent is %T, not an object", key, v)
	}
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%s: %T, not an object", key, m[key])
	}
	return o
}

// Resolve follows a local JSON pointer such as "#/components/schemas/X".
func Resolve(doc map[string]any, ref string) (any, error) { return schematest.Resolve(doc, ref) }

// Deref returns v, or what it references when it is a {"$ref": ...} object.
func Deref(t testing.TB, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	for m != nil {
		ref, ok := m["$ref"].(string)
		if !ok {
			break
		}
		r, err := Resolve(doc, ref)
		if err != nil {
			t.Fatal(err)
		}
		m, _ = r.(map[string]any)
	}
	if m == nil {
		t.Fatalf("%v: not an object", v)
	}
	return m
}

// Operations returns the document's operations keyed by "METHOD /path".
func Operations(t testing.TB, doc map[string]any) map[string]map[string]any {
	t.Helper()
	ops := map[string]map[string]any{}
	for path, item := range Obj(t, doc, "paths") {
		item, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("paths[%s] is not an object", path)
		}
		for _, m := range Methods {
			if op, ok := item[m]; ok {
				ops[strings.ToUpper(m)+" "+path] = op.(map[string]any)
			}
		}
	}
	return ops
}

// ErrorCodes returns x-error-codes as code -> status.
func ErrorCodes(t testing.TB, doc map[string]any) map[domain.Code]int {
	t.Helper()
	out := map[domain.Code]int{}
	for code, v := range Obj(t, doc, "x-error-codes") {
		e, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("x-error-codes[%s] is not an object", code)
		}
		status, ok := e["status"].(float64)
		if !ok || status != math.Trunc(status) || status < 400 || status > 599 {
			t.Errorf("x-error-codes[%s].status = %v, want an HTTP error status", code, e["status"])
		}
		if d, _ := e["description"].(string); d == "" {
			t.Errorf("x-error-codes[%s] has no description", code)
		}
		out[domain.Code(code)] = int(status)
	}
	return out
}

// IsErrorStatus tells whether a response key of the document is an
// error's.
func IsErrorStatus(s string) bool {
	return s == "default" || strings.HasPrefix(s, "4") || strings.HasPrefix(s, "5")
}

// CheckDocumented checks rec against the document's response for op: the
// status is documented, with code among its x-codes when code is set, the
// documented headers are present, and a success body matches its schema.
func CheckDocumented(t testing.TB, doc map[string]any, op string, rec *httptest.ResponseRecorder, code domain.Code) {
	t.Helper()
	o := Operations(t, doc)[op]
	if o == nil {
		t.Fatalf("%s is not documented", op)
	}
	r, ok := Obj(t, o, "responses")[strconv.Itoa(rec.Code)]
	if !ok {
		t.Fatalf("%s: status %d is not documented", op, rec.Code)
	}
	resp := Deref(t, doc, r)
	if code != "" {
		codes, _ := resp["x-codes"].([]any)
		if !slices.Contains(codes, any(string(code))) {
			t.Errorf("%s %d: x-codes %v lacks %s", op, rec.Code, codes, code)
		}
	}
	if hs, ok := resp["headers"].(map[string]any); ok {
		for h, def := range hs {
			// A header declared "required": false is sent only in some
			// answers of this status; every other one must be present.
			if Deref(t, doc, def)["required"] == false {
				continue
			}
			if rec.Header().Get(h) == "" {
				t.Errorf("%s %d: documented header %s is missing", op, rec.Code, h)
			}
		}
	}
	if IsErrorStatus(strconv.Itoa(rec.Code)) {
		return // CheckProblem checks the body
	}
	if rec.Code == http.StatusNoContent {
		if rec.Body.Len() != 0 {
			t.Errorf("%s 204: body %q, want none", op, rec.Body)
		}
		return
	}
	CheckMediaType(t, rec, MimeJSON)
	content, _ := resp["content"].(map[string]any)
	media, _ := content[MimeJSON].(map[string]any)
	var body any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %d: body is not JSON: %v", op, rec.Code, err)
	}
	if errs := Validate(doc, media["schema"], body, "body"); len(errs) > 0 {
		t.Errorf("%s %d: body %s does not match the schema:\n%s", op, rec.Code, rec.Body, strings.Join(errs, "\n"))
	}
}

// CheckProblem checks that rec is a problem+json answer with code, whose
// body matches the Problem schema and agrees with the HTTP status.
func CheckProblem(t testing.TB, doc map[string]any, rec *httptest.ResponseRecorder, code domain.Code) {
	t.Helper()
	CheckMediaType(t, rec, MimeProblem)
	var p struct {
		Type      string      `json:"type"`
		Status    int         `json:"status"`
		Code      domain.Code `json:"code"`
		RequestID string      `json:"request_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v: %s", err, rec.Body)
	}
	if p.Code != code || p.Status != rec.Code || !strings.HasSuffix(p.Type, "#"+string(code)) {
		t.Errorf("problem %s: want code %s and status %d", rec.Body, code, rec.Code)
	}
	if id := rec.Header().Get("X-Request-Id"); id == "" || p.RequestID != id {
		t.Errorf("problem %s: request_id %q, want the X-Request-Id header %q", rec.Body, p.RequestID, id)
	}
	var body any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if errs := Validate(doc, map[string]any{"$ref": ProblemRef}, body, "problem"); len(errs) > 0 {
		t.Errorf("problem %s does not match the Problem schema:\n%s", rec.Body, strings.Join(errs, "\n"))
	}
}

// CheckMediaType checks rec's media type, parameters aside.
func CheckMediaType(t testing.TB, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	mt, _, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if err != nil || mt != want {
		t.Errorf("Content-Type %q, want %s", rec.Header().Get("Content-Type"), want)
	}
}

// Validate checks v against schema, resolving references in doc (the
// validator the event schemas' tests use too).
func Validate(doc map[string]any, schema, v any, at string) []string {
	return schematest.Validator{Root: doc}.Validate(schema, v, at)
}
