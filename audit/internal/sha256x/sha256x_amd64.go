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

// hash2 hashes na blocks of a and nb of b from SHA-256's initial state
// and writes their digests to da and db: the blocks both have in two
// lanes, interleaved, and the longer one's rest in one. Each of a and b
// holds at least that many blocks.
//
//go:noescape
func hash2(a, b *segments, na, nb int, da, db *[Size]byte)

//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax, edx uint32)
