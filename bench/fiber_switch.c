/*
 * Benchmark: the cost of one fiber switch. Two fibers hand control to each
 * other with mist_fiber_yield(), the path real code takes (run queue, loop
 * turns and all), and the time per yield is compared with glibc's
 * swapcontext() between two ucontexts, the usual way to get coroutines in C,
 * measured in the same run. The raw mist__switch() between two contexts is
 * measured too, to show what the scheduler adds. It is a hosted program with
 * its own main(), linked with the core and the posix platform; it does not
 * boot Mist. Each figure is the best of several runs, the least disturbed by
 * the rest of the machine.
 *
 * Last line: bench: fiber-switch ns=<x> swapcontext_ns=<y> ratio=<y/x>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <ucontext.h>

#include "core/sched.h"
#include "core/switch.h"
#include "mist/fiber.h"

#define RUNS              5
#define YIELDS            5000000 /* per fiber and run */
#define RAW_SWITCHES      20000000
#define SWAPCONTEXT_PAIRS 500000
#define STACK_SIZE        (64 * 1024)

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double best(double a, double b)
{
	return a < b ? a : b;
}

/* --- mist_fiber_yield() ------------------------------------------------ */

static uint64_t yield_start;

static void yielder(void *arg)
{
	if (yield_start == 0)
		yield_start = clock_ns();
	for (unsigned i = 0; i < YIELDS; i++)
		mist_fiber_yield();
}

static double fiber_yield_ns(void)
{
	struct mist_sched *sched = mist_sched_create();
	if (sched == NULL) {
		fprintf(stderr, "bench: cannot create the scheduler\n");
		exit(1);
	}
	for (int i = 0; i < 2; i++) {
		struct mist_fiber *f = mist_fiber_spawn("yielder", yielder, NULL, 0);
		if (f == NULL) {
			fprintf(stderr, "bench: cannot spawn a fiber\n");
			exit(1);
		}
		mist_fiber_detach(f);
	}
	yield_start = 0;
	mist_sched_run(sched);
	uint64_t elapsed = clock_ns() - yield_start;
	mist_sched_destroy(sched);
	return (double)elapsed / (2.0 * YIELDS);
}

/* --- raw mist__switch() ------------------------------------------------ */

static struct mist_context raw_main, raw_other;

static void raw_bounce(void *arg)
{
	for (;;)
		mist__switch(&raw_other, &raw_main);
}

static double raw_switch_ns(void *stack)
{
	mist__context_init(&raw_other, stack, STACK_SIZE, raw_bounce, NULL);
	uint64_t t0 = clock_ns();
	for (unsigned i = 0; i < RAW_SWITCHES / 2; i++)
		mist__switch(&raw_main, &raw_other);
	return (double)(clock_ns() - t0) / RAW_SWITCHES;
}

/* --- swapcontext() ----------------------------------------------------- */

static ucontext_t uc_main, uc_other;

static void uc_bounce(void)
{
	for (;;)
		swapcontext(&uc_other, &uc_main);
}

static double swapcontext_ns(void *stack)
{
	getcontext(&uc_other);
	uc_other.uc_stack.ss_sp = stack;
	uc_other.uc_stack.ss_size = STACK_SIZE;
	uc_other.uc_link = NULL;
	makecontext(&uc_other, uc_bounce, 0);
	uint64_t t0 = clock_ns();
	for (unsigned i = 0; i < SWAPCONTEXT_PAIRS; i++)
		swapcontext(&uc_main, &uc_other);
	return (double)(clock_ns() - t0) / (2.0 * SWAPCONTEXT_PAIRS);
}

int main(void)
{
	void *stack = malloc(STACK_SIZE);
	if (stack == NULL)
		return 1;
	double fiber = 1e9, raw = 1e9, uc = 1e9;
	for (int run = 0; run < RUNS; run++) {
		double f = fiber_yield_ns(), r = raw_switch_ns(stack), u = swapcontext_ns(stack);
		printf("run %d: mist_fiber_yield %.2f ns, mist__switch %.2f ns, swapcontext %.1f "
		       "ns\n",
		       run, f, r, u);
		fiber = best(fiber, f);
		raw = best(raw, r);
		uc = best(uc, u);
	}
	free(stack);
	printf("best: mist_fiber_yield %.2f ns, mist__switch %.2f ns, swapcontext %.1f ns\n", fiber,
	       raw, uc);
	printf("bench: fiber-switch ns=%.1f swapcontext_ns=%.1f ratio=%.1f\n", fiber, uc,
	       uc / fiber);
	return 0;
}
