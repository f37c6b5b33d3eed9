package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-ledger/ledger/audit"
	"github.com/nats-ledger/ledger/domain"
)

// The test vectors of docs/journal-spec.md, in docs/testdata: written by
// this test from the code, and checked against it, so that they cannot
// drift from what the ledger writes and what the audit accepts.
// `go test ./audit -run TestSpecVectors -update` rewrites them.

var update = flag.Bool("update", false, "rewrite docs/testdata from the code")

const vectorsDir = "../docs/testdata"

// vector is one line of docs/testdata/lines.jsonl.
type vector struct {
	Name      string `json:"name"`
	PrevHash  string `json:"prev_hash"`
	Line      string `json:"line"`
	Hash      string `json:"hash"`
	Canonical bool   `json:"canonical"`
}

// vectorTime has nanoseconds whose trailing zeros the encoding drops.
var vectorTime = time.Date(2026, 3, 1, 9, 30, 0, 120_000_000, time.UTC)

// canonicalVectors are events chosen for what their encoding must get
// right; they need not be a consistent ledger.
func canonicalVectors() []struct {
	name string
	ev   *domain.Event
} {
	ref := domain.CommandRef{Seq: 3, Item: 1}
	return []struct {
		name string
		ev   *domain.Event
	}{
		{"asset, whole-second time", &domain.Event{Seq: 1, Type: domain.EventAssetDefined, Version: 1, Command: domain.CommandRef{Seq: 1},
			Time: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Asset: &domain.Asset{Code: "USD", Scale: 2}}},
		{"account: optional fields, metadata keys sorted by bytes, HTML characters and non-ASCII", &domain.Event{Seq: 2, Type: domain.EventAccountOpened, Version: 1,
			Command: ref, Time: vectorTime, Account: &domain.Account{ID: "alice", Asset: "USD", OverdraftLimit: "0.00", Owner: "Zoë <z@example.com>",
				Metadata: map[string]string{"b": "x&y", "a": "é€😀", "B": "upper", "a_": "1"}}}},
		{"account without owner or metadata", &domain.Event{Seq: 3, Type: domain.EventAccountOpened, Version: 1, Command: ref,
			Time: vectorTime, Account: &domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: "unlimited"}}},
		{"posting with reference and metadata, nanosecond time", &domain.Event{Seq: 4, Type: domain.EventTransferPosted, Version: 1, Command: ref,
			Time: time.Date(2026, 3, 1, 9, 30, 0, 123_456_789, time.UTC), Transfer: &domain.PostedTransfer{
				Transfer: domain.Transfer{ID: "t-1", From: "world", To: "alice", Amount: "100.00", Asset: "USD", Reference: "invoice #7 > \"due\"",
					Metadata: map[string]string{"order": "o:1"}},
				Entries: [2]domain.Entry{{Account: "world", Type: domain.Debit, Amount: "100.00", Balance: "-100.00"},
					{Account: "alice", Type: domain.Credit, Amount: "100.00", Balance: "100.00"}}}}},
		{"rejection detail with every escape", &domain.Event{Seq: 5, Type: domain.EventTransferRejected, Version: 1, Command: ref, Time: vectorTime,
			Rejection: &domain.RejectedTransfer{Transfer: domain.Transfer{ID: "t-2", From: "alice", To: "bob", Amount: "5"},
				Code: domain.CodeInsufficientFunds, Detail: "q\" b\\ \b\f\n\r\t \x00\x01\x1f \x7f <>& \u2028\u2029 é"}}},
		{"skipped command (no detail)", &domain.Event{Seq: 6, Type: domain.EventCommandSkipped, Version: 1, Command: domain.CommandRef{Seq: 9, Item: 0},
			Time: vectorTime, Skip: &domain.SkippedCommand{Items: 0, Reason: domain.SkipMalformed}}},
		{"metadata cleared", &domain.Event{Seq: 7, Type: domain.EventAccountMetadataUpdated, Version: 1, Command: ref, Time: vectorTime,
			Metadata: &domain.MetadataUpdate{Account: "alice"}}},
		{"largest sequence", &domain.Event{Seq: 18446744073709551615, Type: domain.EventAccountMetadataUpdated, Version: 1,
			Command: domain.CommandRef{Seq: 18446744073709551615, Item: 9999}, Time: time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
			Metadata: &domain.MetadataUpdate{Account: "bob", Metadata: map[string]string{"k": "v"}}}},
		{"memo: amount zero, memo after metadata", &domain.Event{Seq: 8, Type: domain.EventTransferPosted, Version: 1, Command: ref, Time: vectorTime,
			Transfer: &domain.PostedTransfer{Transfer: domain.Transfer{ID: "memo-1", From: "alice", To: "bob", Amount: "0.00", Asset: "USD",
				Reference: "free hat", Metadata: map[string]string{"item": "hat"}, Memo: true},
				Entries: [2]domain.Entry{{Account: "alice", Type: domain.Debit, Amount: "0.00", Balance: "100.00"},
					{Account: "bob", Type: domain.Credit, Amount: "0.00", Balance: "0.00"}}}}},
		{"rejected memo", &domain.Event{Seq: 9, Type: domain.EventTransferRejected, Version: 1, Command: ref, Time: vectorTime,
			Rejection: &domain.RejectedTransfer{Transfer: domain.Transfer{ID: "memo-2", From: "alice", To: "nobody", Amount: "0", Memo: true},
				Code: domain.CodeAccountNotFound, Detail: "account nobody does not exist"}}},
		{"rate set", &domain.Event{Seq: 10, Type: domain.EventRateSet, Version: 1, Command: ref, Time: vectorTime,
			Rate: &domain.RateSet{Base: "USD", Quote: "EUR", Rate: "0.92"}}},
		{"conversion at the table's rate", &domain.Event{Seq: 11, Type: domain.EventTransferConverted, Version: 1, Command: ref, Time: vectorTime,
			Conversion: &domain.ConvertedTransfer{Transfer: domain.Transfer{ID: "fx-1", From: "alice", To: "carol", Amount: "10.01", Asset: "USD",
				ExchangeRate: "0.92"}, RateFrom: domain.RateFromTable, ToAsset: "EUR", ToAmount: "9.20",
				Entries: [4]domain.Entry{{Account: "alice", Type: domain.Debit, Amount: "10.01", Balance: "89.99"},
					{Account: domain.FX, Type: domain.Credit, Amount: "10.01", Balance: "10.01"},
					{Account: domain.FX, Type: domain.Debit, Amount: "9.20", Balance: "-9.20"},
					{Account: "carol", Type: domain.Credit, Amount: "9.20", Balance: "9.20"}}}}},
		{"conversion at the request's rate, reference and metadata, rounded down", &domain.Event{Seq: 12, Type: domain.EventTransferConverted, Version: 1,
			Command: ref, Time: vectorTime, Conversion: &domain.ConvertedTransfer{Transfer: domain.Transfer{ID: "fx-2", From: "carol", To: "yuki",
				Amount: "5.00", Asset: "EUR", Reference: "trip <Tokyo>", Metadata: map[string]string{"desk": "A&B"}, ExchangeRate: "162.375"},
				RateFrom: domain.RateFromRequest, ToAsset: "JPY", ToAmount: "811",
				Entries: [4]domain.Entry{{Account: "carol", Type: domain.Debit, Amount: "5.00", Balance: "4.20"},
					{Account: domain.FX, Type: domain.Credit, Amount: "5.00", Balance: "-4.20"},
					{Account: domain.FX, Type: domain.Debit, Amount: "811", Balance: "-811"},
					{Account: "yuki", Type: domain.Credit, Amount: "811", Balance: "811"}}}}},
		{"rejected conversion with its rate", &domain.Event{Seq: 13, Type: domain.EventTransferRejected, Version: 1, Command: ref, Time: vectorTime,
			Rejection: &domain.RejectedTransfer{Transfer: domain.Transfer{ID: "fx-3", From: "carol", To: "alice", Amount: "1000.00", Asset: "EUR",
				ExchangeRate: "1.1"}, Code: domain.CodeInsufficientFunds, Detail: "insufficient balance: balance was 4.20 EUR, at least 1000.00 EUR is required"}}},
		{"rejected conversion without a rate", &domain.Event{Seq: 14, Type: domain.EventTransferRejected, Version: 1, Command: ref, Time: vectorTime,
			Rejection: &domain.RejectedTransfer{Transfer: domain.Transfer{ID: "fx-4", From: "yuki", To: "carol", Amount: "100", Asset: "JPY"},
				Code: domain.CodeRateNotFound, Detail: "no exchange rate from JPY to EUR: give exchange_rate or set the rate (PUT /v1/rates/JPY/EUR)"}}},
		{"limit changed", &domain.Event{Seq: 15, Type: domain.EventAccountLimitChanged, Version: 1, Command: ref, Time: vectorTime,
			Change: &domain.AccountChange{Account: "alice", OverdraftLimit: "50.00"}}},
		{"account frozen, all", &domain.Event{Seq: 16, Type: domain.EventAccountFrozen, Version: 1, Command: ref, Time: vectorTime,
			Change: &domain.AccountChange{Account: "bob", Frozen: domain.FrozenAll}}},
		{"rejected: account frozen", &domain.Event{Seq: 17, Type: domain.EventTransferRejected, Version: 1, Command: ref, Time: vectorTime,
			Rejection: &domain.RejectedTransfer{Transfer: domain.Transfer{ID: "t-3", From: "alice", To: "bob", Amount: "1.00", Asset: "USD"},
				Code: domain.CodeAccountFrozen, Detail: "account bob is frozen (all): it cannot be credited"}}},
		{"account unfrozen", &domain.Event{Seq: 18, Type: domain.EventAccountUnfrozen, Version: 1, Command: ref, Time: vectorTime,
			Change: &domain.AccountChange{Account: "bob"}}},
		{"account closed", &domain.Event{Seq: 19, Type: domain.EventAccountClosed, Version: 1, Command: ref, Time: vectorTime,
			Change: &domain.AccountChange{Account: "bob"}}},
		{"pending transfer with an expiry", &domain.Event{Seq: 20, Type: domain.EventTransferPending, Version: 1, Command: ref, Time: vectorTime,
			Hold: &domain.PendingTransfer{Transfer: domain.Transfer{ID: "h-1", From: "alice", To: "bob", Amount: "25.00", Asset: "USD",
				Reference: "hotel <deposit>", Pending: true, ExpiresAt: "2026-03-08T09:30:00.5Z"}}}},
		{"hold posted in part", &domain.Event{Seq: 21, Type: domain.EventHoldPosted, Version: 1, Command: ref, Time: vectorTime,
			HoldPost: &domain.HoldPosting{ID: "h-1", From: "alice", To: "bob", Asset: "USD", Held: "25.00", Amount: "20.00",
				Entries: [2]domain.Entry{{Account: "alice", Type: domain.Debit, Amount: "20.00", Balance: "80.00"},
					{Account: "bob", Type: domain.Credit, Amount: "20.00", Balance: "20.00"}}}}},
		{"hold expired", &domain.Event{Seq: 22, Type: domain.EventHoldVoided, Version: 1, Command: ref, Time: vectorTime,
			HoldVoid: &domain.HoldVoiding{ID: "h-2", From: "alice", To: "bob", Asset: "USD", Amount: "5.00", Reason: domain.VoidExpired,
				ExpiresAt: "2026-03-01T09:29:59Z"}}},
		{"rejected pending transfer", &domain.Event{Seq: 23, Type: domain.EventTransferRejected, Version: 1, Command: ref, Time: vectorTime,
			Rejection: &domain.RejectedTransfer{Transfer: domain.Transfer{ID: "h-3", From: "alice", To: "bob", Amount: "500.00", Asset: "USD",
				Pending: true}, Code: domain.CodeInsufficientFunds, Detail: "insufficient available balance: balance was 80.00 USD of which 25.00 USD is held, at least 525.00 USD is required"}}},
	}
}

