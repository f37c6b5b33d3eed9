package sha256x

// hasSHANI: the SHA extensions, and the SSSE3, SSE4.1 and AVX (with the
// OS saving the YMM state) that the assembly uses besides.
var hasSHANI = detect()

func detect() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const ssse3, sse41, osxsave, avx = 1 << 9, 1 << 19, 1 << 27, 1 << 28
	if ecx1&(ssse3|sse41|osxsave|avx) != ssse3|sse41|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv0(); xcr0&6 != 6 { // XMM and YMM state enabled
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const sha = 1 << 29
	return ebx7&sha != 0
}

// run2 hashes two lanes' blocks, na of a and nb of b, into sa and sb: as
// many blocks as both have in two lanes, then the longer one's rest in
// one.
func run2(sa, sb *[8]uint32, a, b *segments, na, nb int) {
	common := min(na, nb)
	block2(sa, sb, a, b, common)
	if na > common {
		rest := a.skip(common)
		block1(sa, &rest, na-common)
	}
	if nb > common {
		rest := b.skip(common)
		block1(sb, &rest, nb-common)
	}
}

// run1 hashes one lane's n blocks into s.
func run1(s *[8]uint32, segs *segments, n int) {
	block1(s, segs, n)
}

// block2 runs blocks 64-byte blocks of a and of b through the compression
// function, from and into the states sa and sb. Each of a and b holds at
// least that many blocks.
//
//go:noescape
func block2(sa, sb *[8]uint32, a, b *segments, blocks int)

// block1 is block2 for one message.
//
//go:noescape
func block1(s *[8]uint32, p *segments, blocks int)

//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax, edx uint32)
