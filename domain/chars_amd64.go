package domain

// hasAVX2 reports whether the CPU has AVX2 and the OS saves the YMM
// registers (CPUID leaf 1: OSXSAVE and AVX; XCR0: the XMM and YMM state;
// leaf 7: AVX2), which chars_amd64.s needs.
func hasAVX2() bool { return avx2 }

var avx2 = detectAVX2()

func detectAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const osxsave, avx = 1 << 27, 1 << 28
	if ecx1&(osxsave|avx) != osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv0(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}

// unmarked32 has bit k set where the byte at p+k is not marked by n, for
// the 32 bytes at p (chars_amd64.s, AVX2: only where hasAVX2).
//
//go:noescape
func unmarked32(p *byte, n *nibbleTables) uint32

// ids3 is unmarked32's first clear bit (32 where there is none) for
// three windows in one call (chars_amd64.s, AVX2: only where hasAVX2):
// a from p, b from a+len(`","from":"`) further on, c from b+len(`","to":"`)
// further on still: a posting's transfer id, from and to (idsAt). It
// reads the 114 bytes from p at most.
//
//go:noescape
func ids3(p *byte, n *nibbleTables) (a, b, c uint32)

//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func xgetbv0() (eax, edx uint32)
