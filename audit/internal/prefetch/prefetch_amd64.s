#include "textflag.h"

// func Lines(addrs []uintptr)
TEXT ·Lines(SB), NOSPLIT, $0-24
	MOVQ addrs_base+0(FP), SI
	MOVQ addrs_len+8(FP), CX
	TESTQ CX, CX
	JZ   done

loop:
	MOVQ       (SI), AX
	PREFETCHT0 (AX)
	ADDQ       $8, SI
	DECQ       CX
	JNZ        loop

done:
	RET

// func Bytes(b []byte)
//
// Four lines an iteration: the last may run up to three lines past b's
// end, which a prefetch allows (it never faults, and changes nothing).
TEXT ·Bytes(SB), NOSPLIT, $0-24
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	TESTQ CX, CX
	JZ    bytesDone
	ADDQ  SI, CX   // the end
	ANDQ  $~63, SI // the line b starts on

bytes:
	PREFETCHT0 (SI)
	PREFETCHT0 64(SI)
	PREFETCHT0 128(SI)
	PREFETCHT0 192(SI)
	ADDQ       $256, SI
	CMPQ       SI, CX
	JB         bytes

bytesDone:
	RET
