/*
 * The calls of mist.h that act on the program as a whole and need no
 * scheduler: ending it and reading the wall clock.
 */
#include "core/platform.h"
#include "mist/mist.h"

void mist_exit(int status)
{
	mist_plat_exit(status);
}

uint64_t mist_wallclock(void)
{
	return mist_plat_wallclock();
}
