/*
 * Stopping the program on a broken invariant or a caller's misuse: format
 * the reason and hand it to the platform, which prints it and aborts (a crash
 * report on the unikernel, SIGABRT on Linux).
 */
#include <stdarg.h>

#include "base/fmt.h"
#include "core/panic.h"
#include "core/platform.h"

void mist_panic(const char *fmt, ...)
{
	char reason[256];
	va_list ap;

	va_start(ap, fmt);
	mist_vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	mist_plat_abort(reason);
}
