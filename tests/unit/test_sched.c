/*
 * Unit tests for fibers, wait queues, timers and the scheduler loop
 * (include/mist/fiber.h, src/core/sched.h), on the sim platform: time is
 * virtual and only moves when every fiber is blocked, so sleeps and deadlines
 * can be checked to the nanosecond. Each test starts from virtual time 0,
 * runs a scheduler to completion, checks that no fiber or timer is left,
 * destroys it and checks that the core heap is back where it started. Misuse
 * stops the program, so those tests run the offending call in a forked child
 * and check that it died with SIGABRT and a message naming the call.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "misuse.h"

#include "base/compiler.h"
#include "core/heap.h"
#include "core/mem.h"
#include "core/sched.h"
#include "mist/mist.h"
/* Tests build with -Iinclude -Isrc only; the sim platform's header is found relative to here. */
#include "../../platform/sim/sim.h"

#define LOG_MAX 64

/* What fibers record, checked by the test on the main stack afterwards. */
static int order[LOG_MAX];
static size_t order_len;

static void record(int event)
{
	assert_true(order_len < LOG_MAX);
	order[order_len++] = event;
}

static uint64_t bytes_at_start;

static uint64_t bytes_in_use(void)
{
	struct mist_mem_stats stats;
	mist_mem_stats(&stats);
	return stats.bytes_in_use;
}

/* Every test starts here: time 0, a fresh scheduler, an empty log. */
static struct mist_sched *begin(void)
{
	sim_reset(1);
	order_len = 0;
	bytes_at_start = bytes_in_use();
	struct mist_sched *sched = mist_sched_create();
	assert_non_null(sched);
	assert_ptr_equal(mist_sched_current(), sched);
	return sched;
}

static struct mist_sched_stats stats_of(const struct mist_sched *sched)
{
	struct mist_sched_stats stats;
	mist_sched_stats(sched, &stats);
	return stats;
}

/* Every test ends here: nothing left, nothing leaked. */
static void end(struct mist_sched *sched)
{
	struct mist_sched_stats stats = stats_of(sched);
	assert_int_equal(stats.fibers, 0);
	assert_int_equal(stats.ready, 0);
	assert_int_equal(stats.timers, 0);
	assert_int_equal(mist_sched_destroy(sched), 0);
	assert_null(mist_sched_current());
	assert_int_equal(bytes_in_use(), bytes_at_start);
}

static struct mist_fiber *spawn(const char *name, mist_fiber_fn fn, void *arg)
{
	struct mist_fiber *f = mist_fiber_spawn(name, fn, arg, 0);
	assert_non_null(f);
	return f;
}

static void spawn_detached(const char *name, mist_fiber_fn fn, void *arg)
{
	mist_fiber_detach(spawn(name, fn, arg));
}

static void assert_order(const int *expected, size_t n)
{
	assert_int_equal(order_len, n);
	assert_memory_equal(order, expected, n * sizeof(int));
}

/* --- fibers and wait queues ------------------------------------------- */

#define ROUNDS 5

static struct mist_waitq ping_q, pong_q;

/* Records 2i on round i, then hands over to pong and waits for it. */
static void ping(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		record(2 * i);
		assert_true(mist_wake_one(&pong_q));
		assert_int_equal(mist_wait(&ping_q, MIST_FOREVER), 0);
	}
}

/* Waits for ping, records 2i + 1, hands back. */
static void pong(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		assert_int_equal(mist_wait(&pong_q, MIST_FOREVER), 0);
		record(2 * i + 1);
		assert_true(mist_wake_one(&ping_q));
	}
}

static void ping_pong_through_wait_queues_alternates_exactly(void **state)
{
	struct mist_sched *sched = begin();
	mist_waitq_init(&ping_q);
	mist_waitq_init(&pong_q);
	spawn_detached("pong", pong, NULL);
	spawn_detached("ping", ping, NULL);
	mist_sched_run(sched);

	const int expected[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	assert_order(expected, MIST_ARRAY_SIZE(expected));
	assert_int_equal(mist_now(), 0);
	assert_true(mist_waitq_empty(&ping_q));
	assert_true(mist_waitq_empty(&pong_q));
	end(sched);
}

#define YIELDS 3

static void yielder(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < YIELDS; i++) {
		record(10 * i + id);
		mist_fiber_yield();
	}
}

static void yield_lets_every_other_ready_fiber_run_once(void **state)
{
	struct mist_sched *sched = begin();
	for (intptr_t id = 0; id < 3; id++)
		spawn_detached("yielder", yielder, (void *)id);
	mist_sched_run(sched);

	const int expected[] = {0, 1, 2, 10, 11, 12, 20, 21, 22};
	assert_order(expected, MIST_ARRAY_SIZE(expected));
	/* Each fiber is entered once to start and once after each yield. */
	struct mist_sched_stats stats = stats_of(sched);
	assert_int_equal(stats.switches, 3 * (YIELDS + 1));
	assert_int_equal(stats.turns, YIELDS + 1);
	end(sched);
}