// nonCanonical are rewrites of the canonical line of the vector named by
// base, each re-hashed so that only the canonical check can catch it.
var nonCanonical = []struct {
	base, name, old, new string
}{
	{"posting with reference and metadata, nanosecond time", "whitespace after a colon", `"amount":"100.00"`, `"amount": "100.00"`},
	{"posting with reference and metadata, nanosecond time", "a needless escape (\\u002d for '-')", `"id":"t-1"`, `"id":"t\u002d1"`},
	{"posting with reference and metadata, nanosecond time", "a duplicate key", `"amount":"100.00",`, `"amount":"1.00","amount":"100.00",`},
	{"posting with reference and metadata, nanosecond time", "a raw '>' that must be \\u003e", `#7 \u003e`, `#7 >`},
	{"posting with reference and metadata, nanosecond time", "keys out of order", `"from":"world","to":"alice"`, `"to":"alice","from":"world"`},
	{"posting with reference and metadata, nanosecond time", "an escaped solidus", `"o:1"`, `"o:\/1"`},
	{"account without owner or metadata", "an empty optional field", `"overdraft_limit":"unlimited"`, `"overdraft_limit":"unlimited","owner":""`},
	{"account: optional fields, metadata keys sorted by bytes, HTML characters and non-ASCII", "upper-case hex in an escape", `\u003c`, `\u003C`},
	{"account: optional fields, metadata keys sorted by bytes, HTML characters and non-ASCII", "a non-ASCII character escaped", `"é€😀"`, `"\u00e9€😀"`},
	{"account: optional fields, metadata keys sorted by bytes, HTML characters and non-ASCII", "U+FFFD escaped (what Go writes for invalid UTF-8)", `"é€😀"`, `"\ufffd€😀"`},
	{"asset, whole-second time", "trailing zeros in the time", `09:00:00Z`, `09:00:00.000Z`},
	{"asset, whole-second time", "a time not in UTC", `"2026-03-01T09:00:00Z"`, `"2026-03-01T10:00:00+01:00"`},
	{"asset, whole-second time", "a number with a leading zero", `"scale":2`, `"scale":02`},
	{"memo: amount zero, memo after metadata", "memo written as false (an empty optional member)", `"memo":true`, `"memo":false`},
	{"memo: amount zero, memo after metadata", "memo before metadata", `,"metadata":{"item":"hat"},"memo":true`, `,"memo":true,"metadata":{"item":"hat"}`},
	{"memo: amount zero, memo after metadata", "memo as a string", `"memo":true`, `"memo":"true"`},
	{"rate set", "a rate as a JSON number", `"rate":"0.92"`, `"rate":0.92`},
	{"rate set", "base and quote out of order", `"base":"USD","quote":"EUR"`, `"quote":"EUR","base":"USD"`},
	{"conversion at the table's rate", "to_amount before to_asset", `"to_asset":"EUR","to_amount":"9.20"`, `"to_amount":"9.20","to_asset":"EUR"`},
	{"conversion at the table's rate", "exchange_rate after rate_from", `"exchange_rate":"0.92","rate_from":"table"`, `"rate_from":"table","exchange_rate":"0.92"`},
	{"conversion at the request's rate, reference and metadata, rounded down", "a raw '<' in a conversion's reference", `trip \u003cTokyo\u003e`, `trip <Tokyo\u003e`},
	{"rejected conversion with its rate", "exchange_rate after the code", `,"exchange_rate":"1.1","code":"insufficient_funds"`, `,"code":"insufficient_funds","exchange_rate":"1.1"`},
	{"rejected conversion without a rate", "an empty exchange_rate", `"asset":"JPY",`, `"asset":"JPY","exchange_rate":"",`},
}

