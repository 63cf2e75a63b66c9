/*
 * hello: the smallest Mist application. One fiber logs "hello" three times,
 * 100 ms apart. On the sim target the sleeps take virtual time, so the run is
 * instant yet logs the same timestamps.
 */
#include <mist/mist.h>

#define HELLO_TIMES    3
#define HELLO_INTERVAL (100 * MIST_MSEC)

static void hello(void *arg)
{
	for (int i = 0; i < HELLO_TIMES; i++) {
		if (i > 0)
			mist_sleep(HELLO_INTERVAL);
		mist_log("hello");
	}
}

int mist_main(struct mist_env *env)
{
	struct mist_fiber *f = mist_fiber_spawn("hello", hello, NULL, 0);
	if (f == NULL)
		return MIST_ENOMEM;
	mist_fiber_detach(f);
	return 0;
}
