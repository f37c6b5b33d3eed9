#include "textflag.h"

// The hex of a hash compared with its 64 stored digits, 16 bytes of the
// hash at a time, in SSE2 (every amd64 has it; AVX2 below, 32 at once): each byte's high and low
// nibbles split, made digits ('0' + n, and 'a'-'0'-10 more where n > 9),
// interleaved high first and compared with the stored digits. The Go
// version (hexOfGo) is the definition; TestHexEqualAgrees holds them
// together.

DATA hexNibble<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA hexNibble<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL hexNibble<>(SB), RODATA|NOPTR, $16
DATA hexNine<>+0(SB)/8, $0x0909090909090909
DATA hexNine<>+8(SB)/8, $0x0909090909090909
GLOBL hexNine<>(SB), RODATA|NOPTR, $16
DATA hexLetter<>+0(SB)/8, $0x2727272727272727
DATA hexLetter<>+8(SB)/8, $0x2727272727272727
GLOBL hexLetter<>(SB), RODATA|NOPTR, $16
DATA hexZero<>+0(SB)/8, $0x3030303030303030
DATA hexZero<>+8(SB)/8, $0x3030303030303030
GLOBL hexZero<>(SB), RODATA|NOPTR, $16

// HALF compares the hex of the 16 bytes at sum+off with the 32 digits at
// h+2*off, and-ing the byte-wise equality into X7.
#define HALF(off) \
	MOVOU off(BX), X0 \
	MOVO X0, X1 \
	PSRLW $4, X1 \
	PAND X8, X1 \
	PAND X8, X0 \
	MOVO X1, X2 \
	PCMPGTB X9, X2 \
	PAND X10, X2 \
	PADDB X11, X1 \
	PADDB X2, X1 \
	MOVO X0, X3 \
	PCMPGTB X9, X3 \
	PAND X10, X3 \
	PADDB X11, X0 \
	PADDB X3, X0 \
	MOVO X1, X4 \
	PUNPCKLBW X0, X1 \
	PUNPCKHBW X0, X4 \
	MOVOU (2*off)(AX), X5 \
	PCMPEQB X5, X1 \
	MOVOU (2*off+16)(AX), X6 \
	PCMPEQB X6, X4 \
	PAND X4, X1 \
	PAND X1, X7

// func hexEqual(h *[2 * HashSize]byte, sum *Hash) bool
TEXT ·hexEqual(SB), NOSPLIT, $0-17
	MOVQ h+0(FP), AX
	MOVQ sum+8(FP), BX
	CMPB ·useAVX2(SB), $0
	JNE  avx2
	MOVOU hexNibble<>(SB), X8
	MOVOU hexNine<>(SB), X9
	MOVOU hexLetter<>(SB), X10
	MOVOU hexZero<>(SB), X11
	PCMPEQB X7, X7
	HALF(0)
	HALF(16)
	PMOVMSKB X7, CX
	CMPL CX, $0xffff
	SETEQ ret+16(FP)
	RET

// The same in AVX2 where useAVX2 says so: the 32 bytes of the hash at
// once, three-operand, without HALF's copies. Unpacking works within
// each 128-bit lane, so the low unpack holds the digits of bytes 0-7
// and 16-23 (the stored digits 0-15 and 32-47), the high one those of
// bytes 8-15 and 24-31 (digits 16-31 and 48-63), which the stored
// digits are loaded to match.
avx2:
	VPBROADCASTQ hexNibble<>(SB), Y8
	VPBROADCASTQ hexNine<>(SB), Y9
	VPBROADCASTQ hexLetter<>(SB), Y10
	VPBROADCASTQ hexZero<>(SB), Y11
	VMOVDQU (BX), Y0
	VPSRLW $4, Y0, Y1
	VPAND Y8, Y1, Y1
	VPAND Y8, Y0, Y0
	VPCMPGTB Y9, Y1, Y2
	VPAND Y10, Y2, Y2
	VPADDB Y11, Y1, Y1
	VPADDB Y2, Y1, Y1
	VPCMPGTB Y9, Y0, Y3
	VPAND Y10, Y3, Y3
	VPADDB Y11, Y0, Y0
	VPADDB Y3, Y0, Y0
	VPUNPCKLBW Y0, Y1, Y4
	VPUNPCKHBW Y0, Y1, Y5
	VMOVDQU (AX), X6
	VINSERTI128 $1, 32(AX), Y6, Y6
	VMOVDQU 16(AX), X7
	VINSERTI128 $1, 48(AX), Y7, Y7
	VPCMPEQB Y6, Y4, Y4
	VPCMPEQB Y7, Y5, Y5
	VPAND Y5, Y4, Y4
	VPMOVMSKB Y4, CX
	VZEROUPPER
	CMPL CX, $0xffffffff
	SETEQ ret+16(FP)
	RET

