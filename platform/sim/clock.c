/*
 * Virtual time and seeded entropy for the sim platform.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/platform.h"
#include "mist/mist.h"
#include "sim.h"

/* 2026-01-01T00:00:00Z: the wall clock at virtual time 0. */
#define SIM_EPOCH_NS (1767225600ull * 1000000000ull)

static uint64_t sim_now;
static uint64_t sim_entropy_state = 1;
static struct sim_source *sim_sources;

void sim_reset(uint64_t seed)
{
	sim_now = 0;
	sim_entropy_state = seed;
}

uint64_t sim_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void sim_add_source(struct sim_source *source)
{
	source->next = sim_sources;
	sim_sources = source;
}

void sim_remove_source(struct sim_source *source)
{
	for (struct sim_source **p = &sim_sources; *p != NULL; p = &(*p)->next) {
		if (*p == source) {
			*p = source->next;
			return;
		}
	}
}

uint64_t mist_plat_monotonic(void)
{
	return sim_now;
}

uint64_t mist_plat_wallclock(void)
{
	return SIM_EPOCH_NS + sim_now;
}

/*
 * Nothing runs while the loop yields, so the next thing that can happen is
 * the earlier of the deadline and the first event of any source: jump there.
 * If neither exists, nothing can ever happen again: a deadlock in the test.
 */
int mist_plat_yield(uint64_t deadline)
{
	uint64_t next = deadline;
	for (struct sim_source *s = sim_sources; s != NULL; s = s->next) {
		uint64_t t = s->next_event(s);
		if (t < next)
			next = t;
	}
	if (next == UINT64_MAX)
		mist_plat_abort("sim: every fiber is blocked and no timer or event is pending");
	if (next > sim_now)
		sim_now = next;
	return 0;
}

int mist_plat_entropy(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		uint64_t r = sim_rand_next(&sim_entropy_state);
		size_t n = len < sizeof(r) ? len : sizeof(r);
		memcpy(p, &r, n);
		p += n;
		len -= n;
	}
	return 0;
}
