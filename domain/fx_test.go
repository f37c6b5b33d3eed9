package domain_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

var (
	admin = &domain.Actor{Subject: "root", Admin: true}
	alice = &domain.Actor{Subject: "alice"}
)

func (h *harness) rate(actor *domain.Actor, base, quote, rate string) domain.Decision {
	return h.do(domain.Command{Actor: actor, Rate: &domain.RateSet{Base: base, Quote: quote, Rate: rate}})
}

// fxFixture is fixture with alice (USD 10.00) owned by "alice" and the
// rate table's USD/EUR at 0.92.
func fxFixture(t *testing.T) *harness {
	t.Helper()
	h := fixture(t)
	h.must(h.open(domain.Account{ID: "al", Asset: "USD", Owner: "alice"}), domain.Created)
	h.must(h.transfer(domain.Transfer{ID: "seed-al", From: domain.World, To: "al", Amount: "10"}), domain.Posted)
	h.must(h.rate(admin, "USD", "EUR", "0.920"), domain.Updated)
	return h
}

func TestDecideRate(t *testing.T) {
	tests := []struct {
		name              string
		actor             *domain.Actor
		base, quote, rate string
		want              domain.Outcome
		code              domain.Code
	}{
		{"admin sets", admin, "USD", "EUR", "0.92", domain.Updated, ""},
		{"the ledger itself sets", nil, "EUR", "USD", "1.087", domain.Updated, ""},
		{"non-admin refused", alice, "USD", "EUR", "0.92", domain.Rejected, domain.CodeForbidden},
		{"non-admin refused before validation", alice, "USD", "USD", "x", domain.Rejected, domain.CodeForbidden},
		{"same asset", admin, "USD", "USD", "1", domain.Rejected, domain.CodeValidationFailed},
		{"zero", admin, "USD", "EUR", "0.000", domain.Rejected, domain.CodeValidationFailed},
		{"negative", admin, "USD", "EUR", "-1", domain.Rejected, domain.CodeValidationFailed},
		{"too many places", admin, "USD", "EUR", "0.1234567890123456789", domain.Rejected, domain.CodeValidationFailed},
		{"too many digits", admin, "USD", "EUR", "1234567890123456789012345", domain.Rejected, domain.CodeValidationFailed},
		{"undefined asset", admin, "USD", "XYZ", "1", domain.Rejected, domain.CodeAssetNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := fixture(t)
			d := h.rate(tc.actor, tc.base, tc.quote, tc.rate)
			if d.Outcome != tc.want {
				t.Fatalf("outcome %d (%v), want %d", d.Outcome, d.Err, tc.want)
			}
			if tc.code != "" {
				wantCode(t, d, tc.code)
				if d.Event != nil {
					t.Fatalf("a refused rate journaled %s", d.Event.Type)
				}
			}
		})
	}
	h := fixture(t)
	h.must(h.rate(admin, "USD", "EUR", "0.9200"), domain.Updated)
	if got := h.s.Rates(); len(got) != 1 || got[0] != (domain.Rate{Base: "USD", Quote: "EUR", Rate: "0.92"}) {
		t.Fatalf("rates %+v, want USD/EUR 0.92 normalized, and no inverse implied", got)
	}
}