static void check_sleeps(void *arg)
{
	mist_time_t t0 = mist_now();
	mist_sleep(100 * MIST_MSEC);
	assert_int_equal(mist_now(), t0 + 100 * MIST_MSEC);
	mist_sleep_until(t0 + 250 * MIST_MSEC);
	assert_int_equal(mist_now(), t0 + 250 * MIST_MSEC);
	/* A deadline already reached returns at once. */
	mist_sleep(0);
	mist_sleep_until(t0);
	assert_int_equal(mist_now(), t0 + 250 * MIST_MSEC);
	record(1);
}

static void sleep_advances_virtual_time_exactly(void **state)
{
	struct mist_sched *sched = begin();
	spawn_detached("sleeper", check_sleeps, NULL);
	mist_sched_run(sched);
	const int expected[] = {1};
	assert_order(expected, 1);
	assert_int_equal(mist_now(), 250 * MIST_MSEC);
	end(sched);
}

#define SLEEPERS 10000

struct sleeper {
	mist_time_t nap;
	mist_time_t woke_at;
};

static struct sleeper *sleepers;
static size_t *wake_order;
static size_t woken;

static void sleep_and_note(void *arg)
{
	struct sleeper *s = arg;
	mist_sleep(s->nap);
	s->woke_at = mist_now();
	wake_order[woken++] = (size_t)(s - sleepers);
}

static void ten_thousand_sleepers_wake_in_deadline_order_at_exact_times(void **state)
{
	struct mist_sched *sched = begin();
	sleepers = calloc(SLEEPERS, sizeof(*sleepers));
	wake_order = calloc(SLEEPERS, sizeof(*wake_order));
	assert_non_null(sleepers);
	assert_non_null(wake_order);
	woken = 0;
	/* 7919 is prime, so i * 7919 mod SLEEPERS is a permutation. */
	for (size_t i = 0; i < SLEEPERS; i++) {
		sleepers[i].nap = ((i * 7919) % SLEEPERS + 1) * MIST_MSEC;
		spawn_detached("sleeper", sleep_and_note, &sleepers[i]);
	}
	assert_int_equal(stats_of(sched).fibers, SLEEPERS);
	mist_sched_run(sched);

	assert_int_equal(woken, SLEEPERS);
	for (size_t k = 0; k < SLEEPERS; k++) {
		struct sleeper *s = &sleepers[wake_order[k]];
		assert_int_equal(s->woke_at, s->nap);
		assert_int_equal(s->woke_at, (k + 1) * MIST_MSEC);
	}
	free(sleepers);
	free(wake_order);
	end(sched);
}

struct wait_result {
	struct mist_waitq *q;
	mist_time_t deadline;
	int result;
	mist_time_t at;
	bool woke; /* what the waker's mist_wake_one() returned */
};

static void wait_and_note(void *arg)
{
	struct wait_result *w = arg;
	w->result = mist_wait(w->q, w->deadline);
	w->at = mist_now();
}

static void sleep_then_wake(void *arg)
{
	struct wait_result *w = arg;
	mist_sleep_until(w->at);
	w->woke = mist_wake_one(w->q);
}

static void wait_times_out_at_its_deadline(void **state)
{
	struct mist_sched *sched = begin();
	struct mist_waitq q;
	mist_waitq_init(&q);
	struct wait_result w = {.q = &q, .deadline = 50 * MIST_MSEC, .result = 1};
	spawn_detached("waiter", wait_and_note, &w);
	mist_sched_run(sched);
	assert_int_equal(w.result, MIST_ETIMEDOUT);
	assert_int_equal(w.at, 50 * MIST_MSEC);
	assert_true(mist_waitq_empty(&q));
	end(sched);
}

static void wait_with_a_passed_deadline_times_out_at_once(void **state)
{
	struct mist_sched *sched = begin();
	struct mist_waitq q;
	mist_waitq_init(&q);
	struct wait_result w = {.q = &q, .deadline = 0, .result = 1};
	spawn_detached("waiter", wait_and_note, &w);
	mist_sched_run(sched);
	assert_int_equal(w.result, MIST_ETIMEDOUT);
	assert_int_equal(w.at, 0);
	assert_int_equal(stats_of(sched).turns, 1);
	end(sched);
}

