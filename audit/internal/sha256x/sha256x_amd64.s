#include "textflag.h"

// Two-lane SHA-256 compression with the SHA extensions (SHA-NI).
//
// SHA256RNDS2 does two rounds and, on Zen 3, takes some 4 cycles before its
// result can feed the next one but can start every 2 cycles: one message's
// 32 of them a block wait on each other, so hash2 interleaves the rounds of
// two independent messages in one instruction stream and the second
// message's rounds fill the first's waits.
//
// Register use (16 XMM registers; X15 is not touched):
//   X0         the implicit W+K operand of SHA256RNDS2, shared by both lanes
//   X1, X2     lane a's state as ABEF and CDGH (the instructions' layout)
//   X3, X4     lane b's state
//   X5..X8     lane a's message schedule, four words each
//   X9..X12    lane b's message schedule
//   X13, X14   W+K (and the schedule's temporary) of lane a and lane b
// The states at the start of a block are kept on the stack for the final
// addition. Constants are read from memory with VEX-encoded instructions,
// which need no alignment.

// LOADSTATE turns h0..h7 at p into ABEF in S0 and CDGH in S1.
#define LOADSTATE(p, S0, S1, T) \
	VMOVDQU (p), S0; \
	VMOVDQU 16(p), S1; \
	VPSHUFD $0xb1, S0, S0; \
	VPSHUFD $0x1b, S1, S1; \
	VMOVDQA S0, T; \
	VPALIGNR $8, S1, S0, S0; \
	VPBLENDW $0xf0, T, S1, S1

// LOADMSG reads 16 bytes of a block as four big-endian words.
#define LOADMSG(off, p, M) \
	VMOVDQU off(p), M; \
	VPSHUFB flipmask<>(SB), M, M

// SCHED computes the next four message words into M0 from the sixteen
// before them, M0 (oldest) to M3 (newest).
#define SCHED(M0, M1, M2, M3, T) \
	SHA256MSG1 M1, M0; \
	VPALIGNR $4, M2, M3, T; \
	VPADDD T, M0, M0; \
	SHA256MSG2 M3, M0

// QUAD2 does four rounds in both lanes with message words MA and MB and
// round constants k.
#define QUAD2(k, MA, MB) \
	VPADDD k(DX), MA, X13; \
	VPADDD k(DX), MB, X14; \
	VMOVDQA X13, X0; \
	SHA256RNDS2 X0, X1, X2; \
	VMOVDQA X14, X0; \
	SHA256RNDS2 X0, X3, X4; \
	VPSHUFD $0x0e, X13, X0; \
	SHA256RNDS2 X0, X2, X1; \
	VPSHUFD $0x0e, X14, X0; \
	SHA256RNDS2 X0, X4, X3

// QUAD1 does four rounds in lane a only.
#define QUAD1(k, MA) \
	VPADDD k(DX), MA, X0; \
	SHA256RNDS2 X0, X1, X2; \
	VPSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, X2, X1

#define SCHED2(A0, A1, A2, A3, B0, B1, B2, B3) \
	SCHED(A0, A1, A2, A3, X13); \
	SCHED(B0, B1, B2, B3, X14)

// NEXTSEG moves a lane on to its next segment when the current one is
// used up: P is where the lane reads, N the blocks left in its segment,
// L the segments' list (*segments: three pointers, then three counts).
// The caller asks for no more blocks than the segments hold.
#define NEXTSEG(P, N, L, next, have) \
next: \
	TESTQ N, N; \
	JNE have; \
	MOVQ 0(L), P; \
	MOVQ 24(L), N; \
	ADDQ $8, L; \
	JMP next; \
have:

// DIGEST writes the state in S0 (ABEF) and S1 (CDGH) to p as SHA-256's
// digest, h0..h7 in big-endian bytes, in two 16-byte stores (a reader's
// 16-byte loads of them are forwarded from the stores); it clobbers S0,
// S1 and T.
#define DIGEST(p, S0, S1, T) \
	VPSHUFD $0x1b, S0, S0; \
	VPSHUFD $0xb1, S1, S1; \
	VPBLENDW $0xf0, S1, S0, T; \
	VPALIGNR $8, S0, S1, S1; \
	VPSHUFB flipmask<>(SB), T, T; \
	VPSHUFB flipmask<>(SB), S1, S1; \
	VMOVDQU T, (p); \
	VMOVDQU S1, 16(p)

