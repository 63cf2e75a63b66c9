/*
 * What fiber.c, sched.c and timer.c share: the fiber and scheduler
 * structures, the run queue, and the one function that switches between
 * stacks (with its AddressSanitizer annotations). It is private to those
 * three files; the rest of the core uses core/sched.h and include/mist/fiber.h.
 * It depends on the context switch (core/switch.h) and the timer heap
 * (core/heap.h).
 *
 * The loop runs on the stack of whoever called mist_sched_run(), called
 * "main" here. A fiber that blocks or yields switches straight to the next
 * fiber of the current run phase, and back to main only when the phase has
 * none left, so that a switch between two fibers is one mist__switch().
 */
#ifndef MIST_CORE_SCHED_INTERNAL_H
#define MIST_CORE_SCHED_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/asan.h"
#include "core/heap.h"
#include "core/sched.h"
#include "core/switch.h"
#include "mist/fiber.h"

#ifdef MIST_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

/* Bytes in a fiber name, with the terminating NUL. */
#define MIST_FIBER_NAME_SIZE 16

/* Something that runs on a stack of its own: a fiber, or main. */
struct mist_exec {
	struct mist_context ctx;
	void *stack_lo;    /* the usable stack, for freeing and for ASan */
	size_t stack_size; /* 0 for main until ASan has told us its bounds */
#ifdef MIST_ASAN
	void *asan_fake; /* ASan's fake stack while switched away */
#endif
};

enum mist_fiber_state {
	MIST_FIBER_READY,   /* on the run queue or in the current phase's batch */
	MIST_FIBER_RUNNING, /* the current fiber */
	MIST_FIBER_BLOCKED, /* sleeping, waiting on a queue, or joining */
	MIST_FIBER_DONE,    /* ended; a zombie until joined unless detached */
};

struct mist_fiber {
	struct mist_exec exec;
	struct mist_fiber *run_next; /* run queue or batch */
	/*
	 * Links on the wait queue `waitq` while in mist_wait(), and on the
	 * scheduler's zombie list once ended; a fiber is never on both.
	 */
	struct mist_fiber *link_prev;
	struct mist_fiber *link_next;
	struct mist_waitq *waitq;
	struct mist_timer timer; /* the deadline of mist_sleep*() and mist_wait() */
	struct mist_fiber *joiner;
	mist_fiber_fn fn;
	void *arg;
	int wake_result; /* what mist_wait() returns: 0 or MIST_ETIMEDOUT */
	enum mist_fiber_state state;
	bool detached;
	char name[MIST_FIBER_NAME_SIZE];
};

struct mist_sched {
	struct mist_fiber *current;   /* the running fiber, NULL on main */
	struct mist_fiber *batch;     /* what is left of this run phase */
	struct mist_fiber *runq_head; /* ready for the next run phase */
	struct mist_fiber *runq_tail;
	struct mist_fiber *dead;    /* ended, its stack not yet freed */
	struct mist_fiber *zombies; /* ended, joinable, not yet joined */
	struct mist__timer_heap timers;
	struct mist_poller *pollers;
	struct mist_exec main;
	uint32_t fibers; /* every fiber, zombies included */
	uint32_t live;   /* fibers not ended */
	uint32_t holds;  /* mist_sched_hold() not yet released: listeners */
	uint32_t ready;  /* fibers in the run queue and the batch */
	uint64_t switches;
	uint64_t turns;
	bool running;  /* in mist_sched_run(), on main or in a fiber */
	bool stopping; /* mist_sched_stop() was called */
#ifdef MIST_ASAN
	struct mist_exec *asan_from; /* what the last switch left */
#endif
};

/* The scheduler of this instance; there is one at a time. */
extern struct mist_sched *mist__sched;

/*
 * The AddressSanitizer annotations, in this one place. ASan must be told
 * which stack is in use, or it takes fiber stacks for stack overflows and
 * reports false errors. Before a switch, mist__asan_leave() names the stack
 * being entered (and lets ASan drop the fake stack of a fiber that ends);
 * after it, mist__asan_arrive() completes the switch on the new stack. Main's
 * bounds are learnt from ASan on the first switch away from it. Stack memory
 * left poisoned by frames that never returned is cleared before it is freed,
 * so that a later allocation at the same address starts clean.
 */
