#include "textflag.h"

DATA  onef32<>+0(SB)/4, $0x3f800000
GLOBL onef32<>(SB), RODATA|NOPTR, $4
DATA  onei32<>+0(SB)/4, $1
GLOBL onei32<>(SB), RODATA|NOPTR, $4

// func detectAVX2(row, thr *float32, dead *int32, counts *float32, armed *int32, n int, refr int32)
//
// The crossing detector of Encoder.detect for n channels (a multiple of 8),
// eight at a time, without branches:
//   dead  = max(dead-1, 0)
//   below = row < thr                    (false for NaN, as in the Go code)
//   cross = below & armed & (dead == 0)
//   counts += cross ? 1 : 0
//   dead  = cross ? refr : dead
//   armed = below ? 0 : -1
TEXT ·detectAVX2(SB), NOSPLIT, $0-52
	MOVQ row+0(FP), DI
	MOVQ thr+8(FP), SI
	MOVQ dead+16(FP), R8
	MOVQ counts+24(FP), R9
	MOVQ armed+32(FP), R10
	MOVQ n+40(FP), CX
	MOVL         refr+48(FP), BX
	VMOVD        BX, X15
	VPBROADCASTD X15, Y15
	VBROADCASTSS onef32<>(SB), Y14
	VPBROADCASTD onei32<>(SB), Y13
	VPXOR        Y12, Y12, Y12     // zero
	VPCMPEQD     Y11, Y11, Y11     // all ones
	XORQ         AX, AX

loop:
	CMPQ      AX, CX
	JGE       done
	VMOVUPS   (DI)(AX*4), Y0        // v
	VMOVUPS   (SI)(AX*4), Y1        // thr
	VCMPPS    $1, Y1, Y0, Y2        // below = v < thr (ordered)
	VMOVDQU   (R8)(AX*4), Y3        // dead
	VPSUBD    Y13, Y3, Y3           // dead - 1
	VPMAXSD   Y12, Y3, Y3           // max(dead-1, 0)
	VPCMPEQD  Y12, Y3, Y4           // dead == 0
	VMOVDQU   (R10)(AX*4), Y5       // armed
	VPAND     Y5, Y4, Y4            // armed & dead == 0
	VPAND     Y2, Y4, Y4            // cross
	VANDPS    Y14, Y4, Y6           // 1.0 where cross
	VMOVUPS   (R9)(AX*4), Y7
	VADDPS    Y6, Y7, Y7
	VMOVUPS   Y7, (R9)(AX*4)        // counts += cross
	VPBLENDVB Y4, Y15, Y3, Y3       // dead = cross ? refr : dead
	VMOVDQU   Y3, (R8)(AX*4)
	VPXOR     Y11, Y2, Y2           // armed = !below
	VMOVDQU   Y2, (R10)(AX*4)
	ADDQ      $8, AX
	JMP       loop

done:
	VZEROUPPER
	RET