// hashLine returns the stored line of canonical bytes c after prev.
func hashLine(prev domain.Hash, c []byte) ([]byte, domain.Hash) {
	d := sha256.New()
	d.Write(prev[:])
	d.Write(c)
	var h domain.Hash
	d.Sum(h[:0])
	line := append(bytes.Clone(c[:len(c)-1]), `,"hash":"`...)
	line = hex.AppendEncode(line, h[:])
	return append(line, `"}`...), h
}

func buildLineVectors(t *testing.T) []vector {
	t.Helper()
	var out []vector
	canon := map[string][]byte{}
	prevOf := map[string]domain.Hash{}
	prev := domain.Hash{}
	for _, v := range canonicalVectors() {
		data, h, err := domain.AppendEvent(nil, v.ev, prev)
		if err != nil {
			t.Fatal(err)
		}
		line := data[:len(data)-1]
		out = append(out, vector{Name: v.name, PrevHash: prev.String(), Line: string(line), Hash: h.String(), Canonical: true})
		canon[v.name] = append(bytes.Clone(line[:len(line)-75]), '}')
		prevOf[v.name] = prev
		prev = h
	}
	for _, n := range nonCanonical {
		c, ok := canon[n.base]
		if !ok || !bytes.Contains(c, []byte(n.old)) {
			t.Fatalf("vector %q: %q not in %s", n.name, n.old, c)
		}
		c = bytes.Replace(c, []byte(n.old), []byte(n.new), 1)
		p := prevOf[n.base]
		line, h := hashLine(p, c)
		out = append(out, vector{Name: n.name, PrevHash: p.String(), Line: string(line), Hash: h.String()})
	}
	return out
}