static void wake_before_the_deadline_returns_zero_and_cancels_it(void **state)
{
	struct mist_sched *sched = begin();
	struct mist_waitq q;
	mist_waitq_init(&q);
	struct wait_result w = {.q = &q, .deadline = 100 * MIST_MSEC, .result = 1};
	struct wait_result waker = {.q = &q, .at = 30 * MIST_MSEC};
	spawn_detached("waiter", wait_and_note, &w);
	spawn_detached("waker", sleep_then_wake, &waker);
	mist_sched_run(sched);
	assert_true(waker.woke);
	assert_int_equal(w.result, 0);
	assert_int_equal(w.at, 30 * MIST_MSEC);
	/* The cancelled deadline did not keep the loop running until 100 ms. */
	assert_int_equal(mist_now(), 30 * MIST_MSEC);
	end(sched);
}

/*
 * A fiber that sleeps until the waiter's deadline wakes up in the same timer
 * phase as the deadline passes, and runs only in the next turn: the wait has
 * timed out by then, so the wake finds nobody.
 */
static void wake_from_a_fiber_at_the_deadline_finds_the_wait_timed_out(void **state)
{
	struct mist_sched *sched = begin();
	struct mist_waitq q;
	mist_waitq_init(&q);
	struct wait_result w = {.q = &q, .deadline = 100 * MIST_MSEC, .result = 1};
	struct wait_result waker = {.q = &q, .at = 100 * MIST_MSEC, .woke = true};
	spawn_detached("waiter", wait_and_note, &w);
	spawn_detached("waker", sleep_then_wake, &waker);
	mist_sched_run(sched);
	assert_int_equal(w.result, MIST_ETIMEDOUT);
	assert_false(waker.woke);
	assert_int_equal(w.at, 100 * MIST_MSEC);
	end(sched);
}

static struct mist_waitq tie_q;
static struct mist_timer tie_timer;
static bool tie_woke;

static void wake_from_timer(struct mist_timer *timer)
{
	tie_woke = mist_wake_one(&tie_q);
}

static void arm_tie_timer(void *arg)
{
	assert_int_equal(mist_timer_arm(&tie_timer, 100 * MIST_MSEC), 0);
}

/*
 * A timer firing at the waiter's own deadline races its timeout in one timer
 * phase; whichever goes first, the waiter and the waker agree on the outcome.
 * The timer is armed before the wait in one run and after it in the other,
 * which puts it on either side of the wait's timer in the heap.
 */
static void wake_from_a_timer_at_the_deadline_gives_one_answer(void **state)
{
	for (int timer_first = 0; timer_first < 2; timer_first++) {
		struct mist_sched *sched = begin();
		mist_waitq_init(&tie_q);
		mist_timer_init(&tie_timer, wake_from_timer);
		struct wait_result w = {.q = &tie_q, .deadline = 100 * MIST_MSEC, .result = 1};
		tie_woke = false;
		if (timer_first)
			spawn_detached("armer", arm_tie_timer, NULL);
		spawn_detached("waiter", wait_and_note, &w);
		if (!timer_first)
			spawn_detached("armer", arm_tie_timer, NULL);
		mist_sched_run(sched);
		assert_true(w.result == 0 || w.result == MIST_ETIMEDOUT);
		assert_int_equal(tie_woke, w.result == 0);
		assert_int_equal(w.at, 100 * MIST_MSEC);
		assert_true(mist_waitq_empty(&tie_q));
		end(sched);
	}
}

static struct mist_waitq fifo_q;

static void wait_then_record(void *arg)
{
	assert_int_equal(mist_wait(&fifo_q, MIST_FOREVER), 0);
	record((int)(intptr_t)arg);
}

static void wake_in_turns(void *arg)
{
	assert_true(mist_wake_one(&fifo_q));
	mist_fiber_yield();
	assert_int_equal(mist_wake_all(&fifo_q), 3);
	assert_true(mist_waitq_empty(&fifo_q));
	assert_false(mist_wake_one(&fifo_q));
	assert_int_equal(mist_wake_all(&fifo_q), 0);
}

static void wake_one_and_wake_all_go_in_waiting_order(void **state)
{
	struct mist_sched *sched = begin();
	mist_waitq_init(&fifo_q);
	for (intptr_t id = 0; id < 4; id++)
		spawn_detached("waiter", wait_then_record, (void *)id);
	spawn_detached("waker", wake_in_turns, NULL);
	mist_sched_run(sched);
	const int expected[] = {0, 1, 2, 3};
	assert_order(expected, MIST_ARRAY_SIZE(expected));
	end(sched);
}

/* --- join, exit, detach ------------------------------------------------ */

struct child {
	mist_time_t nap;
	int value;
	bool after_exit;
};

static void child_main(void *arg)
{
	struct child *c = arg;
	mist_sleep(c->nap);
	c->value = 42;
}

