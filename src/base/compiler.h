/*
 * Compiler helpers shared by every layer: container_of, array sizes, branch
 * hints, min/max. Freestanding; no libc.
 */
#ifndef MIST_BASE_COMPILER_H
#define MIST_BASE_COMPILER_H

#include <stddef.h>

#define mist_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#define MIST_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define mist_likely(x)   __builtin_expect(!!(x), 1)
#define mist_unlikely(x) __builtin_expect(!!(x), 0)

#define MIST_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MIST_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Rounds `x` up to a multiple of `align`, a power of two. */
#define MIST_ALIGN_UP(x, align) (((x) + ((align)-1)) & ~((__typeof__(x))(align)-1))

#define MIST_UNUSED __attribute__((unused))

#endif
