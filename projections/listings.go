package projections

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/nats-ledger/ledger/domain"
)

// Listings of accounts and assets, by id and by code, in ascending order.
// A page reads one key range laid out for its filter: an owner's
// accounts (famOwner), an asset's (famAccountBy), or all accounts
// (famAccount); so a page by owner or asset costs the page, not the
// ledger. The filters the range does not answer (the asset within an
// owner's range, the status, a metadata pair) are checked on each row,
// and a page examines at most AccountScanMax rows: past that it ends,
// maybe short or empty, with a cursor where it stopped, so no request
// scans without bound however rare its matches.

// AccountScanMax bounds the accounts one page examines.
const AccountScanMax = 1000

// maxCursorKeyLen bounds the id or code a listing cursor carries: ids
// are at most 64 characters, asset codes 16.
const maxCursorKeyLen = domain.MaxIDLen

// AccountFilter selects accounts; zero fields do not filter. Status is
// "open", "frozen" or "closed"; MetaKey and MetaValue are one metadata
// pair the account must have. Limit is 1 to MaxPageLimit; Cursor is
// empty or a previous page's NextCursor.
type AccountFilter struct {
	Owner, Asset, Status string
	MetaKey, MetaValue   string
	Limit                int
	Cursor               string
}

// AssetView is a defined asset.
type AssetView struct {
	Code      string    `json:"code"`
	Scale     int       `json:"scale"`
	CreatedAt time.Time `json:"created_at"`
	Sequence  uint64    `json:"sequence"` // the AssetDefined event
}

func encodeKeyCursor(k string) *string {
	c := base64.RawURLEncoding.EncodeToString([]byte(k))
	return &c
}

// decodeKeyCursor returns the id or code to page after: "" for the first
// page, or ErrBadCursor.
func decodeKeyCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > maxCursorKeyLen || !cursorKeyChars(b) {
		return "", ErrBadCursor
	}
	return string(b), nil
}

// cursorKeyChars reports whether b may be an account id or an asset code
// (domain.ValidateID's characters; codes use fewer): a cursor this server
// did not issue is refused, not read as "after" some key no account has.
func cursorKeyChars(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// accountRange is the key range of f's candidates: its prefix, and
// whether a key's value is the account row (famAccount) or the asset
// (famOwner) or nothing (famAccountBy).
func accountRange(f *AccountFilter) (prefix []byte, fam byte) {
	switch {
	case f.Owner != "":
		return appendEscaped([]byte{famOwner}, f.Owner), famOwner
	case f.Asset != "":
		return appendEscaped([]byte{famAccountBy}, f.Asset), famAccountBy
	}
	return []byte{famAccount}, famAccount
}

// Accounts returns a page of the accounts f selects, by id. The issuer
// and FX accounts are not listed.
func (s *Store) Accounts(_ context.Context, f AccountFilter) (Page[AccountView], error) {
	page := Page[AccountView]{Data: []AccountView{}}
	if err := checkLimit(f.Limit); err != nil {
		return page, err
	}
	after, err := decodeKeyCursor(f.Cursor)
	if err != nil {
		return page, err
	}
	err = s.snapshot(func(r reader) error {
		prefix, fam := accountRange(&f)
		lower := prefix
		if after != "" {
			lower = appendEscaped(bytes.Clone(prefix), after)
		}
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(prefix)})
		if err != nil {
			return err
		}
		l := accountLister{r: r, f: &f, fam: fam, scales: map[string]int{}}
		err = l.scan(it, len(prefix), after, &page)
		return errors.Join(err, it.Error(), it.Close())
	})
	if err != nil {
		return Page[AccountView]{}, fmt.Errorf("accounts: %w", err)
	}
	return page, nil
}

// accountLister is one page of an account listing being read.
type accountLister struct {
	r      reader
	f      *AccountFilter
	fam    byte
	scales map[string]int // the assets' scales met on this page
}

func (l *accountLister) scan(it *pebble.Iterator, plen int, after string, page *Page[AccountView]) error {
	last, scanned := after, 0
	for ok := it.First(); ok; ok = it.Next() {
		id, rest, ok := readEscaped(it.Key()[plen:])
		if !ok {
			return errCorruptRow
		}
		if id == after || id == domain.World {
			continue
		}
		if scanned == AccountScanMax {
			page.NextCursor = encodeKeyCursor(last)
			return nil
		}
		scanned++
		v, match, err := l.candidate(id, rest, it.Value())
		if err != nil {
			return err
		}
		if match && len(page.Data) == l.f.Limit {
			page.NextCursor = encodeKeyCursor(last)
			return nil
		}
		last = id
		if match {
			page.Data = append(page.Data, v)
		}
	}
	return nil
}

// candidate reads the account a key names and reports whether f takes it.
func (l *accountLister) candidate(id string, rest, value []byte) (AccountView, bool, error) {
	var row accountRow
	var ok bool
	var err error
	switch l.fam {
	case famAccount:
		row, err = decodeAccount(value)
		ok = err == nil
	case famOwner:
		row, ok, err = getAccount(l.r, id, string(value))
	default:
		row, ok, err = getAccount(l.r, id, l.f.Asset)
	}
	if err != nil || !ok {
		return AccountView{}, false, firstErr(err, errCorruptRow)
	}
	f := l.f
	if f.Asset != "" && row.asset != f.Asset || f.Owner != "" && row.owner != f.Owner ||
		f.Status != "" && accountStatusName(row.status) != f.Status {
		return AccountView{}, false, nil
	}
	if f.MetaKey != "" {
		meta, err := decodeMetadata(row.meta)
		if err != nil {
			return AccountView{}, false, err
		}
		if v, ok := meta[f.MetaKey]; !ok || v != f.MetaValue {
			return AccountView{}, false, nil
		}
	}
	scale, ok := l.scales[row.asset]
	if !ok {
		as, found, err := getAsset(l.r, row.asset)
		if err != nil || !found {
			return AccountView{}, false, firstErr(err, errCorruptRow)
		}
		scale = as.scale
		l.scales[row.asset] = scale
	}
	v, err := accountView(l.r, id, account{accountRow: row, scale: scale})
	return v, err == nil, err
}

// Assets returns a page of the defined assets, by code.
func (s *Store) Assets(_ context.Context, limit int, cursor string) (Page[AssetView], error) {
	page := Page[AssetView]{Data: []AssetView{}}
	if err := checkLimit(limit); err != nil {
		return page, err
	}
	after, err := decodeKeyCursor(cursor)
	if err != nil {
		return page, err
	}
	err = s.snapshot(func(r reader) error {
		p := []byte{famAsset}
		it, err := r.NewIter(&pebble.IterOptions{LowerBound: assetKey(after), UpperBound: prefixEnd(p)})
		if err != nil {
			return err
		}
		for ok := it.First(); ok; ok = it.Next() {
			code := string(it.Key()[1:])
			if code == after {
				continue
			}
			if len(page.Data) == limit {
				page.NextCursor = encodeKeyCursor(page.Data[limit-1].Code)
				break
			}
			row, err := decodeAsset(it.Value())
			if err != nil {
				it.Close()
				return err
			}
			page.Data = append(page.Data, AssetView{Code: code, Scale: row.scale, CreatedAt: fromNanos(row.createdAt), Sequence: row.seq})
		}
		return errors.Join(it.Error(), it.Close())
	})
	if err != nil {
		return Page[AssetView]{}, fmt.Errorf("assets: %w", err)
	}
	return page, nil
}