// The 64 digits of a stored hash decoded, 16 digits at a time, in SSE2:
// a digit is valid when c-'0' <= 9 or c-'a' <= 5 (unsigned, by PMINUB and
// PCMPEQB), its value is its low nibble plus 9 for a letter, and each
// pair of values (high nibble first, in the low byte of a 16-bit lane)
// is joined into one byte and packed. The Go version (parseLowerHexGo) is
// the definition; TestParseLowerHexAgrees and FuzzParseLowerHex hold them
// together.

DATA hexLowA<>+0(SB)/8, $0x6161616161616161
DATA hexLowA<>+8(SB)/8, $0x6161616161616161
GLOBL hexLowA<>(SB), RODATA|NOPTR, $16
DATA hexFive<>+0(SB)/8, $0x0505050505050505
DATA hexFive<>+8(SB)/8, $0x0505050505050505
GLOBL hexFive<>(SB), RODATA|NOPTR, $16
DATA hexHighNibble<>+0(SB)/8, $0x00f000f000f000f0
DATA hexHighNibble<>+8(SB)/8, $0x00f000f000f000f0
GLOBL hexHighNibble<>(SB), RODATA|NOPTR, $16

// UNHEX16 decodes the 16 digits at h+off into the eight bytes in the low
// bytes of R's 16-bit lanes, and-ing their validity into X7 (uses X0-X3).
#define UNHEX16(off, R) \
	MOVOU off(AX), X0 \
	MOVO X0, X1 \
	PSUBB X11, X1 \
	MOVO X1, X2 \
	PMINUB X9, X2 \
	PCMPEQB X1, X2 \
	MOVO X0, X1 \
	PSUBB X12, X1 \
	MOVO X1, X3 \
	PMINUB X13, X3 \
	PCMPEQB X1, X3 \
	MOVO X2, X1 \
	POR X3, X1 \
	PAND X1, X7 \
	PAND X9, X3 \
	PAND X8, X0 \
	PADDB X3, X0 \
	MOVO X0, R \
	PSLLW $4, R \
	PAND X14, R \
	PSRLW $8, X0 \
	POR X0, R

// UNHEX32 is UNHEX16 in AVX2 for the 32 digits at h+off, three-operand:
// their values in R, their validity in V (uses Y0-Y3).
#define UNHEX32(off, R, V) \
	VMOVDQU off(AX), Y0 \
	VPSUBB Y11, Y0, Y1 \
	VPMINUB Y9, Y1, Y2 \
	VPCMPEQB Y1, Y2, Y2 \
	VPSUBB Y12, Y0, Y1 \
	VPMINUB Y13, Y1, Y3 \
	VPCMPEQB Y1, Y3, Y3 \
	VPOR Y3, Y2, V \
	VPAND Y9, Y3, Y3 \
	VPAND Y8, Y0, Y0 \
	VPADDB Y3, Y0, Y0 \
	VPSLLW $4, Y0, R \
	VPAND Y14, R, R \
	VPSRLW $8, Y0, Y0 \
	VPOR Y0, R, R

// func unhexLower(h *[2 * HashSize]byte, sum *Hash) bool
TEXT ·unhexLower(SB), NOSPLIT, $0-17
	MOVQ h+0(FP), AX
	MOVQ sum+8(FP), BX
	CMPB ·useAVX2(SB), $0
	JNE  avx2
	MOVOU hexNibble<>(SB), X8
	MOVOU hexNine<>(SB), X9
	MOVOU hexZero<>(SB), X11
	MOVOU hexLowA<>(SB), X12
	MOVOU hexFive<>(SB), X13
	MOVOU hexHighNibble<>(SB), X14
	PCMPEQB X7, X7
	UNHEX16(0, X4)
	UNHEX16(16, X5)
	PACKUSWB X5, X4
	MOVOU X4, 0(BX)
	UNHEX16(32, X4)
	UNHEX16(48, X5)
	PACKUSWB X5, X4
	MOVOU X4, 16(BX)
	PMOVMSKB X7, CX
	CMPL CX, $0xffff
	SETEQ ret+16(FP)
	RET

// The same in AVX2 where useAVX2 says so: 32 digits at a time. Packing
// works within each 128-bit lane, leaving the hash's bytes 0-7, 16-23,
// 8-15, 24-31 in that order, which VPERMQ puts back in place.
avx2:
	VPBROADCASTQ hexNibble<>(SB), Y8
	VPBROADCASTQ hexNine<>(SB), Y9
	VPBROADCASTQ hexZero<>(SB), Y11
	VPBROADCASTQ hexLowA<>(SB), Y12
	VPBROADCASTQ hexFive<>(SB), Y13
	VPBROADCASTQ hexHighNibble<>(SB), Y14
	UNHEX32(0, Y4, Y6)
	UNHEX32(32, Y5, Y7)
	VPAND Y7, Y6, Y6
	VPACKUSWB Y5, Y4, Y4
	VPERMQ $0xD8, Y4, Y4
	VMOVDQU Y4, (BX)
	VPMOVMSKB Y6, CX
	VZEROUPPER
	CMPL CX, $0xffffffff
	SETEQ ret+16(FP)
	RET
