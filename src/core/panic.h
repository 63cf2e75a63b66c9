/*
 * Assertions and misuse checks.
 *
 * MIST_ASSERT guards internal invariants: if one fails, the program stops
 * with the file, line and expression. MIST_MISUSE reports a caller's
 * programming error (freeing a buffer twice, a fiber joining itself): a
 * debug build stops with a message naming the call; a release build (NDEBUG)
 * continues and the function returns an error.
 */
#ifndef MIST_CORE_PANIC_H
#define MIST_CORE_PANIC_H

#include <stdbool.h>

_Noreturn void mist_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define MIST_ASSERT(cond)                                                                     \
	do {                                                                                  \
		if (__builtin_expect(!(cond), 0))                                             \
			mist_panic("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond); \
	} while (0)

#ifdef NDEBUG
#define MIST_MISUSE(call, what) ((void)0)
#else
#define MIST_MISUSE(call, what) mist_panic("%s: %s", (call), (what))
#endif

#endif
