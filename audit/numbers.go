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
		n.amount, n.places[0], ok1 = domain.ParseLiteral(p.Amount, false)
		n.after[0], n.places[1], ok2 = domain.ParseLiteral(p.Entries[0].Balance, true)
		n.after[1], n.places[2], ok3 = domain.ParseLiteral(p.Entries[1].Balance, true)
		ok = ok1 && ok2 && ok3
	}
	if !ok && !n.parseGeneral(p) {
		return
	}
	n.keys(p, seeds, fastNumbers)
	n.ok = true
}

// keys sets the keys of p's id and asset and, with accounts, of its two
// accounts (n.hashed).
func (n *numbers) keys(p *domain.PostedTransfer, seeds *[2]maphash.Seed, accounts bool) {
	n.key, n.asset = keyOf(seeds, p.ID), keyOf(seeds, p.Asset)
	if accounts {
		n.acct = [2]idKey{keyOf(seeds, p.From), keyOf(seeds, p.To)}
		n.hashed = true
	}
}

// posting sets n from the numbers the posting reader parsed (p's
// literals, at their places; domain.Line.Posting).
func (n *numbers) posting(pn *domain.PostingNumbers, p *domain.PostedTransfer, seeds *[2]maphash.Seed) {
	*n = numbers{ok: true, amount: pn.Amount, after: [2]domain.Amount{pn.Debit, pn.Credit}, places: pn.Places}
	n.keys(p, seeds, true)
}

// parseGeneral parses the three literals with the domain's parsers, at
// the places each is written with: what domain.ParseLiteral leaves to them.
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
