/*
 * Timers and the clock: the timer half of include/mist/fiber.h, mist_now(),
 * and the loop's timer phase. Armed timers live in one binary min-heap per
 * scheduler (core/heap.h), so arming and cancelling cost O(log n) and finding
 * the next deadline O(1). It is not the loop (core/sched.c) and does not
 * know about fibers beyond reserving room for their timers. It depends on the
 * platform's monotonic clock.
 */
#include <stdbool.h>
#include <stdint.h>

#include "core/heap.h"
#include "core/panic.h"
#include "core/platform.h"
#include "core/sched_internal.h"
#include "mist/fiber.h"
#include "mist/mist.h"

/*
 * Timer callbacks run per turn, at most. When many timers expire together
 * (thousands of connections timing out at once), the rest wait for the next
 * turn, so that fibers and devices are served in between. The loop does not
 * sleep while timers are due, so the delay is one turn, not a deadline.
 */
#define TIMER_FIRE_BUDGET 256

mist_time_t mist_now(void)
{
	return mist_plat_monotonic();
}

void mist_timer_init(struct mist_timer *timer, void (*fn)(struct mist_timer *timer))
{
	timer->deadline = 0;
	timer->heap_index = 0;
	timer->fn = fn;
}

/*
 * Every fiber not ended may arm its timer at any moment and must not fail
 * for want of memory, so the heap always has a free slot for each of them:
 * room is reserved for armed timers plus live fibers plus `extra`. The count
 * is pessimistic (a fiber whose timer is armed is counted twice), which
 * costs at most one pointer per fiber.
 */
int mist__timers_reserve(struct mist_sched *s, uint32_t extra)
{
	return mist__heap_reserve(&s->timers, (uint64_t)s->timers.len + s->live + extra);
}

void mist__timer_arm_reserved(struct mist_sched *s, struct mist_timer *t, uint64_t deadline)
{
	MIST_ASSERT(t->heap_index == 0 && s->timers.len < s->timers.cap);
	t->deadline = deadline;
	mist__heap_insert(&s->timers, t);
}

int mist_timer_arm(struct mist_timer *timer, uint64_t deadline)
{
	struct mist_sched *s = mist__sched;
	if (s == NULL) {
		MIST_MISUSE("mist_timer_arm", "no scheduler exists");
		return MIST_EINVAL;
	}
	if (timer->heap_index != 0) {
		timer->deadline = deadline;
		mist__heap_fix(&s->timers, timer->heap_index, timer);
		return 0;
	}
	if (mist__timers_reserve(s, 1) != 0)
		return MIST_ENOMEM;
	timer->deadline = deadline;
	mist__heap_insert(&s->timers, timer);
	return 0;
}

void mist_timer_cancel(struct mist_timer *timer)
{
	if (timer->heap_index != 0)
		mist__heap_remove(&mist__sched->timers, timer);
}

bool mist_timer_armed(const struct mist_timer *timer)
{
	return timer->heap_index != 0;
}

/*
 * The clock is read once per phase. The budget also bounds a callback that
 * re-arms its timer for a time already past, which would otherwise keep the
 * phase going forever.
 */
void mist__timers_fire(struct mist_sched *s)
{
	if (s->timers.len == 0)
		return;
	uint64_t now = mist_now();
	for (unsigned n = 0; n < TIMER_FIRE_BUDGET; n++) {
		struct mist_timer *t = mist__heap_top(&s->timers);
		if (t == NULL || t->deadline > now)
			break;
		mist__heap_remove(&s->timers, t);
		t->fn(t);
	}
}

uint64_t mist__timers_next_deadline(const struct mist_sched *s)
{
	const struct mist_timer *t = mist__heap_top(&s->timers);
	return t != NULL ? t->deadline : UINT64_MAX;
}
