package projections

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/nats-ledger/ledger/domain"
)

// The read model of two-phase transfers (ADR 0022): a hold is a row of
// its own (famHold), keyed by id, which its post, void or expiry updates;
// each account's pending debits and credits are one key (famHeld). A hold
// moves nothing: only its post writes a posted transfer row and its two
// entries, with the amount posted, so entries and balances show posted
// money only. The issuer account never holds (the domain does not count
// its holds), so its sums are not kept.

const (
	famHold = 'h' // h<id, raw> -> hold row
	famHeld = 'H' // H<account><asset> -> pending debits, pending credits
)

// Hold statuses, as TransferView.Status shows them.
const (
	StatusPending = "pending"
	StatusVoided  = "voided"
	StatusExpired = "expired"
)

// HoldView is what a transfer view shows of a hold: the amount held, the
// amount posted, when it expires and when it was settled.
type HoldView struct {
	Amount          string     `json:"amount"`
	PostedAmount    string     `json:"posted_amount,omitempty"`
	ExpiresAt       *time.Time `json:"expires_at,omitempty"`
	Sequence        uint64     `json:"sequence"` // the TransferPending
	HeldAt          time.Time  `json:"held_at"`
	SettledSequence uint64     `json:"settled_sequence,omitempty"`
	SettledAt       *time.Time `json:"settled_at,omitempty"`
	// SettledHash is the journal hash of the event at SettledSequence
	// (HoldPosted, HoldVoided).
	SettledHash string `json:"settled_hash,omitempty"`
}

// holdRow is a hold as the read model keeps it.
type holdRow struct {
	status                                  string // StatusPending, StatusPosted, StatusVoided or StatusExpired
	from, to, asset, amount, posted, expiry string
	reference, meta                         string
	seq, settledSeq                         uint64
	at, settledAt                           int64
	hash, settledHash                       string // the journal hashes of the events at seq and settledSeq, hex
}

func holdKey(id string) []byte { return append([]byte{famHold}, id...) }

func heldKey(account, asset string) []byte {
	return appendEscaped(appendEscaped([]byte{famHeld}, account), asset)
}

func (h *holdRow) encode(b []byte) []byte {
	for _, s := range [...]string{h.status, h.from, h.to, h.asset, h.amount, h.posted, h.expiry, h.reference, h.meta} {
		b = appendStr(b, s)
	}
	b = binary.AppendUvarint(b, h.seq)
	b = binary.AppendUvarint(b, h.settledSeq)
	b = binary.BigEndian.AppendUint64(b, uint64(h.at))
	b = binary.BigEndian.AppendUint64(b, uint64(h.settledAt))
	return appendHash(appendHash(b, h.hash), h.settledHash)
}

func decodeHold(v []byte) (holdRow, error) {
	var h holdRow
	d := decoder{b: v}
	for _, p := range [...]*string{&h.status, &h.from, &h.to, &h.asset, &h.amount, &h.posted, &h.expiry, &h.reference, &h.meta} {
		*p = d.str()
	}
	h.seq, h.settledSeq = d.uvarint(), d.uvarint()
	h.at, h.settledAt = d.int64(), d.int64()
	h.hash, h.settledHash = d.hash(), d.hash()
	if d.bad || len(d.b) != 0 {
		return h, fmt.Errorf("hold: %w", errCorruptRow)
	}
	return h, nil
}

func getHold(r reader, id string) (holdRow, bool, error) {
	v, err := getOptional(r, holdKey(id))
	if err != nil || v == nil {
		return holdRow{}, false, err
	}
	h, err := decodeHold(v)
	return h, err == nil, err
}

// pendingSums are an account's pending debits and credits.
type pendingSums struct{ debits, credits domain.Amount }

func getPending(r reader, account, asset string, scale int) (pendingSums, error) {
	var p pendingSums
	v, err := getOptional(r, heldKey(account, asset))
	if err != nil || v == nil {
		return p, err
	}
	d := decoder{b: v}
	deb, cred := d.str(), d.str()
	if d.bad || len(d.b) != 0 {
		return p, fmt.Errorf("pending of %s: %w", account, errCorruptRow)
	}
	if p.debits, err = domain.ParseAmount(deb, scale); err == nil {
		p.credits, err = domain.ParseAmount(cred, scale)
	}
	return p, err
}

// holdCache is what the applier's batch wrote of holds, read before the
// store.
type holdCache struct {
	rows    map[string]*holdRow
	pending map[accountKey]*pendingSums
}

