/*
 * A helper for the wire-format tests: every truncation of a packet must be
 * handled, and none may be read past. Header-only, for cmocka tests.
 */
#ifndef MIST_TESTS_UNIT_WIRE_PREFIX_H
#define MIST_TESTS_UNIT_WIRE_PREFIX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mist/mist.h"

/*
 * Feeds every prefix of `pkt` shorter than `len` to `check_and_read`, each
 * copied into a heap block of exactly its length so that AddressSanitizer
 * catches a read past it: those shorter than `min_len` must fail with
 * MIST_ERANGE, the others pass.
 */
static inline void check_every_prefix(int (*check_and_read)(const uint8_t *p, size_t len),
                                      const uint8_t *pkt, size_t len, size_t min_len)
{
	for (size_t n = 0; n < len; n++) {
		uint8_t *copy = malloc(n);

		if (n > 0) {
			assert_non_null(copy);
			memcpy(copy, pkt, n);
		}
		assert_int_equal(check_and_read(copy, n), n < min_len ? MIST_ERANGE : 0);
		free(copy);
	}
}

#endif
