package audit

import (
	"fmt"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// A TransferPosted as the books read it. Nearly every event is one, and
// it reaches the books one of two ways: with its event (any run with a
// read model or OnChunk, and any line the posting reader did not take),
// or as a worker's compact record (lineResult without an event). Both
// fill a posting, and Books.post and the checks it calls (state,
// checkStatus, reversal, the amount's rules) read only that: one
// implementation of the rules, whichever way the posting came. A
// posting's strings (its transfer's id, accounts, asset, literals) are
// read from its line only when a rule needs them, for a finding: on the
// compact path the event is then built (lazyEvent).

// posting is what the books read of a TransferPosted.
type posting struct {
	seq      uint64
	n        *numbers
	memo     bool // a memo posts a zero amount (domain.Transfer.Memo)
	reverses bool // it reverses another transfer (domain.Transfer.Reverses)
	ev       *domain.Event
	lazy     *lazyEvent // builds ev when it is nil
}

// eventPosting is the posting of ev, a TransferPosted, with n its
// numbers.
func eventPosting(ev *domain.Event, n *numbers) posting {
	t := ev.Transfer
	return posting{seq: ev.Seq, n: n, memo: t.Memo, reverses: t.Reverses != "", ev: ev}
}

// transfer is the posting's transfer, its event built first on the
// compact path.
func (p *posting) transfer() *domain.PostedTransfer {
	if p.ev == nil {
		p.ev = p.lazy.event()
	}
	return p.ev.Transfer
}

// id is the transfer's id, for a finding.
func (p *posting) id() string { return p.transfer().ID }

// amountLiteral is the transfer's amount as written.
func (p *posting) amountLiteral() string { return p.transfer().Amount }

// lazyEvent is a compact posting's event, built from its line when a
// rule needs its strings. The posting reader took the line, so it is
// canonical and chained to prev with its stored hash: PrepareHashed with
// that hash as the digest reads it without hashing it again, and View
// gives the event that the event path would have had.
type lazyEvent struct {
	line       []byte
	prev, hash *domain.Hash
	ev         *domain.Event
	buf        domain.EventBuffer
}

// reset makes z the event of line, chained after prev with hash.
func (z *lazyEvent) reset(line []byte, prev, hash *domain.Hash) {
	z.line, z.prev, z.hash, z.ev = line, prev, hash, nil
}

func (z *lazyEvent) event() *domain.Event {
	if z.ev != nil {
		return z.ev
	}
	var l domain.Line
	if _, err := l.PrepareHashed(z.line, *z.prev, *z.hash); err == nil {
		z.ev, err = l.View(&z.buf)
		if err == nil {
			return z.ev
		}
	}
	// The worker read the line with the posting reader: it decodes, unless
	// its bytes changed since. Only a mapped export's can (another
	// process writing the file in place), and the run then ends with
	// ErrExportChanged (faultGuard).
	ev, err := domain.DecodeEvent(z.line)
	if err != nil {
		panic(lineChanged{err})
	}
	z.ev = ev
	return ev
}

// instant is an event's time in the books' compact form: seconds since
// 1970 (UTC) and nanoseconds, what domain.PostingView reads of a line.
type instant struct {
	sec  int64
	nsec int32
}

func instantOf(t time.Time) instant { return instant{t.Unix(), int32(t.Nanosecond())} }

func (a instant) after(b instant) bool { return a.sec > b.sec || a.sec == b.sec && a.nsec > b.nsec }

func (a instant) time() time.Time { return time.Unix(a.sec, int64(a.nsec)).UTC() }

// advance moves the books' clock to the event time t when it is later
// (times are clamped to be monotonic).
func (b *Books) advance(t time.Time) {
	if at := instantOf(t); at.after(b.now) {
		b.now, b.eventTime, b.byEvent = at, t, true
	}
}

// advanceTo is advance for a compact posting's time, which is its
// event's Time in UTC: Time builds that only when asked.
func (b *Books) advanceTo(t instant) {
	if t.after(b.now) {
		b.now, b.byEvent = t, false
	}
}

// applyPosting advances the books by a compact posting at time t.
func (b *Books) applyPosting(p *posting, t instant) {
	b.seq = p.seq
	b.advanceTo(t)
	b.post(p)
}

// postingAsset is the asset a posting names, or nil: found by the key
// its worker computed when it has one.
func (b *Books) postingAsset(p *posting) *assetBook {
	as := b.asset
	if p.n.ok {
		if as == nil || as.key != p.n.asset {
			as = b.assetKeys[p.n.asset]
		}
		return as
	}
	if code := p.transfer().Asset; as == nil || as.code != code {
		as = b.assets[code]
	}
	return as
}

// postingAccount is account for side i (0 from, 1 to) of a posting, by
// the key its worker computed when it has one.
func (b *Books) postingAccount(p *posting, as *assetBook, i int) *accountBook {
	if n := p.n; n.hashed {
		if n.world[i] {
			return as.world
		}
		if acc := b.found[b.foundAt%uint(len(b.found))][i]; foundIs(acc, &n.acct[i]) { // accountIndex.getFound, inline
			return acc
		}
		return b.byHash.get(n.acct[i])
	}
	t := p.transfer()
	return b.account([2]string{t.From, t.To}[i], as)
}

// foundSides is postingSides for what nearly every posting is: two
// ordinary accounts of asset as, looked up by the keys the worker
// computed, each the book engine.prefetch found ahead when it is the
// key's (Books.found) and else by the index (as postingAccount does).
// It returns nil, nil for any other posting (an account missing, of
// another asset or the world, no keys), which postingSides then takes
// from the start, finding the same books and reporting what is wrong.
func (b *Books) foundSides(n *numbers, as *assetBook) (from, to *accountBook) {
	if !n.hashed || n.world[0] || n.world[1] {
		return nil, nil
	}
	found := &b.found[b.foundAt%uint(len(b.found))]
	if from = found[0]; !foundIs(from, &n.acct[0]) {
		from = b.byHash.get(n.acct[0])
	}
	if to = found[1]; !foundIs(to, &n.acct[1]) {
		to = b.byHash.get(n.acct[1])
	}
	if from == nil || to == nil || from.asset != as || to.asset != as {
		return nil, nil
	}
	return from, to
}

// postingSides finds a posting's two accounts, or reports the one that
// is not an account of the asset and returns false.
func (b *Books) postingSides(p *posting, as *assetBook) (from, to *accountBook, ok bool) {
	from, to = b.postingAccount(p, as, 0), b.postingAccount(p, as, 1)
	if from != nil && to != nil && from.asset == as && to.asset == as {
		return from, to, true
	}
	for i, acc := range [2]*accountBook{from, to} {
		if acc != nil && acc.asset == as {
			continue
		}
		t := p.transfer()
		id := [2]string{t.From, t.To}[i]
		detail := fmt.Sprintf("transfer %s names an account that was never opened", t.ID)
		if acc != nil {
			detail = fmt.Sprintf("transfer %s in %s, but the account holds %s", t.ID, t.Asset, acc.asset.code)
		}
		b.f(Finding{Check: CheckConsistent, Seq: p.seq, Account: id, Asset: t.Asset, Detail: detail})
		return nil, nil, false
	}
	return from, to, true
}
