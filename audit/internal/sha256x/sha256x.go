// Package sha256x hashes two messages at once with SHA-256.
//
// On amd64 with the SHA extensions (SHA-NI) the two messages' rounds run
// interleaved in one instruction stream: each round instruction waits for
// the one before it in the same message, so a single message leaves the
// unit idle half the time and a second one fills it. Elsewhere, and when
// Fallback is set, each message goes through crypto/sha256.
//
// A message is given in three pieces (Message): a short head and tail
// around a body that is read in place. Only the blocks where the pieces
// meet, and the padding, are assembled in a buffer of the hasher's own,
// so that a caller whose hash input is "a prefix, these bytes, a suffix"
// copies nothing. The package imports the standard library only.
package sha256x

import (
	"crypto/sha256"
	"encoding/binary"
	"unsafe"
)

// Size is the length of a digest in bytes.
const Size = sha256.Size

// BlockSize is SHA-256's block length in bytes.
const BlockSize = sha256.BlockSize

// Fallback, when true, makes Sum and Sum2 use crypto/sha256 even where
// the two-lane assembly runs. It is for tests; set it before hashing.
var Fallback = false

// Accelerated reports whether this CPU runs the two-lane assembly.
func Accelerated() bool { return hasSHANI }

// Message is the concatenation Head || Body || Tail. Head and Tail are at
// most BlockSize bytes each (Sum and Sum2 panic otherwise); Body may be
// any length and is not copied.
type Message struct {
	Head, Body, Tail []byte
}

// Len is the message's length in bytes.
func (m *Message) Len() int { return len(m.Head) + len(m.Body) + len(m.Tail) }

// Sum returns the SHA-256 digest of m: the assembly's one-lane path, for
// a message without a partner.
func Sum(m Message) [Size]byte {
	if Fallback || !hasSHANI {
		return stdlibSum(&m)
	}
	var l lane
	var segs, none segments
	n := l.plan(&m, &segs)
	var d, unused [Size]byte
	// hash2 with no blocks in its second lane runs the first one alone
	// (and writes the empty lane's initial state to unused).
	hash2(&segs, &none, n, 0, &d, &unused)
	return d
}

// Sum2 returns the SHA-256 digests of a and b, hashed together.
func Sum2(a, b Message) (da, db [Size]byte) {
	var h Hasher
	return h.Sum2(&a, &b)
}

// Hasher is room for the blocks where two messages' pieces meet, for a
// caller that hashes many pairs: Hasher.Sum2 writes what it needs of it
// anew each time, so nothing is cleared between pairs. The zero Hasher
// is ready; one is not for concurrent use.
type Hasher struct {
	a, b lane
}

// Sum2 returns the SHA-256 digests of a and b, hashed together, as the
// function Sum2 does; the messages are only read.
func (h *Hasher) Sum2(a, b *Message) (da, db [Size]byte) {
	h.Sum2To(&da, &db, a, b)
	return da, db
}

// Sum2To is Sum2 for a caller that keeps the digests: it writes them to
// da and db. With the assembly, the pair is one call (hash2), which
// writes each digest in two 16-byte stores, so nothing is copied between
// the rounds and da and db: returning two arrays cost a copy of each,
// read back in 16-byte loads of the 4-byte stores that spelt it, a
// store-forwarding stall that took most of Sum2's time.
func (h *Hasher) Sum2To(da, db *[Size]byte, a, b *Message) {
	if Fallback || !hasSHANI {
		*da, *db = stdlibSum(a), stdlibSum(b)
		return
	}
	var segsA, segsB segments
	na := h.a.plan(a, &segsA)
	nb := h.b.plan(b, &segsB)
	hash2(&segsA, &segsB, na, nb, da, db)
}

// stdlibSum is crypto/sha256's digest of m.
func stdlibSum(m *Message) [Size]byte {
	checkPieces(m)
	d := sha256.New()
	d.Write(m.Head)
	d.Write(m.Body)
	d.Write(m.Tail)
	var h [Size]byte
	d.Sum(h[:0])
	return h
}

func checkPieces(m *Message) {
	if len(m.Head) > BlockSize || len(m.Tail) > BlockSize {
		panic("sha256x: Message head or tail longer than a block")
	}
}

// segments is a message's whole blocks as the assembly walks them: up to
// three runs, each a pointer and a count of blocks (the layout hash2
// reads: the pointers, then the counts). A run of no blocks is
// skipped, whatever its pointer.
type segments struct {
	p [3]*byte
	n [3]int
}

// lane is one message cut into whole blocks: the head and as much of the
// body as completes its block, copied (head); the body's whole blocks
// after that, in place; and the rest of the body, the tail and the
// padding, copied (tail, from its second block on: the first is room for
// the fixed-size copy that planChain starts before the tail's blocks).
// plan writes what it uses: a lane need not be zero.
type lane struct {
	head [BlockSize]byte     // <= 64 of head and body together
	tail [4 * BlockSize]byte // room, then < 64 of body, <= 64 of tail, <= 72 of padding
}

