package domain_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// hashOfInput is the digest a verifier that hashes lines itself hands to
// Line.PrepareHashed, and whether the line has a hash input at all.
func hashOfInput(prev domain.Hash, line []byte) (domain.Hash, bool) {
	head, body, tail, ok := domain.HashInput(&prev, line)
	return sha256.Sum256(bytes.Join([][]byte{head, body, tail}, nil)), ok
}

// TestHashInput (and StoredHash): the hash input of every stored line is
// what the journal specification says (previous hash, the line less its
// hash suffix, '}'), and its digest is the hash stored in the line.
func TestHashInput(t *testing.T) {
	lines, hashes := canonicalLines(t)
	var prev domain.Hash
	for i, line := range lines {
		head, body, tail, ok := domain.HashInput(&prev, line)
		if !ok || !bytes.Equal(head, prev[:]) || !bytes.Equal(body, line[:len(line)-75]) || string(tail) != "}" {
			t.Fatalf("line %d: HashInput = %q, %q, %q, %v; want the previous hash, the line less 75 bytes, }", i, head, body, tail, ok)
		}
		if h, ok := domain.StoredHash(line); !ok || h != hashes[i] {
			t.Fatalf("line %d: StoredHash = %s, %v; want %s", i, h, ok, hashes[i])
		}
		if sum, _ := hashOfInput(prev, line); sum != hashes[i] {
			t.Fatalf("line %d: the digest of its hash input is %s, its hash %s", i, sum, hashes[i])
		}
		prev = hashes[i]
	}
	for _, bad := range []string{"", "{}", `{"a":1,"hash":"` + prev.String() + `"`, `{"a":1,"hash":"` + prev.String() + `X}`} {
		if head, body, tail, ok := domain.HashInput(&prev, []byte(bad)); ok || head != nil || body != nil || tail != nil {
			t.Fatalf("HashInput of %q = %q, %q, %q, %v; want none", bad, head, body, tail, ok)
		}
		if h, ok := domain.StoredHash([]byte(bad)); ok || h != (domain.Hash{}) {
			t.Fatalf("StoredHash of %q = %s, %v; want none", bad, h, ok)
		}
	}
}

// TestPrepareHashed: given the right digest PrepareHashed is Prepare, line
// by line, chain breaks included; given a wrong one the line's hash does
// not match, and a line without a hash suffix is malformed whatever the
// digest.
func TestPrepareHashed(t *testing.T) {
	lines, hashes := canonicalLines(t)
	var prev domain.Hash
	for i, line := range lines {
		for _, p := range []domain.Hash{prev, {1}} { // the right previous hash and another
			sum, _ := hashOfInput(p, line)
			var a, b domain.Line
			wantHash, wantErr := a.Prepare(line, p)
			gotHash, gotErr := b.PrepareHashed(line, p, sum)
			if gotHash != wantHash || !errors.Is(gotErr, wantErr) || (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("line %d after %s: PrepareHashed = %s, %v; Prepare = %s, %v", i, p, gotHash, gotErr, wantHash, wantErr)
			}
			if gotErr == nil {
				var buf domain.EventBuffer
				if ev, err := b.View(&buf); err != nil || ev.Seq != uint64(i+1) {
					t.Fatalf("line %d: View after PrepareHashed = %+v, %v", i, ev, err)
				}
			}
		}
		wrong := hashes[i]
		wrong[7] ^= 1
		var l domain.Line
		if h, err := l.PrepareHashed(line, prev, wrong); !errors.Is(err, domain.ErrHashMismatch) || h != hashes[i] {
			t.Fatalf("line %d with a wrong digest: PrepareHashed = %s, %v; want its stored hash, %v", i, h, err, domain.ErrHashMismatch)
		}
		cut := line[:len(line)-3]
		if _, err := l.PrepareHashed(cut, prev, hashes[i]); !errors.Is(err, domain.ErrMalformedEvent) {
			t.Fatalf("line %d without its hash suffix: PrepareHashed = %v, want %v", i, err, domain.ErrMalformedEvent)
		}
		prev = hashes[i]
	}
}