func TestDecideConversion(t *testing.T) {
	usdEur := func(amount, rate string) domain.Transfer {
		return domain.Transfer{ID: "x", From: "alice", To: "eve", Amount: amount, ExchangeRate: rate}
	}
	tests := []struct {
		name     string
		actor    *domain.Actor
		tr       domain.Transfer
		want     domain.Outcome
		code     domain.Code
		journal  bool
		rate     string // the rate used
		toAmount string
	}{
		{name: "table rate", tr: usdEur("1.00", ""), want: domain.Posted, rate: "0.92", toAmount: "0.92"},
		{name: "explicit rate", tr: usdEur("2", "0.5"), want: domain.Posted, rate: "0.5", toAmount: "1.00"},
		{name: "rounded down", tr: usdEur("0.99", "0.333"), want: domain.Posted, rate: "0.333", toAmount: "0.32"},
		{name: "asset names the sender's", tr: domain.Transfer{ID: "x", From: "alice", To: "eve", Amount: "1", Asset: "USD"}, want: domain.Posted, rate: "0.92", toAmount: "0.92"},
		{name: "asset names the recipient's", tr: domain.Transfer{ID: "x", From: "alice", To: "eve", Amount: "1", Asset: "EUR"}, want: domain.Rejected, code: domain.CodeAssetMismatch, journal: true},
		{name: "no rate in the table", tr: domain.Transfer{ID: "x", From: "eve", To: "alice", Amount: "1"}, want: domain.Rejected, code: domain.CodeRateNotFound, journal: true},
		{name: "converts to nothing", tr: usdEur("0.01", "0.5"), want: domain.Rejected, code: domain.CodeInvalidAmount, journal: true},
		{name: "insufficient funds", tr: usdEur("10.01", ""), want: domain.Rejected, code: domain.CodeInsufficientFunds, journal: true},
		{name: "rate on a same-asset transfer", tr: domain.Transfer{ID: "x", From: "alice", To: "bob", Amount: "1", ExchangeRate: "1"}, want: domain.Rejected, code: domain.CodeValidationFailed, journal: true},
		{name: "bad rate", tr: usdEur("1", "0"), want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "memo with a rate", tr: domain.Transfer{ID: "x", From: "alice", To: "eve", Amount: "0", Memo: true, ExchangeRate: "1"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "from fx, admin", tr: domain.Transfer{ID: "x", From: domain.FX, To: "eve", Amount: "1", Asset: "EUR"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "to fx, admin", tr: domain.Transfer{ID: "x", From: "alice", To: domain.FX, Amount: "1"}, want: domain.Rejected, code: domain.CodeValidationFailed},
		{name: "non-admin converts its own", actor: alice, tr: domain.Transfer{ID: "x", From: "al", To: "eve", Amount: "1"}, want: domain.Posted, rate: "0.92", toAmount: "0.92"},
		{name: "non-admin, another's account", actor: alice, tr: usdEur("1", ""), want: domain.Rejected, code: domain.CodeForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := fxFixture(t)
			d := h.do(domain.Command{Actor: tc.actor, Transfer: &tc.tr})
			if d.Outcome != tc.want {
				t.Fatalf("outcome %d (%v), want %d", d.Outcome, d.Err, tc.want)
			}
			if tc.code != "" {
				wantCode(t, d, tc.code)
				if (d.Event != nil) != tc.journal {
					t.Fatalf("journaled %v, want %v", d.Event != nil, tc.journal)
				}
				if d.Event != nil && d.Event.Rejection.ExchangeRate != tc.tr.ExchangeRate {
					t.Fatalf("rejection carries rate %q, want the request's %q", d.Event.Rejection.ExchangeRate, tc.tr.ExchangeRate)
				}
				return
			}
			c := d.Event.Conversion
			if c.ExchangeRate != tc.rate || c.ToAmount != tc.toAmount || c.ToAsset != "EUR" || c.Asset != "USD" {
				t.Fatalf("converted %+v, want rate %s to %s EUR", c, tc.rate, tc.toAmount)
			}
			from := tc.tr.From
			want := [4]domain.Entry{
				{Account: from, Type: domain.Debit, Amount: c.Amount, Balance: c.Entries[0].Balance},
				{Account: domain.FX, Type: domain.Credit, Amount: c.Amount, Balance: c.Amount},
				{Account: domain.FX, Type: domain.Debit, Amount: tc.toAmount, Balance: "-" + tc.toAmount},
				{Account: "eve", Type: domain.Credit, Amount: tc.toAmount, Balance: tc.toAmount},
			}
			if c.Entries != want {
				t.Fatalf("entries\n got %+v\nwant %+v", c.Entries, want)
			}
			if err := d.Event.ValidatePayload(); err != nil {
				t.Fatalf("payload rules refuse a decided conversion: %v", err)
			}
		})
	}
}

// Idempotency: one id space with ordinary transfers. The same body
// replays (a table-rate conversion replays its original posting even
// after the table changed); another rate or asset is a conflict.
func TestConversionIdempotency(t *testing.T) {
	h := fxFixture(t)
	table := domain.Transfer{ID: "c1", From: "alice", To: "eve", Amount: "1"}
	first := h.must(h.transfer(table), domain.Posted)
	h.must(h.rate(admin, "USD", "EUR", "0.5"), domain.Updated)
	if d := h.transfer(table); d.Outcome != domain.Replayed || d.ReplayOf != first.Event.Seq {
		t.Fatalf("replay after the rate changed: %+v, want a replay of %d", d, first.Event.Seq)
	}
	explicit := domain.Transfer{ID: "c2", From: "alice", To: "eve", Amount: "1", ExchangeRate: "0.9"}
	second := h.must(h.transfer(explicit), domain.Posted)
	same := explicit
	same.ExchangeRate, same.Amount = "0.90", "1.00"
	if d := h.transfer(same); d.Outcome != domain.Replayed || d.ReplayOf != second.Event.Seq {
		t.Fatalf("replay with the same rate: %+v", d)
	}
	for _, tr := range []domain.Transfer{
		{ID: "c2", From: "alice", To: "eve", Amount: "1", ExchangeRate: "0.8"},
		{ID: "c2", From: "alice", To: "eve", Amount: "1"},
		{ID: "c1", From: "alice", To: "eve", Amount: "1", ExchangeRate: "0.92"},
		{ID: "c1", From: "alice", To: "bob", Amount: "1"},
		{ID: "seed", From: "alice", To: "eve", Amount: "10"},
	} {
		wantCode(t, h.transfer(tr), domain.CodeIdempotencyConflict)
	}
	// The journal rebuilds the same state: the ids, the rates, FX.
	fresh := domain.NewState()
	for _, ev := range h.events {
		if err := fresh.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	if d := fresh.Decide(domain.Command{Transfer: &table}, testEpoch); d.Outcome != domain.Replayed {
		t.Fatalf("rebuilt state: %+v, want a replay", d)
	}
	a, _ := h.s.MarshalBinary()
	b, _ := fresh.MarshalBinary()
	if string(a) != string(b) {
		t.Fatal("the rebuilt state encodes differently")
	}
	// A snapshot keeps the FX positions (the sums include them) and the
	// rates: the decoded state decides as the original.
	var decoded domain.State
	if err := decoded.UnmarshalBinary(a); err != nil {
		t.Fatal(err)
	}
	if got := decoded.Rates(); len(got) != 1 || got[0].Rate != "0.5" {
		t.Fatalf("decoded rates %+v", got)
	}
	next := domain.Transfer{ID: "c3", From: "alice", To: "eve", Amount: "1"}
	x, y := h.s.Decide(domain.Command{Transfer: &next}, testEpoch), decoded.Decide(domain.Command{Transfer: &next}, testEpoch)
	if x.Outcome != domain.Posted || y.Outcome != domain.Posted || x.Event.Conversion.Entries != y.Event.Conversion.Entries {
		t.Fatalf("decoded state decides %+v, the original %+v", y, x)
	}
}

// A journaled conversion whose to_amount or rate was altered does not
// apply: the state refuses it as inconsistent.
func TestApplyTamperedConversion(t *testing.T) {
	for _, tamper := range []func(c *domain.ConvertedTransfer){
		func(c *domain.ConvertedTransfer) { c.ToAmount = "0.93" },
		func(c *domain.ConvertedTransfer) { c.ExchangeRate = "0.93" },
		func(c *domain.ConvertedTransfer) { c.ToAsset = "BTC" },
	} {
		h := fxFixture(t)
		d := h.must(h.transfer(domain.Transfer{ID: "c", From: "alice", To: "eve", Amount: "1"}), domain.Posted)
		fresh := domain.NewState()
		for _, ev := range h.events[:len(h.events)-1] {
			if err := fresh.Apply(ev); err != nil {
				t.Fatal(err)
			}
		}
		ev := *d.Event
		c := *ev.Conversion
		tamper(&c)
		ev.Conversion = &c
		if err := fresh.Apply(&ev); err == nil {
			t.Fatalf("tampered %+v applied", c)
		}
	}
}

// A command marked SameAsset (the seed adapters', whose systems never
// convert) is refused asset_mismatch between accounts of different
// assets even when the table has a rate, journaled as before conversions
// existed; the same request without the mark converts.
func TestSameAssetRefusesConversion(t *testing.T) {
	h := fxFixture(t)
	tr := domain.Transfer{ID: "s1", From: "alice", To: "eve", Amount: "1"}
	d := h.do(domain.Command{Transfer: &tr, SameAsset: true})
	wantCode(t, d, domain.CodeAssetMismatch)
	if d.Event == nil || d.Event.Rejection.Detail != "account alice holds USD but eve holds EUR" {
		t.Fatalf("rejection %+v", d.Event)
	}
	h.must(h.do(domain.Command{Transfer: &tr}), domain.Posted)
	wantCode(t, h.do(domain.Command{Transfer: &tr, SameAsset: true}), domain.CodeIdempotencyConflict)
}

// The journal's lines of conversions, rates and rejections with a rate
// replay through the Replayer (the processor's rebuild) and DecodeEvent
// (the audit's) to the state that decided them.
func TestConversionLinesReplay(t *testing.T) {
	h := fxFixture(t)
	h.must(h.transfer(domain.Transfer{ID: "c1", From: "alice", To: "eve", Amount: "1.5"}), domain.Posted)
	h.must(h.transfer(domain.Transfer{ID: "c2", From: "alice", To: "eve", Amount: "2", ExchangeRate: "0.5"}), domain.Posted)
	wantCode(t, h.transfer(domain.Transfer{ID: "c3", From: "alice", To: "eve", Amount: "99", ExchangeRate: "0.5"}), domain.CodeInsufficientFunds)
	var lines [][]byte
	var prev domain.Hash
	for _, ev := range h.events {
		line, next, err := domain.AppendEvent(nil, ev, prev)
		if err != nil {
			t.Fatal(err)
		}
		lines, prev = append(lines, bytes.TrimSuffix(line, []byte("\n"))), next
	}
	fast, slow := domain.NewState(), domain.NewState()
	r := domain.NewReplayer(fast)
	var line domain.Line
	prev = domain.Hash{}
	for i, l := range lines {
		next, err := line.Prepare(l, prev)
		if err == nil {
			err = r.Apply(&line)
		}
		if err != nil {
			t.Fatalf("line %d %s: %v", i, l, err)
		}
		ev, err := domain.DecodeEvent(l)
		if err == nil {
			if ev.Rejection != nil && ev.Rejection.ExchangeRate != "0.5" {
				t.Fatalf("line %d: the rejection's rate is lost: %s", i, l)
			}
			err = slow.Apply(ev)
		}
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		prev = next
	}
	want, _ := h.s.MarshalBinary()
	for name, st := range map[string]*domain.State{"replayer": fast, "decoder": slow} {
		if got, _ := st.MarshalBinary(); !bytes.Equal(got, want) {
			t.Fatalf("%s: replayed state differs", name)
		}
	}
}

// An atomic batch with a conversion and a refused item rolls back whole:
// the FX positions and the converted id included.
func TestAtomicBatchRollsBackConversion(t *testing.T) {
	h := fxFixture(t)
	before, _ := h.s.MarshalBinary()
	ds := h.s.DecideAtomic([]domain.Command{
		{Ref: domain.CommandRef{Seq: 100}, Transfer: &domain.Transfer{ID: "a1", From: "alice", To: "eve", Amount: "1"}},
		{Ref: domain.CommandRef{Seq: 100, Item: 1}, Transfer: &domain.Transfer{ID: "a2", From: "alice", To: "bob", Amount: "1000"}},
	}, testEpoch)
	if ds[0].Outcome != domain.Rejected || ds[0].Err.Code() != domain.CodeBatchAborted || ds[1].Err.Code() != domain.CodeInsufficientFunds {
		t.Fatalf("decisions %+v", ds)
	}
	if after, _ := h.s.MarshalBinary(); !bytes.Equal(after, before) {
		t.Fatal("the state changed after a rolled-back batch")
	}
}

// A TransferPosted between accounts of two assets (which Decide never
// writes: it converts) does not apply: it would move money across assets.
func TestApplyPostingAcrossAssets(t *testing.T) {
	h := fixture(t)
	ev := &domain.Event{Seq: h.s.Seq() + 1, Type: domain.EventTransferPosted, Version: 1, Time: testEpoch,
		Transfer: &domain.PostedTransfer{Transfer: domain.Transfer{ID: "x", From: "alice", To: "eve", Amount: "1.00", Asset: "USD"},
			Entries: [2]domain.Entry{{Account: "alice", Type: domain.Debit, Amount: "1.00", Balance: "9.00"}, {Account: "eve", Type: domain.Credit, Amount: "1.00", Balance: "1.00"}}}}
	if err := h.s.Apply(ev); !errors.Is(err, domain.ErrInconsistent) {
		t.Fatalf("applied a posting across assets: %v", err)
	}
}

// The journal's rules for a conversion's payload, without state: a rate
// written otherwise than normalized, a to_asset equal to the asset, a
// leg of the FX account on another account or a zero to_amount are refused.
func TestConvertedPayloadRules(t *testing.T) {
	h := fxFixture(t)
	d := h.must(h.transfer(domain.Transfer{ID: "c", From: "alice", To: "eve", Amount: "1"}), domain.Posted)
	for name, edit := range map[string]func(c *domain.ConvertedTransfer){
		"rate not normalized": func(c *domain.ConvertedTransfer) { c.ExchangeRate = "0.920" },
		"same asset":          func(c *domain.ConvertedTransfer) { c.ToAsset = c.Asset },
		"FX leg elsewhere":    func(c *domain.ConvertedTransfer) { c.Entries[1].Account = "bob" },
		"zero to_amount": func(c *domain.ConvertedTransfer) {
			c.ToAmount, c.Entries[2].Amount, c.Entries[3].Amount = "0.00", "0.00", "0.00"
		},
		"unknown rate_from": func(c *domain.ConvertedTransfer) { c.RateFrom = "guess" },
	} {
		ev := *d.Event
		c := *ev.Conversion
		edit(&c)
		ev.Conversion = &c
		if err := ev.ValidatePayload(); err == nil {
			t.Errorf("%s: the payload rules accept %+v", name, c)
		}
	}
}
