package domain

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Reading the state's binary encoding (snapshot.go describes it): every
// count is checked against the bytes that remain, every field against the
// domain's limits, and the whole against the ledger's invariants.

// UnmarshalBinary replaces the state with the one data encodes. Errors wrap
// ErrMalformedState or ErrStateVersion; on error the state is unchanged.
func (s *State) UnmarshalBinary(data []byte) error {
	st, err := decodeState(data)
	if err != nil {
		return err
	}
	*s = *st
	return nil
}

// stateReader reads the encoding; the first error sticks.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrMalformedState, fmt.Sprintf(format, args...))
	}
}

func (r *stateReader) next(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.fail("truncated")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *stateReader) u8() int {
	if b := r.next(1); b != nil {
		return int(b[0])
	}
	return 0
}

func (r *stateReader) u64() uint64 {
	if b := r.next(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *stateReader) amount() Amount {
	hi := r.u64()
	return Amount{hi: int64(hi), lo: r.u64()}
}

func (r *stateReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	var shortest [binary.MaxVarintLen64]byte
	if n <= 0 || binary.PutUvarint(shortest[:], v) != n {
		r.fail("bad varint") // or not the shortest: one state, one encoding
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of entries of at least min bytes each, refusing one
// that the remaining bytes cannot hold.
func (r *stateReader) count(what string, min int) int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)/min) {
		r.fail("%d %s cannot fit in %d bytes", n, what, len(r.b))
		return 0
	}
	return int(n)
}

func (r *stateReader) str(n int) string {
	return string(r.next(n))
}

// decodeState reads a whole encoding, refusing it at the first field that
// breaks the format, a limit or an invariant.
func decodeState(data []byte) (*State, error) {
	r := &stateReader{b: data}
	seq, lastCmd, err := r.header()
	if err != nil {
		return nil, err
	}
	archived := r.u64()
	if r.err == nil && archived > seq {
		r.fail("archive watermark %d beyond sequence %d", archived, seq)
	}
	assets := r.assets()
	nAccounts := r.count("accounts", minAccountBytes)
	if r.err != nil {
		return nil, r.err
	}
	st := newState(len(assets), nAccounts)
	st.seq, st.lastCmd, st.archived = seq, lastCmd, archived
	for _, a := range assets {
		st.assets[a.code] = a
	}
	r.accounts(st, assets, nAccounts)
	nPosted := r.count("posted ids", postedBytes)
	if raw := r.next(nPosted * postedBytes); r.err == nil {
		if err := st.posted.load(raw, nPosted, seq); err != nil {
			r.fail("%v", err)
		}
	}
	r.rates(st, assets)
	r.holds(st, assets)
	r.reversed(st)
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the end", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return st, nil
}

// header reads the magic, the version and the state's position. A wrong
// magic or version is returned at once; a truncation sticks in r.err.
func (r *stateReader) header() (seq uint64, lastCmd CommandRef, err error) {
	if magic := r.next(len(stateMagic)); r.err != nil || string(magic) != stateMagic {
		return 0, CommandRef{}, fmt.Errorf("%w: not a state encoding", ErrMalformedState)
	}
	if b := r.next(2); r.err == nil {
		if v := binary.BigEndian.Uint16(b); v != StateFormatVersion {
			return 0, CommandRef{}, fmt.Errorf("%w: version %d, this code reads %d", ErrStateVersion, v, StateFormatVersion)
		}
	}
	seq = r.u64()
	lastCmd = CommandRef{Seq: r.u64()}
	item := int64(r.u64())
	if item < 0 || item > math.MaxInt32 {
		r.fail("command item %d", item)
	}
	lastCmd.Item = int(item)
	return seq, lastCmd, nil
}

// assets reads the asset table, sorted by code.
func (r *stateReader) assets() []*assetState {
	nAssets := r.count("assets", minAssetBytes)
	if nAssets > maxAssets {
		r.fail("%d assets", nAssets)
	}
	assets := make([]*assetState, 0, nAssets)
	for i := 0; i < nAssets && r.err == nil; i++ {
		a := &assetState{code: r.str(r.u8()), scale: r.u8(), world: r.amount(), fx: r.amount()}
		if err := (Asset{Code: a.code, Scale: a.scale}).Validate(); err != nil && r.err == nil {
			r.fail("asset %d: %v", i, err)
		}
		if i > 0 && assets[i-1].code >= a.code {
			r.fail("assets out of order at %q", a.code)
		}
		assets = append(assets, a)
	}
	return assets
}

