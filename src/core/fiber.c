/*
 * Fibers, sleeping and wait queues: the fiber half of include/mist/fiber.h.
 * A fiber is a heap-allocated struct mist_fiber plus a stack from the
 * platform; it blocks by recording why (a wait queue, its timer, a joiner)
 * and switching away, and is made ready by whoever ends the wait. It is not
 * the loop (core/sched.c) nor the timer heap (core/timer.c). It depends on
 * core/sched_internal.h, core/mem.h and the platform's stack allocator.
 *
 * A wait with a deadline uses the timer embedded in the fiber. Whichever of
 * the wake and the timer comes first ends the wait and undoes the other (the
 * wake cancels the timer; the timer takes the fiber off the queue), so the
 * fiber sees one answer however close the two are.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/compiler.h"
#include "core/asan.h"
#include "core/mem.h"
#include "core/panic.h"
#include "core/platform.h"
#include "core/sched_internal.h"
#include "mist/fiber.h"
#include "mist/mist.h"

/*
 * AddressSanitizer puts redzones around every stack object and so inflates
 * frames several times over; under it, stacks get at least this much.
 */
#define FIBER_STACK_MIN_ASAN (64 * 1024)

/* The calling fiber, or NULL (after reporting misuse by `call`) outside one. */
static struct mist_fiber *self_or_misuse(const char *call)
{
	struct mist_fiber *self = mist__sched != NULL ? mist__sched->current : NULL;
	if (self == NULL)
		MIST_MISUSE(call, "must be called from a fiber");
	return self;
}

/* The stack size for a request of `requested` bytes, or 0 if it cannot be had. */
static size_t stack_bytes(size_t requested)
{
	size_t size = requested == 0 ? MIST_FIBER_STACK_DEFAULT : requested;
#ifdef MIST_ASAN
	if (size < FIBER_STACK_MIN_ASAN)
		size = FIBER_STACK_MIN_ASAN;
#endif
	if (size > SIZE_MAX - MIST_PAGE_SIZE)
		return 0;
	return MIST_ALIGN_UP(size, (size_t)MIST_PAGE_SIZE);
}

static void zombie_add(struct mist_sched *s, struct mist_fiber *f)
{
	f->link_prev = NULL;
	f->link_next = s->zombies;
	if (s->zombies != NULL)
		s->zombies->link_prev = f;
	s->zombies = f;
}

static void zombie_free(struct mist_sched *s, struct mist_fiber *f)
{
	if (f->link_prev != NULL)
		f->link_prev->link_next = f->link_next;
	else
		s->zombies = f->link_next;
	if (f->link_next != NULL)
		f->link_next->link_prev = f->link_prev;
	s->fibers--;
	mist_free(f);
}

static void waitq_append(struct mist_waitq *q, struct mist_fiber *f)
{
	f->waitq = q;
	f->link_next = NULL;
	f->link_prev = q->tail;
	if (q->tail != NULL)
		q->tail->link_next = f;
	else
		q->head = f;
	q->tail = f;
}

static void waitq_unlink(struct mist_fiber *f)
{
	struct mist_waitq *q = f->waitq;
	if (f->link_prev != NULL)
		f->link_prev->link_next = f->link_next;
	else
		q->head = f->link_next;
	if (f->link_next != NULL)
		f->link_next->link_prev = f->link_prev;
	else
		q->tail = f->link_prev;
	f->waitq = NULL;
}

/* The fiber's timer expired: its sleep is over, or its wait timed out. */
static void fiber_timer_expired(struct mist_timer *timer)
{
	struct mist_fiber *f = mist_container_of(timer, struct mist_fiber, timer);
	if (f->waitq != NULL) {
		waitq_unlink(f);
		f->wake_result = MIST_ETIMEDOUT;
	}
	mist__runq_push(mist__sched, f);
}

/* Where every fiber starts, through the context switch's trampoline. */
static void fiber_main(void *arg)
{
	struct mist_fiber *self = arg;
	mist__asan_arrive(mist__sched, &self->exec);
	self->fn(self->arg);
	mist_fiber_exit();
}

struct mist_fiber *mist_fiber_spawn(const char *name, mist_fiber_fn fn, void *arg,
                                    size_t stack_size)
{
	struct mist_sched *s = mist__sched;
	if (s == NULL) {
		MIST_MISUSE("mist_fiber_spawn", "no scheduler exists");
		return NULL;
	}
	if (fn == NULL) {
		MIST_MISUSE("mist_fiber_spawn", "the function is NULL");
		return NULL;
	}
	size_t size = stack_bytes(stack_size);
	if (size == 0 || mist__timers_reserve(s, 1) != 0)
		return NULL;
	struct mist_fiber *f = mist_calloc(1, sizeof(*f));
	if (f == NULL)
		return NULL;
	f->exec.stack_lo = mist_plat_stack_alloc(size);
	if (f->exec.stack_lo == NULL) {
		mist_free(f);
		return NULL;
	}
	f->exec.stack_size = size;
	mist__context_init(&f->exec.ctx, f->exec.stack_lo, size, fiber_main, f);
	for (size_t i = 0; name != NULL && i < MIST_FIBER_NAME_SIZE - 1 && name[i] != '\0'; i++)
		f->name[i] = name[i];
	f->fn = fn;
	f->arg = arg;
	mist_timer_init(&f->timer, fiber_timer_expired);
	s->fibers++;
	s->live++;
	mist__runq_push(s, f);
	return f;
}

