package audit

import (
	"fmt"
	"hash/maphash"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// Books is the ledger recomputed from the journal alone: every asset and
// account with its balance, and every posted transfer id. It is written
// here rather than taken from domain.State so that the audit does not
// trust the code that wrote the journal: it shares only the amount
// arithmetic and the field rules.
type Books struct {
	assets map[string]*assetBook
	// assetKeys holds the same assets by the keys of their codes, for
	// postings (numbers.asset).
	assetKeys map[idKey]*assetBook
	accounts  map[string]*accountBook // ordinary accounts; each asset holds its issuer
	byHash    accountIndex            // the same, by the keys of their ids, for postings
	posted    postedIDs               // transfer id -> the sequence that posted it
	idSeeds   [2]maphash.Seed
	asset     *assetBook // the last asset a transfer named: most name the same

	seq uint64 // the last sequence applied
	// now is the latest event time so far (times are clamped to be
	// monotonic), in the compact form (advance); when an event set it,
	// eventTime is that event's Time (Time returns it as it was).
	now        instant
	eventTime  time.Time
	byEvent    bool
	postings   uint64 // conversions included
	rejections uint64
	// conversions counts the postings that converted (four entries each).
	conversions uint64
	// rates is the rate table as the RateSet events set it, by base and
	// quote: what a conversion that took the table's rate must have used.
	rates map[[2]string]string
	// holds are the two-phase transfers (books_holds.go).
	holds holdLedger
	// reversed follows each reversed transfer's remainder (ADR 0023).
	reversed map[idKey]reversedBook

	f report // receives the findings
	// found is the books of the accounts of a batch's lines ahead as
	// engine.prefetch found them (accountIndex.bookAhead), line i's at
	// i % len(found), for postingAccount; foundAt is the line being
	// applied (set before each, the hint checked before use).
	// prefetchBooks fills them a group ahead, so two groups' are in use.
	found   [2 * prefetchGroup][2]*accountBook
	foundAt uint
	// applier is apply's handler, kept here so that dispatching an event
	// to it allocates nothing (a value would be boxed at every event).
	applier booksApplier

	// after holds the recomputed balances after the last posting's debit
	// and credit, formatted; valid until the next Apply and while the
	// posting's line is (it may be a view of the line). A compact
	// posting's is set only where it differs from the stated one: the
	// read model, which reads it, needs events.
	after [2]string
	// afterConv is after for the last conversion's four entries.
	afterConv [4]string
}

type assetBook struct {
	code   string
	key    idKey // the code's, as numbers.asset holds a posting's
	scale  int
	world  *accountBook
	fx     *accountBook  // the FX account's position in this asset
	stated domain.Amount // the balances as the entries state them, summed
	zeroAt uint64        // the sequence stated first went non-zero, 0 while zero
}

// idKey stands for an id (a transfer's, an account's, an asset's code):
// two 64-bit hashes with seeds drawn for this run, so the set of posted
// ids keeps no event alive (it keeps 88 bits of each key, see postedIDs).
// Equal ids always have equal keys, so a duplicate is never missed; two
// different ids would need a collision of those bits to be taken for one,
// and the finding names both sequences for a person to look at.
type idKey [2]uint64

func (b *Books) keyOf(id string) idKey { return keyOf(&b.idSeeds, id) }

func keyOf(seeds *[2]maphash.Seed, id string) idKey {
	return idKey{maphash.String(seeds[0], id), maphash.String(seeds[1], id)}
}

// maxSizeHint bounds the posted-id set allocated up front.
const maxSizeHint = 1 << 22

func newBooks(f report, sizeHint uint64) *Books {
	return &Books{
		f:         f,
		assets:    make(map[string]*assetBook),
		assetKeys: make(map[idKey]*assetBook),
		accounts:  make(map[string]*accountBook),
		posted:    newPostedIDs(min(sizeHint, maxSizeHint)),
		idSeeds:   [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		now:       instantOf(time.Time{}),
		byEvent:   true,
	}
}

// Seq returns the last sequence applied.
func (b *Books) Seq() uint64 { return b.seq }

// Time returns the latest event time applied (clamped to be monotonic).
func (b *Books) Time() time.Time {
	if b.byEvent {
		return b.eventTime
	}
	return b.now.time()
}

// report receives the findings of Apply.
type report func(Finding)

// apply advances the books by one event that passed checkSchema, and
// reports what does not add up.
func (b *Books) apply(ev *domain.Event, n *numbers) {
	b.seq = ev.Seq
	b.advance(ev.Time)
	if n.ok { // a TransferPosted whose numbers the worker read
		p := eventPosting(ev, n)
		b.post(&p)
		return
	}
	b.applier = booksApplier{b, n}
	_ = ev.Dispatch(&b.applier) // checkSchema dispatched it already
}

// booksApplier is Books.apply's handler of each event type. Its methods
// report findings, never errors: the event passed checkSchema.
type booksApplier struct {
	b *Books
	n *numbers
}

var _ domain.EventHandler = booksApplier{}

func (h booksApplier) AssetDefined(ev *domain.Event, _ *domain.Asset) error {
	h.b.defineAsset(ev)
	return nil
}

func (h booksApplier) AccountOpened(ev *domain.Event, _ *domain.Account) error {
	h.b.openAccount(ev)
	return nil
}

func (h booksApplier) TransferPosted(ev *domain.Event, _ *domain.PostedTransfer) error {
	p := eventPosting(ev, h.n)
	h.b.post(&p)
	return nil
}

func (h booksApplier) TransferRejected(ev *domain.Event, r *domain.RejectedTransfer) error {
	h.rejected(ev, "transfer", r.ID, " (a posted id is answered without an event)")
	return nil
}

// rejected counts a rejection of a kind's id and flags it when the id was
// posted earlier; why ends the finding's detail.
func (h booksApplier) rejected(ev *domain.Event, kind, id, why string) {
	b := h.b
	b.rejections++
	if at, ok := b.posted.get(b.keyOf(id)); ok {
		b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Detail: fmt.Sprintf(
			"rejection of %s %s, which was posted at sequence %d%s", kind, id, at, why)})
	}
}

