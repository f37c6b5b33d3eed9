package domain

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
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
// Version 1, all integers big-endian:
//
//	magic "LGRSTATE", version uint16
//	seq uint64, last command seq uint64, last command item int64
//	uvarint #assets, then per asset, sorted by code:
//	    code (uint8 length, bytes), scale uint8, issuer balance int128
//	uvarint #accounts, then per account, sorted by id:
//	    id (uint8 length, bytes), asset index uvarint, flags uint8 (1: unlimited),
//	    balance int128, floor int128 (0 when unlimited), fingerprint uint64,
//	    owner (uvarint length, bytes)
//	uvarint #ids, then per posted transfer id, sorted by key:
//	    key [16] (SHA-256 of the id, truncated), seq uint64, fingerprint uint64
//
// A change to this layout or to what fingerprints cover (fingerprint.go)
// needs a new StateFormatVersion.

// StateFormatVersion is the version of the state encoding this code writes
// and the only one it reads.
const StateFormatVersion = 1

const stateMagic = "LGRSTATE"

// Errors of decoding a state.
var (
	ErrMalformedState = errors.New("malformed state encoding")
	ErrStateVersion   = errors.New("unsupported state format version")
)

// Minimum encoded sizes, to refuse counts the remaining bytes cannot hold.
const (
	minAssetBytes   = 1 + 1 + 1 + 16
	minAccountBytes = 1 + 1 + 1 + 1 + 16 + 16 + 8 + 1
	postedBytes     = 16 + 8 + 8
	maxAssets       = 1 << 16 // far beyond any real ledger; bounds the asset table
)

// Image is a consistent view of a State, taken between decisions: it
// encodes the state as it was while the State moves on, so that the
// processor pauses only to take it and WriteTo does the slow part (sorting,
// encoding) on another goroutine.
//
// Taking it copies only what the State may still change: account balances
// (16 bytes each), the issuer balances, and the (key, position) pairs of the
// posted-id maps. Everything else is read later, in place: accounts are
// never moved or removed, and nothing but an account's balance changes
// after it is opened; the posted log below its length at the time is never
// written again (an atomic batch's rollback only drops entries it added
// itself, and batches are decided after the image is taken). The State's
// owner writes only to memory the Image does not read.
type Image struct {
	seq      uint64
	lastCmd  CommandRef
	assets   []assetImage
	accounts [][]accountState // the account chunks as they were: read up to their length, balances aside
	balances []Amount         // the accounts' balances, copied, in chunk order
	posted   []postedImage
	log      [][]postedRef // the posted log's chunks: read below logN only
	logN     uint64
}

type assetImage struct {
	code  string
	scale int
	world Amount
	ptr   *assetState
}

type postedImage struct {
	key idKey
	pos uint64 // in log
}

