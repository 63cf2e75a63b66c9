/*
 * Console and exit for hosted Linux targets: the console is stderr, written
 * unbuffered so that nothing is lost when the program dies.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/platform.h"

void mist_plat_console_write(const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, text, len);
		if (n <= 0)
			return;
		text += n;
		len -= (size_t)n;
	}
}

void mist_plat_exit(int status)
{
	_exit(status);
}

void mist_plat_abort(const char *reason)
{
	mist_plat_console_write("abort: ", 7);
	mist_plat_console_write(reason, strlen(reason));
	mist_plat_console_write("\n", 1);
	abort();
}
