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

// blocks2 runs the whole blocks of a and of b (as many of each) through
// the compression function in two lanes.
func blocks2(sa, sb *[8]uint32, a, b []byte) {
	if n := len(a) / BlockSize; n > 0 {
		block2(sa, sb, &a[0], &b[0], n)
	}
}

// blocks1 runs the whole blocks of p through the compression function.
func blocks1(s *[8]uint32, p []byte) {
	if n := len(p) / BlockSize; n > 0 {
		block1(s, &p[0], n)
	}
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
