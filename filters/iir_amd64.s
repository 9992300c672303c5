#include "textflag.h"

// func symPairAVX2(x, za1, za2, zb1, zb2 *float64, n int, c *[6]float64)
//
// Runs two symmetric sections (b0 = b2 = 1) over n channels, four at a
// time, with the same operations in the same order as IIR.symPair, so the
// results are bit-identical. c holds a1, a4, a5 of the first section and
// b1, b4, b5 of the second. n is a multiple of 4.
TEXT ·symPairAVX2(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), DI
	MOVQ za1+8(FP), R8
	MOVQ za2+16(FP), R9
	MOVQ zb1+24(FP), R10
	MOVQ zb2+32(FP), R11
	MOVQ n+40(FP), CX
	MOVQ c+48(FP), SI
	VBROADCASTSD 0(SI), Y10
	VBROADCASTSD 8(SI), Y11
	VBROADCASTSD 16(SI), Y12
	VBROADCASTSD 24(SI), Y13
	VBROADCASTSD 32(SI), Y14
	VBROADCASTSD 40(SI), Y15
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPD (DI)(AX*8), Y0      // v
	VMOVUPD (R8)(AX*8), Y1      // za1
	VADDPD  Y1, Y0, Y2          // y = v + za1
	VMULPD  Y10, Y0, Y3         // a1*v
	VMULPD  Y11, Y2, Y4         // a4*y
	VSUBPD  Y4, Y3, Y3          // a1*v - a4*y
	VMOVUPD (R9)(AX*8), Y5      // za2
	VADDPD  Y5, Y3, Y3          // ... + za2
	VMOVUPD Y3, (R8)(AX*8)      // za1 = ...
	VMULPD  Y12, Y2, Y4         // a5*y
	VSUBPD  Y4, Y0, Y4          // v - a5*y
	VMOVUPD Y4, (R9)(AX*8)      // za2 = ...
	VMOVUPD (R10)(AX*8), Y1     // zb1
	VADDPD  Y1, Y2, Y6          // w = y + zb1
	VMULPD  Y13, Y2, Y3         // b1*y
	VMULPD  Y14, Y6, Y4         // b4*w
	VSUBPD  Y4, Y3, Y3          // b1*y - b4*w
	VMOVUPD (R11)(AX*8), Y5     // zb2
	VADDPD  Y5, Y3, Y3          // ... + zb2
	VMOVUPD Y3, (R10)(AX*8)     // zb1 = ...
	VMULPD  Y15, Y6, Y4         // b5*w
	VSUBPD  Y4, Y2, Y4          // y - b5*w
	VMOVUPD Y4, (R11)(AX*8)     // zb2 = ...
	VMOVUPD Y6, (DI)(AX*8)      // x = w
	ADDQ    $4, AX
	JMP     loop

done:
	VZEROUPPER
	RET