// func hash2(a, b *segments, na, nb int, da, db *[Size]byte)
//
// hash2 hashes na blocks of a and nb of b from SHA-256's initial state
// and writes their digests to da and db: as many blocks as both have in
// two lanes, then the rest of a in one lane (b's state waiting in X3 and
// X4, which the one-lane rounds do not touch), a's digest, then the rest
// of b in the same one-lane loop, and b's digest. One call a pair.
TEXT ·hash2(SB), NOSPLIT, $64-48
	MOVQ a+0(FP), R9
	MOVQ b+8(FP), R11
	MOVQ na+16(FP), R12
	MOVQ nb+24(FP), R13
	LEAQ k256<>(SB), DX
	LEAQ initial<>(SB), AX
	LOADSTATE(AX, X1, X2, X13)
	VMOVDQA X1, X3
	VMOVDQA X2, X4
	XORQ R8, R8
	XORQ R10, R10
	XORQ BX, BX // 0 while lane a is in X1 and X2, 1 once lane b is
	MOVQ R12, CX
	CMPQ R13, CX
	CMOVQLT R13, CX // the blocks both lanes have
	SUBQ CX, R12
	SUBQ CX, R13
	TESTQ CX, CX
	JEQ rest

loop:
	NEXTSEG(SI, R8, R9, nextah, haveah)
	NEXTSEG(DI, R10, R11, nextbh, havebh)
	VMOVDQU X1, 0(SP)
	VMOVDQU X2, 16(SP)
	VMOVDQU X3, 32(SP)
	VMOVDQU X4, 48(SP)
	LOADMSG(0, SI, X5)
	LOADMSG(16, SI, X6)
	LOADMSG(32, SI, X7)
	LOADMSG(48, SI, X8)
	LOADMSG(0, DI, X9)
	LOADMSG(16, DI, X10)
	LOADMSG(32, DI, X11)
	LOADMSG(48, DI, X12)

	QUAD2(0, X5, X9)
	QUAD2(16, X6, X10)
	QUAD2(32, X7, X11)
	QUAD2(48, X8, X12)
	SCHED2(X5, X6, X7, X8, X9, X10, X11, X12)
	QUAD2(64, X5, X9)
	SCHED2(X6, X7, X8, X5, X10, X11, X12, X9)
	QUAD2(80, X6, X10)
	SCHED2(X7, X8, X5, X6, X11, X12, X9, X10)
	QUAD2(96, X7, X11)
	SCHED2(X8, X5, X6, X7, X12, X9, X10, X11)
	QUAD2(112, X8, X12)
	SCHED2(X5, X6, X7, X8, X9, X10, X11, X12)
	QUAD2(128, X5, X9)
	SCHED2(X6, X7, X8, X5, X10, X11, X12, X9)
	QUAD2(144, X6, X10)
	SCHED2(X7, X8, X5, X6, X11, X12, X9, X10)
	QUAD2(160, X7, X11)
	SCHED2(X8, X5, X6, X7, X12, X9, X10, X11)
	QUAD2(176, X8, X12)
	SCHED2(X5, X6, X7, X8, X9, X10, X11, X12)
	QUAD2(192, X5, X9)
	SCHED2(X6, X7, X8, X5, X10, X11, X12, X9)
	QUAD2(208, X6, X10)
	SCHED2(X7, X8, X5, X6, X11, X12, X9, X10)
	QUAD2(224, X7, X11)
	SCHED2(X8, X5, X6, X7, X12, X9, X10, X11)
	QUAD2(240, X8, X12)

	VPADDD 0(SP), X1, X1
	VPADDD 16(SP), X2, X2
	VPADDD 32(SP), X3, X3
	VPADDD 48(SP), X4, X4
	ADDQ $64, SI
	DECQ R8
	ADDQ $64, DI
	DECQ R10
	DECQ CX
	JNE loop