// accounts reads n accounts, sorted by id, into st, and checks that each
// asset's balances, its issuer's included, sum to zero.
func (r *stateReader) accounts(st *State, assets []*assetState, n int) {
	sums := make([]Amount, len(assets))
	for i, a := range assets {
		var ok bool
		if sums[i], ok = a.world.Add(a.fx); !ok {
			r.fail("asset %s: issuer and FX positions overflow", a.code)
		}
	}
	prevID := ""
	for i := 0; i < n && r.err == nil; i++ {
		acc, ai := r.account(i, prevID, assets)
		if r.err != nil {
			break
		}
		var ok bool
		if sums[ai], ok = sums[ai].Add(acc.balance); !ok {
			r.fail("asset %s: balances overflow", acc.asset.code)
		}
		prevID = acc.id
		st.accounts[acc.id] = st.accts.add(acc)
	}
	for i, sum := range sums {
		if r.err == nil && !sum.IsZero() {
			r.fail("asset %s: balances sum to %s, not zero", assets[i].code, sum.Format(assets[i].scale))
		}
	}
}

// account reads the i-th account, which must sort after prevID, and
// returns it with its asset's index.
func (r *stateReader) account(i int, prevID string, assets []*assetState) (accountState, uint64) {
	acc := accountState{id: r.str(r.u8())}
	ai := r.uvarint()
	flags := r.u8()
	acc.balance, acc.floor = r.amount(), r.amount()
	acc.fp = fingerprint(r.u64())
	ownerLen := r.uvarint()
	if ownerLen > 4*maxOwnerLen {
		r.fail("account %q: owner of %d bytes", acc.id, ownerLen)
	}
	acc.owner = r.str(int(ownerLen))
	if r.err != nil {
		return acc, 0
	}
	switch {
	case validateIDChars("id", acc.id) != nil || acc.id == World:
		r.fail("account %d: id %q", i, acc.id)
	case i > 0 && prevID >= acc.id:
		r.fail("accounts out of order at %q", acc.id)
	case ai >= uint64(len(assets)):
		r.fail("account %q: asset index %d", acc.id, ai)
	case flags>>1 >= int(statusCount) || flags&1 == 1 && !acc.floor.IsZero():
		r.fail("account %q: flags %d with floor %s", acc.id, flags, acc.floor.Format(0))
	case validateText("owner", acc.owner, maxOwnerLen) != nil:
		r.fail("account %q: owner", acc.id)
	}
	if r.err != nil {
		return acc, 0
	}
	acc.asset = assets[ai]
	acc.status = uint8(flags >> 1)
	if flags&1 == 1 {
		acc.floor = noFloor
	} else if acc.floor == noFloor || acc.floor.Sign() > 0 || acc.balance.Cmp(acc.floor) < 0 {
		r.fail("account %q: balance %s below its floor %s", acc.id, acc.balance.Format(acc.asset.scale), acc.floor.Format(acc.asset.scale))
	}
	return acc, ai
}

// rates reads the rate table, sorted by base, then quote, into st.
func (r *stateReader) rates(st *State, assets []*assetState) {
	n := r.count("rates", minRateBytes)
	if n > MaxRates {
		r.fail("%d rates", n)
	}
	var prev ratePair
	for i := 0; i < n && r.err == nil; i++ {
		bi, qi := r.uvarint(), r.uvarint()
		rate := r.str(r.u8())
		if r.err != nil {
			return
		}
		if bi >= uint64(len(assets)) || qi >= uint64(len(assets)) || bi == qi {
			r.fail("rate %d: asset indexes %d, %d", i, bi, qi)
			return
		}
		p := ratePair{assets[bi].code, assets[qi].code}
		if norm, err := ParseRate("rate", rate); err != nil || norm != rate {
			r.fail("rate %s/%s: %q", p.base, p.quote, rate)
		}
		if i > 0 && (prev.base > p.base || prev.base == p.base && prev.quote >= p.quote) {
			r.fail("rates out of order at %s/%s", p.base, p.quote)
		}
		if st.rates == nil {
			st.rates = make(map[ratePair]string, n)
		}
		st.rates[p] = rate
		prev = p
	}
}
