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
	assets   map[string]*assetBook
	accounts map[string]*accountBook // ordinary accounts; each asset holds its issuer
	byHash   accountIndex            // the same, by the keys of their ids, for postings
	posted   postedIDs               // transfer id -> the sequence that posted it
	idSeeds  [2]maphash.Seed
	asset    *assetBook // the last asset a transfer named: most name the same

	seq        uint64    // the last sequence applied
	time       time.Time // the latest event time so far (times are clamped to be monotonic)
	postings   uint64    // conversions included
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
	// applier is apply's handler, kept here so that dispatching an event
	// to it allocates nothing (a value would be boxed at every event).
	applier booksApplier

	// after holds the recomputed balances after the last posting's debit
	// and credit, formatted; valid until the next Apply and while the
	// posting's line is (it may be a view of the line).
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

type accountBook struct {
	// What a posting reads and writes comes first, in as few cache lines
	// as the struct allows: accountIndex.touch loads them ahead.
	asset     *assetBook
	balance   domain.Amount // recomputed
	stated    domain.Amount // as the last entry states it
	drift     domain.Amount // stated - balance after the last entry
	floor     domain.Amount // the lowest balance allowed
	lastSeq   uint64
	unlimited bool
	status    byte // bookOpen, frozen or closed (books_lifecycle.go)

	id         string
	limit      string // as journaled: "unlimited" for the issuer
	createdSeq uint64
	mark       uint64 // read-model comparison: set when the read model has it
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
		f:        f,
		assets:   make(map[string]*assetBook),
		accounts: make(map[string]*accountBook),
		posted:   newPostedIDs(min(sizeHint, maxSizeHint)),
		idSeeds:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
	}
}

// Seq returns the last sequence applied.
func (b *Books) Seq() uint64 { return b.seq }

// Time returns the latest event time applied (clamped to be monotonic).
func (b *Books) Time() time.Time { return b.time }

// report receives the findings of Apply.
type report func(Finding)

