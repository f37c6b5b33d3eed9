package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
)

// nest returns a body whose "a" holds n-1 nested arrays, so that the body
// nests n levels in all.
func nest(n int) string {
	return `{"a":` + strings.Repeat("[", n-1) + strings.Repeat("]", n-1) + `}`
}

func TestScanBodyAccepts(t *testing.T) {
	transfer := shapeOf(&transferRequest{})
	for _, body := range []string{
		`{}`,
		` {"from":"alice","to":"bob","amount":"1.00"} `,
		"\r\n\t{\"from\":\"alice\",\"to\":\"bob\",\"amount\":1.5}\n",
		`{"from":"alice","to":"bob","amount":"1.00","metadata":{"a":"1","A":"2","b":"\u0061"}}`,
		`{"metadata":{"k":"\ud83d\ude00 \u00e9 \" \\ \/ \b \f \n \r \t"}}`,
		`{"amount":1e3,"x":[1,-0.5e-3,true,false,null,{"y":{}},[]]}`,
		`{"amount":"+1","reference":"١٢٣ ＡＢＣ 🙂"}`,
		nest(maxBodyDepth),
	} {
		out, err := scanBody([]byte(body), transfer)
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if string(out) != body {
			t.Errorf("%s: body changed to %s", body, out)
		}
		if !json.Valid(out) {
			t.Errorf("%s: accepted, but encoding/json says it is not JSON", body)
		}
	}
}

