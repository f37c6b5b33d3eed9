package audit

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/nats-ledger/ledger/domain"
)

// TestAccountKeysAgreeWithKeyOf looks ids up in a worker's cache of
// account keys in streams meant to break it, and checks every key it
// gives against keyOf: random ids with repeats, ids that share a slot,
// ids of every length from 0 to past domain.MaxIDLen, ids that differ
// from another in one byte, and ids that are views of a buffer written
// over after each lookup (the cache must keep a copy, not the view).
func TestAccountKeysAgreeWithKeyOf(t *testing.T) {
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	rng := rand.New(rand.NewPCG(20, 5))
	var keys accountKeys
	keys.use(&seeds)
	p := pendingKeys{keys: &keys}
	lookups, hits := 0, 0
	// check looks up the keys of from and to, as a posting does, and
	// settles them at once or, at random, after the next posting's.
	var held []func()
	check := func(stream, from, to string) {
		t.Helper()
		cached := slotHolds(&keys, from)
		k := new([2]idKey)
		p.later(k, from, to)
		want := [2]idKey{keyOf(&seeds, from), keyOf(&seeds, to)}
		held = append(held, func() {
			if *k != want {
				t.Fatalf("%s: ids %q, %q (%d, %d bytes): cache gives %x, keyOf %x", stream, from, to, len(from), len(to), *k, want)
			}
		})
		if rng.IntN(2) == 0 || p.n == pendingKeysMax {
			p.settle()
			for _, f := range held {
				f()
			}
			held = held[:0]
		}
		lookups++
		if cached {
			hits++
		}
	}
	one := func(stream, id string) { check(stream, id, id) }

	// Random ids of 1 to MaxIDLen bytes (any byte), drawn again and again.
	pool := make([]string, 3*accountKeySlots)
	for i := range pool {
		pool[i] = randomID(rng, 1+rng.IntN(domain.MaxIDLen))
	}
	for range 200_000 {
		check("random", pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))])
	}

	// Ids that share slots: a few slots' worth of ids, in turns.
	bySlot := map[uint64][]string{}
	for range 40 * accountKeySlots {
		id := fmt.Sprintf("acct-%d", rng.IntN(1_000_000))
		a, b, _ := packID(id)
		bySlot[slotOf(a, b)] = append(bySlot[slotOf(a, b)], id)
	}
	shared := 0
	for _, ids := range bySlot {
		if len(ids) < 8 || shared == 16 {
			continue
		}
		shared++
		for range 50 {
			for i, id := range ids {
				check("shared slot", id, ids[(i+1)%len(ids)])
			}
		}
	}
	if shared == 0 {
		t.Fatal("no slot shared by 8 ids: the stream tests nothing")
	}

	// Every length, up to and past the longest id, each twice.
	for n := 0; n <= domain.MaxIDLen+8; n++ {
		id := randomID(rng, n)
		one("length", id)
		one("length", id)
	}

	// One byte repeated, at every length: ids the packed words' overlap
	// could confuse, each after the one a byte shorter.
	for _, c := range []byte{'a', 0, 0xff} {
		for n := 1; n <= domain.MaxIDLen; n++ {
			check("repeated", strings.Repeat(string(c), n), strings.Repeat(string(c), n-1))
			one("repeated", strings.Repeat(string(c), n))
		}
	}

	// Ids one byte apart at every position (to its neighbours, to 0 and
	// 0xff), each after the id it differs from.
	for n := 1; n <= domain.MaxIDLen; n++ {
		base := []byte(randomID(rng, n))
		for i := range base {
			for _, c := range []byte{base[i] + 1, base[i] - 1, 0, 0xff} {
				other := append([]byte(nil), base...)
				other[i] = c
				one("one byte", string(base))
				check("one byte", string(other), string(base))
				one("one byte", string(base))
			}
		}
	}

	// Views of one buffer, written over after each lookup: the slot keeps
	// its own copy, so the id looked up again still gives its own key.
	buf := make([]byte, domain.MaxIDLen)
	for range 20_000 {
		n := 1 + rng.IntN(20)
		copy(buf, pool[rng.IntN(32)])
		view := unsafe.String(&buf[0], n)
		want := string(buf[:n])
		one("view", view)
		p.settle()
		for _, f := range held {
			f()
		}
		held = held[:0]
		copy(buf, randomID(rng, len(buf)))
		one("view", want)
	}

	// Another run's seeds: the cache starts again, its keys are the new ones.
	other := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	p.settle()
	for _, f := range held {
		f()
	}
	held = held[:0]
	keys.use(&other)
	seeds = other
	for _, id := range pool[:1000] {
		one("new seeds", id)
	}
	p.settle()
	for _, f := range held {
		f()
	}
	if hits == 0 || hits == lookups {
		t.Fatalf("%d hits in %d lookups: the streams did not test both paths", hits, lookups)
	}
	t.Logf("%d lookups, %d hits", lookups, hits)
}

// slotHolds reports whether id's slot in keys holds id.
func slotHolds(keys *accountKeys, id string) bool {
	a, b, ok := packID(id)
	if !ok {
		return false
	}
	s := &keys.slots[slotOf(a, b)]
	return s.a == a && s.b == b
}

// randomID is n random bytes, mostly of an id's alphabet and at times any.
func randomID(rng *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_:."
	var b strings.Builder
	for range n {
		if rng.IntN(8) == 0 {
			b.WriteByte(byte(rng.IntN(256)))
		} else {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
	}
	return b.String()
}
