/*
 * The scheduler loop of core/sched.h: it runs ready fibers, polls devices,
 * fires timers, flushes transmit queues, and sleeps in the platform when
 * nothing is left to do. It is not the fiber API (core/fiber.c) nor the timer
 * heap (core/timer.c). It depends on core/sched_internal.h, core/mem.h and
 * the platform's yield.
 *
 * The loop ends when no fiber is left that could still run, no timer is
 * armed and nothing holds it (a listener, which input may turn into fibers). Zombies (ended fibers not yet joined) do not keep it alive, since
 * nothing they could do remains; blocked fibers do, since a device or a timer
 * may yet wake them. mist_sched_destroy() frees the zombies left then.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "core/panic.h"
#include "core/platform.h"
#include "core/sched.h"
#include "core/sched_internal.h"
#include "mist/mist.h"

/*
 * Units of work (frames) a poller may handle per turn. It bounds how long
 * received traffic keeps fibers and timers waiting, while large enough that
 * a busy device is drained in few turns.
 */
#define POLL_BUDGET 64

struct mist_sched *mist__sched;

struct mist_sched *mist_sched_create(void)
{
	if (mist__sched != NULL) {
		MIST_MISUSE("mist_sched_create", "a scheduler already exists");
		return NULL;
	}
	struct mist_sched *s = mist_calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	mist__sched = s;
	return s;
}

int mist_sched_destroy(struct mist_sched *sched)
{
	if (sched->live > 0 || sched->timers.len > 0)
		return MIST_EBUSY;
	mist__fiber_free_zombies(sched);
	mist__heap_free(&sched->timers);
	if (mist__sched == sched)
		mist__sched = NULL;
	mist_free(sched);
	return 0;
}

static bool has_work(const struct mist_sched *s)
{
	return s->live > 0 || s->timers.len > 0 || s->holds > 0;
}

/*
 * Phase 1. The run queue is taken whole as this phase's batch, so a fiber
 * made ready during the phase (including one that yields) runs next turn and
 * cannot starve the others. Each fiber passes control straight to the next
 * in the batch; control comes back here when the batch is empty or a fiber
 * ended, whose stack is freed now that nothing runs on it.
 */
static void run_ready_fibers(struct mist_sched *s)
{
	struct mist_fiber *f;
	s->batch = s->runq_head;
	s->runq_head = NULL;
	s->runq_tail = NULL;
	while ((f = mist__batch_pop(s)) != NULL) {
		mist__exec_switch(s, &s->main, &f->exec, false);
		if (s->dead != NULL) {
			mist__fiber_reap(s, s->dead);
			s->dead = NULL;
		}
	}
}

/*
 * Phase 2. Returns true if a poller used its whole budget: it has more
 * work, so the loop must not sleep.
 */
static bool poll_devices(struct mist_sched *s)
{
	bool more = false;
	struct mist_poller *next;
	for (struct mist_poller *p = s->pollers; p != NULL; p = next) {
		next = p->next;
		if (p->poll != NULL && p->poll(p, POLL_BUDGET) >= POLL_BUDGET)
			more = true;
	}
	return more;
}

/* Phase 4. */
static void flush_devices(struct mist_sched *s)
{
	struct mist_poller *next;
	for (struct mist_poller *p = s->pollers; p != NULL; p = next) {
		next = p->next;
		if (p->flush != NULL)
			p->flush(p);
	}
}

/*
 * The loop. Each turn, in this order:
 *
 *   1. run every fiber that was ready when the phase began, until it blocks
 *      or yields (those made ready meanwhile wait for the next turn);
 *   2. poll each device for received frames, at most POLL_BUDGET each, and
 *      run the stack on them;
 *   3. fire expired timers, at most TIMER_FIRE_BUDGET (core/timer.c);
 *   4. flush each device's transmit queue;
 *   5. if nothing is ready, yield to the platform until the next timer
 *      deadline or until a device has work; stop if the platform was asked
 *      to shut down (SIGTERM on Linux).
 *
 * A turn costs O(ready fibers + pollers + fired timers * log armed timers).
 */
void mist_sched_run(struct mist_sched *sched)
{
	if (sched->running) {
		MIST_MISUSE("mist_sched_run", "the loop is already running (called from a fiber?)");
		return;
	}
	sched->running = true;
	while (!sched->stopping && has_work(sched)) {
		sched->turns++;
		run_ready_fibers(sched);
		bool more = poll_devices(sched);
		mist__timers_fire(sched);
		flush_devices(sched);
		if (sched->ready == 0 && !more && !sched->stopping && has_work(sched) &&
		    mist_plat_yield(mist__timers_next_deadline(sched)) != 0)
			sched->stopping = true;
	}
	sched->stopping = false;
	sched->running = false;
}

void mist_sched_hold(struct mist_sched *sched)
{
	sched->holds++;
}

void mist_sched_release(struct mist_sched *sched)
{
	MIST_ASSERT(sched->holds > 0);
	sched->holds--;
}

void mist_sched_stop(struct mist_sched *sched)
{
	sched->stopping = true;
}

/* Pollers are few (one per device); the list is walked in O(n). */
void mist_sched_add_poller(struct mist_sched *sched, struct mist_poller *poller)
{
	struct mist_poller **p = &sched->pollers;
	while (*p != NULL)
		p = &(*p)->next;
	poller->next = NULL;
	*p = poller;
}

void mist_sched_remove_poller(struct mist_sched *sched, struct mist_poller *poller)
{
	for (struct mist_poller **p = &sched->pollers; *p != NULL; p = &(*p)->next) {
		if (*p == poller) {
			*p = poller->next;
			return;
		}
	}
}

void mist_sched_stats(const struct mist_sched *sched, struct mist_sched_stats *stats)
{
	stats->fibers = sched->fibers;
	stats->ready = sched->ready;
	stats->timers = sched->timers.len;
	stats->switches = sched->switches;
	stats->turns = sched->turns;
}

struct mist_sched *mist_sched_current(void)
{
	return mist__sched;
}
