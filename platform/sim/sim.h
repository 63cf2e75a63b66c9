/*
 * The sim platform: virtual time and seeded randomness, for tests that must
 * replay exactly. Time stands still while anything is ready to run; when the
 * loop would block, it jumps to the earliest deadline or pending event.
 *
 * Components that produce events on their own (sim links delivering frames)
 * register as event sources, so that the clock never jumps past a delivery.
 */
#ifndef MIST_PLATFORM_SIM_H
#define MIST_PLATFORM_SIM_H

#include <stdint.h>

struct sim_source {
	struct sim_source *next;
	/* The time of this source's next event, or UINT64_MAX if none. */
	uint64_t (*next_event)(struct sim_source *source);
};

void sim_add_source(struct sim_source *source);
void sim_remove_source(struct sim_source *source);

/*
 * Resets virtual time to 0 and seeds the platform's entropy (which seeds the
 * core CSPRNG) with `seed`. Tests call this first; the sim entry point calls
 * it with --seed=N (default 1).
 */
void sim_reset(uint64_t seed);

/* A deterministic 64-bit PRNG step (splitmix64), for links and tests. */
uint64_t sim_rand_next(uint64_t *state);

#endif
