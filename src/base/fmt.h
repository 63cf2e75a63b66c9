/*
 * Formatted printing without libc: the conversions the code uses, checked by
 * the compiler as printf formats. See include/mist/log.h for the list,
 * including %pI4 (IPv4 address) and %pM (MAC address).
 */
#ifndef MIST_BASE_FMT_H
#define MIST_BASE_FMT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Formats into `buf` of `size` bytes, NUL-terminated when size > 0, as C's
 * vsnprintf does. Returns the length the full output would have had.
 */
int mist_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
int mist_snprintf(char *buf, size_t size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
