package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/domain"
	"github.com/nats-ledger/ledger/projections"
)

// FuzzTransferFastDecode checks that the hand-written decoder of a
// transfer body, where it answers, gives what encoding/json gives for the
// same body after scanBody, and leaves the request zero where it does not.
func FuzzTransferFastDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":"bench-1-0-7","from":"acct-1","to":"acct-2","amount":"0.07","asset":"BENCH","reference":"r"}`,
		` { "from" : "a" , "to":"b","amount":"1"} `,
		`{"from":"a","to":"b","amount":1.5}`,
		`{"from":"a","to":"b","amount":+1}`,
		`{"From":"a","to":"b","amount":"1"}`,
		`{"from":"a\u0041","to":"b","amount":"1"}`,
		`{"from":"a","to":"b","amount":"1","memo":true}`,
		`{"from":"a","to":"b","amount":"1","metadata":{}}`,
		`{"from":null,"to":"b","amount":"1"}`,
		`{}`, `{"x":"y"}`, `{"id":"é","from":"a","to":"b","amount":"1"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		scanned, err := scanBody(body, shapeOf(&transferRequest{}))
		if err != nil {
			return
		}
		var fast transferRequest
		if !fast.decodeFast(scanned) {
			if !reflect.DeepEqual(fast, transferRequest{}) {
				t.Fatalf("%q: declined, but left %+v", body, fast)
			}
			return
		}
		var slow transferRequest
		dec := json.NewDecoder(bytes.NewReader(scanned))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&slow); err != nil || dec.More() {
			t.Fatalf("%q: decoded by hand, refused by encoding/json: %v", body, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: by hand %+v, encoding/json %+v", body, fast, slow)
		}
	})
}

// FuzzTransferFastEncode checks that the hand-written answer to a posted
// transfer, where it answers, is byte for byte what encoding/json writes.
func FuzzTransferFastEncode(f *testing.F) {
	f.Add("bench-1-0-7", "acct-1", "acct-2", "0.07", "BENCH", "ref", "abc123", "", uint64(42), int64(1_765_000_000_123_456_789), false, uint8(0))
	f.Add("t\"1", "a\\b", "c\nd", "1", "USD", "é", "", "1.5", uint64(0), int64(0), true, uint8(1))
	f.Add("t<1>", "a&b", "c", "1", "USD", "\u2028", "h", "", uint64(1), int64(-9_000_000_000_000_000_000), false, uint8(2))
	f.Fuzz(func(t *testing.T, id, from, to, amount, asset, ref, hash, rate string, seq uint64, nanos int64, memo bool, shape uint8) {
		at := time.Unix(0, nanos).UTC()
		if shape&4 != 0 {
			at = at.In(time.FixedZone("x", 3600))
		}
		a := transferAnswer{TransferView: projections.TransferView{
			ID: id, Status: projections.StatusPosted, From: from, To: to, Amount: amount, Asset: asset,
			Reference: ref, Memo: memo, ExchangeRate: rate, Sequence: seq, Hash: hash, PostedAt: &at,
			Entries: []domain.Entry{{Account: from, Type: domain.Debit, Amount: amount, Balance: "-" + amount},
				{Account: to, Type: domain.Credit, Amount: amount, Balance: amount}},
		}}
		switch shape % 4 {
		case 0:
			a.Metadata = map[string]string{}
		case 1:
			a.Metadata = map[string]string{"k": id}
		case 2:
			a.Entries, a.PostedAt = nil, nil
		case 3:
			a.Hold = &projections.HoldView{Amount: amount}
		}
		var want bytes.Buffer
		if err := writeJSON(&want, a); err != nil {
			if a.appendFast(nil) != nil {
				t.Fatalf("encoding/json refuses %+v (%v), the hand-written encoder does not", a, err)
			}
			return
		}
		if got := a.appendFast(nil); got != nil && !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("by hand:\n%s\nencoding/json:\n%s", got, want.Bytes())
		}
	})
}

// TestTransferFastPathsTaken checks that a plain transfer, as clients and
// the bench send it, takes both hand-written paths, so that the fuzz
// tests above guard the path the load takes.
func TestTransferFastPathsTaken(t *testing.T) {
	var req transferRequest
	body := []byte(`{"id":"bench-1-0-7","from":"acct-1","to":"acct-2","amount":"0.07","asset":"BENCH","reference":"bench-run-1"}`)
	if !req.decodeFast(body) {
		t.Fatal("a plain transfer body is not decoded by hand")
	}
	at := time.Date(2026, 12, 6, 18, 0, 0, 123, time.UTC)
	a := transferAnswer{TransferView: projections.TransferView{ID: "t-1", Status: projections.StatusPosted,
		From: "a", To: "b", Amount: "0.07", Asset: "BENCH", Metadata: map[string]string{}, Sequence: 9, Hash: "ff", PostedAt: &at,
		Entries: []domain.Entry{{Account: "a", Type: domain.Debit, Amount: "0.07", Balance: "9.93"}}}}
	if a.appendFast(nil) == nil {
		t.Fatal("a plain posting's answer is not encoded by hand")
	}
}

// TestScanBodyDuplicateKeysPastInline checks duplicate keys are refused
// whether the object holds them in keySet's inline spans or, past
// keySetInline keys, in its map, and that distinct keys pass both ways.
func TestScanBodyDuplicateKeysPastInline(t *testing.T) {
	shape := shapeOf(&transferRequest{})
	for _, n := range []int{keySetInline - 1, keySetInline, keySetInline + 1, 3 * keySetInline} {
		for _, dupOf := range []int{-1, 0, n - 1} {
			var b bytes.Buffer
			b.WriteString(`{"from":"a","to":"b","amount":"1","metadata":{`)
			for i := range n {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(`"k` + string(rune('A'+i%26)) + string(rune('a'+i/26)) + `":"v"`)
			}
			if dupOf >= 0 {
				b.WriteString(`,"k` + string(rune('A'+dupOf%26)) + string(rune('a'+dupOf/26)) + `":"w"`)
			}
			b.WriteString(`}}`)
			_, err := scanBody(b.Bytes(), shape)
			if (err != nil) != (dupOf >= 0) {
				t.Errorf("%d keys, duplicate of %d: %v", n, dupOf, err)
			}
		}
	}
	// Struct fields fold as encoding/json matches them: FROM is from.
	if _, err := scanBody([]byte(`{"from":"a","to":"b","amount":"1","FROM":"c"}`), shape); err == nil {
		t.Error("a case variant of a field was not refused")
	}
}