static void join_running_child(void *arg)
{
	struct child c = {.nap = 10 * MIST_MSEC};
	struct mist_fiber *f = spawn("child", child_main, &c);
	assert_int_equal(mist_fiber_join(f), 0);
	assert_int_equal(c.value, 42);
	assert_int_equal(mist_now(), 10 * MIST_MSEC);
	record(1);
}

static void join_waits_for_the_fiber_to_end(void **state)
{
	struct mist_sched *sched = begin();
	spawn_detached("parent", join_running_child, NULL);
	mist_sched_run(sched);
	const int expected[] = {1};
	assert_order(expected, 1);
	end(sched);
}

static void join_ended_child(void *arg)
{
	struct mist_sched *sched = mist_sched_current();
	struct child c = {.nap = 0};
	struct mist_fiber *f = spawn("child", child_main, &c);
	mist_sleep(20 * MIST_MSEC);
	/* The child ended long ago and is a zombie until joined. */
	assert_int_equal(c.value, 42);
	assert_int_equal(stats_of(sched).fibers, 2);
	assert_int_equal(mist_fiber_join(f), 0);
	assert_int_equal(stats_of(sched).fibers, 1);
	assert_int_equal(mist_now(), 20 * MIST_MSEC);
	record(1);
}

static void join_collects_a_fiber_that_already_ended(void **state)
{
	struct mist_sched *sched = begin();
	spawn_detached("parent", join_ended_child, NULL);
	mist_sched_run(sched);
	const int expected[] = {1};
	assert_order(expected, 1);
	end(sched);
}

static void exit_deep_down(struct child *c, int depth)
{
	if (depth > 0)
		exit_deep_down(c, depth - 1);
	else if (depth == 0)
		mist_fiber_exit();
	c->after_exit = true;
}

static void child_exits_nested(void *arg)
{
	struct child *c = arg;
	c->value = 7;
	exit_deep_down(c, 5);
	c->after_exit = true;
}

static void join_nested_exit(void *arg)
{
	struct child c = {.value = 0};
	struct mist_fiber *f = spawn("exiter", child_exits_nested, &c);
	assert_int_equal(mist_fiber_join(f), 0);
	assert_int_equal(c.value, 7);
	assert_false(c.after_exit);
	record(1);
}

static void exit_from_a_nested_call_ends_the_fiber(void **state)
{
	struct mist_sched *sched = begin();
	spawn_detached("parent", join_nested_exit, NULL);
	/* Run it twice, so that a new stack may reuse the one exited from. */
	spawn_detached("parent", join_nested_exit, NULL);
	mist_sched_run(sched);
	const int expected[] = {1, 1};
	assert_order(expected, 2);
	end(sched);
}

static void note_end(void *arg)
{
	record((int)(intptr_t)arg);
}

static void detached_and_ended_fibers_are_freed(void **state)
{
	struct mist_sched *sched = begin();
	struct mist_fiber *early = spawn("early", note_end, (void *)1);
	spawn_detached("late", note_end, (void *)2);
	mist_sched_run(sched);
	/* The loop ended with `early` a zombie; detaching it frees it. */
	assert_int_equal(stats_of(sched).fibers, 1);
	mist_fiber_detach(early);
	const int expected[] = {1, 2};
	assert_order(expected, 2);
	end(sched);
}

static void zombies_do_not_keep_the_loop_and_destroy_frees_them(void **state)
{
	struct mist_sched *sched = begin();
	spawn("zombie", note_end, (void *)1);
	spawn("zombie", note_end, (void *)2);
	mist_sched_run(sched);
	struct mist_sched_stats stats = stats_of(sched);
	assert_int_equal(stats.fibers, 2);
	assert_int_equal(stats.timers, 0);
	assert_int_equal(mist_sched_destroy(sched), 0);
	assert_int_equal(bytes_in_use(), bytes_at_start);
}

static void check_name_and_self(void *arg)
{
	struct mist_fiber **f = arg;
	assert_ptr_equal(mist_fiber_self(), *f);
	assert_string_equal(mist_fiber_name(mist_fiber_self()), "a-very-long-fib");
	record(1);
}

static void fiber_knows_itself_and_keeps_a_truncated_name(void **state)
{
	struct mist_sched *sched = begin();
	static struct mist_fiber *f;
	f = spawn("a-very-long-fiber-name", check_name_and_self, &f);
	assert_null(mist_fiber_self());
	mist_fiber_detach(f);
	mist_sched_run(sched);
	const int expected[] = {1};
	assert_order(expected, 1);
	end(sched);
}

#define BIG_STACK (256 * 1024)

