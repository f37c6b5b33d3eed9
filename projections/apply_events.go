package projections

import (
	"fmt"

	"github.com/nats-ledger/ledger/domain"
)

// The applier's handlers: what each event writes.

func (a *applier) AssetDefined(ev *domain.Event, _ *domain.Asset) error {
	as := ev.Asset
	if as.Scale < 0 || as.Scale > domain.MaxScale {
		return fmt.Errorf("asset %s has scale %d: %w", as.Code, as.Scale, domain.ErrInconsistent)
	}
	if _, ok, err := a.asset(as.Code); err != nil || ok {
		return fmt.Errorf("asset %s defined again: %w", as.Code, firstErr(err, domain.ErrInconsistent))
	}
	row := assetRow{scale: as.Scale, seq: ev.Seq, createdAt: ev.Time.UnixNano()}
	a.assets[as.Code] = row
	_ = a.b.Set(assetKey(as.Code), row.encode(a.buf[:0]), nil)
	world := accountRow{asset: as.Code, overdraftLimit: domain.Unlimited, createdAt: row.createdAt, createdSeq: ev.Seq}
	return a.putAccount(domain.World, &world)
}

func (a *applier) AccountOpened(ev *domain.Event, _ *domain.Account) error {
	acc := ev.Account
	as, ok, err := a.asset(acc.Asset)
	if err != nil {
		return fmt.Errorf("account %s: %w", acc.ID, err)
	}
	if !ok {
		return fmt.Errorf("account %s in undefined asset %s: %w", acc.ID, acc.Asset, domain.ErrInconsistent)
	}
	if acc.ID == domain.World {
		return fmt.Errorf("account %s opened: %w", acc.ID, domain.ErrInconsistent)
	}
	if _, ok, err := a.accountOf(acc.ID, ""); err != nil || ok {
		return fmt.Errorf("account %s opened again: %w", acc.ID, firstErr(err, domain.ErrInconsistent))
	}
	meta, err := encodeMetadata(acc.Metadata)
	if err != nil {
		return err
	}
	limit := acc.OverdraftLimit
	if limit == "" { // the domain normalises it; an older event may not have
		limit = domain.Amount{}.Format(as.scale)
	}
	row := accountRow{asset: acc.Asset, overdraftLimit: limit, owner: acc.Owner, meta: meta,
		createdAt: ev.Time.UnixNano(), createdSeq: ev.Seq}
	return a.putAccount(acc.ID, &row)
}

// AccountMetadataUpdated replaces the account's metadata. The issuer
// account has none to change.
func (a *applier) AccountMetadataUpdated(_ *domain.Event, u *domain.MetadataUpdate) error {
	meta, err := encodeMetadata(u.Metadata)
	if err != nil {
		return err
	}
	row, ok, err := a.accountOf(u.Account, "")
	if err != nil {
		return fmt.Errorf("account %s: %w", u.Account, err)
	}
	if !ok || u.Account == domain.World {
		return fmt.Errorf("metadata of unknown account %s: %w", u.Account, domain.ErrInconsistent)
	}
	updated := row
	updated.meta = meta
	return a.putAccount(u.Account, &updated)
}

func (a *applier) putAccount(id string, row *accountRow) error {
	k := accountKey{id, row.asset}
	a.accounts[k] = row
	if id != domain.World {
		a.ids[id] = row.asset
	}
	_ = a.b.Set(accountKeyOf(id, row.asset), row.encode(a.buf[:0]), nil)
	_ = a.b.Set(accountByAssetKey(row.asset, id), nil, nil)
	if row.owner != "" {
		_ = a.b.Set(ownerKey(row.owner, id), []byte(row.asset), nil)
	}
	return nil
}

func (a *applier) TransferPosted(ev *domain.Event, _ *domain.PostedTransfer) error {
	p := ev.Transfer
	d, c := p.Entries[0], p.Entries[1]
	if p.Asset == "" || d.Account != p.From || d.Type != domain.Debit || c.Account != p.To || c.Type != domain.Credit ||
		d.Amount != p.Amount || c.Amount != p.Amount {
		return fmt.Errorf("transfer %s: entries do not match the transfer: %w", p.ID, domain.ErrInconsistent)
	}
	meta, err := encodeMetadata(p.Metadata)
	if err != nil {
		return err
	}
	row := &transferRow{seq: ev.Seq, status: statusPosted, id: p.ID, from: p.From, to: p.To, amount: p.Amount,
		asset: p.Asset, reference: p.Reference, meta: meta, at: ev.Time.UnixNano(),
		debitBalance: d.Balance, creditBalance: c.Balance, reverses: p.Reverses, hash: ev.Hash}
	if err := a.post(row); err != nil {
		return err
	}
	if p.Reverses != "" {
		_ = a.b.Set(reversalKey(p.Reverses, ev.Seq), appendStr(appendStr(nil, p.ID), p.Amount), nil)
	}
	a.touched[accountKey{d.Account, p.Asset}] = struct{}{}
	a.touched[accountKey{c.Account, p.Asset}] = struct{}{}
	return nil
}

// post writes a posting's row. A posting is written blind: it reads
// nothing (a lookup of every id was a third of the applier's time). It
// takes over the id's entry, so a rejection of the id before it becomes a
// dead row that readers skip (liveRejection); one in this batch is
// deleted outright.
func (a *applier) post(row *transferRow) error {
	if before, ok := a.transfers[row.id]; ok {
		if before.status == statusPosted {
			return fmt.Errorf("transfer %s was posted before: %w", row.id, domain.ErrInconsistent)
		}
		deleteTransfer(a.b, before)
	}
	a.transfers[row.id] = row
	a.buf = putTransfer(a.b, row, a.buf)
	return nil
}