// reusedSeal is the Sealed that sealedAgrees seals each line into in
// place (Sealed.Set), after the lines before it, their stored hashes
// read or not.
var reusedSeal domain.Sealed

// sealedAgrees checks that a sealed line is the line: its HashInput and
// Stored are HashInput's and StoredHash's, and PrepareSealed with sum
// after prev returns what PrepareHashed returns, error text included,
// whether Stored has read the stored hash first or not, and whether the
// line was sealed anew (Seal) or into a Sealed that held other lines
// (Set).
func sealedAgrees(t *testing.T, line []byte, prev, sum domain.Hash) {
	t.Helper()
	var want domain.Line
	wantHash, wantErr := want.PrepareHashed(line, prev, sum)
	for _, mode := range []int{0, 1, 2, 3} {
		read, fresh := mode&1 == 1, mode < 2
		var s *domain.Sealed
		if fresh {
			sealed := domain.Seal(line)
			s = &sealed
		} else {
			s = &reusedSeal
			s.Set(line)
		}
		if read {
			h, ok := s.Stored()
			if wh, wok := domain.StoredHash(line); h != wh || ok != wok {
				t.Fatalf("Sealed.Stored = %s, %v; StoredHash = %s, %v, for %q", h, ok, wh, wok, line)
			}
		}
		head, body, tail, ok := s.HashInput(&prev)
		wh, wb, wt, wok := domain.HashInput(&prev, line)
		if ok != wok || !bytes.Equal(head, wh) || !bytes.Equal(body, wb) || !bytes.Equal(tail, wt) {
			t.Fatalf("Sealed.HashInput = %q, %q, %q, %v; HashInput = %q, %q, %q, %v", head, body, tail, ok, wh, wb, wt, wok)
		}
		var l domain.Line
		gotHash, gotErr := l.PrepareSealed(s, prev, sum)
		if gotHash != wantHash || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("PrepareSealed (stored read first: %v) = %s, %v; PrepareHashed = %s, %v, for %q", read, gotHash, gotErr, wantHash, wantErr, line)
		}
		for _, sentinel := range []error{domain.ErrMalformedEvent, domain.ErrHashMismatch, domain.ErrChainBroken} {
			if errors.Is(gotErr, sentinel) != errors.Is(wantErr, sentinel) {
				t.Fatalf("PrepareSealed = %v, PrepareHashed = %v, for %q", gotErr, wantErr, line)
			}
		}
		if gotErr == nil && !domain.SameView(&l, &want) {
			t.Fatalf("PrepareSealed read %q to another view than PrepareHashed", line)
		}
	}
}

// TestPrepareSealed: a sealed line prepares as PrepareHashed prepares it,
// with its stored hash read first or not, given the right digest and a
// wrong one, after the right previous hash and another, and when its
// stored hash is changed, spelt in upper case or cut, or its suffix is
// gone.
func TestPrepareSealed(t *testing.T) {
	lines, hashes := canonicalLines(t)
	var prev domain.Hash
	for i, line := range lines {
		n := len(line)
		upper := bytes.Clone(line)
		copy(upper[n-66:], bytes.ToUpper(upper[n-66:n-2]))
		changed := bytes.Clone(line)
		changed[n-3] ^= 1
		letter := bytes.Clone(line)
		letter[n-40] = 'g'
		for _, l := range [][]byte{line, upper, changed, letter, line[:n-1], line[:n-3], line[:n-75], line[n-75:], nil} {
			// The line itself first, so that reusedSeal holds its stored
			// hash, read, when l is sealed into it.
			sealedAgrees(t, line, prev, hashes[i])
			for _, p := range []domain.Hash{prev, {1}} {
				sum, _ := hashOfInput(p, l)
				sealedAgrees(t, l, p, sum)
				sealedAgrees(t, l, p, hashes[i])
				sealedAgrees(t, l, p, domain.Hash{})
			}
		}
		prev = hashes[i]
	}
}