rest:
	MOVQ da+32(FP), AX
	MOVQ R12, CX

one:
	TESTQ CX, CX
	JEQ store
	NEXTSEG(SI, R8, R9, nexth, haveh)
	VMOVDQU X1, 0(SP)
	VMOVDQU X2, 16(SP)
	LOADMSG(0, SI, X5)
	LOADMSG(16, SI, X6)
	LOADMSG(32, SI, X7)
	LOADMSG(48, SI, X8)

	QUAD1(0, X5)
	QUAD1(16, X6)
	QUAD1(32, X7)
	QUAD1(48, X8)
	SCHED(X5, X6, X7, X8, X13)
	QUAD1(64, X5)
	SCHED(X6, X7, X8, X5, X13)
	QUAD1(80, X6)
	SCHED(X7, X8, X5, X6, X13)
	QUAD1(96, X7)
	SCHED(X8, X5, X6, X7, X13)
	QUAD1(112, X8)
	SCHED(X5, X6, X7, X8, X13)
	QUAD1(128, X5)
	SCHED(X6, X7, X8, X5, X13)
	QUAD1(144, X6)
	SCHED(X7, X8, X5, X6, X13)
	QUAD1(160, X7)
	SCHED(X8, X5, X6, X7, X13)
	QUAD1(176, X8)
	SCHED(X5, X6, X7, X8, X13)
	QUAD1(192, X5)
	SCHED(X6, X7, X8, X5, X13)
	QUAD1(208, X6)
	SCHED(X7, X8, X5, X6, X13)
	QUAD1(224, X7)
	SCHED(X8, X5, X6, X7, X13)
	QUAD1(240, X8)

	VPADDD 0(SP), X1, X1
	VPADDD 16(SP), X2, X2
	ADDQ $64, SI
	DECQ R8
	DECQ CX
	JMP one

store:
	DIGEST(AX, X1, X2, X13)
	TESTQ BX, BX
	JNE done
	// Lane b into lane a's registers, for the same loop.
	MOVQ $1, BX
	VMOVDQA X3, X1
	VMOVDQA X4, X2
	MOVQ DI, SI
	MOVQ R10, R8
	MOVQ R11, R9
	MOVQ db+40(FP), AX
	MOVQ R13, CX
	JMP one

done:
	RET

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax, edx uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// initial is SHA-256's initial hash value, h0..h7 (FIPS 180-4, 5.3.3).
DATA initial<>+0x00(SB)/4, $0x6a09e667
DATA initial<>+0x04(SB)/4, $0xbb67ae85
DATA initial<>+0x08(SB)/4, $0x3c6ef372
DATA initial<>+0x0c(SB)/4, $0xa54ff53a
DATA initial<>+0x10(SB)/4, $0x510e527f
DATA initial<>+0x14(SB)/4, $0x9b05688c
DATA initial<>+0x18(SB)/4, $0x1f83d9ab
DATA initial<>+0x1c(SB)/4, $0x5be0cd19
GLOBL initial<>(SB), RODATA|NOPTR, $32

// flipmask reverses the bytes of each 32-bit word (VPSHUFB).
DATA flipmask<>+0(SB)/8, $0x0405060700010203
DATA flipmask<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL flipmask<>(SB), RODATA|NOPTR, $16