static void use_much_stack(void *arg)
{
	volatile char frame[BIG_STACK * 3 / 4];
	for (size_t i = 0; i < sizeof(frame); i += 512)
		frame[i] = 1;
	record(frame[sizeof(frame) - 512]);
}

static void fiber_can_use_the_stack_it_asked_for(void **state)
{
	struct mist_sched *sched = begin();
	mist_fiber_detach(mist_fiber_spawn("big", use_much_stack, NULL, BIG_STACK));
	mist_sched_run(sched);
	const int expected[] = {1};
	assert_order(expected, 1);
	end(sched);
}

/*
 * The floating-point control words (rounding mode) belong to each fiber:
 * one that changes its own does not change another's.
 */
#if defined(__x86_64__)
static uint32_t fp_control(void)
{
	uint16_t x87;
	__asm__ volatile("fnstcw %0" : "=m"(x87));
	return (uint32_t)__builtin_ia32_stmxcsr() << 16 | x87;
}

static void fp_control_set(uint32_t v)
{
	uint16_t x87 = (uint16_t)v;
	__asm__ volatile("fldcw %0" : : "m"(x87));
	__builtin_ia32_ldmxcsr(v >> 16);
}

/* Round toward zero in both SSE (MXCSR.RC) and x87 (CW.RC). */
#define FP_ROUND_TO_ZERO (0x6000u << 16 | 0x0c00u)
#elif defined(__aarch64__)
static uint32_t fp_control(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, fpcr" : "=r"(v));
	return (uint32_t)v;
}

static void fp_control_set(uint32_t v)
{
	__asm__ volatile("msr fpcr, %0" : : "r"((uint64_t)v));
}

/* FPCR.RMode = 0b11: round toward zero. */
#define FP_ROUND_TO_ZERO (3u << 22)
#endif

static uint32_t fp_default;

static void fp_changer(void *arg)
{
	uint32_t mine = fp_default | FP_ROUND_TO_ZERO;
	fp_control_set(mine);
	mist_fiber_yield();
	record(fp_control() == mine);
	fp_control_set(fp_default);
}

static void fp_keeper(void *arg)
{
	record(fp_control() == fp_default);
	mist_fiber_yield();
	record(fp_control() == fp_default);
}

static void each_fiber_keeps_its_own_rounding_mode(void **state)
{
	struct mist_sched *sched = begin();
	fp_default = fp_control();
	spawn_detached("changer", fp_changer, NULL);
	spawn_detached("keeper", fp_keeper, NULL);
	mist_sched_run(sched);
	assert_int_equal(fp_control(), fp_default);
	const int expected[] = {1, 1, 1};
	assert_order(expected, 3);
	end(sched);
}

/* --- timers ------------------------------------------------------------ */

struct counted_timer {
	struct mist_timer timer;
	unsigned fired;
	mist_time_t at;
	unsigned rearm; /* times to re-arm itself, 1 ms later each */
};

static void count_firing(struct mist_timer *timer)
{
	struct counted_timer *t = mist_container_of(timer, struct counted_timer, timer);
	t->fired++;
	t->at = mist_now();
	assert_false(mist_timer_armed(timer));
	if (t->rearm > 0) {
		t->rearm--;
		assert_int_equal(mist_timer_arm(timer, mist_now() + MIST_MSEC), 0);
	}
}

static void cancelled_timers_never_fire(void **state)
{
	struct mist_sched *sched = begin();
	struct counted_timer a = {.fired = 0}, b = {.fired = 0};
	mist_timer_init(&a.timer, count_firing);
	mist_timer_init(&b.timer, count_firing);
	assert_false(mist_timer_armed(&a.timer));
	assert_int_equal(mist_timer_arm(&a.timer, 10 * MIST_MSEC), 0);
	assert_int_equal(mist_timer_arm(&b.timer, 20 * MIST_MSEC), 0);
	assert_true(mist_timer_armed(&a.timer));
	assert_int_equal(stats_of(sched).timers, 2);
	mist_timer_cancel(&a.timer);
	mist_timer_cancel(&a.timer);
	assert_false(mist_timer_armed(&a.timer));
	mist_sched_run(sched);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 1);
	assert_int_equal(b.at, 20 * MIST_MSEC);
	end(sched);
}

