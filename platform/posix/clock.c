/*
 * Clocks and entropy for hosted Linux targets: CLOCK_MONOTONIC and
 * CLOCK_REALTIME, and getrandom(2) for the seed.
 */
#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "core/platform.h"
#include "mist/mist.h"

static uint64_t clock_read(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t mist_plat_monotonic(void)
{
	return clock_read(CLOCK_MONOTONIC);
}

uint64_t mist_plat_wallclock(void)
{
	return clock_read(CLOCK_REALTIME);
}

int mist_plat_entropy(void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return MIST_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