#ifdef MIST_ASAN
static inline void mist__asan_leave(struct mist_sched *s, struct mist_exec *from,
                                    const struct mist_exec *to, bool from_ends)
{
	s->asan_from = from;
	__sanitizer_start_switch_fiber(from_ends ? NULL : &from->asan_fake, to->stack_lo,
	                               to->stack_size);
}

static inline void mist__asan_arrive(struct mist_sched *s, struct mist_exec *self)
{
	const void *lo;
	size_t size;
	__sanitizer_finish_switch_fiber(self->asan_fake, &lo, &size);
	if (s->asan_from == &s->main && s->main.stack_size == 0) {
		s->main.stack_lo = (void *)(uintptr_t)lo;
		s->main.stack_size = size;
	}
}
#else
static inline void mist__asan_leave(struct mist_sched *s, struct mist_exec *from,
                                    const struct mist_exec *to, bool from_ends)
{
}

static inline void mist__asan_arrive(struct mist_sched *s, struct mist_exec *self)
{
}
#endif

/* Switches from `from` (the caller's own stack) to `to`; returns when resumed. */
static inline void mist__exec_switch(struct mist_sched *s, struct mist_exec *from,
                                     struct mist_exec *to, bool from_ends)
{
	mist__asan_leave(s, from, to, from_ends);
	mist__switch(&from->ctx, &to->ctx);
	mist__asan_arrive(s, from);
}

/* Appends `f` to the run queue: it runs in the next run phase. O(1). */
static inline void mist__runq_push(struct mist_sched *s, struct mist_fiber *f)
{
	f->state = MIST_FIBER_READY;
	f->run_next = NULL;
	if (s->runq_tail != NULL)
		s->runq_tail->run_next = f;
	else
		s->runq_head = f;
	s->runq_tail = f;
	s->ready++;
}

/*
 * Takes the next fiber of the current run phase and makes it current, or
 * makes main current and returns NULL when the phase is over.
 */
static inline struct mist_fiber *mist__batch_pop(struct mist_sched *s)
{
	struct mist_fiber *f = s->batch;
	s->current = f;
	if (f == NULL)
		return NULL;
	s->batch = f->run_next;
	s->ready--;
	s->switches++;
	f->state = MIST_FIBER_RUNNING;
	return f;
}

/*
 * Leaves the running fiber `self`, already queued or blocked by the caller,
 * for the next fiber of this phase or else main. Returns when `self` is
 * resumed.
 */
static inline void mist__sched_leave(struct mist_sched *s, struct mist_fiber *self)
{
	struct mist_fiber *next = mist__batch_pop(s);
	mist__exec_switch(s, &self->exec, next != NULL ? &next->exec : &s->main, false);
}

/* Frees the stack of the ended fiber `f`, now that nothing runs on it (fiber.c). */
void mist__fiber_reap(struct mist_sched *s, struct mist_fiber *f);

/* Frees every zombie; for mist_sched_destroy() (fiber.c). */
void mist__fiber_free_zombies(struct mist_sched *s);

/*
 * Makes sure the heap can take `extra` more timers on top of those armed and
 * one per fiber not ended, so that a fiber can always arm its own timer
 * without allocating. Returns 0 or MIST_ENOMEM (timer.c).
 */
int mist__timers_reserve(struct mist_sched *s, uint32_t extra);

/* Arms the unarmed fiber timer `t`, in the space reserved for it (timer.c). */
void mist__timer_arm_reserved(struct mist_sched *s, struct mist_timer *t, uint64_t deadline);

/* Fires expired timers, at most a bounded number (timer.c). */
void mist__timers_fire(struct mist_sched *s);

/* The earliest armed deadline, or UINT64_MAX when no timer is armed (timer.c). */
uint64_t mist__timers_next_deadline(const struct mist_sched *s);

#endif
