/*
 * Benchmark: the cost of arming and then cancelling a timer while 100,000
 * others are armed, the pattern of a retransmission timer restarted on every
 * acknowledgement. Deadlines are random, so each operation lands anywhere in
 * the heap. It is a hosted program with its own main(), linked with the core
 * and the posix platform; it does not boot Mist or run the loop. The figure
 * is the best of several runs.
 *
 * Last line: bench: timers armed=100000 arm_cancel_ns=<x>
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/sched.h"
#include "mist/fiber.h"
#include "mist/mist.h"

#define ARMED   100000
#define RUNS    5
#define OPS     2000000 /* arm + cancel pairs per run */
#define ROTATE  1024    /* timers the pairs rotate through */
#define HORIZON (10 * MIST_SEC)

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64: a few cycles, so that it does not blur the figure. */
static uint64_t next_random(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *state = x;
}

static void never(struct mist_timer *timer)
{
	fprintf(stderr, "bench: a timer fired\n");
	exit(1);
}

int main(void)
{
	struct mist_sched *sched = mist_sched_create();
	struct mist_timer *armed = calloc(ARMED, sizeof(*armed));
	struct mist_timer *rotating = calloc(ROTATE, sizeof(*rotating));
	if (sched == NULL || armed == NULL || rotating == NULL)
		return 1;
	uint64_t rng = 0x9e3779b97f4a7c15u;
	uint64_t base = mist_now() + MIST_SEC;
	for (size_t i = 0; i < ARMED; i++) {
		mist_timer_init(&armed[i], never);
		if (mist_timer_arm(&armed[i], base + next_random(&rng) % HORIZON) != 0)
			return 1;
	}
	for (size_t i = 0; i < ROTATE; i++)
		mist_timer_init(&rotating[i], never);

	double best = 1e9;
	for (int run = 0; run < RUNS; run++) {
		uint64_t t0 = clock_ns();
		for (unsigned i = 0; i < OPS; i++) {
			struct mist_timer *t = &rotating[i % ROTATE];
			if (mist_timer_arm(t, base + next_random(&rng) % HORIZON) != 0)
				return 1;
			mist_timer_cancel(t);
		}
		double ns = (double)(clock_ns() - t0) / OPS;
		printf("run %d: arm + cancel %.1f ns with %d armed\n", run, ns, ARMED);
		if (ns < best)
			best = ns;
	}

	struct mist_sched_stats stats;
	mist_sched_stats(sched, &stats);
	if (stats.timers != ARMED)
		return 1;
	for (size_t i = 0; i < ARMED; i++)
		mist_timer_cancel(&armed[i]);
	if (mist_sched_destroy(sched) != 0)
		return 1;
	free(armed);
	free(rotating);
	printf("bench: timers armed=%d arm_cancel_ns=%.1f\n", ARMED, best);
	return 0;
}
