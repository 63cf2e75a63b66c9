/*
 * idle: a test image that does nothing for --seconds=N (default 10) and
 * exits 0, for the idle CPU benchmark (bench/pvh_idle.sh) and the clock
 * tests: it logs the wall clock at start (seconds since the epoch) and the
 * monotonic time it slept. Built only for pvh, as build/pvh/test-idle.
 */
#include <mist/mist.h>

static uint64_t seconds = 10;

const struct mist_option mist_app_options[] = {
        {.name = "seconds",
         .kind = MIST_OPT_U64,
         .value = &seconds,
         .help = "--seconds=N            how long to stay idle (default 10)"},
        {.name = NULL},
};

static void idle(void *arg)
{
	mist_time_t start = mist_now();
	mist_log("wallclock %llu", (unsigned long long)(mist_wallclock() / MIST_SEC));
	mist_sleep(seconds * MIST_SEC);
	mist_log("slept %llu ms", (unsigned long long)((mist_now() - start) / MIST_MSEC));
}

int mist_main(struct mist_env *env)
{
	struct mist_fiber *f = mist_fiber_spawn("idle", idle, NULL, 0);
	if (f == NULL)
		return MIST_ENOMEM;
	mist_fiber_detach(f);
	return 0;
}
