package audit

import (
	"hash/maphash"

	"github.com/nats-ledger/ledger/audit/internal/idhash"
	"github.com/nats-ledger/ledger/domain"
)

// numbers are a posting's amount and balances after, parsed by a worker
// ahead of the books, each at the decimal places it is written with (the
// books then check those against the asset's scale), the key of its
// transfer id and the hashes of its two accounts. ok is false when any
// did not parse: the books then read the strings themselves and say what
// is wrong. Keys first, then the amounts, then the bytes: 120 bytes.
type numbers struct {
	key    idKey    // the transfer id's
	asset  idKey    // the asset code's (assetBook.key)
	acct   [2]idKey // the keys of the transfer's from and to (accountIndex)
	amount domain.Amount
	after  [2]domain.Amount
	places [3]int8 // amount, debit balance, credit balance (domain.MaxScale at most)
	ok     bool
	hashed bool    // acct holds the accounts' keys, world says which is the world
	world  [2]bool // from, to is domain.World (the asset's own account)
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
		var places [3]int
		n.amount, places[0], ok1 = domain.ParseLiteral(p.Amount, false)
		n.after[0], places[1], ok2 = domain.ParseLiteral(p.Entries[0].Balance, true)
		n.after[1], places[2], ok3 = domain.ParseLiteral(p.Entries[1].Balance, true)
		n.places = placesOf(places)
		ok = ok1 && ok2 && ok3
	}
	if !ok && !n.parseGeneral(p) {
		return
	}
	n.key, n.asset = keyOf(seeds, p.ID), keyOf(seeds, p.Asset)
	if fastNumbers {
		n.accounts(keyOf(seeds, p.From), keyOf(seeds, p.To), p.From, p.To)
	}
	n.ok = true
}

// keyInto sets *k to keyOf(seeds, id), each word in place: returning the
// pair and copying it costs a store-forwarding stall where the caller
// reads the two words it wrote as one. seeds are keyOf's, read out for
// idhash (checker.hashSeedsOf): idhash.Sum2 is maphash.String, the same
// keyed hash of the same bytes with the same per-run seeds, reached in
// one call instead of three, so the keys keep idKey's strength exactly.
func keyInto(k *idKey, seeds *[2]idhash.Seed, id string) {
	idhash.Sum2((*[2]uint64)(k), seeds, id)
}

// placesOf narrows places that are at most domain.MaxScale (ParseLiteral's
// and parseGeneral's) to a byte each.
func placesOf(p [3]int) [3]int8 { return [3]int8{int8(p[0]), int8(p[1]), int8(p[2])} }

// accounts sets the keys of the transfer's two accounts, from and to
// (n.hashed), and which of them is the world.
func (n *numbers) accounts(from, to idKey, fromID, toID string) {
	n.acct, n.hashed = [2]idKey{from, to}, true
	n.world = [2]bool{fromID == domain.World, toID == domain.World}
}

// posting sets n from the numbers the posting reader parsed (its
// literals, at their places; domain.Line.Posting) and the keys of the
// transfer's id, asset and accounts.
//
// Every field is set once, in place, word by word: a pair built on the
// stack and copied (a key, the balances, the places) is read back as one
// wider load of narrower stores just made, a store-forwarding stall that
// took most of this function's time.
func (n *numbers) posting(pn *domain.PostingNumbers, id, asset, from, to string, c *checker) {
	n.ok, n.hashed, n.amount = true, true, pn.Amount
	n.after[0], n.after[1] = pn.Debit, pn.Credit
	n.places[0], n.places[1], n.places[2] = int8(pn.Places[0]), int8(pn.Places[1]), int8(pn.Places[2])
	seeds := c.hashSeedsOf()
	// The transfer id's key (new on every posting: no cache) and the
	// accounts', keyInto's each, in one call.
	idhash.Sum2x3((*[2]uint64)(&n.key), (*[2]uint64)(&n.acct[0]), (*[2]uint64)(&n.acct[1]), seeds, id, from, to)
	c.assetKeyOf(&n.asset, asset, seeds)
	n.world[0], n.world[1] = from == domain.World, to == domain.World
}

// parseGeneral parses the three literals with the domain's parsers, at
// the places each is written with: what domain.ParseLiteral leaves to them.
func (n *numbers) parseGeneral(p *domain.PostedTransfer) bool {
	var err1, err2, err3 error
	places := [3]int{places(p.Amount), places(p.Entries[0].Balance), places(p.Entries[1].Balance)}
	if max(places[0], places[1], places[2]) > domain.MaxScale {
		return false
	}
	n.places = placesOf(places)
	n.amount, err1 = domain.ParseAmount(p.Amount, places[0])
	n.after[0], err2 = domain.ParseBalance(p.Entries[0].Balance, places[1])
	n.after[1], err3 = domain.ParseBalance(p.Entries[1].Balance, places[2])
	return err1 == nil && err2 == nil && err3 == nil
}
