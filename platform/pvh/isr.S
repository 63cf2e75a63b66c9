/*
 * Entry stubs for exceptions and interrupts, installed in the IDT by idt.c.
 * Each stub pushes an error code (a zero where the CPU pushes none, so that
 * every frame has the same shape) and its vector, then jumps to the common
 * path, which saves the general registers as struct pvh_trap_frame
 * (pvh_internal.h), saves the SSE state (the handlers may be compiled with
 * SSE, and the interrupted code is using it), calls pvh_trap(frame) on a
 * 16-byte aligned stack, and returns with iretq.
 *
 * Exceptions 0-31 and the device vectors 0x20-0x3f have stubs, listed in
 * pvh_isr_stubs[] by vector; the LAPIC timer has pvh_isr_timer. The
 * spurious vector needs no EOI and no handler: its stub only returns.
 */

#define PVH_VECTOR_TIMER 0xf0
#define FXSAVE_AREA      512

	.text

	.macro	STUB vector, has_error_code
	.p2align 3
isr_\vector:
	.if	\has_error_code == 0
	pushq	$0
	.endif
	pushq	$\vector
	jmp	isr_common
	.endm

	/*
	 * Exceptions without an error code, then those with one (Intel SDM
	 * vol. 3A, table 6-1), then the device vectors.
	 */
	.irp	v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31
	STUB	\v, 0
	.endr
	.irp	v, 8,10,11,12,13,14,17,21,29,30
	STUB	\v, 1
	.endr
	.irp	v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
	STUB	\v, 0
	.endr

	.globl	pvh_isr_timer
pvh_isr_timer:
	pushq	$0
	pushq	$PVH_VECTOR_TIMER
	jmp	isr_common

	.globl	pvh_isr_spurious
pvh_isr_spurious:
	iretq

	.type	isr_common, @function
isr_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi			/* pvh_trap(frame) */
	movq	%rsp, %rbx			/* callee-saved: the frame, to come back to */
	andq	$-16, %rsp
	subq	$FXSAVE_AREA, %rsp
	fxsave64 (%rsp)
	cld
	call	pvh_trap
	fxrstor64 (%rsp)
	movq	%rbx, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp			/* vector and error code */
	iretq
	.size	isr_common, . - isr_common

	.section .rodata
	.globl	pvh_isr_stubs
	.balign	8
pvh_isr_stubs:
	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	isr_\v
	.endr
	.irp	v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63
	.quad	isr_\v
	.endr

	.section .note.GNU-stack, "", @progbits
