/*
 * The context switch between fiber stacks: the internal interface of
 * switch-<arch>.S. A context is only a saved stack pointer; everything else
 * the callee must preserve (callee-saved registers, the floating-point
 * control words) is pushed on the stack being left. It is not a scheduler:
 * it knows nothing of fibers, queues or sanitizers (core/sched.c adds those).
 * It depends on nothing but the architecture's calling convention.
 */
#ifndef MIST_CORE_SWITCH_H
#define MIST_CORE_SWITCH_H

#include <stddef.h>

struct mist_context {
	void *sp; /* the stack pointer saved by the last switch away */
};

/*
 * Saves the callee-saved state of the caller on its stack, stores the stack
 * pointer in `from`, and resumes `to`: either where it last called
 * mist__switch(), which then returns, or at the start of a context prepared by
 * mist__context_init(). Returns when something switches back to `from`.
 * `from` and `to` must differ. About a dozen instructions; no system call.
 */
void mist__switch(struct mist_context *from, const struct mist_context *to);

/*
 * Prepares `ctx` so that the first switch to it calls entry(arg) on the stack
 * [stack_lo, stack_lo + stack_size), with the floating-point control words of
 * the caller. `entry` must not return: it ends by switching away for good.
 */
void mist__context_init(struct mist_context *ctx, void *stack_lo, size_t stack_size,
                        void (*entry)(void *arg), void *arg);

#endif
