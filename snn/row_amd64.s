#include "textflag.h"

// func addRowAVX2(dst, row *float32, n int)
//
// dst[i] += row[i] for i < n, sixteen at a time; n is a multiple of 16.
// Each element gets the same single addition as the portable loop, so the
// results are bit-identical.
TEXT ·addRowAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ row+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JZ   done
loop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VADDPS  (SI), Y0, Y0
	VADDPS  32(SI), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     loop
done:
	VZEROUPPER
	RET

// func axpyRowAVX2(x float32, dst, row *float32, n int)
//
// dst[i] += x*row[i] for i < n, sixteen at a time (a rounded multiply,
// then a rounded add, as the portable loop); n is a multiple of 16.
TEXT ·axpyRowAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS x+0(FP), Y2
	MOVQ dst+8(FP), DI
	MOVQ row+16(FP), SI
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JZ   done
loop:
	VMULPS  (SI), Y2, Y3
	VMULPS  32(SI), Y2, Y4
	VADDPS  (DI), Y3, Y3
	VADDPS  32(DI), Y4, Y4
	VMOVUPS Y3, (DI)
	VMOVUPS Y4, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     loop
done:
	VZEROUPPER
	RET
