package domain_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/domain"
)

// fuzzLedger is the state FuzzDecide starts from. BIG's issuer sits at
// -(10^38-1) so that the fuzzer can reach the 128-bit edge with a single
// transfer.
type fuzzLedger struct {
	h       *harness
	balance map[string]decimal.Decimal // accounts, and "world/ASSET"
	assetOf map[string]string
	scale   map[string]int32
	floor   map[string]*decimal.Decimal // nil: unlimited
}

var bigNines = strings.Repeat("9", 38)

func newFuzzLedger(t *testing.T) *fuzzLedger {
	h := newHarness(t)
	h.must(h.asset("USD", 2), domain.Created)
	h.must(h.asset("JPY", 0), domain.Created)
	h.must(h.asset("BIG", 0), domain.Created)
	l := &fuzzLedger{h: h, balance: map[string]decimal.Decimal{}, assetOf: map[string]string{},
		scale: map[string]int32{"USD": 2, "JPY": 0, "BIG": 0}, floor: map[string]*decimal.Decimal{}}
	for _, a := range []struct{ id, asset, limit string }{
		{"a", "USD", ""}, {"b", "USD", "50"}, {"u", "USD", domain.Unlimited},
		{"j", "JPY", "7"}, {"x", "BIG", ""}, {"y", "BIG", domain.Unlimited},
	} {
		h.must(h.open(domain.Account{ID: a.id, Asset: a.asset, OverdraftLimit: a.limit}), domain.Created)
		l.assetOf[a.id] = a.asset
		if a.limit != domain.Unlimited {
			f := decimal.Zero
			if a.limit != "" {
				f = decimal.RequireFromString(a.limit).Neg()
			}
			l.floor[a.id] = &f
		}
	}
	for _, m := range []struct{ id, to, amount string }{{"m1", "a", "100"}, {"m2", "x", bigNines}} {
		d := h.must(h.transfer(domain.Transfer{ID: m.id, From: domain.World, To: m.to, Amount: m.amount}), domain.Posted)
		l.post(t, d.Event)
	}
	return l
}

func (l *fuzzLedger) key(account, asset string) string {
	if account == domain.World {
		return "world/" + asset
	}
	return account
}

// post checks a posted event's entries against the tracked balances and
// advances them.
func (l *fuzzLedger) post(t *testing.T, ev *domain.Event) {
	t.Helper()
	p := ev.Transfer
	amount := decimal.RequireFromString(p.Amount)
	if !amount.IsPositive() {
		t.Fatalf("posted a non-positive amount %s", p.Amount)
	}
	for i, e := range p.Entries {
		k := l.key(e.Account, p.Asset)
		want := l.balance[k].Sub(amount)
		if i == 1 {
			want = l.balance[k].Add(amount)
		}
		if e.Balance != want.StringFixed(l.scale[p.Asset]) {
			t.Fatalf("entry %d of %s %s: balance %s, want %s (a balance that does not fit 128 bits must be refused with balance_overflow)",
				i, p.ID, e.Account, e.Balance, want.StringFixed(l.scale[p.Asset]))
		}
		l.balance[k] = want
	}
}

func (l *fuzzLedger) checkInvariants(t *testing.T) {
	t.Helper()
	sums := map[string]decimal.Decimal{}
	for k, v := range l.balance {
		asset, world := strings.CutPrefix(k, "world/")
		if !world {
			asset = l.assetOf[k]
			if f := l.floor[k]; f != nil && v.LessThan(*f) {
				t.Fatalf("account %s at %s, below %s", k, v, f)
			}
		}
		sums[asset] = sums[asset].Add(v)
	}
	for asset, s := range sums {
		if !s.IsZero() {
			t.Fatalf("asset %s sums to %s", asset, s)
		}
	}
}

