package api

import (
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// decodeBatch reads a batch body like decodeBody, but first tries
// fastBatch, a decoder for the plain form batches nearly always take: at
// 1,000 items a body, scanBody and encoding/json's two passes (validate,
// then decode by reflection) were a quarter of the server's CPU under
// batches of 1,000, about 4 µs an item. Any body fastBatch does not take
// whole goes the general way, which alone produces errors, so the answer
// to any body is what decodeBody gives; FuzzFastBatchAgreesWithDecodeBody
// checks that on every body fastBatch accepts.
func decodeBatch(c echo.Context, req *batchRequest) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if fastBatch(body, req) {
		return nil
	}
	*req = batchRequest{}
	return decodeJSON(body, req)
}

// fastBatch decodes body into req if the body is in the plain form: valid
// UTF-8, one object with "transfers" (an array of objects) and "atomic"
// (a boolean), each at most once; each transfer's keys spelled exactly as
// its fields' tags, each at most once, with strings without escapes or
// control characters, booleans, and a metadata object of such strings
// with distinct keys. Anything else (null, a number, an escape, another
// spelling of a key, a syntax error) makes it return false, leaving req
// partly written, and the body is left to the general decoder.
func fastBatch(body []byte, req *batchRequest) bool {
	if !utf8.Valid(body) {
		return false
	}
	p := fastParser{data: body}
	if !p.byte('{') {
		return false
	}
	var seen [2]bool
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.raw()
		if !ok || !p.byte(':') {
			return false
		}
		switch string(key) {
		case "transfers":
			if seen[0] || !p.transfers(&req.Transfers) {
				return false
			}
			seen[0] = true
		case "atomic":
			if seen[1] || !p.boolean(&req.Atomic) {
				return false
			}
			seen[1] = true
		default:
			return false
		}
	}
	p.ws()
	return p.pos == len(p.data)
}

// fastParser walks a body for fastBatch; every method returns false on
// anything outside the plain form.
type fastParser struct {
	data []byte
	pos  int
}

func (p *fastParser) ws() { p.pos = skipSpace(p.data, p.pos) }

// byte consumes c after any whitespace.
func (p *fastParser) byte(c byte) bool {
	p.ws()
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// str reads a string without escapes or control characters.
func (p *fastParser) str() (string, bool) {
	b, ok := p.raw()
	return string(b), ok
}

// raw is str's text in the body, not copied: keys are compared in place.
func (p *fastParser) raw() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.pos
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == '"':
			p.pos++
			return p.data[start : p.pos-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.pos++
	}
	return nil, false
}

func (p *fastParser) boolean(v *bool) bool {
	p.ws()
	rest := p.data[p.pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		*v, p.pos = true, p.pos+4
	case len(rest) >= 5 && string(rest[:5]) == "false":
		*v, p.pos = false, p.pos+5
	default:
		return false
	}
	return true
}

// transfers reads the array of transfers.
func (p *fastParser) transfers(out *[]transferRequest) bool {
	if !p.byte('[') {
		return false
	}
	ts := make([]transferRequest, 0, min(MaxBatchItems, len(p.data)/32))
	for first := true; ; first = false {
		if p.byte(']') {
			*out = ts
			return true
		}
		if !first && !p.byte(',') {
			return false
		}
		ts = append(ts, transferRequest{})
		if !p.transfer(&ts[len(ts)-1]) {
			return false
		}
	}
}

// transferKeys are a transfer's keys in the plain form, each a bit of the
// mask that refuses a key seen twice.
var transferKeys = map[string]uint16{
	"id": keyID, "from": keyFrom, "to": keyTo, "amount": keyAmount, "asset": keyAsset,
	"reference": keyReference, "metadata": keyMetadata, "memo": keyMemo,
	"exchange_rate": keyExchangeRate, "pending": keyPending, "expires_at": keyExpiresAt,
}

const (
	keyID uint16 = 1 << iota
	keyFrom
	keyTo
	keyAmount
	keyAsset
	keyReference
	keyMetadata
	keyMemo
	keyExchangeRate
	keyPending
	keyExpiresAt
)

// transfer reads one transfer object into t.
func (p *fastParser) transfer(t *transferRequest) bool {
	if !p.byte('{') {
		return false
	}
	var seen uint16
	for first := true; ; first = false {
		if p.byte('}') {
			return true
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.raw()
		bit := transferKeys[string(key)]
		if !ok || bit == 0 || seen&bit != 0 || !p.byte(':') {
			return false
		}
		seen |= bit
		if !p.transferField(t, bit) {
			return false
		}
	}
}

// transferField reads the value of t's field whose transferKeys bit is
// bit.
func (p *fastParser) transferField(t *transferRequest, bit uint16) bool {
	switch bit {
	case keyMemo:
		return p.boolean(&t.Memo)
	case keyPending:
		return p.boolean(&t.Pending)
	case keyMetadata:
		return p.metadata(&t.Metadata)
	}
	s, ok := p.str()
	if !ok {
		return false
	}
	switch bit {
	case keyID:
		t.ID = &s
	case keyFrom:
		t.From = &s
	case keyTo:
		t.To = &s
	case keyAmount:
		t.Amount = amountField{text: s, set: true}
	case keyExchangeRate:
		t.ExchangeRate = amountField{text: s, set: true}
	case keyAsset:
		t.Asset = s
	case keyReference:
		t.Reference = s
	case keyExpiresAt:
		t.ExpiresAt = s
	}
	return true
}

// metadataKeysMax bounds the keys fastBatch reads into one metadata
// object; a larger one goes the general way (which the metadata rules
// then refuse).
const metadataKeysMax = 64

// metadata reads an object of strings with distinct keys.
func (p *fastParser) metadata(out *map[string]string) bool {
	if !p.byte('{') {
		return false
	}
	m := map[string]string{}
	for first := true; ; first = false {
		if p.byte('}') {
			*out = m
			return true
		}
		if !first && !p.byte(',') {
			return false
		}
		k, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		v, ok := p.str()
		if _, dup := m[k]; !ok || dup || len(m) == metadataKeysMax {
			return false
		}
		m[k] = v
	}
}