func (a *applier) holdCache() *holdCache {
	if a.holds == nil {
		a.holds = &holdCache{rows: make(map[string]*holdRow), pending: make(map[accountKey]*pendingSums)}
	}
	return a.holds
}

func (a *applier) holdOf(id string) (*holdRow, error) {
	c := a.holdCache()
	if h, ok := c.rows[id]; ok {
		return h, nil
	}
	h, ok, err := getHold(a.s.db, id)
	if err != nil || !ok {
		return nil, firstErr(err, fmt.Errorf("hold %s: %w", id, domain.ErrInconsistent))
	}
	return &h, nil
}

func (a *applier) putHold(id string, h *holdRow) {
	a.holdCache().rows[id] = h
	_ = a.b.Set(holdKey(id), h.encode(a.buf[:0]), nil)
}

// addPending adds amount (negative: subtracts) to the pending debits of
// from and the pending credits of to.
func (a *applier) addPending(from, to, asset, amount string, sign int) error {
	as, ok, err := a.asset(asset)
	if err != nil || !ok {
		return firstErr(err, fmt.Errorf("hold in undefined asset %s: %w", asset, domain.ErrInconsistent))
	}
	amt, err := domain.ParseAmount(amount, as.scale)
	if err != nil {
		return fmt.Errorf("hold amount %q: %w", amount, domain.ErrInconsistent)
	}
	c := a.holdCache()
	for i, id := range [2]string{from, to} {
		if id == domain.World {
			continue
		}
		k := accountKey{id, asset}
		p, ok := c.pending[k]
		if !ok {
			v, err := getPending(a.s.db, id, asset, as.scale)
			if err != nil {
				return err
			}
			p = &v
			c.pending[k] = p
		}
		side := &p.debits
		if i == 1 {
			side = &p.credits
		}
		if sign > 0 {
			*side, ok = side.Add(amt)
		} else {
			*side, ok = side.Sub(amt)
			ok = ok && side.Sign() >= 0
		}
		if !ok {
			return fmt.Errorf("pending sums of %s: %w", id, domain.ErrInconsistent)
		}
		b := appendStr(a.buf[:0], p.debits.Format(as.scale))
		_ = a.b.Set(heldKey(id, asset), appendStr(b, p.credits.Format(as.scale)), nil)
		a.touched[k] = struct{}{}
	}
	return nil
}

// TransferPending records the hold and adds it to both sides' sums.
func (a *applier) TransferPending(ev *domain.Event, p *domain.PendingTransfer) error {
	if p.Asset == "" || !p.Pending {
		return fmt.Errorf("hold %s: %w", p.ID, domain.ErrInconsistent)
	}
	meta, err := encodeMetadata(p.Metadata)
	if err != nil {
		return err
	}
	a.putHold(p.ID, &holdRow{status: StatusPending, from: p.From, to: p.To, asset: p.Asset, amount: p.Amount,
		expiry: p.ExpiresAt, reference: p.Reference, meta: meta, seq: ev.Seq, at: ev.Time.UnixNano(), hash: ev.Hash})
	return a.addPending(p.From, p.To, p.Asset, p.Amount, 1)
}

// settle marks the pending hold id settled and releases it from the sums.
func (a *applier) settle(ev *domain.Event, id, status, posted string) (*holdRow, error) {
	h, err := a.holdOf(id)
	if err != nil {
		return nil, err
	}
	if h.status != StatusPending {
		return nil, fmt.Errorf("hold %s settled twice: %w", id, domain.ErrInconsistent)
	}
	settled := *h
	settled.status, settled.posted, settled.settledSeq, settled.settledAt = status, posted, ev.Seq, ev.Time.UnixNano()
	settled.settledHash = ev.Hash
	a.putHold(id, &settled)
	return &settled, a.addPending(h.from, h.to, h.asset, h.amount, -1)
}

// HoldPosted settles the hold and writes the posting: a posted transfer
// row of the amount posted, with its two entries.
func (a *applier) HoldPosted(ev *domain.Event, p *domain.HoldPosting) error {
	h, err := a.settle(ev, p.ID, StatusPosted, p.Amount)
	if err != nil {
		return err
	}
	d, c := p.Entries[0], p.Entries[1]
	if h.from != p.From || h.to != p.To || h.asset != p.Asset || d.Account != p.From || c.Account != p.To ||
		d.Type != domain.Debit || c.Type != domain.Credit || d.Amount != p.Amount || c.Amount != p.Amount {
		return fmt.Errorf("hold %s: the posting does not match it: %w", p.ID, domain.ErrInconsistent)
	}
	row := &transferRow{seq: ev.Seq, status: statusPosted, id: p.ID, from: p.From, to: p.To, amount: p.Amount,
		asset: p.Asset, reference: h.reference, meta: h.meta, at: ev.Time.UnixNano(),
		debitBalance: d.Balance, creditBalance: c.Balance, hash: ev.Hash}
	return a.post(row)
}