func TestScanBodyRefuses(t *testing.T) {
	transfer := shapeOf(&transferRequest{})
	cases := []struct {
		name, body string
		detail     string // a substring of the problem's detail
		field      string
	}{
		// Duplicate keys, at any depth, however spelled.
		{"duplicate amount", `{"amount":"1.00","amount":"100.00"}`, "more than once", "amount"},
		{"duplicate to", `{"to":"bob","from":"alice","to":"eve"}`, "more than once", "to"},
		{"duplicate amount of other types", `{"amount":1,"amount":null}`, "more than once", "amount"},
		{"duplicate metadata key", `{"metadata":{"a":"1","b":"2","a":"3"}}`, "more than once", "metadata.a"},
		{"duplicate key deep down", `{"x":[{"y":{"z":1,"z":2}}]}`, "more than once", "x[].y.z"},
		{"duplicate by escape", `{"metadata":{"a":"1","\u0061":"2"}}`, "more than once", "metadata.a"},
		{"duplicate by case", `{"amount":"1.00","Amount":"2.00"}`, "more than once", "Amount"},
		{"duplicate by upper case", `{"to":"bob","TO":"eve"}`, "more than once", "TO"},
		{"duplicate by long s", `{"asset":"USD","a\u017fset":"EUR"}`, "more than once", "aſset"},
		{"duplicate metadata", `{"metadata":{},"metadata":{"a":"1"}}`, "more than once", "metadata"},
		// Depth.
		{"one level too deep", nest(maxBodyDepth + 1), "deeper than 16 levels", ""},
		{"deep objects", `{"a":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 41), "deeper than 16 levels", ""},
		{"64 KiB of brackets", `{"a":` + strings.Repeat("[", 64<<10), "deeper than 16 levels", ""},
		// The top level.
		{"null", `null`, "must be a JSON object, not null", ""},
		{"array", `[{"amount":"1.00"}]`, "not an array", ""},
		{"string", `"{}"`, "not a string", ""},
		{"number", `1`, "not a number", ""},
		{"boolean", ` true`, "not a boolean", ""},
		{"empty", ``, "empty body", ""},
		{"only spaces", " \n\t ", "empty body", ""},
		{"garbage", `amount=1`, "unexpected 'a' at offset 0", ""},
		{"trailing object", `{}{}`, "data after the object", ""},
		{"trailing comma", `{"a":1,}`, "looking for a key", ""},
		{"trailing garbage", `{"a":1} x`, "data after the object", ""},
		// UTF-8.
		{"invalid byte in a value", "{\"reference\":\"a\xffb\"}", "not valid UTF-8 (byte 15)", ""},
		{"invalid byte in a key", "{\"\xfe\":1}", "not valid UTF-8 (byte 2)", ""},
		{"invalid byte outside strings", "{\"a\":1}\xff", "not valid UTF-8 (byte 7)", ""},
		{"overlong slash", "{\"id\":\"..\xc0\xaf..\"}", "not valid UTF-8 (byte 9)", ""},
		{"encoded surrogate", "{\"id\":\"\xed\xa0\x80\"}", "not valid UTF-8 (byte 7)", ""},
		{"truncated sequence", "{\"id\":\"\xe2\x82\"}", "not valid UTF-8", ""},
		{"lone high surrogate escape", `{"id":"\ud800"}`, "half of a UTF-16 surrogate pair", ""},
		{"lone low surrogate escape", `{"id":"\udc00x"}`, "half of a UTF-16 surrogate pair", ""},
		{"high surrogate then a letter", `{"id":"\ud800\u0041"}`, "half of a UTF-16 surrogate pair", ""},
		{"surrogate escape in a key", `{"\udfff":1}`, "half of a UTF-16 surrogate pair", ""},
		{"byte order mark", "\xef\xbb\xbf{\"a\":1}", "byte order mark", ""},
		// NUL and other control bytes.
		{"NUL in a string", "{\"id\":\"a\x00b\"}", "control character 0x00", ""},
		{"NUL in a key", "{\"\x00\":1}", "control character 0x00", ""},
		{"NUL before the body", "\x00{}", "unexpected '\\x00' at offset 0", ""},
		{"NUL after the body", "{}\x00", "data after the object", ""},
		{"NUL between tokens", "{\"a\":\x001}", "unexpected '\\x00'", ""},
		{"newline in a string", "{\"id\":\"a\nb\"}", "control character 0x0a", ""},
		{"tab in a string", "{\"id\":\"a\tb\"}", "control character 0x09", ""},
		// Other syntax.
		{"bad escape", `{"id":"\x41"}`, "in an escape", ""},
		{"short unicode escape", `{"id":"\u12"}`, "in a \\u escape", ""},
		{"unterminated string", `{"id":"abc`, "end of body in a string", ""},
		{"single quotes", `{'id':'a'}`, "looking for a key", ""},
		{"bare key", `{id:"a"}`, "looking for a key", ""},
		{"comment", `{"a":1 /* x */}`, "after an object value", ""},
		{"leading zero elsewhere", `{"scale":02}`, "after an object value", ""},
		{"plus elsewhere", `{"scale":+2}`, "looking for a value", ""},
		{"NaN elsewhere", `{"scale":NaN}`, "looking for a value", ""},
		{"truncated literal", `{"a":tru}`, "in a literal", ""},
		{"missing colon", `{"a" 1}`, "after a key", ""},
		{"unclosed", `{"a":[1,2}`, "after an array element", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := scanBody([]byte(c.body), transfer)
			if err == nil {
				t.Fatalf("%q accepted", c.body)
			}
			p := problemOf(err).p
			if p.Code != domain.CodeValidationFailed || p.Status != http.StatusBadRequest {
				t.Errorf("%q: %d %s, want 400 validation_failed", c.body, p.Status, p.Code)
			}
			if !strings.Contains(p.Detail, c.detail) {
				t.Errorf("%q: detail %q, want it to contain %q", c.body, p.Detail, c.detail)
			}
			if p.Field != c.field {
				t.Errorf("%q: field %q, want %q", c.body, p.Field, c.field)
			}
			// The scanner's syntax errors agree with encoding/json; its
			// other refusals are of JSON that encoding/json would take.
			if strings.HasPrefix(p.Detail, "malformed JSON body") && json.Valid([]byte(c.body)) {
				t.Errorf("%q: refused as malformed, but encoding/json accepts it", c.body)
			}
		})
	}
}

func TestScanBodyDepthLimit(t *testing.T) {
	if _, err := scanBody([]byte(nest(maxBodyDepth)), nil); err != nil {
		t.Errorf("%d levels refused: %v", maxBodyDepth, err)
	}
	if _, err := scanBody([]byte(nest(maxBodyDepth+1)), nil); err == nil {
		t.Errorf("%d levels accepted", maxBodyDepth+1)
	}
	objects := func(n int) string { // n levels of objects, the body included
		return strings.Repeat(`{"m":`, n-1) + `{}` + strings.Repeat(`}`, n-1)
	}
	if _, err := scanBody([]byte(objects(maxBodyDepth)), nil); err != nil {
		t.Errorf("%d levels of objects refused: %v", maxBodyDepth, err)
	}
	if _, err := scanBody([]byte(objects(maxBodyDepth+1)), nil); err == nil {
		t.Errorf("%d levels of objects accepted", maxBodyDepth+1)
	}
}

// TestScanBodyQuotesBareAmounts checks that an amount field's bare token
// that is not a JSON number reaches the field as its literal text, and
// that no such literal passes domain.CheckAmountLiteral.
func TestScanBodyQuotesBareAmounts(t *testing.T) {
	transfer := shapeOf(&transferRequest{})
	for _, lit := range []string{"+1", "+1.00", "00.5", "01", ".5", "1.", "-", "--1", "1.2.3", "0x10", "NaN",
		"Infinity", "-Infinity", "1e", "1e+", "1_000", "١", "1.5E+", "abc"} {
		if lit == "١" { // not ASCII: a syntax error, not an amount
			if _, err := scanBody([]byte(`{"amount":`+lit+`}`), transfer); err == nil {
				t.Errorf("amount %s accepted", lit)
			}
			continue
		}
		body := `{"from":"alice","amount":` + lit + `,"to":"bob"}`
		out, err := scanBody([]byte(body), transfer)
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		want := `{"from":"alice","amount":"` + lit + `","to":"bob"}`
		if string(out) != want {
			t.Errorf("%s: scanned to %s, want %s", body, out, want)
		}
		if domain.CheckAmountLiteral(lit) == nil {
			t.Errorf("%s: quoting made an acceptable amount", lit)
		}
	}
	// A case-folded key is the amount field too; a field that is not an
	// amount of this request gets no such treatment.
	if out, err := scanBody([]byte(`{"AMOUNT":+5}`), transfer); err != nil || string(out) != `{"AMOUNT":"+5"}` {
		t.Errorf(`{"AMOUNT":+5}: scanned to %s, %v`, out, err)
	}
	if _, err := scanBody([]byte(`{"overdraft_limit":+5}`), transfer); err == nil {
		t.Errorf(`{"overdraft_limit":+5} accepted for a transfer`)
	}
	for _, lit := range []string{"1e3", "1E3", "-0", "0.0", "1.50e1", "100000000000000000000000000000000000000"} {
		body := `{"amount":` + lit + `}`
		out, err := scanBody([]byte(body), transfer)
		if err != nil || string(out) != body {
			t.Errorf("%s: %s, %v; want it unchanged", body, out, err)
		}
	}
}

// testEcho makes contexts for decodeBody; an Echo is costly to build per call.
var testEcho = echo.New()

// decodeTransfer runs a body through decodeBody and transferRequest as
// POST /v1/transfers does.
func decodeTransfer(body []byte) (domain.Transfer, error) {
	r := httptest.NewRequest(http.MethodPost, "/v1/transfers", bytes.NewReader(body))
	r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(w, r.Body, DefaultMaxBodyBytes)
	c := testEcho.NewContext(r, w)
	var req transferRequest
	if err := decodeBody(c, &req); err != nil {
		return domain.Transfer{}, err
	}
	return req.transfer("")
}

// TestDecodeBodyAmountCodes checks that a malformed amount is invalid_amount
// whether it is quoted, a JSON number, or a bare token that is not one, and
// that a wrongly typed amount is validation_failed.
func TestDecodeBodyAmountCodes(t *testing.T) {
	for _, c := range []struct {
		amount string
		code   domain.Code
	}{
		{`"1.00"`, ""}, {`1.5`, ""}, {`"0.01"`, ""}, {`12345678901234567890123456789012345678`, ""},
		{`1e3`, domain.CodeInvalidAmount}, {`1E3`, domain.CodeInvalidAmount}, {`"1e3"`, domain.CodeInvalidAmount},
		{`-0`, domain.CodeInvalidAmount}, {`0.0`, domain.CodeInvalidAmount}, {`0`, domain.CodeInvalidAmount},
		{`00.5`, domain.CodeInvalidAmount}, {`1.50e1`, domain.CodeInvalidAmount}, {`+1`, domain.CodeInvalidAmount},
		{`"+1"`, domain.CodeInvalidAmount}, {`+1.00`, domain.CodeInvalidAmount}, {`.5`, domain.CodeInvalidAmount},
		{`NaN`, domain.CodeInvalidAmount}, {`-Infinity`, domain.CodeInvalidAmount}, {`-5`, domain.CodeInvalidAmount},
		{`123456789012345678901234567890123456789`, domain.CodeInvalidAmount}, // 39 digits
		{`170141183460469231731687303715884105728`, domain.CodeInvalidAmount}, // 2^127
		{`340282366920938463463374607431768211456`, domain.CodeInvalidAmount}, // 2^128
		{strings.Repeat("9", 5000), domain.CodeInvalidAmount},
		{`1e400`, domain.CodeInvalidAmount},
		{`true`, domain.CodeValidationFailed}, {`{}`, domain.CodeValidationFailed}, {`[1]`, domain.CodeValidationFailed},
		{`null`, domain.CodeValidationFailed}, {`nul`, domain.CodeValidationFailed}, {`"1.00" "2"`, domain.CodeValidationFailed},
	} {
		body := `{"from":"alice","to":"bob","amount":` + c.amount + `}`
		tr, err := decodeTransfer([]byte(body))
		if c.code == "" {
			if err != nil {
				t.Errorf("amount %s: %v", c.amount, err)
			} else if tr.Amount != strings.Trim(c.amount, `"`) {
				t.Errorf("amount %s decoded as %q", c.amount, tr.Amount)
			}
			continue
		}
		if err == nil {
			t.Errorf("amount %s accepted as %q", c.amount, tr.Amount)
			continue
		}
		if p := problemOf(err).p; p.Code != c.code || p.Status != http.StatusBadRequest {
			t.Errorf("amount %s: %d %s (%s), want 400 %s", c.amount, p.Status, p.Code, p.Detail, c.code)
		}
	}
}

// TestDecodeBodyOverdraftLimitCode checks that a bare malformed overdraft
// limit gets the code the quoted one gets from the handler: the account's
// validation_failed on overdraft_limit.
func TestDecodeBodyOverdraftLimitCode(t *testing.T) {
	for _, lit := range []string{`+1`, `"+1"`, `1e3`, `00.5`} {
		r := httptest.NewRequest(http.MethodPost, "/v1/accounts",
			strings.NewReader(`{"id":"carol","asset":"USD","overdraft_limit":`+lit+`}`))
		c := testEcho.NewContext(r, httptest.NewRecorder())
		var req accountRequest
		if err := decodeBody(c, &req); err != nil {
			t.Errorf("limit %s: %v", lit, err)
			continue
		}
		a := domain.Account{ID: *req.ID, Asset: *req.Asset, OverdraftLimit: req.OverdraftLimit.text}
		err := a.Validate()
		var fe *domain.FieldError
		if !errors.As(err, &fe) || fe.Field != "overdraft_limit" {
			t.Errorf("limit %s: %v, want a field error on overdraft_limit", lit, err)
		}
	}
}

// TestShapeOf checks the shapes of the request types: struct keys fold,
// map keys do not, amounts are found at any depth.
func TestShapeOf(t *testing.T) {
	tr := shapeOf(&transferRequest{})
	if !tr.fold || !tr.fields["AMOUNT"].amount || tr.fields["FROM"] != nil || tr.fields["METADATA"].fold {
		t.Errorf("transferRequest shape %+v", tr)
	}
	if sh := shapeOf(&accountRequest{}); !sh.fields["OVERDRAFT_LIMIT"].amount {
		t.Errorf("accountRequest shape %+v", sh)
	}
	b := shapeOf(&batchRequest{})
	if items := b.fields["TRANSFERS"]; items == nil || items.elem == nil || !items.elem.fields["AMOUNT"].amount {
		t.Errorf("batchRequest shape %+v", b)
	}
	type Base struct {
		Amount amountField `json:"amount"`
	}
	type node struct {
		Next   *node           `json:"next"`
		Hidden string          `json:"-"`
		Base                   // promoted, as encoding/json does
		Raw    json.RawMessage `json:"raw"`
	}
	sh := shapeOf(&node{})
	if sh.fields["NEXT"] != sh || !sh.fields["AMOUNT"].amount || len(sh.fields) != 3 || sh.fields["RAW"] != nil {
		t.Errorf("recursive shape %+v", sh)
	}
}

// TestScanBodyNested checks the rules inside a batch, where transfers are
// structs in an array.
func TestScanBodyNested(t *testing.T) {
	batch := shapeOf(&batchRequest{})
	item := `{"from":"alice","to":"bob","amount":"1.00"}`
	for _, c := range []struct{ body, field string }{
		{`{"transfers":[` + item + `,{"from":"alice","to":"bob","amount":"1.00","Amount":"9.00"}]}`, "transfers[].Amount"},
		{`{"transfers":[{"from":"alice","to":"bob","TO":"eve","amount":"1.00"}]}`, "transfers[].TO"},
		{`{"transfers":[{"metadata":{"k":"1","k":"2"}}]}`, "transfers[].metadata.k"},
		{`{"transfers":[],"Transfers":[` + item + `]}`, "Transfers"},
	} {
		_, err := scanBody([]byte(c.body), batch)
		if p := problemOf(err).p; err == nil || p.Field != c.field {
			t.Errorf("%s: %v, want a duplicate of %s", c.body, err, c.field)
		}
	}
	if _, err := scanBody([]byte(`{"transfers":[{"metadata":{"k":"1","K":"2"}}]}`), batch); err != nil {
		t.Errorf("metadata keys differing in case refused: %v", err)
	}
	out, err := scanBody([]byte(`{"transfers":[{"amount":+1},{"AMOUNT":00.5,"metadata":{"amount":"x"}}]}`), batch)
	if want := `{"transfers":[{"amount":"+1"},{"AMOUNT":"00.5","metadata":{"amount":"x"}}]}`; err != nil || string(out) != want {
		t.Errorf("bare amounts in a batch: %s, %v; want %s", out, err, want)
	}
	if _, err := scanBody([]byte(`{"transfers":[{"metadata":{"amount":+1}}]}`), batch); err == nil {
		t.Errorf("a bare +1 that is not an amount accepted")
	}
}

// BenchmarkScanBody measures the extra pass on a typical transfer.
func BenchmarkScanBody(b *testing.B) {
	body := []byte(`{"id":"t-123","from":"alice","to":"bob","amount":"25.50","reference":"lunch","metadata":{"order":"A-1","channel":"web"}}`)
	sh := shapeOf(&transferRequest{})
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := scanBody(body, sh); err != nil {
			b.Fatal(err)
		}
	}
}