static void rearming_moves_the_deadline_and_fires_once(void **state)
{
	struct mist_sched *sched = begin();
	struct counted_timer t = {.fired = 0};
	mist_timer_init(&t.timer, count_firing);
	assert_int_equal(mist_timer_arm(&t.timer, 10 * MIST_MSEC), 0);
	assert_int_equal(mist_timer_arm(&t.timer, 30 * MIST_MSEC), 0);
	assert_int_equal(mist_timer_arm(&t.timer, 20 * MIST_MSEC), 0);
	assert_int_equal(stats_of(sched).timers, 1);
	mist_sched_run(sched);
	assert_int_equal(t.fired, 1);
	assert_int_equal(t.at, 20 * MIST_MSEC);

	/* Re-armed from its own callback, it fires again each time. */
	t.rearm = 3;
	assert_int_equal(mist_timer_arm(&t.timer, 25 * MIST_MSEC), 0);
	mist_sched_run(sched);
	assert_int_equal(t.fired, 5);
	assert_int_equal(t.at, 28 * MIST_MSEC);
	end(sched);
}

static void timer_armed_in_the_past_fires_in_the_next_timer_phase(void **state)
{
	struct mist_sched *sched = begin();
	struct counted_timer t = {.fired = 0};
	mist_timer_init(&t.timer, count_firing);
	assert_int_equal(mist_timer_arm(&t.timer, 0), 0);
	mist_sched_run(sched);
	assert_int_equal(t.fired, 1);
	assert_int_equal(stats_of(sched).turns, 1);
	end(sched);
}

#define MANY_TIMERS 100000

struct random_timer {
	struct mist_timer timer;
	bool cancelled;
	unsigned fired;
};

static uint64_t last_fired_deadline;
static size_t fired_count;

static void fire_in_order(struct mist_timer *timer)
{
	struct random_timer *t = mist_container_of(timer, struct random_timer, timer);
	if (t->cancelled)
		fail_msg("a cancelled timer fired");
	if (timer->deadline < last_fired_deadline || mist_now() != timer->deadline)
		fail_msg("timer for %" PRIu64 " fired at %" PRIu64 " after one for %" PRIu64,
		         timer->deadline, mist_now(), last_fired_deadline);
	last_fired_deadline = timer->deadline;
	t->fired++;
	fired_count++;
}

static void hundred_thousand_random_timers_fire_in_order(void **state)
{
	struct mist_sched *sched = begin();
	struct random_timer *timers = calloc(MANY_TIMERS, sizeof(*timers));
	assert_non_null(timers);
	uint64_t rng = 42;
	for (size_t i = 0; i < MANY_TIMERS; i++) {
		mist_timer_init(&timers[i].timer, fire_in_order);
		uint64_t deadline = 1 + sim_rand_next(&rng) % (10 * MIST_SEC);
		assert_int_equal(mist_timer_arm(&timers[i].timer, deadline), 0);
	}
	assert_int_equal(stats_of(sched).timers, MANY_TIMERS);
	size_t cancelled = 0;
	for (size_t i = 0; i < MANY_TIMERS; i++) {
		if (sim_rand_next(&rng) & 1) {
			mist_timer_cancel(&timers[i].timer);
			timers[i].cancelled = true;
			cancelled++;
		}
	}
	assert_int_equal(stats_of(sched).timers, MANY_TIMERS - cancelled);
	last_fired_deadline = 0;
	fired_count = 0;
	mist_sched_run(sched);

	assert_int_equal(fired_count, MANY_TIMERS - cancelled);
	for (size_t i = 0; i < MANY_TIMERS; i++)
		assert_int_equal(timers[i].fired, timers[i].cancelled ? 0 : 1);
	free(timers);
	end(sched);
}

#define HEAP_TIMERS 300
#define HEAP_OPS    30000

static void assert_heap_ordered(const struct mist__timer_heap *h)
{
	for (uint32_t i = 1; i <= h->len; i++) {
		assert_int_equal(h->slot[i]->heap_index, i);
		if (i > 1)
			assert_true(h->slot[i / 2]->deadline <= h->slot[i]->deadline);
	}
}

static void heap_keeps_its_order_under_random_arm_and_cancel(void **state)
{
	uint64_t before = bytes_in_use();
	struct mist__timer_heap h = {.len = 0};
	struct mist_timer timers[HEAP_TIMERS];
	uint64_t rng = 7;
	for (size_t i = 0; i < HEAP_TIMERS; i++)
		mist_timer_init(&timers[i], NULL);
	for (unsigned op = 0; op < HEAP_OPS; op++) {
		struct mist_timer *t = &timers[sim_rand_next(&rng) % HEAP_TIMERS];
		/* Few distinct deadlines, so that ties are common. */
		uint64_t deadline = sim_rand_next(&rng) % 50;
		if (t->heap_index == 0) {
			assert_int_equal(mist__heap_reserve(&h, h.len + 1), 0);
			t->deadline = deadline;
			mist__heap_insert(&h, t);
		} else if (sim_rand_next(&rng) & 1) {
			mist__heap_remove(&h, t);
			assert_int_equal(t->heap_index, 0);
		} else {
			t->deadline = deadline;
			mist__heap_fix(&h, t->heap_index, t);
		}
		assert_heap_ordered(&h);
	}
	uint64_t last = 0;
	while (h.len > 0) {
		struct mist_timer *t = mist__heap_top(&h);
		assert_true(t->deadline >= last);
		last = t->deadline;
		mist__heap_remove(&h, t);
		assert_heap_ordered(&h);
	}
	assert_null(mist__heap_top(&h));
	mist__heap_free(&h);
	assert_int_equal(bytes_in_use(), before);
}

