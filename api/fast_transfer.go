package api

import (
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nats-ledger/ledger/domain"
)

// The hot path of POST /v1/transfers, without reflection: the common
// request body decoded and the posted answer encoded by hand. Each reports
// false (or nil) for anything outside its plain case, which encoding/json
// then handles as before; where they answer, they give what encoding/json
// gives (FuzzTransferFastDecode, FuzzTransferFastEncode).

// decodeFast decodes a body that scanBody has accepted when it is one
// transfer object in the plain form batches take (fastParser.transfer:
// keys spelled exactly as the fields' tags, each once, strings without
// escapes, booleans, a metadata object of such strings). On false req is
// left zero and encoding/json decodes the body.
func (req *transferRequest) decodeFast(body []byte) bool {
	p := fastParser{data: body}
	if p.transfer(req) {
		if p.ws(); p.pos == len(p.data) {
			return true
		}
	}
	*req = transferRequest{}
	return false
}

// appendFast appends the answer to a posted transfer as encoding/json
// (without HTML escaping) writes it, followed by a newline as
// json.Encoder ends a value, when every string in it is plain printable
// ASCII without quotes or backslashes and it has only the members a plain
// posting has (no hold, no reversals, metadata of plain strings). It
// returns nil otherwise.
func (a *transferAnswer) appendFast(b []byte) []byte {
	v := &a.TransferView
	if v.Hold != nil || len(v.Reversals) > 0 || v.RejectedAt != nil || v.Reversible != "" {
		return nil
	}
	if v.PostedAt != nil {
		if _, offset := v.PostedAt.Zone(); offset != 0 || v.PostedAt.Year() < 0 || v.PostedAt.Year() > 9999 {
			return nil // encoding/json refuses some such times: left to it
		}
	}
	w := fastWriter{b: b, ok: true}
	w.raw(`{"id":`)
	w.str(v.ID)
	w.member("status", v.Status)
	w.member("from", v.From)
	w.member("to", v.To)
	w.member("amount", v.Amount)
	w.member("asset", v.Asset)
	w.member("reference", v.Reference)
	w.metadata(v.Metadata)
	if v.Memo {
		w.raw(`,"memo":true`)
	}
	w.optional("exchange_rate", v.ExchangeRate)
	w.optional("to_asset", v.ToAsset)
	w.optional("to_amount", v.ToAmount)
	w.raw(`,"sequence":`)
	w.b = strconv.AppendUint(w.b, v.Sequence, 10)
	w.optional("hash", v.Hash)
	if v.PostedAt != nil {
		w.raw(`,"posted_at":"`)
		w.b = v.PostedAt.AppendFormat(w.b, time.RFC3339Nano)
		w.raw(`"`)
	}
	w.entries(v.Entries)
	w.optional("code", v.Code)
	w.optional("detail", v.Detail)
	w.optional("reverses", v.Reverses)
	w.raw("}\n")
	if !w.ok {
		return nil
	}
	return w.b
}

// fastWriter appends JSON; ok turns false at the first string it does
// not write exactly as encoding/json would.
type fastWriter struct {
	b  []byte
	ok bool
}

func (w *fastWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *fastWriter) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			w.ok = false
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

func (w *fastWriter) member(name, v string) {
	w.b = append(w.b, ',', '"')
	w.b = append(w.b, name...)
	w.b = append(w.b, '"', ':')
	w.str(v)
}

// optional writes an omitempty string member.
func (w *fastWriter) optional(name, v string) {
	if v != "" {
		w.member(name, v)
	}
}

// metadata writes a map as encoding/json does, keys sorted; only an empty
// or nil one is written here (a nil map is null).
func (w *fastWriter) metadata(m map[string]string) {
	switch {
	case m == nil:
		w.raw(`,"metadata":null`)
	case len(m) == 0:
		w.raw(`,"metadata":{}`)
	default:
		w.ok = false // sorted keys: left to encoding/json
	}
}

func (w *fastWriter) entries(es []domain.Entry) {
	if len(es) == 0 {
		return
	}
	w.raw(`,"entries":[`)
	for i, e := range es {
		if i > 0 {
			w.raw(",")
		}
		w.raw(`{"account":`)
		w.str(e.Account)
		w.member("type", e.Type)
		w.member("amount", e.Amount)
		w.member("balance", e.Balance)
		w.raw("}")
	}
	w.raw("]")
}

// answerBufs recycles the buffers answers are encoded into: the response
// writer copies them, so one is free again once written.
var answerBufs = sync.Pool{New: func() any { b := make([]byte, 0, answerBufBytes); return &b }}

// answerBufBytes is the starting size of an answer buffer: a plain
// posting's answer is about 500 bytes. Buffers that grew past
// answerBufMaxBytes are not kept, so the pool holds no large ones.
const (
	answerBufBytes    = 1 << 10
	answerBufMaxBytes = 16 << 10
)

// respondTransfer writes a transfer's answer with the status, encoded by
// hand when appendFast can, else by encoding/json: the same bytes either
// way.
func respondTransfer(c echo.Context, status int, a transferAnswer) error {
	bp := answerBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= answerBufMaxBytes {
			answerBufs.Put(bp)
		}
	}()
	b := a.appendFast((*bp)[:0])
	if b == nil {
		return respond(c, status, a)
	}
	*bp = b
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(b)
	return err
}