func FuzzDecide(f *testing.F) {
	f.Add("t1", "a", "b", "25", "", "", "", "")
	f.Add("t1", "a", "b", "100.00", "USD", "memo", "k", "v")
	f.Add("t1", "b", "a", "50", "", "", "", "")
	f.Add("t1", "b", "a", "50.01", "", "", "", "")
	f.Add("m1", "world", "a", "100", "", "", "", "")
	f.Add("m1", "world", "a", "100.0", "USD", "", "", "")
	f.Add("t2", "world", "b", "0.001", "", "", "", "")
	f.Add("t2", "u", "world", "1000000000000", "", "", "", "")
	f.Add("t2", "a", "j", "1", "", "", "", "")
	f.Add("t2", "world", "world", "1", "USD", "", "", "")
	f.Add("t2", "world", "y", "1", "XYZ", "", "", "")
	f.Add("t2", "y", "x", "1", "", "", "", "")
	f.Add("t2", "a", "b", "0", "", "\u2028", "", "")
	f.Add("t2", "world", "y", "1", "BIG", "", "", "")
	// The issuer of BIG ends exactly at the 128-bit minimum.
	f.Add("t2", "world", "y", "70141183460469231731687303715884105729", "", "", "", "")
	f.Fuzz(func(t *testing.T, id, from, to, amount, asset, reference, mk, mv string) {
		l := newFuzzLedger(t)
		h := l.h
		tr := domain.Transfer{ID: id, From: from, To: to, Amount: amount, Asset: asset, Reference: reference}
		if mk != "" || mv != "" {
			tr.Metadata = map[string]string{mk: mv}
		}
		d := h.transfer(tr) // checks the decision contract
		if d.Outcome == domain.Posted {
			l.post(t, d.Event)
		}
		l.checkInvariants(t)

		// The journal so far verifies, decodes to identical bytes, and
		// rebuilds a state that decides the retry exactly as the original.
		var record []byte
		var prev domain.Hash
		for _, ev := range h.events {
			var err error
			if record, prev, err = domain.AppendEvent(record, ev, prev); err != nil {
				t.Fatalf("AppendEvent(%d): %v", ev.Seq, err)
			}
		}
		lines, err := domain.SplitRecord(record)
		if err != nil {
			t.Fatal(err)
		}
		rebuilt := domain.NewState()
		prev = domain.Hash{}
		for _, line := range lines {
			next, err := domain.VerifyLine(line, prev)
			if err != nil {
				t.Fatalf("VerifyLine: %v\n%s", err, line)
			}
			ev, err := domain.DecodeEvent(line)
			if err != nil {
				t.Fatalf("DecodeEvent: %v\n%s", err, line)
			}
			again, _, err := domain.AppendEvent(nil, ev, prev)
			if err != nil || !bytes.Equal(again, append(bytes.Clone(line), '\n')) {
				t.Fatalf("re-encoding differs (%v)\n got %s\nwant %s", err, again, line)
			}
			if err := rebuilt.Apply(ev); err != nil {
				t.Fatalf("Apply(%d): %v", ev.Seq, err)
			}
			prev = next
		}

		retry := domain.Command{Transfer: &tr, Ref: domain.CommandRef{Seq: 1 << 40}}
		want := h.s.Decide(retry, testEpoch)
		got := rebuilt.Decide(retry, testEpoch)
		if !sameDecisionBytes(t, got, want) {
			t.Fatalf("rebuilt state decided the retry as %+v, original %+v", got, want)
		}
		switch d.Outcome {
		case domain.Posted:
			if want.Outcome != domain.Replayed || want.ReplayOf != d.Event.Seq {
				t.Fatalf("retry of a posted transfer: outcome %d ReplayOf %d (err %v)", want.Outcome, want.ReplayOf, want.Err)
			}
		case domain.Rejected:
			if want.Outcome != domain.Rejected || want.Err.Code() != d.Err.Code() || (want.Event == nil) != (d.Event == nil) {
				t.Fatalf("retry of a rejected transfer: outcome %d err %v, first %v", want.Outcome, want.Err, d.Err)
			}
		}
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0", "0.01", "25", "25.5", "1.001", "", "-1", "1e3", "01", ".5", "5.",
		" 1", "+1", "\uff11", bigNines, bigNines + "9", "18446744073709551616", "0.000000000000000001"} {
		f.Add(s, uint8(2))
	}
	f.Add(bigNines, uint8(0))
	f.Add("99999999999999999999.999999999999999999", uint8(18))
	f.Fuzz(func(t *testing.T, s string, rawScale uint8) {
		scale := int(rawScale % (domain.MaxScale + 1))
		v, err := domain.ParseAmount(s, scale)
		model, modelOK := parseAt(s, scale)
		if (err == nil) != modelOK {
			t.Fatalf("ParseAmount(%q, %d) error %v, but the documented rules say ok=%v", s, scale, err, modelOK)
		}
		if checkErr := domain.CheckAmountLiteral(s); (checkErr == nil) != literalOK(s) {
			t.Fatalf("CheckAmountLiteral(%q) = %v, documented rules say ok=%v", s, checkErr, literalOK(s))
		}
		if err != nil {
			var syn *domain.AmountSyntaxError
			var sc *domain.AmountScaleError
			if !errors.As(err, &syn) && !errors.As(err, &sc) {
				t.Fatalf("ParseAmount(%q, %d): error of type %T", s, scale, err)
			}
			return
		}
		if v.Sign() < 0 {
			t.Fatalf("ParseAmount(%q, %d) is negative", s, scale)
		}
		text := v.Format(scale)
		back, err := domain.ParseAmount(text, scale)
		if err != nil || back.Cmp(v) != 0 {
			t.Fatalf("ParseAmount(%q, %d) formats as %q, which reads back as %s, %v", s, scale, text, back.Format(scale), err)
		}
		d, err := decimal.NewFromString(s)
		if err != nil {
			t.Fatalf("decimal rejects %q: %v", s, err)
		}
		if !d.Equal(model) || !v.Decimal(scale).Equal(d) || text != d.StringFixed(int32(scale)) {
			t.Fatalf("ParseAmount(%q, %d) = %s, decimal says %s", s, scale, text, d.StringFixed(int32(scale)))
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	h := fixture(f)
	h.transfer(domain.Transfer{ID: "r", From: "alice", To: "bob", Amount: "99", Reference: "<x>", Metadata: map[string]string{"k": "v"}})
	var prev domain.Hash
	for _, ev := range h.events {
		line, next, err := domain.AppendEvent(nil, ev, prev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(line[:len(line)-1])
		prev = next
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"seq":1,"type":"TransferPosted","transfer":{"from":"world","to":"world","asset":"USD","amount":"1"}}`))
	f.Add([]byte(`{"seq":1,"type":"AccountOpened","account":{"id":"z","asset":"USD","overdraft_limit":"1e999"}}`))
	f.Add([]byte(`{"seq":1,"time":"2025-01-01T00:00:00+05:30","v":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// None of these may panic on arbitrary bytes.
		domain.SplitRecord(data)
		domain.VerifyLine(data, domain.Hash{})
		domain.ParseHash(string(data))
		ev, err := domain.DecodeEvent(data)
		if err != nil {
			if !errors.Is(err, domain.ErrMalformedEvent) {
				t.Fatalf("DecodeEvent error %v does not wrap ErrMalformedEvent", err)
			}
			return
		}

		// Applying whatever decoded to a real state may fail, never panic.
		st := newHarness(t)
		st.must(st.asset("USD", 2), domain.Created)
		st.must(st.open(domain.Account{ID: "a", Asset: "USD"}), domain.Created)
		cp := *ev
		cp.Seq = st.s.Seq() + 1
		st.s.Apply(&cp)

		// Encoding is canonical: once encoded, decoding and encoding again
		// gives the same bytes, and the line verifies.
		first, h1, err := domain.AppendEvent(nil, ev, domain.Hash{7})
		if err != nil {
			return // e.g. a time outside RFC 3339's years
		}
		line := first[:len(first)-1]
		if got, err := domain.VerifyLine(line, domain.Hash{7}); err != nil || got != h1 {
			t.Fatalf("VerifyLine of a fresh encoding: %v\n%s", err, line)
		}
		ev2, err := domain.DecodeEvent(line)
		if err != nil {
			t.Fatalf("DecodeEvent of its own encoding: %v\n%s", err, line)
		}
		second, _, err := domain.AppendEvent(nil, ev2, domain.Hash{7})
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("encoding is not a fixed point (%v)\n first %s\nsecond %s", err, first, second)
		}
	})
}