// k256 holds the 64 round constants (FIPS 180-4, 4.2.2).
DATA k256<>+0x00(SB)/4, $0x428a2f98
DATA k256<>+0x04(SB)/4, $0x71374491
DATA k256<>+0x08(SB)/4, $0xb5c0fbcf
DATA k256<>+0x0c(SB)/4, $0xe9b5dba5
DATA k256<>+0x10(SB)/4, $0x3956c25b
DATA k256<>+0x14(SB)/4, $0x59f111f1
DATA k256<>+0x18(SB)/4, $0x923f82a4
DATA k256<>+0x1c(SB)/4, $0xab1c5ed5
DATA k256<>+0x20(SB)/4, $0xd807aa98
DATA k256<>+0x24(SB)/4, $0x12835b01
DATA k256<>+0x28(SB)/4, $0x243185be
DATA k256<>+0x2c(SB)/4, $0x550c7dc3
DATA k256<>+0x30(SB)/4, $0x72be5d74
DATA k256<>+0x34(SB)/4, $0x80deb1fe
DATA k256<>+0x38(SB)/4, $0x9bdc06a7
DATA k256<>+0x3c(SB)/4, $0xc19bf174
DATA k256<>+0x40(SB)/4, $0xe49b69c1
DATA k256<>+0x44(SB)/4, $0xefbe4786
DATA k256<>+0x48(SB)/4, $0x0fc19dc6
DATA k256<>+0x4c(SB)/4, $0x240ca1cc
DATA k256<>+0x50(SB)/4, $0x2de92c6f
DATA k256<>+0x54(SB)/4, $0x4a7484aa
DATA k256<>+0x58(SB)/4, $0x5cb0a9dc
DATA k256<>+0x5c(SB)/4, $0x76f988da
DATA k256<>+0x60(SB)/4, $0x983e5152
DATA k256<>+0x64(SB)/4, $0xa831c66d
DATA k256<>+0x68(SB)/4, $0xb00327c8
DATA k256<>+0x6c(SB)/4, $0xbf597fc7
DATA k256<>+0x70(SB)/4, $0xc6e00bf3
DATA k256<>+0x74(SB)/4, $0xd5a79147
DATA k256<>+0x78(SB)/4, $0x06ca6351
DATA k256<>+0x7c(SB)/4, $0x14292967
DATA k256<>+0x80(SB)/4, $0x27b70a85
DATA k256<>+0x84(SB)/4, $0x2e1b2138
DATA k256<>+0x88(SB)/4, $0x4d2c6dfc
DATA k256<>+0x8c(SB)/4, $0x53380d13
DATA k256<>+0x90(SB)/4, $0x650a7354
DATA k256<>+0x94(SB)/4, $0x766a0abb
DATA k256<>+0x98(SB)/4, $0x81c2c92e
DATA k256<>+0x9c(SB)/4, $0x92722c85
DATA k256<>+0xa0(SB)/4, $0xa2bfe8a1
DATA k256<>+0xa4(SB)/4, $0xa81a664b
DATA k256<>+0xa8(SB)/4, $0xc24b8b70
DATA k256<>+0xac(SB)/4, $0xc76c51a3
DATA k256<>+0xb0(SB)/4, $0xd192e819
DATA k256<>+0xb4(SB)/4, $0xd6990624
DATA k256<>+0xb8(SB)/4, $0xf40e3585
DATA k256<>+0xbc(SB)/4, $0x106aa070
DATA k256<>+0xc0(SB)/4, $0x19a4c116
DATA k256<>+0xc4(SB)/4, $0x1e376c08
DATA k256<>+0xc8(SB)/4, $0x2748774c
DATA k256<>+0xcc(SB)/4, $0x34b0bcb5
DATA k256<>+0xd0(SB)/4, $0x391c0cb3
DATA k256<>+0xd4(SB)/4, $0x4ed8aa4a
DATA k256<>+0xd8(SB)/4, $0x5b9cca4f
DATA k256<>+0xdc(SB)/4, $0x682e6ff3
DATA k256<>+0xe0(SB)/4, $0x748f82ee
DATA k256<>+0xe4(SB)/4, $0x78a5636f
DATA k256<>+0xe8(SB)/4, $0x84c87814
DATA k256<>+0xec(SB)/4, $0x8cc70208
DATA k256<>+0xf0(SB)/4, $0x90befffa
DATA k256<>+0xf4(SB)/4, $0xa4506ceb
DATA k256<>+0xf8(SB)/4, $0xbef9a3f7
DATA k256<>+0xfc(SB)/4, $0xc67178f2
GLOBL k256<>(SB), RODATA|NOPTR, $256