// AccountMetadataUpdated must name an open account; metadata moves
// nothing.
func (h booksApplier) AccountMetadataUpdated(ev *domain.Event, u *domain.MetadataUpdate) error {
	if _, ok := h.b.accounts[u.Account]; !ok {
		h.b.f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: u.Account, Detail: "metadata of an account never opened"})
	}
	return nil
}

// CommandSkipped moves nothing; the commands check reads its command.
func (booksApplier) CommandSkipped(*domain.Event, *domain.SkippedCommand) error { return nil }

func (b *Books) defineAsset(ev *domain.Event) {
	f := b.f
	a := ev.Asset
	if _, dup := b.assets[a.Code]; dup {
		f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: a.Code, Detail: "asset defined again"})
		return
	}
	as := &assetBook{code: strings.Clone(a.Code), key: b.keyOf(a.Code), scale: a.Scale}
	as.world, as.fx = b.byHash.books.alloc(), b.byHash.books.alloc()
	as.world.issuer(domain.World, as, ev.Seq)
	as.fx.issuer(domain.FX, as, ev.Seq)
	b.assets[as.code] = as
	b.assetKeys[as.key] = as
}

func (b *Books) openAccount(ev *domain.Event) {
	f := b.f
	a := ev.Account
	as, ok := b.assets[a.Asset]
	if !ok {
		f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: a.ID, Asset: a.Asset, Detail: "account opened in an undefined asset"})
		return
	}
	if _, dup := b.accounts[a.ID]; dup {
		f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: a.ID, Asset: a.Asset, Detail: "account opened again"})
		return
	}
	// Clones: the decoded strings share the whole line's memory.
	var floor domain.Amount
	switch a.OverdraftLimit {
	case domain.Unlimited, "":
	default:
		limit, err := domain.ParseAmount(a.OverdraftLimit, as.scale)
		if err != nil {
			f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: a.ID, Asset: a.Asset, Detail: "overdraft limit: " + err.Error()})
			return
		}
		floor = limit.Neg()
	}
	acc := b.byHash.books.alloc()
	acc.id, acc.asset, acc.limit, acc.createdSeq, acc.lastSeq = strings.Clone(a.ID), as, strings.Clone(a.OverdraftLimit), ev.Seq, ev.Seq
	acc.setFloor(a.OverdraftLimit == domain.Unlimited, floor)
	if a.OverdraftLimit == "" { // the domain normalises the limit; an early event may not have
		acc.limit = domain.Amount{}.Format(as.scale)
	}
	b.accounts[acc.id] = acc
	b.byHash.add(b.keyOf(acc.id), acc)
}

// account returns the account id holding asset as, or nil.
func (b *Books) account(id string, as *assetBook) *accountBook {
	if id == domain.World {
		return as.world
	}
	return b.accounts[id]
}

