package audit

import (
	"hash/maphash"

	"github.com/nats-ledger/ledger/domain"
)

// numbers are a posting's amount and balances after, parsed by a worker
// ahead of the books, each at the decimal places it is written with (the
// books then check those against the asset's scale), the key of its
// transfer id and the hashes of its two accounts. ok is false when any
// did not parse: the books then read the strings themselves and say what
// is wrong.
type numbers struct {
	ok     bool
	hashed bool     // acct holds the accounts' keys
	key    idKey    // the transfer id's
	asset  idKey    // the asset code's (assetBook.key)
	acct   [2]idKey // the keys of the transfer's from and to (accountIndex)
	amount domain.Amount
	after  [2]domain.Amount
	places [3]int // amount, debit balance, credit balance
}

// fastNumbers, when false, makes the workers parse every literal with
// the domain's parsers and leaves the accounts' keys out, so that the
// books look accounts up by id: the previous implementation, which the
// differential test (TestFastPathAgreesWithGeneralPath) runs every
// journal through too.
var fastNumbers = true

func (n *numbers) parse(p *domain.PostedTransfer, seeds *[2]maphash.Seed) {
	ok := fastNumbers
	if ok {
		var ok1, ok2, ok3 bool
		n.amount, n.places[0], ok1 = parseLiteral(p.Amount, false)
		n.after[0], n.places[1], ok2 = parseLiteral(p.Entries[0].Balance, true)
		n.after[1], n.places[2], ok3 = parseLiteral(p.Entries[1].Balance, true)
		ok = ok1 && ok2 && ok3
	}
	if !ok && !n.parseGeneral(p) {
		return
	}
	n.key, n.asset = keyOf(seeds, p.ID), keyOf(seeds, p.Asset)
	if fastNumbers {
		n.acct = [2]idKey{keyOf(seeds, p.From), keyOf(seeds, p.To)}
		n.hashed = true
	}
	n.ok = true
}

// parseGeneral parses the three literals with the domain's parsers, at
// the places each is written with: what parseLiteral leaves to them.
func (n *numbers) parseGeneral(p *domain.PostedTransfer) bool {
	var err1, err2, err3 error
	n.places = [3]int{places(p.Amount), places(p.Entries[0].Balance), places(p.Entries[1].Balance)}
	if max(n.places[0], n.places[1], n.places[2]) > domain.MaxScale {
		return false
	}
	n.amount, err1 = domain.ParseAmount(p.Amount, n.places[0])
	n.after[0], err2 = domain.ParseBalance(p.Entries[0].Balance, n.places[1])
	n.after[1], err3 = domain.ParseBalance(p.Entries[1].Balance, n.places[2])
	return err1 == nil && err2 == nil && err3 == nil
}

// maxFastDigits bounds the digits parseLiteral reads into a uint64:
// 10^18 < 2^63, so neither the value nor its negation can overflow.
const maxFastDigits = 18

// parseLiteral reads an amount literal (a balance with signed: a leading
// '-' allowed) in one pass, at the places it is written with, as
// domain.ParseAmount (ParseBalance) reads it at those places. It takes
// only the common form, at most 18 digits and nothing ParseAmount would
// refuse, and reports false for anything else, which the caller then
// gives to the domain's parsers: it never accepts a literal they refuse
// nor reads one to another value (TestParseLiteralAgrees).
func parseLiteral(s string, signed bool) (v domain.Amount, places int, ok bool) {
	i, neg := 0, false
	if signed && len(s) > 1 && s[0] == '-' {
		i, neg = 1, true
	}
	start, dot := i, -1
	var x uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' && dot < 0 {
			dot = i
			continue
		}
		if c < '0' || c > '9' {
			return v, 0, false
		}
		x = x*10 + uint64(c-'0')
	}
	digits := len(s) - start
	intDigits := digits
	if dot >= 0 {
		digits--
		intDigits = dot - start
		places = len(s) - dot - 1
	}
	switch {
	case digits == 0 || digits > maxFastDigits, // also catches "" and "-"
		intDigits == 0, dot >= 0 && places == 0, // ".5", "5."
		intDigits > 1 && s[start] == '0': // a leading zero
		return v, 0, false
	}
	if neg {
		return domain.AmountFromInt64(-int64(x)), places, true
	}
	return domain.AmountFromInt64(int64(x)), places, true
}
