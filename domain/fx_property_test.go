package domain_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/nats-ledger/ledger/domain"
)

// Random conversions between assets of random scales at random rates:
// after every one, each asset's balances (issuer and FX positions
// included, read from the entries alone) sum to zero, the recipient's
// to_amount is amount × rate rounded down at its scale (to_amount <=
// amount × rate < to_amount + one minor unit), and no balance moved but
// the four the entries name.
func TestConversionProperties(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { conversionProperties(t, seed) })
	}
}

func conversionProperties(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0xf0))
	h := newHarness(t)
	const nAssets, perAsset = 4, 3
	scale := map[string]int{}
	assetOf := map[string]string{}
	var accounts []string
	for i := range nAssets {
		code := fmt.Sprintf("A%d", i)
		scale[code] = rng.IntN(domain.MaxScale + 1)
		h.must(h.asset(code, scale[code]), domain.Created)
		for j := range perAsset {
			id := fmt.Sprintf("a%d-%d", i, j)
			h.must(h.open(domain.Account{ID: id, Asset: code}), domain.Created)
			amount := randomDecimal(rng, 1+rng.IntN(12), scale[code])
			h.must(h.transfer(domain.Transfer{ID: "seed-" + id, From: domain.World, To: id, Amount: amount}), domain.Posted)
			assetOf[id] = code
			accounts = append(accounts, id)
		}
	}
	// balance is what the entries say, per account and per FX/issuer position.
	balance := map[string]decimal.Decimal{}
	for _, ev := range h.events {
		if p := ev.Transfer; p != nil {
			for _, e := range p.Entries {
				balance[posKey(e.Account, p.Asset)] = decimal.RequireFromString(e.Balance)
			}
		}
	}
	posted := 0
	for step := range 300 {
		from, to := accounts[rng.IntN(len(accounts))], accounts[rng.IntN(len(accounts))]
		a, b := assetOf[from], assetOf[to]
		if a == b {
			continue
		}
		amount := randomDecimal(rng, 1+rng.IntN(8), scale[a])
		rate := randomDecimal(rng, 1+rng.IntN(6), rng.IntN(19))
		tr := domain.Transfer{ID: fmt.Sprint("c", step), From: from, To: to, Amount: amount, ExchangeRate: rate}
		before := clone(balance)
		d := h.transfer(tr)
		if d.Outcome != domain.Posted {
			if d.Outcome != domain.Rejected {
				t.Fatalf("step %d: outcome %d", step, d.Outcome)
			}
			switch d.Err.Code() {
			case domain.CodeInsufficientFunds, domain.CodeInvalidAmount:
			default:
				t.Fatalf("step %d %+v: %v", step, tr, d.Err)
			}
			continue
		}
		posted++
		c := d.Event.Conversion
		// Rounding: to_amount <= amount × rate < to_amount + ulp(b).
		exact := decimal.RequireFromString(c.Amount).Mul(decimal.RequireFromString(rate))
		got := decimal.RequireFromString(c.ToAmount)
		ulp := decimal.New(1, -int32(scale[b]))
		if got.GreaterThan(exact) || !exact.LessThan(got.Add(ulp)) {
			t.Fatalf("step %d: %s × %s = %s, credited %s (scale %d)", step, c.Amount, rate, exact, c.ToAmount, scale[b])
		}
		// Only the four positions the entries name moved, each by its
		// entry's amount.
		assets := [4]string{a, a, b, b}
		moved := map[string]bool{}
		for i, e := range c.Entries {
			k := posKey(e.Account, assets[i])
			delta := decimal.RequireFromString(e.Amount)
			if e.Type == domain.Debit {
				delta = delta.Neg()
			}
			if want := before[k].Add(delta); !want.Equal(decimal.RequireFromString(e.Balance)) {
				t.Fatalf("step %d: %s's balance %s after %s %s, was %s", step, k, e.Balance, e.Type, e.Amount, before[k])
			}
			balance[k] = decimal.RequireFromString(e.Balance)
			moved[k] = true
		}
		for k, v := range balance {
			if !moved[k] && !v.Equal(before[k]) {
				t.Fatalf("step %d: %s moved", step, k)
			}
		}
		// Per-asset sums, from the issuer's minting and the entries.
		sums := map[string]decimal.Decimal{}
		for k, v := range balance {
			sums[assetOfKey(k, assetOf)] = sums[assetOfKey(k, assetOf)].Add(v)
		}
		for asset, sum := range sums {
			if !sum.IsZero() {
				t.Fatalf("step %d: %s sums to %s", step, asset, sum)
			}
		}
	}
	if posted < 20 {
		t.Fatalf("only %d conversions posted: the generator tests too little", posted)
	}
	// The state rebuilt from the journal is the same state.
	fresh := domain.NewState()
	for _, ev := range h.events {
		if err := fresh.Apply(ev); err != nil {
			t.Fatal(err)
		}
	}
	x, _ := h.s.MarshalBinary()
	y, _ := fresh.MarshalBinary()
	if string(x) != string(y) {
		t.Fatal("rebuilt state differs")
	}
}

// posKey names a position: an account, or the issuer's or FX's in an asset.
func posKey(account, asset string) string {
	if account == domain.World || account == domain.FX {
		return account + "/" + asset
	}
	return account
}

func assetOfKey(k string, assetOf map[string]string) string {
	if i := strings.IndexByte(k, '/'); i >= 0 {
		return k[i+1:]
	}
	return assetOf[k]
}

func clone(m map[string]decimal.Decimal) map[string]decimal.Decimal {
	out := make(map[string]decimal.Decimal, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// randomDecimal returns a positive literal of up to intDigits integer
// digits (or none: "0.x") and exactly places decimal places.
func randomDecimal(rng *rand.Rand, intDigits, places int) string {
	for {
		var b strings.Builder
		if places > 0 && rng.IntN(3) == 0 {
			b.WriteByte('0')
		} else {
			b.WriteByte(byte('1' + rng.IntN(9)))
			for range intDigits - 1 {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
		if places > 0 {
			b.WriteByte('.')
			for range places {
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
		}
		if s := b.String(); strings.Trim(s, "0.") != "" {
			return s
		}
	}
}