// post applies a posting (see posting) and reports what does not add
// up: its asset and accounts, its amount, a reversal's remainder, its id
// posted before, its accounts' status and limit, the balances its
// entries state, and its asset's stated balances' sum.
func (b *Books) post(p *posting) {
	f := b.f
	as := b.postingAsset(p)
	if as == nil {
		t := p.transfer()
		f(Finding{Check: CheckConsistent, Seq: p.seq, Asset: t.Asset, Detail: fmt.Sprintf("transfer %s in an undefined asset", t.ID)})
		return
	}
	from, to := b.foundSides(p.n, as)
	if from == nil {
		var ok bool
		if from, to, ok = b.postingSides(p, as); !ok {
			return
		}
	}
	amount := p.n.amount
	if !p.n.ok || int(p.n.places[0]) != as.scale || p.memo || amount.Sign() <= 0 {
		// Not a positive amount read at the asset's scale, which is
		// all that amountOf checks of such an amount.
		var err error
		if amount, err = amountOf(as.scale, p.n, p.memo, p.amountLiteral); err != nil {
			f(Finding{Check: CheckConsistent, Seq: p.seq, Asset: as.code, Detail: fmt.Sprintf("transfer %s: %v", p.id(), err)})
			return
		}
	}
	// settled: each account's last entry stated its recomputed balance,
	// as nearly every one has (see stateBoth).
	settled := from.stated == from.balance && to.stated == to.balance
	fromAfter, okFrom := from.balance.Sub(amount)
	toAfter, okTo := to.balance.Add(amount)
	if !okFrom || !okTo {
		f(Finding{Check: CheckConsistent, Seq: p.seq, Asset: as.code, Detail: fmt.Sprintf("transfer %s overflows a balance", p.id())})
		return
	}
	if !b.reversal(p, as, amount) {
		return
	}
	b.asset = as
	key := &p.n.key
	if !p.n.ok {
		k := b.keyOf(p.id())
		key = &k
	}
	if at, dup := b.posted.put(key, p.seq); dup {
		f(Finding{Check: CheckUnique, Seq: p.seq, Asset: as.code,
			Detail: fmt.Sprintf("transfer %s posted again: it was posted at sequence %d", p.id(), at)})
	}
	b.postings++
	if from.status != bookOpen || to.status != bookOpen {
		b.checkStatus(p.seq, p.id, from, to)
	}
	from.balance, to.balance = fromAfter, toAfter
	from.lastSeq, to.lastSeq = p.seq, p.seq
	if from.belowFloor() {
		f(Finding{Check: CheckLimit, Seq: p.seq, Account: from.id, Asset: as.code, Detail: fmt.Sprintf(
			"transfer %s takes the balance to %s, below the lower limit %s",
			p.id(), from.balance.Format(as.scale), from.floor.Format(as.scale))})
	}
	if !(settled && b.stateBoth(p, from, to, amount)) {
		b.state(p, 0, from)
		b.state(p, 1, to)
	}
	if !as.stated.IsZero() && as.zeroAt == 0 {
		as.zeroAt = p.seq
		f(Finding{Check: CheckZeroSum, Seq: p.seq, Asset: as.code, Detail: fmt.Sprintf(
			"the balances the entries state sum to %s, not zero", as.stated.Format(as.scale))})
	} else if as.stated.IsZero() {
		as.zeroAt = 0
	}
}

// postedAmount is a transfer's amount, parsed once (n, when the line's
// numbers were read at the asset's scale) and checked (amountOf).
func postedAmount(t *domain.Transfer, scale int, n *numbers) (domain.Amount, error) {
	return amountOf(scale, n, t.Memo, func() string { return t.Amount })
}

// amountOf is a posting's amount, parsed once (n, when the line's
// numbers were read at the asset's scale) and checked: written at the
// asset's scale, positive, or exactly zero for a memo and only for one.
// literal returns the amount as written: read only when n lacks it or a
// finding quotes it.
func amountOf(scale int, n *numbers, memo bool, literal func() string) (domain.Amount, error) {
	amount := n.amount
	if !n.ok || int(n.places[0]) != scale {
		var err error
		if amount, err = domain.ParseAmount(literal(), scale); err != nil {
			return amount, err
		}
		if !atScale(literal(), scale) {
			return amount, fmt.Errorf("amount %s is not written at the asset's scale %d", literal(), scale)
		}
	}
	switch {
	case memo && amount.Sign() != 0:
		return amount, fmt.Errorf("amount %s of a memo is not zero", literal())
	case !memo && amount.Sign() <= 0:
		return amount, fmt.Errorf("amount %s is not positive", literal())
	}
	return amount, nil
}

// atScale reports whether a literal that ParseAmount accepted at scale is
// written as the domain writes amounts: with exactly scale decimals.
func atScale(literal string, scale int) bool {
	return places(literal) == scale
}

// places returns the number of decimals a literal is written with.
func places(literal string) int {
	if dot := strings.IndexByte(literal, '.'); dot >= 0 {
		return len(literal) - dot - 1
	}
	return 0
}
