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

// CLASS16 reads the 16 bytes at src into X0 and classifies them: X1 each
// byte less '0', BX the mask of the digits, SI the mask of the '.'s, DX
// the integer digits a (the first byte that is not a digit, 0 to 16).
// It uses X2 and X3.
#define CLASS16(src) \
	VMOVDQU src, X0 \
	VPSUBB litZero<>(SB), X0, X1 \
	VPMINUB litNine<>(SB), X1, X2 \
	VPCMPEQB X1, X2, X2 \
	VPMOVMSKB X2, BX \
	VPCMPEQB litDot<>(SB), X0, X3 \
	VPMOVMSKB X3, SI \
	MOVL BX, DX \
	NOTL DX \
	BSFL DX, DX

// DIGITS16 makes AX the number of the window's digits in X1: DX of them
// before the dot, the literal ending before R8. Output byte j takes digit
// j - (16 - t) (none where that is below zero: PSHUFB zeroes a negative
// index), one further on from the dot (a) on. It uses CX, BX, X4 and X5.
#define DIGITS16 \
	LEAL -16(R8), CX \
	MOVL CX, X4 \
	VPBROADCASTB X4, X4 \
	VPADDB litIota<>(SB), X4, X4 \
	LEAL -1(DX), CX \
	MOVL CX, X5 \
	VPBROADCASTB X5, X5 \
	VPCMPGTB X5, X4, X5 \
	VPSUBB X5, X4, X4 \
	VPSHUFB X4, X1, X1 \
	VPMADDUBSW litTen<>(SB), X1, X1 \
	VPMADDWD litHundred<>(SB), X1, X1 \
	VPACKUSDW X1, X1, X1 \
	VPMADDWD litTenThousand<>(SB), X1, X1 \
	MOVQ X1, AX \
	MOVL AX, BX \
	SHRQ $32, AX \
	IMULQ $100000000, BX \
	ADDQ BX, AX

// func digits16(p *byte) (v uint64, intDigits, fracDigits int)
TEXT ·digits16(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), AX
	CLASS16((AX))
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
	DIGITS16
	MOVQ AX, v+8(FP)
	MOVQ DX, intDigits+16(FP)
	MOVQ R9, fracDigits+24(FP)
	RET

whole:
	MOVQ $0, v+8(FP)
	MOVQ $16, intDigits+16(FP)
	MOVQ $0, fracDigits+24(FP)
	RET

// func literal16(p *byte, signed bool) (v int64, places, n int)
//
// The posting reader's amount literal at p, in one call (literal.go's
// literal16Go, which is literalPrefix16 and literalEnd, says what it
// returns): the sign where signed, then digits16's reading of the 16
// bytes after it, then literalEnd's rules (an integer digit; no leading
// zero; a digit after the '.'; at most 15 digits fit in the window, so
// the bound of 18 never bites here).
TEXT ·literal16(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), AX
	XORL R11, R11                     // the sign's bytes, 0 or 1
	CMPB signed+8(FP), $0
	JEQ digits
	CMPB (AX), $0x2d                  // '-'
	JNE digits
	MOVL $1, R11

digits:
	CLASS16((AX)(R11*1))
	CMPL DX, $16
	JAE past                          // the run may go on past the window
	XORL R9, R9                       // places
	MOVL DX, R8                       // the digits in all
	BTL DX, SI
	JCC checks
	LEAL 1(DX), CX
	MOVL BX, R9
	SHRL CX, R9
	NOTL R9
	BSFL R9, R9                       // f: the fraction's digits
	LEAL 1(DX)(R9*1), CX
	CMPL CX, $16
	JAE past                          // the fraction may go on past it
	TESTL R9, R9
	JEQ refuse                        // "5."
	LEAL (DX)(R9*1), R8

checks:
	// Once the literal is known to end in the window, as literalEnd.
	TESTL DX, DX
	JEQ refuse                        // no integer digit: "", "-", ".5"
	CMPL DX, $1
	JEQ convert
	MOVQ X0, CX
	CMPB CX, $0x30                    // a leading zero
	JEQ refuse

convert:
	DIGITS16
	TESTL R11, R11
	JEQ positive
	NEGQ AX

positive:
	MOVQ AX, v+16(FP)
	MOVQ R9, places+24(FP)
	LEAQ (R11)(R8*1), CX              // the sign and the digits
	TESTQ R9, R9
	JEQ whole
	INCQ CX                           // and the '.'

whole:
	MOVQ CX, n+32(FP)
	RET

refuse:
	MOVQ $0, v+16(FP)
	MOVQ $0, places+24(FP)
	MOVQ $0, n+32(FP)
	RET

past:
	MOVQ $0, v+16(FP)
	MOVQ $0, places+24(FP)
	MOVQ $-1, n+32(FP)
	RET
