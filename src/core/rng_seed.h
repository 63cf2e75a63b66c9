/*
 * The seeding side of the random generator (include/mist/rng.h), for the
 * code that owns the program's start (boot, the sim platform, tests), and
 * the ChaCha20 block function it is built on, exposed so that tests can
 * check it against RFC 8439.
 */
#ifndef MIST_CORE_RNG_SEED_H
#define MIST_CORE_RNG_SEED_H

#include <stddef.h>
#include <stdint.h>

/*
 * Seeds the generator from `len` bytes at `seed` (normally 32 bytes of
 * platform entropy; any length works). The new key is derived from the
 * seed alone (SHA-256 of it), and buffered output is discarded, so the same
 * seed always gives the same output afterwards: that is what lets a sim run
 * replay. Before the first call the generator runs from a fixed all-zero
 * key, deterministic and not secret.
 */
void mist_rng_seed(const void *seed, size_t len);

/*
 * RFC 8439 2.3: computes the 64-byte ChaCha20 block for `key` (eight
 * little-endian words of the 256-bit key), block `counter` and `nonce`
 * (three little-endian words of the 96-bit nonce) into `out`.
 */
void mist_chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
                         uint8_t out[64]);

#endif