// TransferRejected records a rejection. A later rejection of the same id
// replaces an earlier one; a posted id is never touched (the domain never
// journals a rejection for it, and a posting never changes). Rejections
// are rare: each reads its id's entry.
func (a *applier) TransferRejected(ev *domain.Event, _ *domain.RejectedTransfer) error {
	r := ev.Rejection
	meta, err := encodeMetadata(r.Metadata)
	if err != nil {
		return err
	}
	before, err := a.transfer(r.ID)
	if err != nil {
		return fmt.Errorf("rejected transfer %s: %w", r.ID, err)
	}
	if before != nil {
		if before.status == statusPosted {
			return nil
		}
		deleteTransfer(a.b, before)
	}
	row := &transferRow{seq: ev.Seq, status: statusRejected, id: r.ID, from: r.From, to: r.To, amount: r.Amount,
		asset: r.Asset, reference: r.Reference, meta: meta, at: ev.Time.UnixNano(), code: string(r.Code), detail: r.Detail,
		exchangeRate: r.ExchangeRate, reverses: r.Reverses, hash: ev.Hash}
	a.transfers[r.ID] = row
	a.buf = putTransfer(a.b, row, a.buf)
	return nil
}

// checkAccounts checks that every account the entries name exists: an
// entry of an unknown account is an inconsistent journal.
func (a *applier) checkAccounts() error {
	for k := range a.touched {
		if _, ok := a.s.known[k]; ok {
			continue
		}
		if _, ok := a.accounts[k]; ok {
			continue
		}
		_, ok, err := getAccount(a.s.db, k.id, k.asset)
		if err != nil {
			return fmt.Errorf("account %s: %w", k.id, err)
		}
		if !ok {
			return fmt.Errorf("entry for unknown account %s in %s: %w", k.id, k.asset, domain.ErrInconsistent)
		}
	}
	return nil
}

// transfer returns the row of id as this batch leaves it, or nil.
func (a *applier) transfer(id string) (*transferRow, error) {
	if r, ok := a.transfers[id]; ok {
		return r, nil
	}
	r, ok, err := transferByID(a.s.db, id)
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

func (a *applier) asset(code string) (assetRow, bool, error) {
	if r, ok := a.assets[code]; ok {
		return r, true, nil
	}
	return getAsset(a.s.db, code)
}

// accountOf finds the account id (in asset, for the issuer account) as
// this batch leaves it.
func (a *applier) accountOf(id, asset string) (accountRow, bool, error) {
	if id != domain.World {
		if as, ok := a.ids[id]; ok {
			return *a.accounts[accountKey{id, as}], true, nil
		}
	} else if r, ok := a.accounts[accountKey{id, asset}]; ok {
		return *r, true, nil
	}
	return findAccount(a.s.db, id, asset)
}

// putTransfer writes a transfer row and its index entries; it returns the
// scratch buffer for reuse. A posting's sides are its two entries (the
// recipient's in toAsset for a conversion, whose FX legs are two more);
// only a rejection has keys in famFrom, famTo and famRejected (see
// listing.go).
func putTransfer(b writer, r *transferRow, buf []byte) []byte {
	buf = r.encode(buf[:0])
	_ = b.Set(transferKey(r.seq), buf, nil)
	_ = b.Set(idKey(r.id), appendSeq(nil, r.seq), nil)
	_ = b.Set(appendSeq(assetIndexPrefix(r.asset), r.seq), []byte{r.status}, nil)
	if r.status == statusPosted {
		_ = b.Set(entryKey(r.from, r.asset, r.seq, sideDebit), []byte(r.debitBalance), nil)
		_ = b.Set(entryKey(r.to, r.creditAsset(), r.seq, sideCredit), []byte(r.creditBalance), nil)
		if r.converted() {
			_ = b.Set(fxEntryKey(r.asset, r.seq, sideCredit), []byte(r.fxCreditBalance), nil)
			_ = b.Set(fxEntryKey(r.toAsset, r.seq, sideDebit), []byte(r.fxDebitBalance), nil)
		}
		return buf
	}
	side := append([]byte{r.status}, r.asset...)
	_ = b.Set(appendSeq(sidePrefix(famFrom, r.from), r.seq), side, nil)
	_ = b.Set(appendSeq(sidePrefix(famTo, r.to), r.seq), side, nil)
	_ = b.Set(appendSeq([]byte{famRejected}, r.seq), nil, nil)
	return buf
}

// deleteTransfer deletes a transfer row and its index entries, but not its
// id's entry, which the caller replaces or deletes.
func deleteTransfer(b writer, r *transferRow) {
	_ = b.Delete(transferKey(r.seq), nil)
	_ = b.Delete(appendSeq(sidePrefix(famFrom, r.from), r.seq), nil)
	_ = b.Delete(appendSeq(sidePrefix(famTo, r.to), r.seq), nil)
	_ = b.Delete(appendSeq(assetIndexPrefix(r.asset), r.seq), nil)
	_ = b.Delete(appendSeq([]byte{famRejected}, r.seq), nil)
	_ = b.Delete(entryKey(r.from, r.asset, r.seq, sideDebit), nil)
	_ = b.Delete(entryKey(r.to, r.creditAsset(), r.seq, sideCredit), nil)
	if r.converted() {
		_ = b.Delete(fxEntryKey(r.asset, r.seq, sideCredit), nil)
		_ = b.Delete(fxEntryKey(r.toAsset, r.seq, sideDebit), nil)
	}
}

func firstErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}
