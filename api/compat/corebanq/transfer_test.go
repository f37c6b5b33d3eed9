package corebanq_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/api/compat"
)

// seedExample is the 201 answer in CoreBanq's documentation (seed 002).
const seedExample = `{
"transfer_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"source_entry": {
"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"ledger_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"transaction_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"amount": 123,
"type": "credit",
"description": "<string>",
"balance": 123,
"timestamp": "2023-11-07T05:31:56Z",
"metadata": {},
"created_at": "2023-11-07T05:31:56Z",
"created_by": "3c90c3cc-0d44-4b50-8888-8dd25736052a"
},
"destination_entry": {
"id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"ledger_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"transaction_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
"amount": 123,
"type": "credit",
"description": "<string>",
"balance": 123,
"timestamp": "2023-11-07T05:31:56Z",
"metadata": {},
"created_at": "2023-11-07T05:31:56Z",
"created_by": "3c90c3cc-0d44-4b50-8888-8dd25736052a"
},
"timestamp": "2023-11-07T05:31:56Z"
}`

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// sameShape reports where got differs from want in keys or JSON types.
func sameShape(t *testing.T, path string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want an object", path, got)
			return
		}
		if len(w) > 0 && len(g) != len(w) {
			t.Errorf("%s: %d fields, want %d", path, len(g), len(w))
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s.%s: missing", path, k)
				continue
			}
			sameShape(t, path+"."+k, gv, wv)
		}
	case json.Number:
		g, ok := got.(json.Number)
		if _, err := g.Int64(); !ok || err != nil {
			t.Errorf("%s: %v, want an integer", path, got)
		}
	case string:
		if _, ok := got.(string); !ok {
			t.Errorf("%s: %T, want a string", path, got)
		}
	default:
		t.Fatalf("%s: unexpected type %T in the seed", path, want)
	}
}

func decodeAny(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytesReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The seed's request answered 201 in the seed's shape: every field, with
// its JSON type; ids are UUIDs; amounts and balances are integers of
// minor units; the transfer is native, visible through the native API,
// and passes the audit.
func TestTransferSeedExample(t *testing.T) {
	f := setup(t)
	const txID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
	body := `{"destination_ledger_id":"` + bobLedger + `","amount":2,"transaction_id":"` + txID +
		`","description":"rent","metadata":{"invoice":"INV-7"}}`
	status, data := f.do(t, http.MethodPost, "/v1/ledgers/"+aliceLedger+"/transfer", f.alice, body)
	if status != http.StatusCreated {
		t.Fatalf("transfer: %d %s", status, data)
	}
	sameShape(t, "response", decodeAny(t, data), decodeAny(t, []byte(seedExample)))

	var res struct {
		TransferID       string         `json:"transfer_id"`
		SourceEntry      map[string]any `json:"source_entry"`
		DestinationEntry map[string]any `json:"destination_entry"`
		Timestamp        string
	}
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	if !uuidPattern.MatchString(res.TransferID) {
		t.Errorf("transfer_id %q is not a UUID", res.TransferID)
	}
	if _, err := time.Parse(time.RFC3339, res.Timestamp); err != nil {
		t.Errorf("timestamp: %v", err)
	}
	for _, c := range []struct {
		name            string
		e               map[string]any
		ledger, typ     string
		amount, balance float64
	}{
		{"source_entry", res.SourceEntry, aliceLedger, "debit", 2, 9998},
		{"destination_entry", res.DestinationEntry, bobLedger, "credit", 2, 2},
	} {
		want := map[string]any{"ledger_id": c.ledger, "type": c.typ, "amount": c.amount, "balance": c.balance,
			"transaction_id": txID, "description": "rent", "metadata": map[string]any{"invoice": "INV-7"},
			"created_by": "alice", "timestamp": res.Timestamp, "created_at": res.Timestamp}
		for k, w := range want {
			if !reflect.DeepEqual(c.e[k], w) {
				t.Errorf("%s.%s = %v, want %v", c.name, k, c.e[k], w)
			}
		}
		if id, _ := c.e["id"].(string); !uuidPattern.MatchString(id) || id == res.TransferID {
			t.Errorf("%s.id %q: want a UUID of its own", c.name, id)
		}
	}
	if res.SourceEntry["id"] == res.DestinationEntry["id"] {
		t.Error("both entries have the same id")
	}

	// Native: the account balances and the transfer under its derived id,
	// with the client's key and the creator in its metadata.
	if a, b := f.nativeBalance(t, aliceLedger), f.nativeBalance(t, bobLedger); a != "99.98" || b != "0.02" {
		t.Errorf("native balances %s and %s, want 99.98 and 0.02", a, b)
	}
	var native struct {
		Status, From, To, Amount, Asset, Reference string
		Metadata                                   map[string]string
	}
	nativeID := compat.TransferID("cb", aliceLedger, txID)
	if err := json.Unmarshal(f.l.Must(t, http.StatusOK, http.MethodGet, "/v1/transfers/"+nativeID, nil), &native); err != nil {
		t.Fatal(err)
	}
	if native.Status != "posted" || native.From != "corebanq:"+aliceLedger || native.To != "corebanq:"+bobLedger ||
		native.Amount != "0.02" || native.Asset != "EUR" || native.Reference != "rent" ||
		native.Metadata["invoice"] != "INV-7" || native.Metadata["corebanq.transaction_id"] != txID ||
		native.Metadata["corebanq.created_by"] != "alice" {
		t.Errorf("native transfer %+v", native)
	}
	f.l.Audit(t)
}

// Amounts are exact at any scale: a JPY ledger (scale 0) moves whole
// yen, and an EUR amount beyond float64's exact integers keeps every digit.
func TestTransferAmountsAreExact(t *testing.T) {
	f := setup(t)
	dave := "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	f.l.Must(t, http.StatusCreated, http.MethodPost, "/v1/accounts", map[string]any{"id": "corebanq:" + dave, "asset": "JPY", "owner": "dave"})
	f.l.Mint(t, "corebanq:"+carolLedger, "JPY", "500")
	carol := f.l.Token(t, "carol", "transfers:write")
	res := f.mustTransfer(t, carolLedger, carol, map[string]any{"destination_ledger_id": dave, "amount": 123, "transaction_id": "jpy-1"})
	if res.SourceEntry.Amount != "123" || res.SourceEntry.Balance != "377" || res.DestinationEntry.Balance != "123" {
		t.Errorf("JPY entries %+v", res)
	}
	if b := f.nativeBalance(t, dave); b != "123" {
		t.Errorf("native JPY balance %s", b)
	}

	f.l.Mint(t, "corebanq:"+aliceLedger, "EUR", "90071992547409.93") // 2^53 + 1 cents, with the 100.00
	status, data := f.do(t, http.MethodPost, "/v1/ledgers/"+aliceLedger+"/transfer", f.alice,
		`{"destination_ledger_id":"`+bobLedger+`","amount":9007199254740993,"transaction_id":"big"}`)
	if status != http.StatusCreated {
		t.Fatalf("big transfer: %d %s", status, data)
	}
	var big struct {
		SourceEntry struct{ Amount, Balance json.Number } `json:"source_entry"`
	}
	if err := json.Unmarshal(data, &big); err != nil {
		t.Fatal(err)
	}
	if big.SourceEntry.Amount != "9007199254740993" || big.SourceEntry.Balance != "10000" {
		t.Errorf("big entry %+v", big.SourceEntry)
	}
	if b := f.nativeBalance(t, bobLedger); b != "90071992547409.93" {
		t.Errorf("native balance %s", b)
	}
	f.l.Audit(t)
}
