//go:build linux

package domain_test

import (
	"encoding/hex"
	"fmt"
	"syscall"
	"testing"

	"github.com/nats-ledger/ledger/domain"
)

// guardedPage is a page of memory followed by one that may not be read:
// a line copied to the end of the first (atPageEnd) has no byte after it
// that a reader could read by mistake without a fault.
type guardedPage struct{ mem []byte }

func newGuardedPage(t *testing.T) *guardedPage {
	t.Helper()
	size := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 4*size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[3*size:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Munmap(mem) })
	return &guardedPage{mem[:3*size]}
}

// atPageEnd copies line to the end of g's readable memory (up to three
// pages) and returns it there, its capacity its length.
func (g *guardedPage) atPageEnd(line []byte) []byte {
	at := len(g.mem) - len(line)
	copy(g.mem[at:], line)
	return g.mem[at:len(g.mem):len(g.mem)]
}

// sealedBody is body (a line without its hash suffix and closing brace's
// place: it ends before the suffix) with a hash suffix spelling h.
func sealedBody(body []byte, h domain.Hash) []byte {
	line := append([]byte(nil), body...)
	line = append(line, `,"hash":"`...)
	line = append(line, hex.EncodeToString(h[:])...)
	return append(line, `"}`...)
}

// TestPostingReaderInBounds: the posting reader reads no byte past a
// line's end. Posting lines cut short at every byte, and with every byte
// of them removed, each given a hash suffix that the check before the
// reader accepts (PrepareHashed with the hash it spells), are read at the
// very end of readable memory, after the whole line (twice) with the
// same Line (so that the memos' comparisons meet them too) and on a
// fresh Line: a
// read past the end faults. Each is held to the general reader too.
func TestPostingReaderInBounds(t *testing.T) {
	g := newGuardedPage(t)
	var bodies [][]byte
	for _, c := range postingCases {
		b := c.body()
		bodies = append(bodies, b[:len(b)-1]) // without the closing brace
	}
	h := domain.Hash{1, 2, 3}
	taken := 0
	for _, body := range bodies {
		whole := sealedBody(body, h)
		cuts := make([][]byte, 0, 2*len(body))
		for n := range len(body) {
			cuts = append(cuts, body[:n])
			cuts = append(cuts, append(append([]byte(nil), body[:n]...), body[n+1:]...))
		}
		for _, cut := range cuts {
			line := sealedBody(cut, h)
			for _, after := range [][]byte{nil, whole} {
				var l, general domain.Line
				if after != nil {
					// Twice, so that the memo of the asset and reference
					// together holds it (some cases are refused: no matter).
					l.PrepareHashed(g.atPageEnd(after), domain.Hash{}, h)
					l.PrepareHashed(g.atPageEnd(after), domain.Hash{}, h)
				}
				at := g.atPageEnd(line)
				h1, err1 := l.PrepareHashed(at, domain.Hash{}, h)
				_, ok := l.Posting()
				h2, err2 := general.PrepareHashedGeneral(line, domain.Hash{}, h)
				if h1 != h2 || fmt.Sprint(err1) != fmt.Sprint(err2) {
					t.Fatalf("%q: %v, %v; without the posting reader %v, %v", line, h1, err1, h2, err2)
				}
				if ok {
					taken++
					if !domain.SameView(&l, &general) {
						t.Fatalf("the posting reader took %q, and read it otherwise than the general reader", line)
					}
				}
			}
		}
	}
	if taken == 0 {
		t.Fatal("the posting reader took none of the lines")
	}
	t.Logf("taken: %d", taken)
}
