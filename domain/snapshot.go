package domain

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
)

// The state's binary encoding, for snapshots. It is deterministic (the same
// state always encodes to the same bytes: assets, accounts and ids are
// written sorted), versioned, and read back with a bound on everything:
// counts are checked against the bytes that remain, every field against
// the limits the domain enforces on requests, and the whole against the
// ledger's invariants, so that a damaged encoding is refused rather than
// trusted. Integrity (a checksum) is the snapshot container's job.
//
// Version 3, all integers big-endian:
//
//	magic "LGRSTATE", version uint16
//	seq uint64, last command seq uint64, last command item int64,
//	archive watermark uint64 (hotset.go; at most seq)
//	uvarint #assets, then per asset, sorted by code:
//	    code (uint8 length, bytes), scale uint8, issuer balance int128,
//	    FX position int128
//	uvarint #accounts, then per account, sorted by id:
//	    id (uint8 length, bytes), asset index uvarint, flags uint8 (bit 0:
//	    unlimited; bits 1-2: status, 0 open, 1 frozen debits, 2 frozen all,
//	    3 closed),
//	    balance int128, floor int128 (0 when unlimited), fingerprint uint64,
//	    owner (uvarint length, bytes)
//	uvarint #ids, then per hot posted transfer id, sorted by key:
//	    key [16] (SHA-256 of the id, truncated), seq uint64, fingerprint uint64
//	uvarint #rates, then per rate, sorted by base, then quote:
//	    base asset index uvarint, quote asset index uvarint,
//	    rate (uint8 length, bytes; normalized as ParseRate writes it)
//	the pending and settled holds (hold_snapshot.go)
//	then the reversed transfers (reversal_state.go)
//
// Version 1 had neither FX positions nor rates, version 2 no account
// status (ADR 0024), no holds (ADR 0022), no reversals (ADR 0023) and no
// posted-id archive watermark (ADR 0027: every posted id was in it); a
// snapshot of another version is refused
// (ErrStateVersion) and the state rebuilt from the journal.
//
// A change to this layout or to what fingerprints cover (fingerprint.go)
// needs a new StateFormatVersion.

// StateFormatVersion is the version of the state encoding this code writes
// and the only one it reads.
const StateFormatVersion = 3

const stateMagic = "LGRSTATE"

// Errors of decoding a state.
var (
	ErrMalformedState = errors.New("malformed state encoding")
	ErrStateVersion   = errors.New("unsupported state format version")
)

// Minimum encoded sizes, to refuse counts the remaining bytes cannot hold.
const (
	minAssetBytes   = 1 + 1 + 1 + 16 + 16
	minRateBytes    = 1 + 1 + 1 + 1
	minAccountBytes = 1 + 1 + 1 + 1 + 16 + 16 + 8 + 1
	postedBytes     = 16 + 8 + 8
	maxAssets       = 1 << 16 // far beyond any real ledger; bounds the asset table
)

// Image is a consistent view of a State, taken between decisions: it
// encodes the state as it was while the State moves on, so that the
// processor pauses only to take it and WriteTo does the slow part (sorting,
// encoding) on another goroutine.
//
// Taking it copies only what the State may still change: account balances,
// floors and statuses (33 bytes each), the issuer balances, and the ids of
// the hot set's young generation. Everything else is read later, in
// place: accounts are never moved or removed, and nothing but an account's
// balance, floor and status changes after it is opened; the hot set's
// older generations are frozen, never written again (generations.go; an
// eviction drops one from the state, and the Image still holds it). The
// State's owner writes only to memory the Image does not read.
type Image struct {
	seq      uint64
	lastCmd  CommandRef
	archived uint64 // the archive watermark
	assets   []assetImage
	accounts [][]accountState // the account chunks as they were: read up to their length, balances aside
	balances []Amount         // the accounts' balances, copied, in chunk order
	floors   []Amount         // their floors, copied: a limit change moves them
	statuses []uint8          // their statuses, copied
	young    []postedRecord   // the young generation's ids, copied
	old      []*generation    // the frozen generations, read in place
	rates    []Rate           // the rate table, copied: it may change after the image
	holds    []holdImage
	settled  []settledImage
	reversed []reversedImage
}

type assetImage struct {
	code  string
	scale int
	world Amount
	fx    Amount
	ptr   *assetState
}

// postedRecord is a hot id as a snapshot writes it; gen orders the
// generations, oldest first, so that the newest ref of a key wins.
type postedRecord struct {
	key idKey
	ref postedRef
	gen int
}

// Image takes a view of the state. It must be called by the state's owner,
// between decisions, like every other method.
func (s *State) Image() *Image {
	im := &Image{seq: s.seq, lastCmd: s.lastCmd, archived: s.archived,
		assets:   make([]assetImage, 0, len(s.assets)),
		accounts: slices.Clone(s.accts.chunks),
		balances: make([]Amount, 0, s.accts.n),
		floors:   make([]Amount, 0, s.accts.n),
		statuses: make([]uint8, 0, s.accts.n),
		young:    make([]postedRecord, 0, s.posted.young.len()),
		old:      slices.Clone(s.posted.old),
		rates:    s.Rates(),
		reversed: s.reversedImage(),
	}
	im.holds, im.settled = s.holds.image()
	for _, a := range s.assets {
		im.assets = append(im.assets, assetImage{code: a.code, scale: a.scale, world: a.world, fx: a.fx, ptr: a})
	}
	for _, c := range s.accts.chunks {
		for i := range c {
			im.balances = append(im.balances, c[i].balance)
			im.floors = append(im.floors, c[i].floor)
			im.statuses = append(im.statuses, c[i].status)
		}
	}
	s.posted.young.each(func(k idKey, ref postedRef) {
		im.young = append(im.young, postedRecord{key: k, ref: ref, gen: len(im.old)})
	})
	return im
}

