package domain

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
)

// Holds in the state's encoding (snapshot.go, version 3), after the rates:
//
//	uvarint #pending holds, then per hold, sorted by id:
//	    id (uint8 length, bytes), from, to (uint8 length, bytes; "world"
//	    for the issuer), asset index uvarint, amount int128,
//	    expires int64 (Unix nanoseconds; 0: never), seq uint64
//	uvarint #settled holds, then per hold, sorted by key:
//	    key [16], status uint8 (1 posted, 2 voided, 3 expired), seq uint64,
//	    asset index uvarint, from (uint8 length, bytes), held int128,
//	    posted int128 (0 unless posted)
//
// The sums each account holds are not written: they are the pending holds'.

const (
	minHoldBytes    = 1 + 1 + 1 + 1 + 16 + 8 + 8
	minSettledBytes = 16 + 1 + 8 + 1 + 1 + 16 + 16
)

type holdImage struct {
	id, from, to, asset string
	amount              Amount
	expires             int64
	seq                 uint64
}

type settledImage struct {
	key   idKey
	s     settledHold
	asset string
	from  string
}

// holdsImage copies the holds: the pending ones (at most MaxPendingHolds)
// and the settled ones, which change after the image is taken.
func (b *holdBook) image() ([]holdImage, []settledImage) {
	pending := make([]holdImage, 0, len(b.pending))
	for _, h := range b.pending {
		pending = append(pending, holdImage{id: h.id, from: h.fromID(), to: h.toID(), asset: h.asset.code,
			amount: h.amount, expires: h.expires, seq: h.seq})
	}
	settled := make([]settledImage, 0, len(b.settled))
	for k, c := range b.settled {
		settled = append(settled, settledImage{key: k, s: c, asset: c.asset.code, from: accountID(c.from)})
	}
	return pending, settled
}

// appendHolds writes the holds, sorting them in place.
func appendHolds(b []byte, pending []holdImage, settled []settledImage, byCode map[string]uint64) []byte {
	slices.SortFunc(pending, func(a, b holdImage) int { return strings.Compare(a.id, b.id) })
	slices.SortFunc(settled, func(a, b settledImage) int { return bytes.Compare(a.key[:], b.key[:]) })
	b = binary.AppendUvarint(b, uint64(len(pending)))
	for _, h := range pending {
		for _, s := range [3]string{h.id, h.from, h.to} {
			b = append(b, byte(len(s)))
			b = append(b, s...)
		}
		b = binary.AppendUvarint(b, byCode[h.asset])
		b = appendAmount(b, h.amount)
		b = binary.BigEndian.AppendUint64(b, uint64(h.expires))
		b = binary.BigEndian.AppendUint64(b, h.seq)
	}
	b = binary.AppendUvarint(b, uint64(len(settled)))
	for _, c := range settled {
		b = append(b, c.key[:]...)
		b = append(b, byte(c.s.status))
		b = binary.BigEndian.AppendUint64(b, c.s.seq)
		b = binary.AppendUvarint(b, byCode[c.asset])
		b = append(b, byte(len(c.from)))
		b = append(b, c.from...)
		b = appendAmount(b, c.s.held)
		b = appendAmount(b, c.s.posted)
	}
	return b
}

// holdAccount finds a hold's account by id in st, the issuer as nil.
func (r *stateReader) holdAccount(st *State, id string, asset *assetState) *accountState {
	if id == World {
		return nil
	}
	acc, ok := st.accounts[id]
	if !ok || acc.asset != asset {
		r.fail("hold account %q", id)
	}
	return acc
}

// holds reads the pending and settled holds into st and checks that no
// account's holds take it below its floor.
func (r *stateReader) holds(st *State, assets []*assetState) {
	n := r.count("holds", minHoldBytes)
	if n > MaxPendingHolds {
		r.fail("%d pending holds", n)
	}
	prev := ""
	for i := 0; i < n && r.err == nil; i++ {
		h := &hold{id: r.str(r.u8())}
		from, to := r.str(r.u8()), r.str(r.u8())
		ai := r.uvarint()
		h.amount = r.amount()
		h.expires, h.seq = int64(r.u64()), r.u64()
		if r.err != nil {
			return
		}
		key := keyOf(h.id)
		// The hold's id is posted: hot, or in the archive when posted at
		// or before its watermark (ADR 0027).
		_, known := st.posted.get(key)
		known = known || h.seq <= st.archived
		if validateIDChars("id", h.id) != nil || i > 0 && prev >= h.id || ai >= uint64(len(assets)) ||
			h.amount.Sign() <= 0 || h.expires < 0 || h.seq == 0 || h.seq > st.seq || !known || from == to {
			r.fail("hold %d (%q)", i, h.id)
			return
		}
		h.asset = assets[ai]
		h.from, h.to = r.holdAccount(st, from, h.asset), r.holdAccount(st, to, h.asset)
		st.holds.add(key, h)
		prev = h.id
	}
	r.settledHolds(st, assets)
	for acc, held := range st.holds.held {
		if after, ok := acc.balance.Sub(held); !acc.unlimited() && (!ok || after.Cmp(acc.floor) < 0) {
			r.fail("account %q: holds of %s take it below its floor", acc.id, held.Format(acc.asset.scale))
		}
	}
}

func (r *stateReader) settledHolds(st *State, assets []*assetState) {
	n := r.count("settled holds", minSettledBytes)
	var prev idKey
	for i := 0; i < n && r.err == nil; i++ {
		var key idKey
		copy(key[:], r.next(len(key)))
		c := settledHold{status: holdStatus(r.u8()), seq: r.u64()}
		ai := r.uvarint()
		from := r.str(r.u8())
		c.held, c.posted = r.amount(), r.amount()
		if r.err != nil {
			return
		}
		// Its id was posted before it settled: hot, or archived once the
		// watermark passed its posting (ADR 0027).
		_, known := st.posted.get(key)
		known = known || st.archived > 0
		postedOK := c.status == holdPosted && c.posted.Sign() > 0 && c.posted.Cmp(c.held) <= 0 ||
			c.status != holdPosted && c.posted.IsZero()
		if i > 0 && bytes.Compare(prev[:], key[:]) >= 0 || c.status < holdPosted || c.status > holdExpired ||
			c.seq == 0 || c.seq > st.seq || ai >= uint64(len(assets)) || c.held.Sign() <= 0 || !postedOK || !known {
			r.fail("settled hold %d", i)
			return
		}
		if _, dup := st.holds.pending[key]; dup {
			r.fail("settled hold %d is pending", i)
			return
		}
		c.asset = assets[ai]
		c.from = r.holdAccount(st, from, c.asset)
		if st.holds.settled == nil {
			st.holds.settled = make(map[idKey]settledHold, n)
		}
		st.holds.settled[key] = c
		prev = key
	}
}
