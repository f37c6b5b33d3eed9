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
	body := l.plan(&m)
	s := initial
	segs := l.segs(body)
	run1(&s, &segs)
	return digest(&s)
}

// Sum2 returns the SHA-256 digests of a and b, hashed together.
func Sum2(a, b Message) (da, db [Size]byte) {
	if Fallback || !hasSHANI {
		return stdlibSum(&a), stdlibSum(&b)
	}
	var la, lb lane
	bodyA, bodyB := la.plan(&a), lb.plan(&b)
	sa, sb := initial, initial
	segsA, segsB := la.segs(bodyA), lb.segs(bodyB)
	run2(&sa, &sb, &segsA, &segsB)
	return digest(&sa), digest(&sb)
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

// lane is one message cut into whole blocks: the head and as much of the
// body as completes its block, copied; the body's whole blocks after
// that, in place; and the rest of the body, the tail and the padding,
// copied. The buffers are sized for the longest head and tail. (The
// segments are cut out by segs, not kept here: a lane that pointed into
// itself, or into the message, would make the compiler move it, or the
// caller's message, to the heap.)
type lane struct {
	head    [BlockSize]byte     // <= 64 of head and body together
	tail    [3 * BlockSize]byte // < 64 of body, <= 64 of tail, <= 72 of padding
	headLen int
	tailLen int
}

// plan cuts m into l, which must be a zero lane (its zeros are the
// padding's), and returns the whole blocks of m's body that are hashed in
// place.
func (l *lane) plan(m *Message) (body []byte) {
	checkPieces(m)
	k := len(m.Head)
	fill := (BlockSize - k) % BlockSize
	t := 0
	if fill > len(m.Body) {
		// Head and body end inside one block: all of it goes to the tail.
		t = copy(l.tail[:], m.Head)
		t += copy(l.tail[t:], m.Body)
	} else {
		copy(l.head[:], m.Head)
		copy(l.head[k:], m.Body[:fill])
		l.headLen = k + fill
		body = m.Body[fill:]
		whole := len(body) &^ (BlockSize - 1)
		t = copy(l.tail[:], body[whole:])
		body = body[:whole]
	}
	t += copy(l.tail[t:], m.Tail)
	// SHA-256's padding: a 0x80 byte, zeros (there already), and the
	// message's length in bits, to the end of a block.
	l.tail[t] = 0x80
	l.tailLen = (t + 1 + 8 + BlockSize - 1) &^ (BlockSize - 1)
	binary.BigEndian.PutUint64(l.tail[l.tailLen-8:], uint64(m.Len())<<3)
	return body
}

// segs returns the message's whole blocks in three segments, in order:
// the lane's head, the body's blocks plan returned, the lane's tail.
func (l *lane) segs(body []byte) [3][]byte {
	return [3][]byte{l.head[:l.headLen], body, l.tail[:l.tailLen]}
}

// blocksIn counts the whole blocks of segs.
func blocksIn(segs *[3][]byte) int {
	n := 0
	for _, seg := range segs {
		n += len(seg) / BlockSize
	}
	return n
}

// skipBlocks returns segs without their first n blocks.
func skipBlocks(segs *[3][]byte, n int) (rest [3][]byte) {
	for i, seg := range segs {
		k := min(n*BlockSize, len(seg))
		rest[i], n = seg[k:], n-k/BlockSize
	}
	return rest
}

// initial is SHA-256's initial hash value (FIPS 180-4, 5.3.3).
var initial = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// digest writes a final state as a big-endian digest.
func digest(s *[8]uint32) (d [Size]byte) {
	for i, w := range s {
		binary.BigEndian.PutUint32(d[4*i:], w)
	}
	return d
}
