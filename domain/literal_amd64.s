#include "textflag.h"

// An amount literal's digits, 16 bytes at a time (literal.go's
// literalPrefix, where useAVX2): the bytes that are digits and the one
// that is '.' found at once, the digits (the dot left out) moved to the
// window's end and made a number by multiply-adds of pairs, fours and
// eights. literalPrefix's Go loop is the definition;
// TestLiteralDigitsAgree, FuzzParseLiteral and the posting reader's
// tests, with the assembly on and off, hold them together.

DATA litZero<>+0(SB)/8, $0x3030303030303030
DATA litZero<>+8(SB)/8, $0x3030303030303030
GLOBL litZero<>(SB), RODATA|NOPTR, $16
DATA litNine<>+0(SB)/8, $0x0909090909090909
DATA litNine<>+8(SB)/8, $0x0909090909090909
GLOBL litNine<>(SB), RODATA|NOPTR, $16
DATA litDot<>+0(SB)/8, $0x2e2e2e2e2e2e2e2e
DATA litDot<>+8(SB)/8, $0x2e2e2e2e2e2e2e2e
GLOBL litDot<>(SB), RODATA|NOPTR, $16
DATA litIota<>+0(SB)/8, $0x0706050403020100
DATA litIota<>+8(SB)/8, $0x0f0e0d0c0b0a0908
GLOBL litIota<>(SB), RODATA|NOPTR, $16
DATA litTen<>+0(SB)/8, $0x010a010a010a010a
DATA litTen<>+8(SB)/8, $0x010a010a010a010a
GLOBL litTen<>(SB), RODATA|NOPTR, $16
DATA litHundred<>+0(SB)/8, $0x0001006400010064
DATA litHundred<>+8(SB)/8, $0x0001006400010064
GLOBL litHundred<>(SB), RODATA|NOPTR, $16
DATA litTenThousand<>+0(SB)/8, $0x0001271000012710
DATA litTenThousand<>+8(SB)/8, $0x0001271000012710
GLOBL litTenThousand<>(SB), RODATA|NOPTR, $16

// func digits16(p *byte) (v uint64, intDigits, fracDigits int)
TEXT ·digits16(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), AX
	VMOVDQU (AX), X0
	VPSUBB litZero<>(SB), X0, X1      // each byte - '0'
	VPMINUB litNine<>(SB), X1, X2
	VPCMPEQB X1, X2, X2               // digits: byte - '0' <= 9
	VPMOVMSKB X2, BX
	VPCMPEQB litDot<>(SB), X0, X3
	VPMOVMSKB X3, SI
	MOVL BX, DX
	NOTL DX
	BSFL DX, DX                       // a: the integer digits, 0 to 16
	CMPL DX, $16
	JAE whole                         // the run may go on past the window
	MOVQ $-1, R9                      // no dot
	MOVL DX, R8                       // the digits in all
	BTL DX, SI
	JCC convert
	LEAL 1(DX), CX
	MOVL BX, R9
	SHRL CX, R9
	NOTL R9
	BSFL R9, R9                       // f: the fraction's digits
	LEAL 1(DX)(R9*1), CX
	CMPL CX, $16
	JAE whole                         // the fraction may go on past it
	LEAL (DX)(R9*1), R8

convert:
	// Output byte j takes digit j - (16 - t) (none where that is below
	// zero: PSHUFB zeroes a negative index), one further on from the
	// dot (a) on.
	LEAL -16(R8), CX
	MOVL CX, X4
	VPBROADCASTB X4, X4
	VPADDB litIota<>(SB), X4, X4
	LEAL -1(DX), CX
	MOVL CX, X5
	VPBROADCASTB X5, X5
	VPCMPGTB X5, X4, X5               // index > a-1: past the dot
	VPSUBB X5, X4, X4
	VPSHUFB X4, X1, X1
	VPMADDUBSW litTen<>(SB), X1, X1   // pairs
	VPMADDWD litHundred<>(SB), X1, X1 // fours
	VPACKUSDW X1, X1, X1
	VPMADDWD litTenThousand<>(SB), X1, X1 // eights
	MOVQ X1, AX
	MOVL AX, BX                       // the first eight digits
	SHRQ $32, AX                      // the last eight
	IMULQ $100000000, BX
	ADDQ BX, AX
	MOVQ AX, v+8(FP)
	MOVQ DX, intDigits+16(FP)
	MOVQ R9, fracDigits+24(FP)
	RET

whole:
	MOVQ $0, v+8(FP)
	MOVQ $16, intDigits+16(FP)
	MOVQ $0, fracDigits+24(FP)
	RET