// apply advances the books by one event that passed checkSchema, and
// reports what does not add up.
func (b *Books) apply(ev *domain.Event, n *numbers) {
	b.seq = ev.Seq
	if ev.Time.After(b.time) {
		b.time = ev.Time
	}
	if n.ok { // a TransferPosted whose numbers the worker read
		b.post(ev, n)
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
	h.b.post(ev, h.n)
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
	as.world = &accountBook{id: domain.World, asset: as, unlimited: true, limit: domain.Unlimited,
		createdSeq: ev.Seq, lastSeq: ev.Seq}
	as.fx = &accountBook{id: domain.FX, asset: as, unlimited: true, limit: domain.Unlimited,
		createdSeq: ev.Seq, lastSeq: ev.Seq}
	b.assets[as.code] = as
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
	acc := &accountBook{id: strings.Clone(a.ID), asset: as, limit: strings.Clone(a.OverdraftLimit), createdSeq: ev.Seq, lastSeq: ev.Seq}
	switch a.OverdraftLimit {
	case domain.Unlimited:
		acc.unlimited = true
	case "": // the domain normalises the limit; an early event may not have
		acc.limit = domain.Amount{}.Format(as.scale)
	default:
		limit, err := domain.ParseAmount(a.OverdraftLimit, as.scale)
		if err != nil {
			f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: a.ID, Asset: a.Asset, Detail: "overdraft limit: " + err.Error()})
			return
		}
		acc.floor = limit.Neg()
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

// postingAccount is account for side i (0 from, 1 to) of a posting, by
// the key its worker computed when it has one.
func (b *Books) postingAccount(id string, as *assetBook, n *numbers, i int) *accountBook {
	switch {
	case id == domain.World:
		return as.world
	case n.hashed:
		return b.byHash.get(n.acct[i])
	}
	return b.accounts[id]
}

func (b *Books) post(ev *domain.Event, n *numbers) {
	f := b.f
	t := &ev.Transfer.Transfer
	as := b.asset
	if as == nil || (n.ok && as.key != n.asset) || (!n.ok && as.code != t.Asset) {
		as = b.assets[t.Asset]
	}
	if as == nil {
		f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: t.Asset, Detail: fmt.Sprintf("transfer %s in an undefined asset", t.ID)})
		return
	}
	from, to := b.postingAccount(t.From, as, n, 0), b.postingAccount(t.To, as, n, 1)
	for _, side := range [2]struct {
		id  string
		acc *accountBook
	}{{t.From, from}, {t.To, to}} {
		switch {
		case side.acc == nil:
			f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: side.id, Asset: t.Asset,
				Detail: fmt.Sprintf("transfer %s names an account that was never opened", t.ID)})
			return
		case side.acc.asset != as:
			f(Finding{Check: CheckConsistent, Seq: ev.Seq, Account: side.id, Asset: t.Asset,
				Detail: fmt.Sprintf("transfer %s in %s, but the account holds %s", t.ID, t.Asset, side.acc.asset.code)})
			return
		}
	}
	amount, err := postedAmount(t, as.scale, n)
	if err != nil {
		f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: t.Asset, Detail: fmt.Sprintf("transfer %s: %v", t.ID, err)})
		return
	}
	fromAfter, okFrom := from.balance.Sub(amount)
	toAfter, okTo := to.balance.Add(amount)
	if !okFrom || !okTo {
		f(Finding{Check: CheckConsistent, Seq: ev.Seq, Asset: t.Asset, Detail: fmt.Sprintf("transfer %s overflows a balance", t.ID)})
		return
	}
	if !b.reversal(ev, as, amount) {
		return
	}
	b.asset = as
	key := n.key
	if !n.ok {
		key = b.keyOf(t.ID)
	}
	if at, dup := b.posted.put(key, ev.Seq); dup {
		f(Finding{Check: CheckUnique, Seq: ev.Seq, Asset: t.Asset,
			Detail: fmt.Sprintf("transfer %s posted again: it was posted at sequence %d", t.ID, at)})
	}
	b.postings++
	b.checkStatus(ev, t.ID, from, to)
	from.balance, to.balance = fromAfter, toAfter
	from.lastSeq, to.lastSeq = ev.Seq, ev.Seq
	if !from.unlimited && from.balance.Cmp(from.floor) < 0 {
		f(Finding{Check: CheckLimit, Seq: ev.Seq, Account: from.id, Asset: as.code, Detail: fmt.Sprintf(
			"transfer %s takes the balance to %s, below the lower limit %s",
			t.ID, from.balance.Format(as.scale), from.floor.Format(as.scale))})
	}
	b.state(ev, 0, from, n)
	b.state(ev, 1, to, n)
	if !as.stated.IsZero() && as.zeroAt == 0 {
		as.zeroAt = ev.Seq
		f(Finding{Check: CheckZeroSum, Seq: ev.Seq, Asset: as.code, Detail: fmt.Sprintf(
			"the balances the entries state sum to %s, not zero", as.stated.Format(as.scale))})
	} else if as.stated.IsZero() {
		as.zeroAt = 0
	}
}

// postedAmount is a posting's amount, parsed once (n, when the line's
// numbers were read at the asset's scale) and checked: written at the
// asset's scale, positive, or exactly zero for a memo and only for one.
func postedAmount(t *domain.Transfer, scale int, n *numbers) (domain.Amount, error) {
	amount := n.amount
	if !n.ok || n.places[0] != scale {
		var err error
		if amount, err = domain.ParseAmount(t.Amount, scale); err != nil {
			return amount, err
		}
		if !atScale(t.Amount, scale) {
			return amount, fmt.Errorf("amount %s is not written at the asset's scale %d", t.Amount, scale)
		}
	}
	switch {
	case t.Memo && amount.Sign() != 0:
		return amount, fmt.Errorf("amount %s of a memo is not zero", t.Amount)
	case !t.Memo && amount.Sign() <= 0:
		return amount, fmt.Errorf("amount %s is not positive", t.Amount)
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
