/*
 * Memory and string functions for code built without libc (src/core,
 * src/wire, src/net, apps).
 *
 * The mist_mem* names expand to the compiler's builtins, so that copies of a
 * constant size become a few moves; what the compiler cannot inline becomes a
 * call to memcpy/memset/memmove/memcmp, which the C library provides on
 * hosted targets and base/libc.c provides on targets without one.
 */
#ifndef MIST_BASE_STR_H
#define MIST_BASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define mist_memcpy(d, s, n)  __builtin_memcpy((d), (s), (n))
#define mist_memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define mist_memset(d, c, n)  __builtin_memset((d), (c), (n))
#define mist_memcmp(a, b, n)  __builtin_memcmp((a), (b), (n))

/* The out-of-line implementations behind the builtins on targets without libc. */
void *mist__memcpy(void *restrict dst, const void *restrict src, size_t n);
void *mist__memmove(void *dst, const void *src, size_t n);
void *mist__memset(void *dst, int c, size_t n);
int mist__memcmp(const void *a, const void *b, size_t n);

size_t mist_strlen(const char *s);
size_t mist_strnlen(const char *s, size_t max);
int mist_strcmp(const char *a, const char *b);
int mist_strncmp(const char *a, const char *b, size_t n);
char *mist_strchr(const char *s, int c);

/*
 * Copies `src` into `dst` of `size` bytes, always NUL-terminated when size > 0.
 * Returns strlen(src); truncation happened if that is >= size.
 */
size_t mist_strlcpy(char *dst, const char *src, size_t size);

/* Overwrites `n` bytes with zeros in a way the compiler may not elide (secrets). */
void mist_explicit_bzero(void *p, size_t n);

/*
 * Parses an unsigned decimal, or hexadecimal with a 0x prefix, from the
 * whole of `s[0..len)`. Returns 0 and stores it in *out, or MIST_EINVAL when
 * the text is empty, has other characters, or exceeds `max`.
 */
int mist_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out);

/*
 * Parses s[0..len) as a decimal number with an optional binary suffix K, M or
 * G (either case), as Linux's memparse() takes them. Returns 0, or
 * MIST_EINVAL when it is not one or does not fit in 64 bits.
 */
int mist_parse_size(const char *s, size_t len, uint64_t *out);

/*
 * Parses a dotted-quad IPv4 address from the whole of `s[0..len)` into
 * addr[4] (network byte order). Returns 0 or MIST_EINVAL.
 */
int mist_parse_ipv4(const char *s, size_t len, uint8_t addr[4]);

/* Parses "XX:XX:XX:XX:XX:XX" (hex, either case) from `s[0..len)`. 0 or MIST_EINVAL. */
int mist_parse_mac(const char *s, size_t len, uint8_t mac[6]);

#endif
