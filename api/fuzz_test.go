package api

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/nats-ledger/ledger/domain"
)

// FuzzDecodeTransferRequest feeds arbitrary bytes as a POST /v1/transfers
// body through decodeBody and transferRequest, the handler's decoding
// path. It must never panic; an accepted body must be UTF-8 JSON that
// yields a valid transfer with a plain decimal amount; a refused one must
// be a 4xx problem with a code the API documents.
func FuzzDecodeTransferRequest(f *testing.F) {
	for _, s := range []string{
		`{"from":"alice","to":"bob","amount":"1.00"}`,
		`{"id":"t-1","from":"world","to":"bob","amount":25.5,"asset":"USD","reference":"lunch","metadata":{"k":"v"}}`,
		`{"from":"alice","to":"bob","amount":1e3}`,
		`{"from":"alice","to":"bob","amount":+1}`,
		`{"from":"alice","to":"bob","amount":00.5}`,
		`{"from":"alice","to":"bob","amount":-0}`,
		`{"from":"alice","to":"bob","amount":NaN}`,
		`{"from":"alice","to":"bob","amount":"340282366920938463463374607431768211456"}`,
		`{"from":"alice","to":"bob","amount":"1.00","amount":"9.00"}`,
		`{"from":"alice","to":"bob","amount":"1.00","AMOUNT":"9.00"}`,
		`{"from":"alice","to":"bob","amount":"1.00","a\u017fset":"EUR","asset":"USD"}`,
		`{"from":"alice","to":"bob","amount":"1.00","metadata":{"a":"1","\u0061":"2"}}`,
		`{"from":"alice","to":"bob","amount":"1.00","metadata":{"a":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}}`,
		`{"from":"\u0430lice","to":"bob\u202e","amount":"1.00","reference":"\ud800"}`,
		"{\"from\":\"alice\",\"to\":\"bob\",\"amount\":\"1.00\",\"reference\":\"\xff\x00\"}",
		"\xef\xbb\xbf{}",
		`null`, `[]`, ``, `{}`, `{"from":"alice","to":"bob","amount":null}`,
		`{"from":"alice","to":"bob","amount":{"v":1}}`,
		`{"from":"alice","to":"bob","amount":"1.00"} {}`,
	} {
		f.Add([]byte(s))
	}
	known := map[domain.Code]bool{}
	for _, c := range Codes() {
		known[c] = true
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		tr, err := decodeTransfer(body)
		if err != nil {
			p := problemOf(err).p
			if p.Status < 400 || p.Status > 499 || !known[p.Code] || p.Code == CodeInternal {
				t.Fatalf("%q refused with %d %s: %v", body, p.Status, p.Code, err)
			}
			return
		}
		if err := tr.Validate(); err != nil {
			t.Fatalf("%q accepted, but the transfer is invalid: %v", body, err)
		}
		if err := domain.CheckAmountLiteral(tr.Amount); err != nil {
			t.Fatalf("%q accepted with amount %q: %v", body, tr.Amount, err)
		}
		if !utf8.Valid(body) || !json.Valid(body) {
			t.Fatalf("%q accepted, but it is not UTF-8 JSON", body)
		}
		// The scanner let it through, so encoding/json sees no duplicate
		// and no case variant: a plain map holds each field as decoded.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%q accepted, but is not an object: %v", body, err)
		}
		for k, raw := range m {
			var got, want string
			switch foldKey(k) {
			case "FROM":
				got, want = tr.From, unquote(raw)
			case "TO":
				got, want = tr.To, unquote(raw)
			case "AMOUNT": // exactly the literal in the body, quoted or not
				got, want = tr.Amount, unquote(raw)
			default:
				continue
			}
			if got != want {
				t.Fatalf("%q: %s decoded as %q, the body says %s", body, k, got, raw)
			}
		}
		if len(body) > int(DefaultMaxBodyBytes) {
			t.Fatalf("accepted a body of %d bytes", len(body))
		}
	})
}

// unquote returns a JSON string's value, or any other JSON text as is.
func unquote(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