// Seq returns the ledger sequence the image was taken at.
func (im *Image) Seq() uint64 { return im.seq }

// LastCommand returns the latest command an event in the image answers.
func (im *Image) LastCommand() CommandRef { return im.lastCmd }

// WriteTo writes the state's encoding to w. It sorts the image in place,
// so one Image is encoded by one goroutine at a time.
func (im *Image) WriteTo(w io.Writer) (int64, error) {
	account := func(i int) *accountState {
		return &im.accounts[i/accountChunkLen][i%accountChunkLen]
	}
	order := make([]int, len(im.balances))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(im.assets, func(a, b assetImage) int { return strings.Compare(a.code, b.code) })
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(account(a).id, account(b).id) })
	posted := im.postedRecords()
	index := make(map[*assetState]uint64, len(im.assets))
	for i, a := range im.assets {
		index[a.ptr] = uint64(i)
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<16)
	var b []byte
	b = append(b, stateMagic...)
	b = binary.BigEndian.AppendUint16(b, StateFormatVersion)
	b = binary.BigEndian.AppendUint64(b, im.seq)
	b = binary.BigEndian.AppendUint64(b, im.lastCmd.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(int64(im.lastCmd.Item)))
	b = binary.BigEndian.AppendUint64(b, im.archived)
	b = binary.AppendUvarint(b, uint64(len(im.assets)))
	for _, a := range im.assets {
		b = append(b, byte(len(a.code)))
		b = append(b, a.code...)
		b = append(b, byte(a.scale))
		b = appendAmount(b, a.world)
		b = appendAmount(b, a.fx)
	}
	b = binary.AppendUvarint(b, uint64(len(order)))
	bw.Write(b)
	for _, i := range order {
		a := account(i)
		b = append(b[:0], byte(len(a.id)))
		b = append(b, a.id...)
		b = binary.AppendUvarint(b, index[a.asset])
		floor, flags := im.floors[i], im.statuses[i]<<1
		if floor == noFloor {
			flags |= 1
			floor = Amount{}
		}
		b = append(b, flags)
		b = appendAmount(b, im.balances[i])
		b = appendAmount(b, floor)
		b = binary.BigEndian.AppendUint64(b, uint64(a.fp))
		b = binary.AppendUvarint(b, uint64(len(a.owner)))
		b = append(b, a.owner...)
		bw.Write(b)
	}
	b = binary.AppendUvarint(b[:0], uint64(len(posted)))
	bw.Write(b)
	for _, p := range posted {
		b = append(b[:0], p.key[:]...)
		b = binary.BigEndian.AppendUint64(b, p.ref.seq)
		b = binary.BigEndian.AppendUint64(b, uint64(p.ref.fp))
		bw.Write(b)
	}
	byCode := make(map[string]uint64, len(im.assets))
	for i, a := range im.assets {
		byCode[a.code] = uint64(i)
	}
	b = binary.AppendUvarint(b[:0], uint64(len(im.rates)))
	for _, r := range im.rates { // sorted by Rates, as the asset indexes are
		b = binary.AppendUvarint(b, byCode[r.Base])
		b = binary.AppendUvarint(b, byCode[r.Quote])
		b = append(b, byte(len(r.Rate)))
		b = append(b, r.Rate...)
	}
	b = appendHolds(b, im.holds, im.settled, byCode)
	b = appendReversed(b, im.reversed)
	bw.Write(b)
	err := bw.Flush()
	return cw.n, err
}

// postedRecords returns the image's hot ids sorted by key, each key once
// with its newest ref (only a journal that posts an id twice puts it in
// two generations). It walks the frozen generations, which nothing
// writes, and keeps the result as the image's young records, so that a
// second WriteTo writes the same.
func (im *Image) postedRecords() []postedRecord {
	recs := im.young
	for i, g := range im.old {
		g.ids.each(func(k idKey, ref postedRef) { recs = append(recs, postedRecord{key: k, ref: ref, gen: i}) })
	}
	slices.SortFunc(recs, func(a, b postedRecord) int {
		if c := bytes.Compare(a.key[:], b.key[:]); c != 0 {
			return c
		}
		return cmp.Compare(b.gen, a.gen)
	})
	recs = slices.CompactFunc(recs, func(a, b postedRecord) bool { return a.key == b.key })
	im.young, im.old = recs, nil
	return recs
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func appendAmount(b []byte, a Amount) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(a.hi))
	return binary.BigEndian.AppendUint64(b, a.lo)
}

// MarshalBinary encodes the state; see Image for doing it off the owner's
// goroutine.
func (s *State) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	if _, err := s.Image().WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