/* --- the loop ---------------------------------------------------------- */

struct test_poller {
	struct mist_poller poller;
	struct mist_waitq *q;
	unsigned polls;
	unsigned flushes;
	unsigned budget;
};

/*
 * A device that reports a full batch (more work pending) on its first two
 * turns, then wakes the waiting fiber; the loop must not sleep meanwhile.
 */
static unsigned busy_poll(struct mist_poller *poller, unsigned budget)
{
	struct test_poller *p = mist_container_of(poller, struct test_poller, poller);
	p->polls++;
	p->budget = budget;
	assert_int_equal(p->flushes, p->polls - 1);
	if (p->polls < 3)
		return budget;
	if (p->polls == 3) {
		assert_true(mist_wake_one(p->q));
		return 1;
	}
	return 0;
}

static void count_flush(struct mist_poller *poller)
{
	struct test_poller *p = mist_container_of(poller, struct test_poller, poller);
	p->flushes++;
}

static void wait_for_device(void *arg)
{
	assert_int_equal(mist_wait(arg, MIST_FOREVER), 0);
	record(1);
}

static void pollers_are_polled_then_flushed_each_turn(void **state)
{
	struct mist_sched *sched = begin();
	struct mist_waitq q;
	mist_waitq_init(&q);
	struct test_poller p = {.poller = {.poll = busy_poll, .flush = count_flush}, .q = &q};
	struct test_poller idle = {.poller = {.poll = NULL, .flush = NULL}};
	mist_sched_add_poller(sched, &idle.poller);
	mist_sched_add_poller(sched, &p.poller);
	spawn_detached("reader", wait_for_device, &q);
	mist_sched_run(sched);
	/* Turn 1 blocks the reader, turn 3 wakes it, turn 4 runs it. */
	assert_int_equal(p.polls, 4);
	assert_int_equal(p.flushes, 4);
	assert_true(p.budget > 0);
	assert_int_equal(stats_of(sched).turns, 4);
	const int expected[] = {1};
	assert_order(expected, 1);
	mist_sched_remove_poller(sched, &p.poller);
	mist_sched_remove_poller(sched, &idle.poller);
	end(sched);
}

static void stop_then_sleep(void *arg)
{
	mist_sched_stop(mist_sched_current());
	mist_sleep(10 * MIST_MSEC);
	record(1);
}

static void stop_returns_after_the_turn_and_run_resumes(void **state)
{
	struct mist_sched *sched = begin();
	spawn_detached("stopper", stop_then_sleep, NULL);
	mist_sched_run(sched);
	assert_int_equal(mist_now(), 0);
	assert_int_equal(order_len, 0);
	struct mist_sched_stats stats = stats_of(sched);
	assert_int_equal(stats.fibers, 1);
	assert_int_equal(stats.timers, 1);
	assert_int_equal(mist_sched_destroy(sched), MIST_EBUSY);

	mist_sched_run(sched);
	assert_int_equal(mist_now(), 10 * MIST_MSEC);
	const int expected[] = {1};
	assert_order(expected, 1);
	end(sched);
}

static void destroy_refuses_while_a_timer_is_armed(void **state)
{
	struct mist_sched *sched = begin();
	struct mist_timer t;
	mist_timer_init(&t, NULL);
	assert_int_equal(mist_timer_arm(&t, MIST_SEC), 0);
	assert_int_equal(mist_sched_destroy(sched), MIST_EBUSY);
	mist_timer_cancel(&t);
	end(sched);
}

/* --- misuse ------------------------------------------------------------ */

/* Runs `fn` in a fiber of a fresh scheduler, in the child. */
static void run_in_fiber(mist_fiber_fn fn)
{
	sim_reset(1);
	struct mist_sched *sched = mist_sched_create();
	mist_fiber_detach(mist_fiber_spawn("misuser", fn, NULL, 0));
	mist_sched_run(sched);
}

static void join_self(void *arg)
{
	mist_fiber_join(mist_fiber_self());
}

static void join_self_in_fiber(void)
{
	run_in_fiber(join_self);
}

static void joining_itself_stops_naming_mist_fiber_join(void **state)
{
	assert_misuse_aborts(join_self_in_fiber, "mist_fiber_join: a fiber cannot join itself");
}

