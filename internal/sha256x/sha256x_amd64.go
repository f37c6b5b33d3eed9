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

// sum2 hashes two padded messages: their common blocks in two lanes, the
// longer one's remaining blocks in one.
func sum2(a, b []byte) (da, db [Size]byte) {
	sa, sb := initial, initial
	na, nb := len(a)/BlockSize, len(b)/BlockSize
	common := min(na, nb)
	block2(&sa, &sb, &a[0], &b[0], common)
	if na > common {
		block1(&sa, &a[common*BlockSize], na-common)
	}
	if nb > common {
		block1(&sb, &b[common*BlockSize], nb-common)
	}
	return digest(&sa), digest(&sb)
}

// sum1 hashes one padded message in one lane.
func sum1(p []byte) [Size]byte {
	s := initial
	block1(&s, &p[0], len(p)/BlockSize)
	return digest(&s)
}

// block2 runs blocks 64-byte blocks of a and of b through the compression
// function, from and into the states sa and sb.
//
//go:noescape
func block2(sa, sb *[8]uint32, a, b *byte, blocks int)

// block1 is block2 for one message.
//
//go:noescape
func block1(s *[8]uint32, p *byte, blocks int)

//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax, edx uint32)