// checkLineVectors holds the code to each vector: the hash, and whether
// the audit takes the line for canonical.
func checkLineVectors(t *testing.T, vs []vector) {
	t.Helper()
	for _, v := range vs {
		prev, err := domain.ParseHash(v.PrevHash)
		if err != nil {
			t.Fatal(err)
		}
		line := []byte(v.Line)
		h, herr := domain.VerifyLine(line, prev)
		if h.String() != v.Hash || v.Canonical && herr != nil {
			t.Errorf("%s: hash %s (%v), vector %s", v.Name, h, herr, v.Hash)
		}
		ev, derr := domain.DecodeEvent(line)
		if derr != nil {
			if v.Canonical {
				t.Errorf("%s: does not decode: %v", v.Name, derr)
			}
			continue
		}
		_, cerr := domain.CheckCanonical(line, ev, nil)
		switch {
		case v.Canonical && cerr != nil:
			t.Errorf("%s: canonical vector refused: %v", v.Name, cerr)
		case !v.Canonical && !errors.Is(cerr, domain.ErrNotCanonical):
			t.Errorf("%s: non-canonical vector accepted (%v)", v.Name, cerr)
		}
	}
}

// expected is docs/testdata/journal.expected.json: what a verifier must
// find in journal.jsonl.
type expected struct {
	Head     string             `json:"head"` // SEQ:HASH
	Events   uint64             `json:"events"`
	Postings uint64             `json:"postings"`
	AsOf     []expectedBalances `json:"as_of"`
}

