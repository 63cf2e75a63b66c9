/*
 * Failure recording for test programs that run scenarios and print one line
 * each ("ok NAME" / "FAIL NAME: why"): CHECK(cond, fmt, ...) records the
 * first failed check of the scenario, with its line, in `failure` and sets
 * `failed`; the program's scenario runner reports and clears them.
 * Header-only.
 */
#ifndef MIST_TESTS_CHECK_H
#define MIST_TESTS_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static bool failed;       /* a check of the running scenario failed */
static char failure[512]; /* the first such failure: "line N: why" */

static void fail_at(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_at(int line, const char *fmt, ...)
{
	if (failed)
		return;
	failed = true;
	int n = snprintf(failure, sizeof(failure), "line %d: ", line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(failure + n, sizeof(failure) - (size_t)n, fmt, ap);
	va_end(ap);
}

#define CHECK(cond, ...)                                \
	do {                                            \
		if (!(cond))                            \
			fail_at(__LINE__, __VA_ARGS__); \
	} while (0)

#endif
