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

// func neuronStepAVX2(u, omt, tu, c, cur, uth *float32, mask *uint8, n int)
//
// For i < n, eight neurons at a time (n is a multiple of 8):
// pre = (omt*u + tu) + c*cur; u = max(pre, 0.1*pre); and bit i%8 of
// mask[i/8] is set when u >= uth. The operations and their order are the
// portable loop's, so the results are bit-identical.
TEXT ·neuronStepAVX2(SB), NOSPLIT, $0-64
	MOVQ u+0(FP), DI
	MOVQ omt+8(FP), SI
	MOVQ tu+16(FP), R8
	MOVQ c+24(FP), R9
	MOVQ cur+32(FP), R10
	MOVQ uth+40(FP), R11
	MOVQ mask+48(FP), R12
	MOVQ n+56(FP), CX
	SHRQ $3, CX
	JZ   done
	MOVL $0x3dcccccd, AX
	VMOVD AX, X7
	VBROADCASTSS X7, Y7
loop:
	VMOVUPS (SI), Y0
	VMULPS  (DI), Y0, Y0
	VADDPS  (R8), Y0, Y0
	VMOVUPS (R9), Y1
	VMULPS  (R10), Y1, Y1
	VADDPS  Y1, Y0, Y0
	VMULPS  Y7, Y0, Y2
	VMAXPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	VCMPPS  $0x1d, (R11), Y0, Y3
	VMOVMSKPS Y3, AX
	MOVB    AL, (R12)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, R8
	ADDQ    $32, R9
	ADDQ    $32, R10
	ADDQ    $32, R11
	INCQ    R12
	DECQ    CX
	JNZ     loop
done:
	VZEROUPPER
	RET