// chainTail is the longest tail planChain takes: the body's rest (< 64
// bytes), the tail and the padding's 9 bytes then fit in two blocks.
const chainTail = 2*BlockSize - (BlockSize - 1) - 9

// plan cuts m into l, sets s to its whole blocks, in three segments (the
// lane's head, the body's blocks in place, the lane's tail), and returns
// their count. s is written a word at a time, each word as the assembly
// reads it: segments returned by value were copied through the stack in
// 16-byte loads of the 8-byte stores that wrote them, a store-forwarding
// stall on every pair.
func (l *lane) plan(m *Message, s *segments) int {
	checkPieces(m)
	if len(m.Head) == Size && len(m.Body) >= Size+BlockSize && len(m.Tail) <= chainTail {
		return l.planChain(m, s)
	}
	return l.planAny(m, s)
}

// planChain is plan for the shape of a hash chain's input: a 32-byte
// head (the previous digest), a body of at least 96 bytes and a short
// tail. Every copy is of a fixed size, so none calls memmove: the head
// block is the head and the body's first 32 bytes; the body's last 64
// bytes are copied so that they end where its whole blocks do not reach,
// in the tail's first block; the tail and the padding follow.
func (l *lane) planChain(m *Message, s *segments) int {
	copy32((*[32]byte)(l.head[:32]), (*[32]byte)(m.Head))
	copy32((*[32]byte)(l.head[32:]), (*[32]byte)(m.Body))
	rest := m.Body[BlockSize-Size:]
	whole := len(rest) &^ (BlockSize - 1)
	r := len(rest) - whole // 0..63 bytes of body in the tail's blocks
	*(*[2 * BlockSize]byte)(l.tail[BlockSize:]) = [2 * BlockSize]byte{}
	last := (*[BlockSize]byte)(rest[len(rest)-BlockSize:])
	at := (*[BlockSize]byte)(l.tail[r : r+BlockSize])
	copy32((*[32]byte)(at[:32]), (*[32]byte)(last[:32]))
	copy32((*[32]byte)(at[32:]), (*[32]byte)(last[32:]))
	t := BlockSize + r
	for _, c := range m.Tail {
		l.tail[t] = c
		t++
	}
	s.p[0], s.p[1], s.p[2] = &l.head[0], unsafe.SliceData(rest), &l.tail[BlockSize]
	s.n[0], s.n[1] = 1, whole/BlockSize
	return l.pad(t, m.Len(), s)
}

// copy32 copies src to dst in two 16-byte moves, without calling memmove
// (as a copy of a slice does). hash2 reads a block in 16-byte loads: of
// the head block, copied just before, each load is then one of these
// stores and is forwarded from the store buffer, where a load spanning
// two 8-byte stores (as copy32 wrote them) waits for both to reach the
// cache; and it is two moves where the words took four loads and four
// stores.
func copy32(dst, src *[32]byte) {
	*(*[16]byte)(dst[:16]) = *(*[16]byte)(src[:16])
	*(*[16]byte)(dst[16:]) = *(*[16]byte)(src[16:])
}

// planAny is plan for any message: the pieces copied as long as they are.
func (l *lane) planAny(m *Message, s *segments) int {
	k := len(m.Head)
	fill := (BlockSize - k) % BlockSize
	clear(l.tail[BlockSize:])
	t := BlockSize
	var body []byte
	headBlocks := 0
	if fill > len(m.Body) {
		// Head and body end inside one block: all of it goes to the tail.
		t += copy(l.tail[t:], m.Head)
		t += copy(l.tail[t:], m.Body)
	} else {
		copy(l.head[:], m.Head)
		copy(l.head[k:], m.Body[:fill])
		headBlocks = (k + fill) / BlockSize
		body = m.Body[fill:]
		whole := len(body) &^ (BlockSize - 1)
		t += copy(l.tail[t:], body[whole:])
		body = body[:whole]
	}
	t += copy(l.tail[t:], m.Tail)
	s.p[0], s.p[1], s.p[2] = &l.head[0], unsafe.SliceData(body), &l.tail[BlockSize]
	s.n[0], s.n[1] = headBlocks, len(body)/BlockSize
	return l.pad(t, m.Len(), s)
}

// pad ends the tail, whose bytes run to l.tail[t], with SHA-256's
// padding (a 0x80 byte, zeros, there already, and the message's length
// in bits, to the end of a block), sets the tail's count of blocks in s,
// whose head's and body's are set, and returns the count of all three.
func (l *lane) pad(t, length int, s *segments) int {
	l.tail[t] = 0x80
	end := (t + 1 + 8 + BlockSize - 1) &^ (BlockSize - 1)
	binary.BigEndian.PutUint64(l.tail[end-8:end], uint64(length)<<3)
	tail := end/BlockSize - 1
	s.n[2] = tail
	return s.n[0] + s.n[1] + tail
}
