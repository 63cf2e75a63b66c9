/*
 * The fiber context switch for aarch64 (AAPCS64), behind core/switch.h. It
 * saves exactly what a callee must preserve: x19-x28, the frame pointer x29,
 * the link register x30, the stack pointer, the low halves d8-d15 of v8-v15,
 * and FPCR. Caller-saved registers need no saving, since mist__switch() is an
 * ordinary call to the compiler. It is not a scheduler and uses no ucontext,
 * signals or setjmp: a switch is eleven paired stores, eleven paired loads
 * and an FPCR read and write. It depends on nothing.
 *
 * The frame a switch leaves on the stack it departs, from the saved sp up:
 *
 *     0  x19 x20 x21 x22 x23 x24 x25 x26 x27 x28
 *    80  x29 x30
 *    96  d8 d9 d10 d11 d12 d13 d14 d15
 *   160  FPCR, 8 bytes of padding (sp stays 16-byte aligned)
 */

#define FRAME_SIZE 176

	.text

/* void mist__switch(struct mist_context *from, const struct mist_context *to) */
	.globl	mist__switch
	.type	mist__switch, %function
	.p2align 4
mist__switch:
	.cfi_startproc
	sub	sp, sp, #FRAME_SIZE
	.cfi_adjust_cfa_offset FRAME_SIZE
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]

	mov	x9, sp
	str	x9, [x0]
	ldr	x9, [x1]
	mov	sp, x9

	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldr	x9, [sp, #160]
	msr	fpcr, x9
	add	sp, sp, #FRAME_SIZE
	.cfi_adjust_cfa_offset -FRAME_SIZE
	ret
	.cfi_endproc
	.size	mist__switch, . - mist__switch

/*
 * void mist__context_init(struct mist_context *ctx, void *stack_lo,
 *                         size_t stack_size, void (*entry)(void *), void *arg)
 *
 * Builds the frame above on the new stack so that the first switch to it
 * "returns" (through x30) into the trampoline with x19 = entry and x20 = arg.
 * The 16 zero bytes left at the top end backtraces there. The new context
 * starts with the caller's FPCR, as a thread created by the caller would.
 */
	.globl	mist__context_init
	.type	mist__context_init, %function
	.p2align 4
mist__context_init:
	.cfi_startproc
	add	x9, x1, x2
	and	x9, x9, #-16
	sub	x9, x9, #(FRAME_SIZE + 16)
	stp	xzr, xzr, [x9, #FRAME_SIZE]
	stp	x3, x4, [x9, #0]
	stp	xzr, xzr, [x9, #16]
	stp	xzr, xzr, [x9, #32]
	stp	xzr, xzr, [x9, #48]
	stp	xzr, xzr, [x9, #64]
	adr	x10, mist__trampoline
	stp	xzr, x10, [x9, #80]
	stp	xzr, xzr, [x9, #96]
	stp	xzr, xzr, [x9, #112]
	stp	xzr, xzr, [x9, #128]
	stp	xzr, xzr, [x9, #144]
	mrs	x10, fpcr
	stp	x10, xzr, [x9, #160]
	str	x9, [x0]
	ret
	.cfi_endproc
	.size	mist__context_init, . - mist__context_init

/*
 * A new context's first instructions: call entry(arg). The return address is
 * marked undefined so that unwinders stop here. entry() never returns; brk
 * turns a return into an immediate trap rather than a jump into nowhere.
 */
	.type	mist__trampoline, %function
	.p2align 4
mist__trampoline:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x20
	blr	x19
	brk	#0
	.cfi_endproc
	.size	mist__trampoline, . - mist__trampoline

	.section .note.GNU-stack, "", %progbits
