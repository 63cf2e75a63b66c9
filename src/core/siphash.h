/*
 * SipHash-2-4 (J.-P. Aumasson and D. J. Bernstein, "SipHash: a fast
 * short-input PRF", 2012): a keyed hash with a 128-bit key and a 64-bit
 * output, fast on the short inputs a network stack hashes (addresses and
 * ports). With a secret key its output cannot be predicted or steered from
 * outside, which is what hash-table buckets fed by the network, TCP initial
 * sequence numbers and SYN cookies need. It is not a MAC for long messages
 * nor a replacement for SHA-256 (mist/sha256.h) as a checksum.
 * Freestanding, integer only.
 */
#ifndef MIST_CORE_SIPHASH_H
#define MIST_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * A key: k0 is the key's first 8 bytes read little-endian, k1 the next 8
 * (the byte order of the paper and its reference vectors).
 */
struct mist_siphash_key {
	uint64_t k0, k1;
};

/*
 * Returns SipHash-2-4 under `key` of the `len` bytes at `data` (any
 * alignment; NULL is allowed when len is 0). The paper's byte string output
 * is this value stored little-endian.
 */
uint64_t mist_siphash(const struct mist_siphash_key *key, const void *data, size_t len);

#endif
