/*
 * The four C library functions the compiler may call on its own (for
 * structure copies, large initialisers and whatever mist_memcpy and friends
 * do not inline), for targets without a C library: bare metal and kernel
 * modules. Each forwards to its implementation in base/str.c. Hosted builds
 * leave this file out, since libc provides the real ones.
 */
#include "base/str.h"

/* No libc header is available here; these are C11 7.24's declarations. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	return mist__memcpy(dst, src, n);
}

void *memmove(void *dst, const void *src, size_t n)
{
	return mist__memmove(dst, src, n);
}

void *memset(void *dst, int c, size_t n)
{
	return mist__memset(dst, c, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
	return mist__memcmp(a, b, n);
}