// Image takes a view of the state. It must be called by the state's owner,
// between decisions, like every other method.
func (s *State) Image() *Image {
	im := &Image{seq: s.seq, lastCmd: s.lastCmd,
		assets:   make([]assetImage, 0, len(s.assets)),
		accounts: slices.Clone(s.accts.chunks),
		balances: make([]Amount, 0, s.accts.n),
		posted:   make([]postedImage, 0, s.posted.len()),
		log:      slices.Clone(s.posted.log.chunks),
		logN:     s.posted.log.n,
	}
	for _, a := range s.assets {
		im.assets = append(im.assets, assetImage{code: a.code, scale: a.scale, world: a.world, ptr: a})
	}
	for _, c := range s.accts.chunks {
		for i := range c {
			im.balances = append(im.balances, c[i].balance)
		}
	}
	for _, m := range s.posted.shards {
		for k, pos := range m {
			im.posted = append(im.posted, postedImage{key: k, pos: pos})
		}
	}
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
	slices.SortFunc(im.posted, func(a, b postedImage) int { return bytes.Compare(a.key[:], b.key[:]) })
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
	b = binary.AppendUvarint(b, uint64(len(im.assets)))
	for _, a := range im.assets {
		b = append(b, byte(len(a.code)))
		b = append(b, a.code...)
		b = append(b, byte(a.scale))
		b = appendAmount(b, a.world)
	}
	b = binary.AppendUvarint(b, uint64(len(order)))
	bw.Write(b)
	for _, i := range order {
		a := account(i)
		b = append(b[:0], byte(len(a.id)))
		b = append(b, a.id...)
		b = binary.AppendUvarint(b, index[a.asset])
		floor := a.floor
		if a.unlimited() {
			b = append(b, 1)
			floor = Amount{}
		} else {
			b = append(b, 0)
		}
		b = appendAmount(b, im.balances[i])
		b = appendAmount(b, floor)
		b = binary.BigEndian.AppendUint64(b, uint64(a.fp))
		b = binary.AppendUvarint(b, uint64(len(a.owner)))
		b = append(b, a.owner...)
		bw.Write(b)
	}
	b = binary.AppendUvarint(b[:0], uint64(len(im.posted)))
	bw.Write(b)
	for _, p := range im.posted {
		ref := im.log[p.pos/postedLogChunkLen][p.pos%postedLogChunkLen]
		b = append(b[:0], p.key[:]...)
		b = binary.BigEndian.AppendUint64(b, ref.seq)
		b = binary.BigEndian.AppendUint64(b, uint64(ref.fp))
		bw.Write(b)
	}
	err := bw.Flush()
	return cw.n, err
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

func decodeState(data []byte) (*State, error) {
	r := &stateReader{b: data}
	if magic := r.next(len(stateMagic)); r.err != nil || string(magic) != stateMagic {
		return nil, fmt.Errorf("%w: not a state encoding", ErrMalformedState)
	}
	if b := r.next(2); r.err == nil {
		if v := binary.BigEndian.Uint16(b); v != StateFormatVersion {
			return nil, fmt.Errorf("%w: version %d, this code reads %d", ErrStateVersion, v, StateFormatVersion)
		}
	}
	seq := r.u64()
	lastCmd := CommandRef{Seq: r.u64()}
	item := int64(r.u64())
	if item < 0 || item > math.MaxInt32 {
		r.fail("command item %d", item)
	}
	lastCmd.Item = int(item)

	nAssets := r.count("assets", minAssetBytes)
	if nAssets > maxAssets {
		r.fail("%d assets", nAssets)
	}
	assets := make([]*assetState, 0, nAssets)
	for i := 0; i < nAssets && r.err == nil; i++ {
		a := &assetState{code: r.str(r.u8()), scale: r.u8(), world: r.amount()}
		if err := (Asset{Code: a.code, Scale: a.scale}).Validate(); err != nil && r.err == nil {
			r.fail("asset %d: %v", i, err)
		}
		if i > 0 && assets[i-1].code >= a.code {
			r.fail("assets out of order at %q", a.code)
		}
		assets = append(assets, a)
	}

	nAccounts := r.count("accounts", minAccountBytes)
	if r.err != nil {
		return nil, r.err
	}
	st := newState(nAssets, nAccounts)
	st.seq, st.lastCmd = seq, lastCmd
	sums := make([]Amount, len(assets))
	for i, a := range assets {
		st.assets[a.code] = a
		sums[i] = a.world
	}
	prevID := ""
	for i := 0; i < nAccounts && r.err == nil; i++ {
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
			break
		}
		switch {
		case validateIDChars("id", acc.id) != nil || acc.id == World:
			r.fail("account %d: id %q", i, acc.id)
		case i > 0 && prevID >= acc.id:
			r.fail("accounts out of order at %q", acc.id)
		case ai >= uint64(len(assets)):
			r.fail("account %q: asset index %d", acc.id, ai)
		case flags > 1 || flags == 1 && !acc.floor.IsZero():
			r.fail("account %q: flags %d with floor %s", acc.id, flags, acc.floor.Format(0))
		case validateText("owner", acc.owner, maxOwnerLen) != nil:
			r.fail("account %q: owner", acc.id)
		}
		if r.err != nil {
			break
		}
		acc.asset = assets[ai]
		if flags == 1 {
			acc.floor = noFloor
		} else if acc.floor == noFloor || acc.floor.Sign() > 0 || acc.balance.Cmp(acc.floor) < 0 {
			r.fail("account %q: balance %s below its floor %s", acc.id, acc.balance.Format(acc.asset.scale), acc.floor.Format(acc.asset.scale))
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

	nPosted := r.count("posted ids", postedBytes)
	if raw := r.next(nPosted * postedBytes); r.err == nil {
		if err := st.posted.load(raw, nPosted, seq); err != nil {
			r.fail("%v", err)
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the end", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return st, nil
}