type expectedBalances struct {
	Seq      uint64          `json:"seq"`
	Balances []audit.Balance `json:"balances"`
}

// tinyJournal decides a short history the way the processor does and
// encodes it as an export holds it.
func tinyJournal(t *testing.T) []byte {
	t.Helper()
	st := domain.NewState()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cmds := []domain.Command{
		{Asset: &domain.Asset{Code: "USD", Scale: 2}},
		{Asset: &domain.Asset{Code: "PTS", Scale: 0}},
		{Account: &domain.Account{ID: "alice", Asset: "USD", Metadata: map[string]string{"tier": "<gold> & co"}}},
		{Account: &domain.Account{ID: "bob", Asset: "USD", OverdraftLimit: "5"}},
		{Account: &domain.Account{ID: "pat", Asset: "PTS", Owner: "Pat Ø"}},
		{Transfer: &domain.Transfer{ID: "m1", From: domain.World, To: "alice", Amount: "100"}},
		{Transfer: &domain.Transfer{ID: "m2", From: domain.World, To: "pat", Amount: "7", Asset: "PTS"}},
		{Transfer: &domain.Transfer{ID: "t1", From: "alice", To: "bob", Amount: "30.25", Reference: "rent \u00e9t\u00e9"}},
		{Transfer: &domain.Transfer{ID: "t2", From: "bob", To: "alice", Amount: "99"}},    // rejected
		{Transfer: &domain.Transfer{ID: "t3", From: "bob", To: "alice", Amount: "33.50"}}, // into the overdraft
		{Metadata: &domain.MetadataUpdate{Account: "bob", Metadata: map[string]string{"note": "overdrawn"}}},
		{Transfer: &domain.Transfer{ID: "t4", From: "alice", To: domain.World, Amount: "10"}},
		{Transfer: &domain.Transfer{ID: "t5", From: "pat", To: domain.World, Amount: "2", Asset: "PTS"}},
	}
	var data []byte
	var prev domain.Hash
	for i, c := range cmds {
		c.Ref = domain.CommandRef{Seq: uint64(i + 1)}
		now := t0.Add(time.Duration(i)*time.Minute + time.Duration(i)*10*time.Millisecond)
		d := st.Decide(c, now)
		if d.Event == nil {
			t.Fatalf("command %d: %+v", i, d)
		}
		var err error
		if data, prev, err = domain.AppendEvent(data, d.Event, prev); err != nil {
			t.Fatal(err)
		}
	}
	ev := st.Skip(uint64(len(cmds)+1), 1, domain.SkipUnchanged, "", t0.Add(time.Hour))
	data, prev, err := domain.AppendEvent(data, ev, prev)
	if err != nil {
		t.Fatal(err)
	}
	// Memos and conversions come after the events above, which they leave
	// as they were: a memo, a conversion refused for want of a rate, the
	// rate set, a conversion at the table's rate and one at the request's
	// (both rounded down), and one refused with its rate.
	fx := []domain.Command{
		{Asset: &domain.Asset{Code: "EUR", Scale: 2}},
		{Account: &domain.Account{ID: "carol", Asset: "EUR"}},
		{Transfer: &domain.Transfer{ID: "memo1", From: "alice", To: "bob", Amount: "0", Memo: true, Reference: "free hat",
			Metadata: map[string]string{"item": "hat"}}},
		{Transfer: &domain.Transfer{ID: "x1", From: "alice", To: "carol", Amount: "10.01"}}, // rate_not_found
		{Rate: &domain.RateSet{Base: "USD", Quote: "EUR", Rate: "0.920"}},
		{Transfer: &domain.Transfer{ID: "x1", From: "alice", To: "carol", Amount: "10.01"}},                      // 9.2092 -> 9.20
		{Transfer: &domain.Transfer{ID: "x2", From: "carol", To: "bob", Amount: "5", ExchangeRate: "1.0850"}},    // 5.425 -> 5.42
		{Transfer: &domain.Transfer{ID: "x3", From: "carol", To: "alice", Amount: "1000", ExchangeRate: "1.10"}}, // insufficient_funds
		// The lifecycle (ADR 0024): bob's limit raised, bob frozen and a
		// debit of it refused, bob unfrozen, an empty account closed.
		{Lifecycle: &domain.LifecycleRequest{Action: domain.ActionLimit, AccountChange: domain.AccountChange{Account: "bob", OverdraftLimit: "50"}}},
		{Lifecycle: &domain.LifecycleRequest{Action: domain.ActionFreeze, AccountChange: domain.AccountChange{Account: "bob", Frozen: domain.FrozenDebits}}},
		{Transfer: &domain.Transfer{ID: "f1", From: "bob", To: "alice", Amount: "1"}}, // account_frozen
		{Lifecycle: &domain.LifecycleRequest{Action: domain.ActionUnfreeze, AccountChange: domain.AccountChange{Account: "bob"}}},
		{Account: &domain.Account{ID: "dan", Asset: "EUR"}},
		{Lifecycle: &domain.LifecycleRequest{Action: domain.ActionClose, AccountChange: domain.AccountChange{Account: "dan"}}},
	}
	for i, c := range fx {
		c.Ref = domain.CommandRef{Seq: uint64(len(cmds) + 2 + i)}
		d := st.Decide(c, t0.Add(time.Hour+time.Duration(i+1)*time.Minute))
		if d.Event == nil {
			t.Fatalf("command %d: %+v", len(cmds)+2+i, d)
		}
		if data, prev, err = domain.AppendEvent(data, d.Event, prev); err != nil {
			t.Fatal(err)
		}
	}
	// Holds come last (ADR 0022): one posted in part, one voided, one
	// refused beyond what is available, and one that expires, voided by
	// the processor's clock at the next command.
	at := t0.Add(2 * time.Hour)
	exp := at.Add(90 * time.Minute).Format(time.RFC3339Nano)
	holds := []domain.Command{
		{Transfer: &domain.Transfer{ID: "h1", From: "alice", To: "bob", Amount: "3", Pending: true, Reference: "deposit"}},
		{Hold: &domain.HoldAction{ID: "h1", Action: domain.HoldPost, Amount: "2.50"}},
		{Transfer: &domain.Transfer{ID: "h2", From: "alice", To: "bob", Amount: "1", Pending: true}},
		{Hold: &domain.HoldAction{ID: "h2", Action: domain.HoldVoid}},
		{Transfer: &domain.Transfer{ID: "h3", From: "alice", To: "bob", Amount: "2", Pending: true, ExpiresAt: exp}},
		{Transfer: &domain.Transfer{ID: "h4", From: "alice", To: "bob", Amount: "1000", Pending: true}}, // insufficient_funds
	}
	for i, c := range holds {
		c.Ref = domain.CommandRef{Seq: uint64(len(cmds) + 2 + len(fx) + i)}
		d := st.Decide(c, at.Add(time.Duration(i+1)*time.Minute))
		if d.Event == nil {
			t.Fatalf("hold command %d: %+v", i, d)
		}
		if data, prev, err = domain.AppendEvent(data, d.Event, prev); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range st.ExpireHolds(at.Add(2 * time.Hour)) {
		if data, prev, err = domain.AppendEvent(data, ev, prev); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

func expectedOf(t *testing.T, path string) expected {
	t.Helper()
	var exp expected
	for _, seq := range []uint64{8, 0} {
		res, err := audit.Run(context.Background(), &audit.FileSource{Path: path}, audit.Options{UntilSeq: seq})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Report.OK {
			t.Fatalf("the tiny journal fails its audit: %+v", res.Report.Findings)
		}
		bal, _ := res.Books.Balances()
		exp.AsOf = append(exp.AsOf, expectedBalances{Seq: res.Report.LastSeq, Balances: bal})
		if seq == 0 {
			exp.Head = fmt.Sprintf("%d:%s", res.Report.LastSeq, res.Report.LastHash)
			exp.Events, exp.Postings = res.Report.Events, res.Report.Postings
		}
	}
	return exp
}

// checkpointVectors signs checkpoints of the tiny journal with a key made
// from a fixed seed (Ed25519 signatures are deterministic), and one that
// does not verify: event 14's hash with event 5's signature.
func checkpointVectors(t *testing.T, journal []byte) any {
	t.Helper()
	seed := sha256.Sum256([]byte("ledger journal-spec test vector key"))
	key := ed25519.NewKeyFromSeed(seed[:])
	pub := key.Public().(ed25519.PublicKey)
	lines := bytes.Split(bytes.TrimSuffix(journal, []byte("\n")), []byte("\n"))
	hashOf := func(seq int) domain.Hash {
		l := lines[seq-1]
		h, err := domain.ParseHash(string(l[len(l)-66 : len(l)-2]))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	type cpVector struct {
		Checkpoint string `json:"checkpoint"`
		Seq        uint64 `json:"seq"`
		Hash       string `json:"hash"`
		Message    string `json:"message"`
		Signature  string `json:"signature"`
		Valid      bool   `json:"valid"`
	}
	var out []cpVector
	add := func(c domain.Checkpoint, valid bool) {
		if (c.Verify(pub) == nil) != valid {
			t.Fatalf("checkpoint %s: verifies %v", c, !valid)
		}
		out = append(out, cpVector{Checkpoint: c.String(), Seq: c.Seq, Hash: c.Hash.String(),
			Message: string(domain.CheckpointMessage(c.Seq, c.Hash)), Signature: c.SignatureString(), Valid: valid})
	}
	five := domain.SignCheckpoint(key, 5, hashOf(5))
	add(five, true)
	add(domain.SignCheckpoint(key, 14, hashOf(14)), true)
	add(domain.Checkpoint{Seq: 14, Hash: hashOf(14), Signature: five.Signature}, false)
	return struct {
		PublicKey   string     `json:"public_key"`
		Checkpoints []cpVector `json:"checkpoints"`
	}{hex.EncodeToString(pub), out}
}

// TestSpecVectors writes (with -update) or checks docs/testdata.
func TestSpecVectors(t *testing.T) {
	var lines bytes.Buffer
	vs := buildLineVectors(t)
	checkLineVectors(t, vs)
	for _, v := range vs {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		lines.Write(append(b, '\n'))
	}
	journal := tinyJournal(t)
	tmp := filepath.Join(t.TempDir(), "journal.jsonl")
	if err := os.WriteFile(tmp, journal, 0o600); err != nil {
		t.Fatal(err)
	}
	exp, err := json.MarshalIndent(expectedOf(t, tmp), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cps, err := json.MarshalIndent(checkpointVectors(t, journal), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"checkpoints.json":      append(cps, '\n'),
		"lines.jsonl":           lines.Bytes(),
		"journal.jsonl":         journal,
		"journal.expected.json": append(exp, '\n'),
	}
	for name, want := range files {
		path := filepath.Join(vectorsDir, name)
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./audit -run TestSpecVectors -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the code writes: the encoding or the audit changed, or the file was edited (-update rewrites it)", path)
		}
	}
	// Every non-canonical vector, put in a journal, is a finding at its
	// sequence: of the canonical check, or of the schema check for one
	// that is not even JSON.
	for _, v := range vs {
		if v.Canonical {
			continue
		}
		want, seq := audit.CheckCanonical, uint64(0)
		if ev, err := domain.DecodeEvent([]byte(v.Line)); err == nil {
			seq = ev.Seq
		} else {
			want, seq = audit.CheckSchema, 1
		}
		res := run(t, &audit.FileSource{Path: writeLines(t, [][]byte{[]byte(v.Line)})}, audit.Options{AllowPartial: true})
		if f, ok := res.Report.First(want); !ok || f.Seq != seq || res.Report.OK {
			t.Errorf("%s: no %s finding at sequence %d: %+v", v.Name, want, seq, res.Report.Findings)
		}
	}
}
