#include "textflag.h"

// The id and asset characters' classifier (chars.go), in AVX2: each of
// 32 bytes looked up by its low nibble and by its high nibble in the two
// tables of a nibbleTables (VPSHUFB, within each 16-byte lane, where each
// table is held twice), the two and-ed, and the bytes where nothing is
// left gathered into a mask. TestCharsClassifierAgrees and the init-time
// check (nibbleTables.agrees) hold it to idChars and codeChars.

DATA charsNibble<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA charsNibble<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA charsNibble<>+16(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA charsNibble<>+24(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL charsNibble<>(SB), RODATA|NOPTR, $32

// func unmarked32(p *byte, n *nibbleTables) uint32
TEXT ·unmarked32(SB), NOSPLIT, $0-20
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), BX
	VMOVDQU (AX), Y0
	VMOVDQU charsNibble<>(SB), Y4
	VPSRLW $4, Y0, Y1
	VPAND Y4, Y0, Y0
	VPAND Y4, Y1, Y1
	VMOVDQU 0(BX), Y2
	VMOVDQU 32(BX), Y3
	VPSHUFB Y0, Y2, Y0
	VPSHUFB Y1, Y3, Y1
	VPAND Y1, Y0, Y0
	VPXOR Y5, Y5, Y5
	VPCMPEQB Y5, Y0, Y0
	VPMOVMSKB Y0, CX
	VZEROUPPER
	MOVL CX, ret+16(FP)
	RET

// UNMARKED sets out to the mask of the bytes at ptr that the tables in
// Y2 (low nibbles) and Y3 (high) do not mark; Y4 holds 0x0f in each
// byte, Y5 zero.
#define UNMARKED(ptr, out) \
	VMOVDQU (ptr), Y0 \
	VPSRLW $4, Y0, Y1 \
	VPAND Y4, Y0, Y0 \
	VPAND Y4, Y1, Y1 \
	VPSHUFB Y0, Y2, Y0 \
	VPSHUFB Y1, Y3, Y1 \
	VPAND Y1, Y0, Y0 \
	VPCMPEQB Y5, Y0, Y0 \
	VPMOVMSKB Y0, out

// func ids3(p *byte, n *nibbleTables) (a, b, c uint32)
TEXT ·ids3(SB), NOSPLIT, $0-28
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), BX
	VMOVDQU charsNibble<>(SB), Y4
	VMOVDQU 0(BX), Y2
	VMOVDQU 32(BX), Y3
	VPXOR Y5, Y5, Y5
	UNMARKED(AX, CX)
	BTSQ $32, CX                      // 32 where all 32 are marked
	BSFQ CX, CX
	MOVL CX, a+16(FP)
	LEAQ 10(AX)(CX*1), AX             // past `","from":"`
	UNMARKED(AX, DX)
	BTSQ $32, DX
	BSFQ DX, DX
	MOVL DX, b+20(FP)
	LEAQ 8(AX)(DX*1), AX              // past `","to":"`
	UNMARKED(AX, CX)
	BTSQ $32, CX
	BSFQ CX, CX
	MOVL CX, c+24(FP)
	VZEROUPPER
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