// HoldVoided settles the hold as voided or expired.
func (a *applier) HoldVoided(ev *domain.Event, v *domain.HoldVoiding) error {
	status := StatusVoided
	if v.Reason == domain.VoidExpired {
		status = StatusExpired
	}
	_, err := a.settle(ev, v.ID, status, "")
	return err
}

// holdView is a hold's transfer view: the posting's, with the hold's
// facts, once posted; else the hold as requested, without entries.
func (h *holdRow) view(id string, posting *transferRow) (TransferView, error) {
	hv := &HoldView{Amount: h.amount, PostedAmount: h.posted, Sequence: h.seq, HeldAt: fromNanos(h.at),
		SettledSequence: h.settledSeq, SettledHash: h.settledHash}
	if h.expiry != "" {
		exp, err := time.Parse(time.RFC3339Nano, h.expiry)
		if err != nil {
			return TransferView{}, fmt.Errorf("hold %s: %w", id, errCorruptRow)
		}
		hv.ExpiresAt = &exp
	}
	if h.settledSeq != 0 {
		at := fromNanos(h.settledAt)
		hv.SettledAt = &at
	}
	if posting != nil {
		v, err := posting.view()
		v.Hold = hv
		return v, err
	}
	v := TransferView{ID: id, Status: h.status, From: h.from, To: h.to, Amount: h.amount, Asset: h.asset,
		Reference: h.reference, Sequence: h.seq, Hash: h.hash, Hold: hv}
	var err error
	v.Metadata, err = decodeMetadata(h.meta)
	return v, err
}

// holdTransfer is Transfer for a hold id; ok is false when id is no hold.
func holdTransfer(r reader, id string) (TransferView, bool, error) {
	h, ok, err := getHold(r, id)
	if err != nil || !ok {
		return TransferView{}, false, err
	}
	var posting *transferRow
	if h.status == StatusPosted {
		row, found, err := transferByID(r, id)
		if err != nil || !found || row.status != statusPosted {
			return TransferView{}, false, firstErr(err, fmt.Errorf("hold %s: posting missing: %w", id, errCorruptRow))
		}
		posting = &row
	}
	v, err := h.view(id, posting)
	if err == nil && posting != nil {
		err = addReversals(r, posting, &v) // a posted hold is reversible as any posting (ADR 0023)
	}
	return v, true, err
}

// PendingView is an account's pending amounts (empty in a view not read
// from the read model, such as the answer to opening an account): PendingDebits held from
// it, PendingCredits held towards it, and Available, its balance less
// its pending debits.
type PendingView struct {
	PendingDebits  string `json:"pending_debits,omitempty"`
	PendingCredits string `json:"pending_credits,omitempty"`
	Available      string `json:"available,omitempty"`
}

// pendingView reads the account's pending amounts beside its balance.
func pendingView(r reader, id, asset, balance string, scale int) (PendingView, error) {
	p, err := getPending(r, id, asset, scale)
	if err != nil {
		return PendingView{}, err
	}
	bal, err := domain.ParseAmount(strings.TrimPrefix(balance, "-"), scale)
	if strings.HasPrefix(balance, "-") {
		bal = bal.Neg()
	}
	if err != nil {
		return PendingView{}, fmt.Errorf("balance of %s: %w", id, errCorruptRow)
	}
	avail, _ := bal.Sub(p.debits)
	return PendingView{PendingDebits: p.debits.Format(scale), PendingCredits: p.credits.Format(scale), Available: avail.Format(scale)}, nil
}

// heldView is a TransferPending event as the read model shows it once
// applied.
func heldView(ev *domain.Event) TransferView {
	p := ev.Hold
	meta, _ := encodeMetadata(p.Metadata)
	h := holdRow{status: StatusPending, from: p.From, to: p.To, asset: p.Asset, amount: p.Amount, expiry: p.ExpiresAt,
		reference: p.Reference, meta: meta, seq: ev.Seq, at: ev.Time.UnixNano(), hash: ev.Hash}
	v, _ := h.view(p.ID, nil) // a journaled expiry parses
	return v
}