static void nap(void *arg)
{
	mist_sleep(MIST_MSEC);
}

static void join_arg(void *arg)
{
	mist_fiber_join(arg);
}

static void join_twice(void *arg)
{
	struct mist_fiber *target = mist_fiber_spawn("target", nap, NULL, 0);
	mist_fiber_detach(mist_fiber_spawn("first", join_arg, target, 0));
	mist_fiber_yield();
	mist_fiber_join(target);
}

static void join_twice_in_fiber(void)
{
	run_in_fiber(join_twice);
}

static void joining_twice_stops(void **state)
{
	assert_misuse_aborts(join_twice_in_fiber,
	                     "mist_fiber_join: the fiber is already being joined");
}

static void join_detached(void *arg)
{
	struct mist_fiber *target = mist_fiber_spawn("target", nap, NULL, 0);
	mist_fiber_detach(target);
	mist_fiber_join(target);
}

static void join_detached_in_fiber(void)
{
	run_in_fiber(join_detached);
}

static void joining_a_detached_fiber_stops(void **state)
{
	assert_misuse_aborts(join_detached_in_fiber, "mist_fiber_join: the fiber is detached");
}

static void wait_outside_a_fiber(void)
{
	struct mist_waitq q;
	mist_waitq_init(&q);
	mist_sched_create();
	mist_wait(&q, MIST_FOREVER);
}

static void sleep_outside_a_fiber(void)
{
	mist_sched_create();
	mist_sleep(MIST_MSEC);
}

static void blocking_outside_a_fiber_stops(void **state)
{
	assert_misuse_aborts(wait_outside_a_fiber, "mist_wait: must be called from a fiber");
	assert_misuse_aborts(sleep_outside_a_fiber, "mist_sleep: must be called from a fiber");
}

static void run_loop(void *arg)
{
	mist_sched_run(mist_sched_current());
}

static void run_loop_in_fiber(void)
{
	run_in_fiber(run_loop);
}

static void running_the_loop_from_a_fiber_stops(void **state)
{
	assert_misuse_aborts(run_loop_in_fiber, "mist_sched_run: the loop is already running");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(ping_pong_through_wait_queues_alternates_exactly),
	        cmocka_unit_test(yield_lets_every_other_ready_fiber_run_once),
	        cmocka_unit_test(sleep_advances_virtual_time_exactly),
	        cmocka_unit_test(ten_thousand_sleepers_wake_in_deadline_order_at_exact_times),
	        cmocka_unit_test(wait_times_out_at_its_deadline),
	        cmocka_unit_test(wait_with_a_passed_deadline_times_out_at_once),
	        cmocka_unit_test(wake_before_the_deadline_returns_zero_and_cancels_it),
	        cmocka_unit_test(wake_from_a_fiber_at_the_deadline_finds_the_wait_timed_out),
	        cmocka_unit_test(wake_from_a_timer_at_the_deadline_gives_one_answer),
	        cmocka_unit_test(wake_one_and_wake_all_go_in_waiting_order),
	        cmocka_unit_test(join_waits_for_the_fiber_to_end),
	        cmocka_unit_test(join_collects_a_fiber_that_already_ended),
	        cmocka_unit_test(exit_from_a_nested_call_ends_the_fiber),
	        cmocka_unit_test(detached_and_ended_fibers_are_freed),
	        cmocka_unit_test(zombies_do_not_keep_the_loop_and_destroy_frees_them),
	        cmocka_unit_test(fiber_knows_itself_and_keeps_a_truncated_name),
	        cmocka_unit_test(fiber_can_use_the_stack_it_asked_for),
	        cmocka_unit_test(each_fiber_keeps_its_own_rounding_mode),
	        cmocka_unit_test(cancelled_timers_never_fire),
	        cmocka_unit_test(rearming_moves_the_deadline_and_fires_once),
	        cmocka_unit_test(timer_armed_in_the_past_fires_in_the_next_timer_phase),
	        cmocka_unit_test(hundred_thousand_random_timers_fire_in_order),
	        cmocka_unit_test(heap_keeps_its_order_under_random_arm_and_cancel),
	        cmocka_unit_test(pollers_are_polled_then_flushed_each_turn),
	        cmocka_unit_test(stop_returns_after_the_turn_and_run_resumes),
	        cmocka_unit_test(destroy_refuses_while_a_timer_is_armed),
	        cmocka_unit_test(joining_itself_stops_naming_mist_fiber_join),
	        cmocka_unit_test(joining_twice_stops),
	        cmocka_unit_test(joining_a_detached_fiber_stops),
	        cmocka_unit_test(blocking_outside_a_fiber_stops),
	        cmocka_unit_test(running_the_loop_from_a_fiber_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