void mist_fiber_yield(void)
{
	struct mist_fiber *self = self_or_misuse("mist_fiber_yield");
	if (self == NULL)
		return;
	mist__runq_push(mist__sched, self);
	mist__sched_leave(mist__sched, self);
}

/*
 * The stack cannot be freed here, since this code runs on it: the fiber
 * switches to main for good, and main frees it (mist__fiber_reap()).
 */
void mist_fiber_exit(void)
{
	struct mist_sched *s = mist__sched;
	struct mist_fiber *self = s != NULL ? s->current : NULL;
	if (self == NULL)
		mist_panic("mist_fiber_exit: must be called from a fiber");
	self->state = MIST_FIBER_DONE;
	s->live--;
	if (self->joiner != NULL)
		mist__runq_push(s, self->joiner);
	s->dead = self;
	s->current = NULL;
	mist__exec_switch(s, &self->exec, &s->main, true);
	__builtin_unreachable();
}

void mist__fiber_reap(struct mist_sched *s, struct mist_fiber *f)
{
	mist_asan_unpoison(f->exec.stack_lo, f->exec.stack_size);
	mist_plat_stack_free(f->exec.stack_lo, f->exec.stack_size);
	f->exec.stack_lo = NULL;
	if (f->detached) {
		s->fibers--;
		mist_free(f);
	} else {
		zombie_add(s, f);
	}
}

void mist__fiber_free_zombies(struct mist_sched *s)
{
	while (s->zombies != NULL)
		zombie_free(s, s->zombies);
}

int mist_fiber_join(struct mist_fiber *fiber)
{
	struct mist_fiber *self = self_or_misuse("mist_fiber_join");
	if (self == NULL)
		return MIST_EINVAL;
	if (fiber == self) {
		MIST_MISUSE("mist_fiber_join", "a fiber cannot join itself");
		return MIST_EINVAL;
	}
	if (fiber->detached) {
		MIST_MISUSE("mist_fiber_join", "the fiber is detached");
		return MIST_EINVAL;
	}
	if (fiber->joiner != NULL) {
		MIST_MISUSE("mist_fiber_join", "the fiber is already being joined");
		return MIST_EINVAL;
	}
	if (fiber->state != MIST_FIBER_DONE) {
		fiber->joiner = self;
		self->state = MIST_FIBER_BLOCKED;
		mist__sched_leave(mist__sched, self);
	}
	zombie_free(mist__sched, fiber);
	return 0;
}

void mist_fiber_detach(struct mist_fiber *fiber)
{
	if (fiber->detached) {
		MIST_MISUSE("mist_fiber_detach", "the fiber is already detached");
		return;
	}
	if (fiber->joiner != NULL) {
		MIST_MISUSE("mist_fiber_detach", "the fiber is being joined");
		return;
	}
	if (fiber->state == MIST_FIBER_DONE)
		zombie_free(mist__sched, fiber);
	else
		fiber->detached = true;
}

struct mist_fiber *mist_fiber_self(void)
{
	return mist__sched != NULL ? mist__sched->current : NULL;
}

const char *mist_fiber_name(const struct mist_fiber *fiber)
{
	return fiber->name;
}

/*
 * A deadline already reached returns at once, without yielding: the
 * caller asked to wait until a time that has come.
 */
static void sleep_until(const char *call, uint64_t deadline)
{
	struct mist_fiber *self = self_or_misuse(call);
	if (self == NULL || deadline <= mist_now())
		return;
	mist__timer_arm_reserved(mist__sched, &self->timer, deadline);
	self->state = MIST_FIBER_BLOCKED;
	mist__sched_leave(mist__sched, self);
}

void mist_sleep_until(uint64_t deadline)
{
	sleep_until("mist_sleep_until", deadline);
}

void mist_sleep(uint64_t ns)
{
	uint64_t now = mist_now();
	sleep_until("mist_sleep", ns > UINT64_MAX - now ? UINT64_MAX : now + ns);
}

void mist_waitq_init(struct mist_waitq *q)
{
	q->head = NULL;
	q->tail = NULL;
}

int mist_wait(struct mist_waitq *q, uint64_t deadline)
{
	struct mist_fiber *self = self_or_misuse("mist_wait");
	if (self == NULL)
		return MIST_EINVAL;
	if (deadline != MIST_FOREVER) {
		if (deadline <= mist_now())
			return MIST_ETIMEDOUT;
		mist__timer_arm_reserved(mist__sched, &self->timer, deadline);
	}
	waitq_append(q, self);
	self->state = MIST_FIBER_BLOCKED;
	mist__sched_leave(mist__sched, self);
	return self->wake_result;
}

bool mist_wake_one(struct mist_waitq *q)
{
	struct mist_fiber *f = q->head;
	if (f == NULL)
		return false;
	waitq_unlink(f);
	mist_timer_cancel(&f->timer);
	f->wake_result = 0;
	mist__runq_push(mist__sched, f);
	return true;
}

unsigned mist_wake_all(struct mist_waitq *q)
{
	unsigned n = 0;
	while (mist_wake_one(q))
		n++;
	return n;
}

bool mist_waitq_empty(const struct mist_waitq *q)
{
	return q->head == NULL;
}
