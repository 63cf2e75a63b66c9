/*
 * Cryptographically strong random numbers.
 *
 * A ChaCha20-based generator (RFC 8439 block function, with fast key
 * erasure: every refill overwrites the key) seeded once from the platform's
 * entropy at start. Under the sim target the seed is fixed by --seed, so a
 * run replays exactly. Used for initial sequence numbers, ephemeral ports and
 * DNS query IDs.
 */
#ifndef MIST_RNG_H
#define MIST_RNG_H

#include <stddef.h>
#include <stdint.h>

/* Fills `buf` with `len` random bytes. */
void mist_random_bytes(void *buf, size_t len);

/* A uniformly random 32-bit and 64-bit value. */
uint32_t mist_random_u32(void);
uint64_t mist_random_u64(void);

/* A uniformly random value in [0, bound), without modulo bias; bound > 0. */
uint32_t mist_random_below(uint32_t bound);

#endif
